"""Readers: a file in, a frame of strings out, plus what was detected about it.

Everything is read as text (`dtype=str`, no NA guessing): IDs keep their leading zeros
and money is parsed on purpose later, in normalize.py.
"""

from __future__ import annotations

import codecs
import csv
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from recon_cli.errors import InputError
from recon_cli.formats import TableFormat, header_key

if TYPE_CHECKING:
    import pandas as pd

# Spreadsheet row of the first data line: the header is row 1.
FIRST_DATA_ROW = 2
# An xlsx is a zip: refuse one that would inflate past this (a zip bomb, or not a billing export).
MAX_XLSX_INFLATED = 4 * 1024**3
MAX_XLSX_RATIO = 200
SNIFF_BYTES = 64 * 1024
DELIMITERS = (",", ";", "\t", "|")


@dataclass
class RawTable:
    """A table as read: all text, original headers, blank rows dropped.

    Attributes:
        frame: the cells as strings; column `__row__` holds the spreadsheet row.
        file: the file name used in messages and rejects.
        sheet: the sheet name, for workbooks.
        notes: what the reader noticed (encoding fallback...), shown to the user.
    """

    frame: pd.DataFrame
    file: str
    sheet: str | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def headers(self) -> list[str]:
        return [c for c in self.frame.columns if c != "__row__"]


def _sniff_text(path: Path, head: bytes) -> tuple[str, str, list[str]]:
    """Pick encoding and delimiter from the first bytes; returns (encoding, delimiter, notes)."""
    notes: list[str] = []
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encoding = "utf-16"
    elif b"\x00" in head:
        raise InputError(f"{path.name}: this is not a text table (it holds binary data); "
                         "expected a CSV or an .xlsx workbook")
    else:
        encoding = "utf-8-sig"
        try:
            head.decode("utf-8")
        except UnicodeDecodeError as exc:
            if exc.start < len(head) - 4:  # not just a multi-byte character cut by the sniff window
                encoding = "cp1252"
                notes.append(f"{path.name}: not UTF-8; read as Windows-1252 (cp1252). "
                             "Check accented names in the report.")
    text = head.decode(encoding, errors="replace").lstrip("\ufeff")
    first_line = next((line for line in text.splitlines() if line.strip()), "")
    counts = {d: first_line.count(d) for d in DELIMITERS}
    delimiter = max(counts, key=lambda d: counts[d])
    if counts[delimiter] == 0:
        delimiter = ","
    return encoding, delimiter, notes


def read_csv_table(path: Path) -> RawTable:
    """Read a delimited text file as strings, keeping spreadsheet row numbers."""
    import pandas as pd

    try:
        with path.open("rb") as handle:
            head = handle.read(SNIFF_BYTES)
    except OSError as exc:
        raise InputError(f"{path}: cannot be read ({exc.strerror})") from exc
    if not head.strip():
        raise InputError(f"{path.name}: the file is empty; expected a header row and data rows")
    encoding, delimiter, notes = _sniff_text(path, head)
    if encoding == "utf-8-sig" and not _has_interior_blank_line(path):
        frame = _read_with_pyarrow(path, delimiter)
        if frame is not None:
            return _finish(frame, path.name, None, notes)
    try:
        frame = pd.read_csv(
            path, dtype=str, keep_default_na=False, na_filter=False, encoding=encoding,
            sep=delimiter, skip_blank_lines=False, engine="c", quotechar='"',
        )
    except UnicodeDecodeError:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, na_filter=False, encoding="cp1252",
                            sep=delimiter, skip_blank_lines=False, engine="c")
        notes.append(f"{path.name}: not UTF-8; read as Windows-1252 (cp1252).")
    except (pd.errors.ParserError, csv.Error) as exc:
        raise InputError(f"{path.name}: not a readable CSV table: {exc}") from exc
    except pd.errors.EmptyDataError as exc:
        raise InputError(f"{path.name}: the file is empty; expected a header row and data rows") from exc
    return _finish(frame, path.name, None, notes)


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
            found = re.search(rb"\n[ \t\r]*\n", data)  # type: ignore[call-overload]
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
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, UnicodeDecodeError, ValueError):
        return None
    return table.to_pandas()


def _header_names(path: Path, delimiter: str) -> list[str]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return next(csv.reader(handle, delimiter=delimiter), [])


def read_xlsx_tables(path: Path) -> dict[str, RawTable]:
    """Read every sheet of a workbook as strings (calamine when installed, else openpyxl)."""
    import pandas as pd

    _check_zip(path)
    try:
        import python_calamine  # noqa: F401

        engine = "calamine"
    except ImportError:
        engine = "openpyxl"
    try:
        sheets = pd.read_excel(path, sheet_name=None, dtype=str, keep_default_na=False,
                               na_filter=False, engine=engine)
    except Exception as exc:  # the readers raise many types for a damaged workbook
        raise InputError(f"{path.name}: not a readable .xlsx workbook ({exc})") from exc
    tables = {name: _finish(frame, path.name, name, []) for name, frame in sheets.items()}
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


