"""Readers: a file in, a frame of strings out, plus what was detected about it.

Everything is read as text (`dtype=str`, no NA guessing): IDs keep their leading zeros
and money is parsed on purpose later, in normalize.py. What the file is (CSV in any of its
encodings and delimiters, a workbook, a Graph export) is decided from its bytes, not its name.
"""

from __future__ import annotations

import csv
import warnings
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from recon_cli.errors import InputError
from recon_cli.formats import header_key
from recon_cli.formats.sniff import TextLayout, container, sniff_text
from recon_cli.formats.textrows import unique_headers
from recon_cli.limits import Limits, active_limits, over_limit, show_size

if TYPE_CHECKING:
    import pandas as pd

# Spreadsheet row of the first data line: the header is row 1.
FIRST_DATA_ROW = 2
SNIFF_BYTES = 64 * 1024
# The C engine reads this many rows at a time, dropping blank ones: 2 MB of blank lines stays small.
CHUNK_ROWS = 100_000


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
        rejects: rows that could not be read as a row (too many cells, an unbalanced quote, not a
            JSON object), with the fields of a reject; they are not in `frame`.
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
    check_input_file(path)
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


def check_input_file(path: Path, limits: Limits | None = None) -> None:
    """Refuse what is not a regular file (a FIFO would block the run for ever) or is past max_input_size."""
    import stat

    limits = limits or active_limits()
    try:
        info = path.stat()
    except OSError as exc:  # a missing file, a symlink loop, no permission
        raise InputError(f"{path}: cannot be read ({exc.strerror or exc})") from exc
    if not stat.S_ISREG(info.st_mode):
        raise InputError(f"{path}: not a regular file (a pipe, device or socket); save the export to a file "
                         "and give that file")
    if info.st_size > limits.max_input_size:
        raise over_limit(path.name, f"a file of {show_size(info.st_size)}", "max_input_size",
                         show_size(limits.max_input_size))


def _read_gzip_csv(path: Path) -> RawTable:
    """A compressed CSV (invoice.csv.gz): inflated into a temporary folder (within the caps), then read
    as any CSV."""
    import tempfile
    import zlib

    from recon_cli.formats.graph import inflated_chunks

    inner = path.name[:-3] if path.name.lower().endswith(".gz") else path.name
    with tempfile.TemporaryDirectory(prefix="recon-") as folder:
        target = Path(folder) / inner
        try:
            with target.open("wb") as sink:
                for chunk in inflated_chunks(path, active_limits()):
                    sink.write(chunk)
        except (OSError, EOFError, zlib.error) as exc:
            raise InputError(f"{path.name}: not a readable gzip file ({exc})") from exc
        table = read_csv_table(target)
    return replace(table, file=path.name, rejects=[{**r, "file": path.name} for r in table.rejects])


def _head(path: Path) -> bytes:
    try:
        with path.open("rb") as handle:
            return handle.read(SNIFF_BYTES)
    except OSError as exc:
        raise InputError(f"{path}: cannot be read ({exc.strerror})") from exc


def _graph_table(path: Path, read: tuple[pd.DataFrame, list[dict[str, Any]], list[str]]) -> RawTable:
    frame, rejects, notes = read
    return _finish(frame, path.name, None, notes, rejects=rejects, kind="jsonl")


