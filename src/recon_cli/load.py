"""Readers: a file in, a frame of strings out, plus what was detected about it.

Everything is read as text (`dtype=str`, no NA guessing): IDs keep their leading zeros
and money is parsed on purpose later, in normalize.py. What the file is (CSV in any of its
encodings and delimiters, a workbook, a Graph export) is decided from its bytes, not its name.
"""

from __future__ import annotations

import csv
import zipfile
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from recon_cli.errors import InputError
from recon_cli.formats import header_key
from recon_cli.formats.sniff import TextLayout, container, sniff_text
from recon_cli.records import RejectCode

if TYPE_CHECKING:
    import pandas as pd

# Spreadsheet row of the first data line: the header is row 1.
FIRST_DATA_ROW = 2
# An xlsx is a zip: refuse one that would inflate past this (a zip bomb, or not a billing export).
MAX_XLSX_INFLATED = 4 * 1024**3
MAX_XLSX_RATIO = 200
SNIFF_BYTES = 64 * 1024
# Marks a row read with more cells than the header, so it is rejected, not silently cut.
TOO_WIDE = "\x00too_wide\x00"


@dataclass
class RawTable:
    """A table as read: all text, original headers, blank and repeated header rows dropped.

    Attributes:
        frame: the cells as strings; column `__row__` holds the spreadsheet row.
        file: the file name used in messages and rejects.
        sheet: the sheet name, for workbooks.
        notes: what the reader noticed (encoding fallback...), shown to the user.
        kind: "csv", "xlsx" or "jsonl".
        delimiter: the CSV delimiter (";" hints at a European layout: decimal comma, D/M dates).
        rejects: rows that could not be read as a row (too many cells, not a JSON object),
            with the fields of a reject; they are not in `frame`.
    """

    frame: pd.DataFrame
    file: str
    sheet: str | None = None
    notes: list[str] = field(default_factory=list)
    kind: str = "csv"
    delimiter: str = ","
    rejects: list[dict[str, Any]] = field(default_factory=list)

    @property
    def headers(self) -> list[str]:
        return [c for c in self.frame.columns if c != "__row__"]

    @property
    def where(self) -> str:
        return self.file if self.sheet is None else f"{self.file} [{self.sheet}]"

    def with_notes(self, notes: list[str]) -> RawTable:
        """The same table with more notes (a new object: tables are never changed in place)."""
        return replace(self, notes=[*self.notes, *notes])


def read_table(path: Path) -> RawTable:
    """Read a CSV, the first sheet of a workbook, or a Graph export, whatever the file's extension."""
    from recon_cli.formats.graph import first_line, read_graph_records

    if path.is_dir():
        return _graph_table(path, read_graph_records(path))
    head = _head(path)
    kind = container(head)
    if kind == "xlsx" or (not head and path.suffix.lower() in {".xlsx", ".xlsm"}):
        sheets = list(read_xlsx_tables(path).values())
        # Skip a cover or "read me" sheet: the table is the first sheet with columns and rows.
        return next((t for t in sheets if len(t.headers) > 1 and len(t.frame)), sheets[0])
    if kind == "xls":
        raise InputError(f"{path.name}: an old binary .xls workbook; save it as .xlsx or CSV and run again")
    if kind == "gzip" and not first_line(path).lstrip().startswith(b"{"):
        return _read_gzip_csv(path)
    if kind in ("gzip", "json"):
        return _graph_table(path, read_graph_records(path))
    return read_csv_table(path, head)


def _read_gzip_csv(path: Path) -> RawTable:
    """A compressed CSV (invoice.csv.gz): decompressed into a temporary folder, then read as any CSV."""
    import gzip
    import shutil
    import tempfile
    import zlib

    inner = path.name[:-3] if path.name.lower().endswith(".gz") else path.name
    with tempfile.TemporaryDirectory(prefix="recon-") as folder:
        target = Path(folder) / inner
        try:
            with gzip.open(path, "rb") as source, target.open("wb") as sink:
                shutil.copyfileobj(source, sink)
        except (OSError, EOFError, zlib.error) as exc:
            raise InputError(f"{path.name}: not a readable gzip file ({exc})") from exc
        table = read_csv_table(target)
    return replace(table, file=path.name)