def _finish(frame: pd.DataFrame, file: str, sheet: str | None, notes: list[str]) -> RawTable:
    """Number rows as the spreadsheet shows them, then drop rows with no value at all."""
    import numpy as np

    frame = frame.copy()
    frame.columns = [str(c).replace("\ufeff", "").strip() for c in frame.columns]
    if len(frame.columns) and len(frame):
        # Azure exports have been seen with a second BOM on the first data cell.
        first = frame.columns[0]
        frame.loc[frame.index[0], first] = str(frame.iloc[0, 0]).lstrip("\ufeff")
    frame["__row__"] = np.arange(FIRST_DATA_ROW, FIRST_DATA_ROW + len(frame), dtype="int64")
    data_columns = [c for c in frame.columns if c != "__row__"]
    if data_columns:
        # Only rows whose first cell is blank can be blank rows: check the rest on those alone.
        blank = (frame[data_columns[0]].str.strip() == "").to_numpy(dtype=bool, na_value=True).copy()
        for column in data_columns[1:]:
            if not blank.any():
                break
            candidates = np.flatnonzero(blank)
            cells = frame[column].iloc[candidates].str.strip() == ""
            blank[candidates] = cells.to_numpy(dtype=bool, na_value=True)
        if blank.any():
            frame = frame.loc[~blank].reset_index(drop=True)
    return RawTable(frame=frame, file=file, sheet=sheet, notes=notes)


def read_table(path: Path) -> RawTable:
    """Read a CSV, or the first sheet of a workbook."""
    if path.suffix.lower() in {".xlsx", ".xlsm"}:
        return next(iter(read_xlsx_tables(path).values()))
    return read_csv_table(path)


def resolve_columns(table: RawTable, fmt: TableFormat) -> dict[str, str]:
    """Map our column names to the file's headers; refuse a file missing a required column.

    Returns:
        {our name: header in the file} for every declared column found.
    """
    by_key: dict[str, str] = {}
    for header in table.headers:
        by_key.setdefault(header_key(header), header)
    found: dict[str, str] = {}
    used: set[str] = set()
    for column in fmt.columns:
        for key in column.header_keys():
            header = by_key.get(key)
            if header is not None and header not in used:
                found[column.name] = header
                used.add(header)
                break
    missing = [c for c in fmt.columns if c.required and c.name not in found]
    if missing:
        names = ", ".join(f"'{c.source}'" for c in missing)
        where = f"{table.file}" + (f" (sheet '{table.sheet}')" if table.sheet else "")
        raise InputError(
            f"{where}: required column {names} not found; the columns are: "
            f"{', '.join(table.headers) or '(none)'}; expected a {fmt.title} file"
        )
    return found


INVOICE_FORMATS = ("auto", "nce")
# Header sets that identify formats this version does not read yet, for a helpful refusal.
KNOWN_OTHER_LAYOUTS = {
    "a legacy licence-based reconciliation export": ("SyndicationPartnerSubscriptionNumber", "DurableOfferId"),
    "a legacy usage-based reconciliation export": ("PretaxCharges", "ConsumedQuantity"),
    "a daily-rated usage export (it complements the invoice; give the invoice reconciliation file)":
        ("UsageDate", "MeterId", "BillingPreTaxTotal"),
}


def detect_invoice_format(table: RawTable, requested: str = "auto") -> TableFormat:
    """The invoice's format, from `--invoice-format` or from its header."""
    from recon_cli.formats.nce import NCE

    if requested not in INVOICE_FORMATS:
        from recon_cli.errors import ConfigError

        raise ConfigError(f"--invoice-format {requested!r} is not supported; expected one of: "
                          f"{', '.join(INVOICE_FORMATS)}")
    if requested == "nce" or NCE.matches(table.headers):
        return NCE
    keys = {header_key(h) for h in table.headers}
    for description, signature in KNOWN_OTHER_LAYOUTS.items():
        if all(header_key(s) in keys for s in signature):
            raise InputError(f"{table.file}: this looks like {description}; this version reads the "
                             "Partner Center new-commerce invoice reconciliation CSV (--invoice-format nce)")
    raise InputError(
        f"{table.file}: not a recognised invoice: expected the Partner Center new-commerce reconciliation "
        f"columns ({', '.join(NCE.signature)}); the columns are: {', '.join(table.headers[:20]) or '(none)'}"
        + (" ..." if len(table.headers) > 20 else ""))


def split_workbook(tables: dict[str, RawTable]) -> tuple[RawTable, RawTable | None]:
    """(subscriptions, change log) from one workbook: the change log is a sheet named like
    "Change Log" or "License Change Logs", the subscriptions the first other sheet."""
    def is_change_sheet(name: str) -> bool:
        key = header_key(name)
        return "change" in key or "lcl" in key

    changes = next((t for name, t in tables.items() if is_change_sheet(name)), None)
    subscriptions = next((t for name, t in tables.items() if not is_change_sheet(name)), None)
    if subscriptions is None:
        first = next(iter(tables.values()))
        raise InputError(f"{first.file}: no subscriptions sheet; the sheets are: {', '.join(tables)}")
    return subscriptions, changes
