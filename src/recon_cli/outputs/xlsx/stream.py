"""The data rows of each sheet, streamed into the workbook's zip entry while it is saved.

openpyxl's write-only workbook writes each sheet's frame (columns, pane, filter, notes, links) to
a temporary file; `splice_rows` leaves the rendered rows with the closed sheet, and `SplicingArchive`
puts them in place of the sheet's empty `<sheetData>` as `ExcelWriter` adds the sheet to the zip.
A million-line Lines sheet is 1.4 GB of XML: it is deflated as it is rendered, by a second thread
(zlib and Arrow both release the GIL), instead of being written to a temporary file, read back and
deflated after (`files.write_alongside`). Used by the other modules of this package only.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zipfile import ZipFile

from recon_cli.outputs.files import write_alongside

if TYPE_CHECKING:
    from openpyxl.worksheet._write_only import WriteOnlyWorksheet

    from recon_cli.outputs.xlsx.cells import RowXml

_ROWS = "recon_rows"  # the attribute of a closed worksheet holding its rows until the save


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
            write_alongside(out, rows)
            out.write(end + tail)
