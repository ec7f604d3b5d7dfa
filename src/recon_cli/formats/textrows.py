"""A delimited text file record by record: the reader for files the fast readers refuse.

Rows of uneven width, and a quote that opens a cell and never closes it on its line, land here.
An unbalanced quote makes every CSV reader read the following lines into that one cell until the
next quote; here the row where the quote opened is rejected, saying so, and the lines it
swallowed are read again as the rows they are. Blank lines cost nothing but their row number.
"""

from __future__ import annotations

import csv
import re
from collections import deque
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from recon_cli.errors import InputError
from recon_cli.limits import Limits, over_limit
from recon_cli.records import RejectCode

if TYPE_CHECKING:
    import mmap

    import pandas as pd

    from recon_cli.formats.sniff import TextLayout

FIRST_DATA_ROW = 2
# More blank lines than this between rows are skipped here, record by record, not parsed into cells.
MANY_BLANK_LINES = 1000
# The header row is read alone first (at most this many characters) to refuse a huge one cheaply.
HEADER_CHARS = 16 * 1024**2
BATCH_ROWS = 50_000
# A physical line may be this many times max_cell_chars long (a row has about 60 cells).
LINE_CELLS = 64


class _Lines:
    """The file's lines for csv.reader, remembering those of the record being read, able to read some again."""

    def __init__(self, handle: TextIO, longest: int, where: str, limits: Limits) -> None:
        self._handle, self._longest, self._where, self._limits = handle, longest, where, limits
        self.pending: deque[str] = deque()
        self.taken: list[str] = []
        self.skipped = 0

    def __iter__(self) -> Iterator[str]:
        return self

    def __next__(self) -> str:
        while True:
            if self.pending:
                line = self.pending.popleft()
            else:
                line = self._handle.readline(self._longest + 1)
                if not line:
                    raise StopIteration
                if len(line) > self._longest:
                    raise over_limit(self._where, f"a line longer than {self._longest:,} characters",
                                     "max_cell_chars", f"{self._longest:,} characters per line "
                                     f"({LINE_CELLS} cells of max_cell_chars)")
            # A blank line between records is a blank row: counted here, never parsed (millions cost
            # a second); inside a quoted cell it is part of the cell.
            if self.taken or line.strip():
                self.taken.append(line)
                return line
            self.skipped += 1

    def take(self) -> tuple[list[str], int]:
        """The lines read since the last call (those of one record), and the blank rows skipped before it."""
        taken, skipped = self.taken, self.skipped
        self.taken, self.skipped = [], 0
        return taken, skipped


def read_records(path: Path, layout: TextLayout, limits: Limits) -> tuple[pd.DataFrame, list[dict[str, Any]],
                                                                           list[str]]:
    """The rows of a text table with their spreadsheet numbers, rejects for rows that are not rows, notes.

    A row wider than the header (with text in the extra cells) is rejected; a narrower one is padded.
    """
    import pandas as pd

    rejects: list[dict[str, Any]] = []
    parts: list[pd.DataFrame] = []
    rows: list[list[str]] = []
    numbers: list[int] = []
    notes: list[str] = []
    previous = csv.field_size_limit(limits.max_cell_chars)
    try:
        with path.open(encoding=layout.encoding, errors="replace", newline="") as handle:
            for _ in range(layout.skip):
                handle.readline()
            lines = _Lines(handle, LINE_CELLS * limits.max_cell_chars, path.name, limits)
            reader = csv.reader(lines, delimiter=layout.delimiter)
            header = _header(reader, path.name)
            width, row = len(header), FIRST_DATA_ROW - 1 + lines.take()[1]
            while True:
                try:
                    record: list[str] | None = next(reader)
                except StopIteration:
                    break
                except csv.Error:  # a cell past max_cell_chars: a long cell, or a quote that swallowed lines
                    record, reader = None, csv.reader(lines, delimiter=layout.delimiter)
                taken, skipped = lines.take()
                row += 1 + skipped
                if record is None or (len(taken) > 1 and _swallowed(taken, width, layout.delimiter)):
                    if len(taken) < 2:
                        raise over_limit(f"{path.name}, row {row}", "a cell longer than the limit", "max_cell_chars",
                                         f"{limits.max_cell_chars:,} characters per cell")
                    rejects.append(_quote_reject(path.name, row, taken, header, layout.delimiter))
                    lines.pending.extendleft(reversed(taken[1:]))  # read the swallowed lines again, as rows
                    continue
                if not any(cell.strip() for cell in record):
                    continue
                if len(record) > width and any(cell.strip() for cell in record[width:]):
                    rejects.append(_reject(path.name, row, "", RejectCode.TOO_MANY_CELLS,
                                           f"the row has {len(record)} cells, the header {width}: a delimiter or "
                                           "quote is out of place"))
                    continue
                rows.append((record + [""] * width)[:width])
                numbers.append(row)
                if len(rows) == BATCH_ROWS:
                    parts.append(text_frame(rows, numbers, header))
                    rows, numbers = [], []
    finally:
        csv.field_size_limit(previous)
    parts.append(text_frame(rows, numbers, header))
    if any(r["code"] == RejectCode.NOT_A_RECORD.value for r in rejects):
        notes.append(f"{path.name}: an unbalanced quote; the rows after it were read on their own (see the rejects).")
    return (pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]), rejects, notes