def _head(path: Path) -> bytes:
    try:
        with path.open("rb") as handle:
            return handle.read(SNIFF_BYTES)
    except OSError as exc:
        raise InputError(f"{path}: cannot be read ({exc.strerror})") from exc


def _graph_table(path: Path, read: tuple[pd.DataFrame, list[dict[str, Any]], list[str]]) -> RawTable:
    frame, rejects, notes = read
    return RawTable(frame=frame, file=path.name, notes=notes, kind="jsonl", rejects=rejects)


def read_csv_table(path: Path, head: bytes | None = None) -> RawTable:
    """Read a delimited text file as strings, keeping spreadsheet row numbers."""
    import pandas as pd

    head = _head(path) if head is None else head
    if not head.strip(b" \t\r\n\xef\xbb\xbf\xff\xfe"):
        raise InputError(f"{path.name}: the file is empty; expected a header row and data rows")
    layout = sniff_text(path.name, head, complete=len(head) < SNIFF_BYTES)
    # The fast path: pyarrow's multi-threaded reader, for UTF-8 files whose row numbers it keeps.
    if layout.is_utf8 and not layout.skip and not _has_interior_blank_line(path):
        frame = _read_with_pyarrow(path, layout.delimiter)
        if frame is not None:
            return _finish(frame, path.name, None, layout.notes, delimiter=layout.delimiter, nulls=False)
    try:
        frame = _read_with_pandas(path, layout)
    except UnicodeDecodeError:
        layout = replace(layout, encoding="cp1252",
                         notes=[*layout.notes, f"{path.name}: not UTF-8; read as Windows-1252 (cp1252)."])
        frame = _read_with_pandas(path, layout)
    except pd.errors.EmptyDataError as exc:
        raise InputError(f"{path.name}: the file is empty; expected a header row and data rows") from exc
    if frame is None:  # rows of uneven width: read record by record, rejecting the too-wide ones
        frame = _read_with_csv_module(path, layout)
    return _finish(frame, path.name, None, layout.notes, delimiter=layout.delimiter)


def _read_with_pandas(path: Path, layout: TextLayout) -> pd.DataFrame | None:
    """pandas' C engine; None when a row has more cells than the header."""
    import pandas as pd

    try:
        return pd.read_csv(path, dtype=str, keep_default_na=False, na_filter=False, encoding=layout.encoding,
                           sep=layout.delimiter, skip_blank_lines=False, engine="c", quotechar='"',
                           index_col=False, skiprows=layout.skip)
    except pd.errors.ParserError:
        return None
    except csv.Error as exc:
        raise InputError(f"{path.name}: not a readable CSV table: {exc}") from exc


def _read_with_csv_module(path: Path, layout: TextLayout) -> pd.DataFrame:
    """Record by record: a row wider than the header (with text in the extra cells) is marked
    TOO_WIDE and becomes a reject later; a narrower one is padded with blanks."""
    import pandas as pd

    rows: list[list[str]] = []
    try:
        with path.open(encoding=layout.encoding, errors="replace", newline="") as handle:
            for _ in range(layout.skip):
                handle.readline()
            reader = csv.reader(handle, delimiter=layout.delimiter)
            header = next(reader, [])
            width = len(header)
            for record in reader:
                if len(record) > width and any(cell.strip() for cell in record[width:]):
                    rows.append([TOO_WIDE + str(len(record)), *[""] * (width - 1)])
                else:
                    rows.append((record + [""] * width)[:width])
    except csv.Error as exc:
        # A cell past the csv module's size limit: an unbalanced quote swallowed the rest of the file.
        raise InputError(f"{path.name}: not a readable CSV table near row {len(rows) + 2}: {exc}; "
                         "check for an unbalanced quote") from exc
    return pd.DataFrame(rows, columns=header, dtype="str")


def _has_interior_blank_line(path: Path) -> bool:
    """True when a blank line sits between data lines: a reader that skips it would shift row numbers."""
    import mmap
    import re

    with path.open("rb") as handle:
        size = path.stat().st_size
        if size == 0:
            return False
        with mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as data:
            tail = data[max(0, size - 4096):]
            end = size - (len(tail) - len(tail.rstrip()))
            found = re.search(rb"\n[ \t\r]*\n", data)
            return found is not None and found.end() < end