def read_csv_table(path: Path, head: bytes | None = None) -> RawTable:
    """Read a delimited text file as strings, keeping spreadsheet row numbers."""
    import pandas as pd

    from recon_cli.formats.textrows import MANY_BLANK_LINES, check_header_width, interior_blank_lines, read_records

    limits = active_limits()
    check_input_file(path, limits)
    head = _head(path) if head is None else head
    if not head.strip(b" \t\r\n\xef\xbb\xbf\xff\xfe"):
        raise InputError(f"{path.name}: the file is empty; expected a header row and data rows")
    layout = sniff_text(path.name, head, complete=len(head) < SNIFF_BYTES)
    check_header_width(path, layout, limits)
    blank = interior_blank_lines(path, layout.encoding)
    # The fast path: pyarrow's multi-threaded reader, for UTF-8 files whose row numbers it keeps.
    if layout.is_utf8 and not layout.skip and not blank:
        frame = _read_with_pyarrow(path, layout.delimiter)
        if frame is not None:
            return _finish(frame, path.name, None, layout.notes, delimiter=layout.delimiter, nulls=False)
    try:
        frame = _read_with_pandas(path, layout) if blank < MANY_BLANK_LINES else None
    except UnicodeDecodeError:
        layout = replace(layout, encoding="cp1252",
                         notes=[*layout.notes, f"{path.name}: not UTF-8; read as Windows-1252 (cp1252)."])
        frame = _read_with_pandas(path, layout)
    except pd.errors.EmptyDataError as exc:
        raise InputError(f"{path.name}: the file is empty; expected a header row and data rows") from exc
    if frame is not None:
        return _finish(frame, path.name, None, layout.notes, delimiter=layout.delimiter)
    # Rows of uneven width, or a line break inside a cell: record by record, with the rejects named.
    frame, rejects, notes = read_records(path, layout, limits)
    return _finish(frame, path.name, None, [*layout.notes, *notes], delimiter=layout.delimiter, rejects=rejects)


def _read_with_pandas(path: Path, layout: TextLayout) -> pd.DataFrame | None:
    """pandas' C engine, a chunk at a time with blank rows dropped; None when a row has more cells than
    the header, or a cell holds a line break (an unbalanced quote may have merged rows: see textrows.py)."""
    import numpy as np
    import pandas as pd

    parts: list[pd.DataFrame] = []
    start = FIRST_DATA_ROW
    try:
        with warnings.catch_warnings():
            # The C engine only warns when the first data row is wider than the header, and drops its cells.
            warnings.simplefilter("error", pd.errors.ParserWarning)
            with pd.read_csv(path, dtype=str, keep_default_na=False, na_filter=False, encoding=layout.encoding,
                             sep=layout.delimiter, skip_blank_lines=False, engine="c", quotechar='"',
                             index_col=False, skiprows=layout.skip, chunksize=CHUNK_ROWS, compression=None,
                             # UTF-8 strictly, so that a file that is not falls back to cp1252; cp1252 has
                             # five undefined bytes, and UTF-16 lone surrogates: shown as U+FFFD, not a crash.
                             encoding_errors="strict" if layout.is_utf8 else "replace") as reader:
                for chunk in reader:
                    chunk = chunk.fillna("")
                    chunk["__row__"] = np.arange(start, start + len(chunk), dtype="int64")
                    start += len(chunk)
                    columns = [c for c in chunk.columns if c != "__row__"]
                    if any(chunk[c].str.contains("\n", regex=False).any() for c in columns):
                        return None
                    if columns and len(chunk):
                        chunk = chunk.loc[~_rows_where(chunk, columns, lambda column: "")]
                    parts.append(chunk)
    except (pd.errors.ParserError, pd.errors.ParserWarning):
        return None
    except csv.Error as exc:
        raise InputError(f"{path.name}: not a readable CSV table: {exc}") from exc
    return pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0].reset_index(drop=True)


def _read_with_pyarrow(path: Path, delimiter: str) -> pd.DataFrame | None:
    """pyarrow's multi-threaded CSV reader: every column as text; None when it cannot read the file.

    A million-line invoice reads several times faster than with the C engine; anything it
    refuses (ragged rows, invalid UTF-8) falls back to the C engine and its exact messages.
    """
    import numpy as np
    import pyarrow as pa
    from pyarrow import csv as arrow_csv

    try:
        names = _header_names(path, delimiter)
        if len(set(names)) != len(names):
            return None  # duplicated headers: let pandas number them the usual way
        table = arrow_csv.read_csv(
            pa.memory_map(str(path)),  # a file, not a name: pyarrow would take a .gz name for gzip data
            read_options=arrow_csv.ReadOptions(block_size=1 << 24, column_names=names, skip_rows=1),
            parse_options=arrow_csv.ParseOptions(delimiter=delimiter, newlines_in_values=True),
            convert_options=arrow_csv.ConvertOptions(
                column_types=dict.fromkeys(names, pa.string()), strings_can_be_null=False,
                quoted_strings_can_be_null=False),
        )
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, UnicodeDecodeError, ValueError, csv.Error):
        return None
    frame: pd.DataFrame = table.to_pandas()
    # No blank line sits between rows here, so rows are numbered in order (a column named __row__ is not ours).
    frame["__row__"] = np.arange(FIRST_DATA_ROW, FIRST_DATA_ROW + len(frame), dtype="int64")
    return frame


