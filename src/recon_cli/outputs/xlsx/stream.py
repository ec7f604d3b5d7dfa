"""The data rows of each sheet, streamed into the workbook's zip entry while it is saved.

openpyxl's write-only workbook writes each sheet's frame (columns, pane, filter, notes, links) to
a temporary file; `splice_rows` leaves the rendered rows with the closed sheet, and `SplicingArchive`
puts them in place of the sheet's empty `<sheetData>` as `ExcelWriter` adds the sheet to the zip.
A million-line Lines sheet is 1.4 GB of XML: it is deflated as it is rendered, by a second thread
(zlib and Arrow both release the GIL), instead of being written to a temporary file, read back and
deflated after. Used by the other modules of this package only.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any
from zipfile import ZipFile

if TYPE_CHECKING:
    from openpyxl.worksheet._write_only import WriteOnlyWorksheet

    from recon_cli.outputs.xlsx.cells import RowXml

_ROWS = "recon_rows"  # the attribute of a closed worksheet holding its rows until the save
_AHEAD = 2  # rendered pieces waiting for the deflating thread: bounded memory


def splice_rows(ws: WriteOnlyWorksheet, rows: Iterator[RowXml]) -> None:
    """Leave `rows` with the closed sheet: `SplicingArchive` writes them after the rows openpyxl wrote."""
    setattr(ws, _ROWS, rows)


class SplicingArchive:
    """The zip archive `ExcelWriter` saves into, putting each sheet's spliced rows into its entry.

    Every call but `write` of a spliced sheet's temporary file goes to the archive itself.
    """

    def __init__(self, archive: ZipFile, sheets: list[Any]) -> None:
        self._archive = archive
        self._rows = {str(ws._writer.out): getattr(ws, _ROWS) for ws in sheets
                      if getattr(ws, _ROWS, None) is not None and ws._writer is not None}

    def __getattr__(self, name: str) -> Any:
        return getattr(self._archive, name)

    def write(self, filename: Any, arcname: str | None = None, *args: Any, **kwargs: Any) -> None:
        rows = self._rows.pop(str(filename), None)
        if rows is None:
            self._archive.write(filename, arcname, *args, **kwargs)
            return
        head, end, tail = Path(filename).read_bytes().partition(b"</sheetData>")
        if not end:  # openpyxl changed how it writes sheets: fail loudly, never write a bad file
            raise RuntimeError(f"cannot find </sheetData> in the XML openpyxl wrote for {arcname!r}")
        with self._archive.open(arcname or Path(filename).name, "w", force_zip64=True) as out:
            out.write(head)
            _deflate_alongside(out, rows)
            out.write(end + tail)


def _deflate_alongside(out: IO[bytes], rows: Iterator[RowXml]) -> None:
    """Write the rows into the zip entry from a second thread while the next ones are rendered."""
    pieces: queue.Queue[bytes | memoryview | None] = queue.Queue(maxsize=_AHEAD)
    failed: list[BaseException] = []

    def deflate() -> None:
        try:
            while (piece := pieces.get()) is not None:
                out.write(piece)
        except BaseException as exc:  # reported by the rendering thread
            failed.append(exc)
            while pieces.get() is not None:  # let the renderer finish its puts
                pass

    worker = threading.Thread(target=deflate, name="recon-xlsx-deflate", daemon=True)
    worker.start()
    try:
        for xml in rows:
            if failed:
                break
            pieces.put(xml.encode("utf-8") if isinstance(xml, str) else xml)
    finally:
        pieces.put(None)
        worker.join()
    if failed:
        raise failed[0]