def _read_with_pyarrow(path: Path, delimiter: str) -> pd.DataFrame | None:
    """pyarrow's multi-threaded CSV reader: every column as text; None when it cannot read the file.

    A million-line invoice reads several times faster than with the C engine; anything it
    refuses (ragged rows, invalid UTF-8) falls back to the C engine and its exact messages.
    """
    import pyarrow as pa
    from pyarrow import csv as arrow_csv

    try:
        names = _header_names(path, delimiter)
        if len(set(names)) != len(names):
            return None  # duplicated headers: let pandas number them the usual way
        table = arrow_csv.read_csv(
            path,
            read_options=arrow_csv.ReadOptions(block_size=1 << 24, column_names=names, skip_rows=1),
            parse_options=arrow_csv.ParseOptions(delimiter=delimiter, newlines_in_values=True),
            convert_options=arrow_csv.ConvertOptions(
                column_types=dict.fromkeys(names, pa.string()), strings_can_be_null=False,
                quoted_strings_can_be_null=False),
        )
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, UnicodeDecodeError, ValueError, csv.Error):
        return None
    frame: pd.DataFrame = table.to_pandas()
    return frame


def _header_names(path: Path, delimiter: str) -> list[str]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return next(csv.reader(handle, delimiter=delimiter), [])


def read_xlsx_tables(path: Path) -> dict[str, RawTable]:
    """Read every sheet of a workbook as strings (calamine when installed, else openpyxl)."""
    import pandas as pd

    _check_zip(path)
    try:
        import python_calamine  # noqa: F401

        engine: Literal["calamine", "openpyxl"] = "calamine"
    except ImportError:
        engine = "openpyxl"
    try:
        sheets = pd.read_excel(path, sheet_name=None, dtype=str, keep_default_na=False, na_filter=False,
                               engine=engine)
    except Exception as exc:  # the readers raise many types for a damaged workbook
        raise InputError(f"{path.name}: not a readable .xlsx workbook ({exc})") from exc
    tables = {name: replace(_finish(frame, path.name, name, []), kind="xlsx") for name, frame in sheets.items()}
    if not tables:
        raise InputError(f"{path.name}: the workbook has no sheets")
    return tables


def _check_zip(path: Path) -> None:
    try:
        with zipfile.ZipFile(path) as archive:
            inflated = sum(info.file_size for info in archive.infolist())
            packed = max(1, sum(info.compress_size for info in archive.infolist()))
    except zipfile.BadZipFile as exc:
        raise InputError(f"{path.name}: not an .xlsx workbook (not a zip archive)") from exc
    if inflated > MAX_XLSX_INFLATED or inflated / packed > MAX_XLSX_RATIO:
        raise InputError(f"{path.name}: refused: the workbook would inflate to {inflated:,} bytes "
                         f"({inflated // packed}x its size); export it as CSV instead")