def _header_names(path: Path, delimiter: str) -> list[str]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return next(csv.reader(handle, delimiter=delimiter), [])


def read_xlsx_tables(path: Path) -> dict[str, RawTable]:
    """Read every sheet of a workbook as strings, at its real extent (formats/sheets.py)."""
    from recon_cli.formats.sheets import read_sheets

    limits = active_limits()
    check_input_file(path, limits)
    tables = {sheet.name: _finish(sheet.frame, path.name, sheet.name, sheet.notes, kind="xlsx")
              for sheet in read_sheets(path, limits)}
    if not tables:
        raise InputError(f"{path.name}: the workbook has no sheets")
    return tables


def _finish(frame: pd.DataFrame, file: str, sheet: str | None, notes: list[str], *, delimiter: str = ",",
            nulls: bool = True, rejects: list[dict[str, Any]] | None = None, kind: str = "csv") -> RawTable:
    """Check the cells against the caps, then drop rows with no value at all and header rows repeated
    inside the data (files concatenated, or pasted together in Excel).

    Args:
        nulls: the reader may have left missing cells (short rows) as NaN: make them blank.
    """
    # Headers without their BOM and spaces, still unique (" a" and "a" would become one name for two columns).
    names = iter(unique_headers([str(c).replace("\ufeff", "").strip() for c in frame.columns if c != "__row__"]))
    frame.columns = [c if c == "__row__" else next(names) for c in frame.columns]
    if nulls and len(frame):
        frame = frame.fillna("")
    where = file if sheet is None else f"{file} [{sheet}]"
    data_columns = [c for c in frame.columns if c != "__row__"]
    _check_cells(frame, data_columns, where, active_limits())
    if data_columns and len(frame):
        # Azure exports have been seen with a second BOM on the first data cell.
        first = data_columns[0]
        frame.loc[frame.index[0], first] = str(frame[first].iloc[0]).lstrip("\ufeff")
        blank = _rows_where(frame, data_columns, lambda column: "")
        repeated = _rows_where(frame, data_columns, lambda column: column) & ~blank
        if repeated.any():
            rows = frame.loc[repeated, "__row__"].tolist()
            notes = [*notes, f"{file}: {len(rows)} repeated header row(s) inside the data skipped "
                             f"(row {', '.join(map(str, rows[:5]))}{'...' if len(rows) > 5 else ''})."]
        drop = blank | repeated
        if drop.any():
            frame = frame.loc[~drop].reset_index(drop=True)
    return RawTable(frame=frame, file=file, sheet=sheet, notes=notes, delimiter=delimiter, rejects=rejects or [],
                    kind=kind)


def _check_cells(frame: pd.DataFrame, columns: list[str], where: str, limits: Limits) -> None:
    """Refuse the file at its first header or cell longer than max_cell_chars, naming its row and column."""
    cap = limits.max_cell_chars
    for column in columns:
        if len(column) > cap:
            raise over_limit(f"{where}, row 1", f"a header of {len(column):,} characters", "max_cell_chars",
                             f"{cap:,} characters per cell")
    if len(columns) > limits.max_columns:
        raise over_limit(f"{where}, row 1", f"the header has {len(columns):,} cells", "max_columns",
                         f"{limits.max_columns:,} columns")
    for column in columns:
        # Bytes first (arrow reads them from the offsets, for nothing); characters only past the cap.
        if _most_bytes(frame[column]) <= cap:
            continue
        lengths = frame[column].str.len().to_numpy(dtype="int64", na_value=0)
        if lengths.max() > cap:
            at = int(lengths.argmax())
            raise over_limit(f"{where}, row {frame['__row__'].iloc[at]}, column {column[:60]!r}",
                             f"a cell of {int(lengths[at]):,} characters", "max_cell_chars",
                             f"{cap:,} characters per cell")


def _most_bytes(cells: pd.Series) -> int:
    import pyarrow as pa
    import pyarrow.compute as pc

    longest = pc.max(pc.binary_length(pa.array(cells, type=pa.large_string(), from_pandas=True))).as_py()
    return int(longest or 0)


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