def _header(reader: Any, file: str) -> list[str]:
    try:
        return unique_headers([cell.strip() for cell in next(reader, [])])
    except csv.Error as exc:
        raise InputError(f"{file}, row 1: the header row cannot be read ({exc}); check for an unbalanced quote"
                         ) from exc


def _swallowed(taken: list[str], width: int, delimiter: str) -> bool:
    """A record over several lines that holds whole rows: a later line has as many delimiters as half a row.

    A real cell with a line break (an address, a note) has a few delimiters at most.
    """
    return any(line.count(delimiter) >= max(3, (width - 1) // 2) for line in taken[1:])


def _quote_reject(file: str, row: int, taken: list[str], header: list[str], delimiter: str) -> dict[str, Any]:
    """The reject of a row whose quote never closes: which column it opened in, which rows it swallowed."""
    try:
        cells = next(csv.reader([taken[0]], delimiter=delimiter), [""])
    except csv.Error:  # its own cells past the cap: the column is not known
        cells = [""] * (len(header) + 1)
    column = header[len(cells) - 1] if 0 < len(cells) <= len(header) else f"cell {len(cells)}"
    following = len(taken) - 1
    message = (f"a quote opens in column {column[:60]!r} and is not closed on its line: the reader took the next "
               f"{following} line(s) (rows {row + 1}–{row + following}) into this cell. Row {row} is rejected; "
               "those lines were read again as rows. Fix the quote in the file at this row.")
    return _reject(file, row, column, RejectCode.NOT_A_RECORD, message, cells[-1][:80] if cells else "")


def _reject(file: str, row: int, column: str, code: RejectCode, message: str, value: str = "") -> dict[str, Any]:
    return {"file": file, "row": row, "column": column, "value": value, "code": code.value, "message": message}


def check_header_width(path: Path, layout: TextLayout, limits: Limits) -> None:
    """Refuse a header wider than max_columns before any reader builds a frame that wide."""
    with path.open(encoding=layout.encoding, errors="replace", newline="") as handle:
        for _ in range(layout.skip):
            handle.readline()
        line = handle.readline(HEADER_CHARS)
    if line.count(layout.delimiter) < limits.max_columns:
        return
    try:
        cells = len(next(csv.reader([line], delimiter=layout.delimiter), []))
    except csv.Error:
        cells = line.count(layout.delimiter) + 1
    if cells > limits.max_columns:
        raise over_limit(f"{path.name}, row 1", f"the header has {cells:,} cells", "max_columns",
                         f"{limits.max_columns:,} columns")


# A newline followed by a newline or blank space: where a blank line can start, in a one-byte-newline
# encoding. One regex search over the mapped file (0.18 s for 560 MB, half a numpy pass's time).
_BLANK_LINE_START = re.compile(rb"\n[\n\r \t]")


def _blank_line_starts(data: mmap.mmap) -> bool:
    """Whether any newline is followed by a newline or blank space (a blank line starts only so)."""
    return _BLANK_LINE_START.search(data) is not None


def interior_blank_lines(path: Path, encoding: str, enough: int = MANY_BLANK_LINES) -> int:
    """How many blank lines sit between data lines (counting stops at `enough`): a reader that skips them
    would shift row numbers, and many of them are better skipped than parsed."""
    import codecs
    import itertools
    import mmap

    with path.open("rb") as handle:
        size = path.stat().st_size
        if size == 0:
            return 0
        with mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as data:
            if encoding.startswith("utf-16"):  # the same pattern, in the file's two-byte characters
                big = encoding == "utf-16-be" or (encoding == "utf-16" and data[:2] == codecs.BOM_UTF16_BE)
                encoding = "utf-16-be" if big else "utf-16-le"
            encoding = "utf-8" if encoding == "utf-8-sig" else encoding  # no BOM before each character
            if len("\n".encode(encoding)) == 1 and not _blank_line_starts(data):
                return 0  # no newline followed by another, or by blank space: no regex over the file
            newline, space = (re.escape("\n".encode(encoding)),
                              b"|".join(re.escape(c.encode(encoding)) for c in " \t\r"))
            tail = data[max(0, size - 4096):].decode(encoding, errors="ignore")
            end = size - len(tail[len(tail.rstrip()):].encode(encoding))
            blank = re.compile(newline + b"(?:" + space + b")*(?=" + newline + b")")
            return sum(1 for found in itertools.islice(blank.finditer(data), enough) if found.end() < end)


def unique_headers(names: list[str]) -> list[str]:
    """Column names as pandas makes them: a blank one `Unnamed: N`, a repeated one `name.1`, `name.2`..."""
    seen: set[str] = set()
    out: list[str] = []
    for position, name in enumerate(names):
        name = name if name.strip() else f"Unnamed: {position}"
        base, count = name, 0
        while name in seen:
            count += 1
            name = f"{base}.{count}"
        seen.add(name)
        out.append(name)
    return out


def text_frame(rows: list[list[str]], numbers: list[int], header: list[str]) -> pd.DataFrame:
    """Rows of text cells as a frame of strings, with their spreadsheet row numbers in `__row__`."""
    import pandas as pd

    frame = pd.DataFrame(rows, columns=header, dtype="str") if rows else pd.DataFrame(
        {name: pd.Series([], dtype="str") for name in header})
    frame["__row__"] = pd.array(numbers, dtype="int64")
    return frame