def _finish(frame: pd.DataFrame, file: str, sheet: str | None, notes: list[str], *, delimiter: str = ",",
            nulls: bool = True) -> RawTable:
    """Number rows as the spreadsheet shows them, then drop rows with no value at all and
    header rows repeated inside the data (files concatenated, or pasted together in Excel).

    Args:
        nulls: the reader may have left missing cells (short rows) as NaN: make them blank.
    """
    import numpy as np

    frame = frame.copy()
    frame.columns = [str(c).replace("\ufeff", "").strip() for c in frame.columns]
    if nulls and len(frame):
        frame = frame.fillna("")
    if len(frame.columns) and len(frame):
        # Azure exports have been seen with a second BOM on the first data cell.
        first = frame.columns[0]
        frame.loc[frame.index[0], first] = str(frame.iloc[0, 0]).lstrip("\ufeff")
    frame["__row__"] = np.arange(FIRST_DATA_ROW, FIRST_DATA_ROW + len(frame), dtype="int64")
    data_columns = [c for c in frame.columns if c != "__row__"]
    rejects: list[dict[str, Any]] = []
    if data_columns and len(frame):
        blank = _rows_where(frame, data_columns, lambda column: "")
        repeated = _rows_where(frame, data_columns, lambda column: column) & ~blank
        wide = frame[data_columns[0]].str.startswith(TOO_WIDE).to_numpy(dtype=bool, na_value=False)
        for row, cells in zip(frame.loc[wide, "__row__"], frame.loc[wide, data_columns[0]], strict=True):
            rejects.append({"file": file if sheet is None else f"{file} [{sheet}]", "row": int(row), "column": "",
                            "value": "", "code": RejectCode.TOO_MANY_CELLS.value,
                            "message": f"the row has {cells[len(TOO_WIDE):]} cells, the header "
                                       f"{len(data_columns)}: a delimiter or quote is out of place"})
        if repeated.any():
            rows = frame.loc[repeated, "__row__"].tolist()
            notes = [*notes, f"{file}: {len(rows)} repeated header row(s) inside the data skipped "
                             f"(row {', '.join(map(str, rows[:5]))}{'...' if len(rows) > 5 else ''})."]
        drop = blank | repeated | wide
        if drop.any():
            frame = frame.loc[~drop].reset_index(drop=True)
    return RawTable(frame=frame, file=file, sheet=sheet, notes=notes, delimiter=delimiter, rejects=rejects)


def _rows_where(frame: pd.DataFrame, columns: list[str], expected: Any) -> Any:
    """A bool array: rows whose every cell (stripped) equals expected(column header).

    Only rows matching on the first column are checked further, so a million-line file
    costs one vectorised comparison.
    """
    import numpy as np

    def equal(cells: pd.Series, column: str) -> Any:
        return (cells.str.strip() == expected(column)).to_numpy(dtype=bool, na_value=False)

    found = equal(frame[columns[0]], columns[0]).copy()
    for column in columns[1:]:
        if not found.any():
            break
        candidates = np.flatnonzero(found)
        found[candidates] = equal(frame[column].iloc[candidates], column)
    return found


def split_workbook(tables: dict[str, RawTable]) -> tuple[RawTable, RawTable | None]:
    """(subscriptions, change log) from one workbook: the change log is a sheet named like
    "Change Log", "License Change Logs" or "LCL"; the subscriptions a sheet named like
    "Subscriptions", else the first other sheet with a subscription id column, else the first other."""
    from recon_cli.formats.subscriptions import SUBSCRIPTIONS

    changes = next((t for name, t in tables.items() if is_change_sheet(name)), None)
    others = [(name, t) for name, t in tables.items() if not is_change_sheet(name)]
    if not others:
        first = next(iter(tables.values()))
        raise InputError(f"{first.file}: no subscriptions sheet; the sheets are: {', '.join(tables)}")
    id_keys = set(SUBSCRIPTIONS.column("subscription_id").header_keys())
    subscriptions = (next((t for name, t in others if "subscription" in header_key(name)), None)
                     or next((t for _, t in others if id_keys & {header_key(h) for h in t.headers}), None)
                     or others[0][1])
    return subscriptions, changes


def is_change_sheet(name: str) -> bool:
    """A sheet that holds a change log, by its name (matched loosely)."""
    key = header_key(name)
    return "change" in key or "lcl" in key or "adjustment" in key


def is_workbook(path: Path) -> bool:
    """An .xlsx workbook, by its bytes (a workbook saved with a .csv name is still one)."""
    return path.is_file() and container(_head(path)[:8]) == "xlsx"


def read_change_log(path: Path) -> RawTable:
    """The change log from its own file: a CSV, or the change-log sheet of a workbook (else its first)."""
    if not is_workbook(path):
        return read_table(path)
    tables = read_xlsx_tables(path)
    return next((t for name, t in tables.items() if is_change_sheet(name)), next(iter(tables.values())))


def read_subscription_tables(subscriptions: Path, changes: Path | None) -> tuple[RawTable, RawTable | None]:
    """The subscriptions table, and the change log from `changes` or the workbook's change-log sheet."""
    if is_workbook(subscriptions):
        table, change_sheet = split_workbook(read_xlsx_tables(subscriptions))
    else:
        table, change_sheet = read_table(subscriptions), None
    if changes is not None:
        change_sheet = read_change_log(changes)
    return table, change_sheet
