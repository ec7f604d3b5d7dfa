"""An .xlsx workbook's sheets as text, read at their real extent.

A sheet is read cell by cell from its XML: only the cells that hold a value exist. The public
openpyxl and pandas readers pad every row to the widest one, so a 4 KB workbook with one cell at
XFD1048576 became a million rows of 16,384 cells (7.4 GB); here it is one header and one row.
Cells right of the header (which has no name for them) are left out, with a note. The zip is
checked before anything inflates, and every cap of `Limits` applies.
"""

from __future__ import annotations

import warnings
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from recon_cli.errors import InputError
from recon_cli.formats.textrows import text_frame, unique_headers
from recon_cli.limits import Limits, over_limit, show_size

if TYPE_CHECKING:
    import pandas as pd

# Under this many inflated bytes the ratio is not checked: a tiny workbook may compress very well.
RATIO_FLOOR = 1024**2
# Rows are turned into a frame this many at a time, so a big sheet never holds all its cells as Python lists.
BATCH_ROWS = 50_000


@dataclass
class Sheet:
    """One sheet as text: the header row's cells, then each data row with its spreadsheet row number."""

    name: str
    frame: pd.DataFrame
    notes: list[str] = field(default_factory=list)


def check_archive(path: Path, limits: Limits) -> None:
    """Refuse a zip that is not one, or that would inflate past the caps (a zip bomb)."""
    try:
        with zipfile.ZipFile(path) as archive:
            entries = archive.infolist()
    except Exception as exc:  # BadZipFile, NotImplementedError (a zip version or method), RuntimeError...
        raise InputError(f"{path.name}: not an .xlsx workbook (not a readable zip archive: {exc})") from exc
    inflated = sum(info.file_size for info in entries)
    packed = max(1, sum(info.compress_size for info in entries))
    if inflated > limits.max_input_size:
        raise over_limit(path.name, f"the workbook would inflate to {show_size(inflated)}", "max_input_size",
                         show_size(limits.max_input_size))
    if inflated > RATIO_FLOOR and inflated / packed > limits.max_inflate_ratio:
        raise over_limit(path.name, f"the workbook would inflate to {show_size(inflated)}, "
                         f"{inflated // packed:,} times its size (a zip bomb?)", "max_inflate_ratio",
                         f"{limits.max_inflate_ratio} times")


def read_sheets(path: Path, limits: Limits) -> list[Sheet]:
    """Every worksheet of the workbook, in order, as text frames with a `__row__` column."""
    import openpyxl

    check_archive(path, limits)
    budget = [limits.max_xlsx_cells]
    try:
        with warnings.catch_warnings():
            # openpyxl warns about styles, validations and extensions it skips: none matter for the values.
            warnings.simplefilter("ignore")
            book = openpyxl.load_workbook(path, read_only=True, data_only=True, keep_links=False)
            try:
                return [_read_sheet(book, sheet, path.name, limits, budget) for sheet in book.worksheets]
            finally:
                book.close()
    except InputError:
        raise
    except Exception as exc:  # the XML and zip layers raise many types for a damaged or hostile workbook
        raise InputError(f"{path.name}: not a readable .xlsx workbook ({type(exc).__name__}: {exc})"[:300]) from exc


def _read_sheet(book: Any, sheet: Any, file: str, limits: Limits, budget: list[int]) -> Sheet:
    import pandas as pd
    from openpyxl.worksheet._reader import WorkSheetParser

    where = f"{file} [{sheet.title}]"
    header: list[str] | None = None
    rows: list[list[str]] = []
    numbers: list[int] = []
    parts: list[pd.DataFrame] = []
    outside: tuple[int, int] | None = None  # (row, column) of the first cell right of the header
    # The same parser openpyxl's read-only worksheet uses, without its padding (see the module docstring).
    with sheet._get_source() as source:
        parser = WorkSheetParser(source, sheet._shared_strings, data_only=True, epoch=book.epoch,
                                 date_formats=book._date_formats, timedelta_formats=book._timedelta_formats)
        for index, cells in parser.parse():
            budget[0] -= len(cells)
            if budget[0] < 0:
                raise over_limit(file, f"the workbook holds more than {limits.max_xlsx_cells:,} cells",
                                 "max_xlsx_cells", f"{limits.max_xlsx_cells:,} cells")
            values = {cell["column"]: text for cell in cells if (text := cell_text(cell["value"])) != ""}
            if not values:
                continue
            if header is None:
                header = _header(values, f"{where}, row {index}", limits)
                continue
            row = [""] * len(header)
            for column, text in values.items():
                if column <= len(header):
                    row[column - 1] = text
                elif outside is None:
                    outside = (index, column)
            rows.append(row)
            numbers.append(index)
            if len(rows) == BATCH_ROWS:
                parts.append(text_frame(rows, numbers, header))
                rows, numbers = [], []
    header = header or []
    parts.append(text_frame(rows, numbers, header))
    frame = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]
    notes = []
    if outside is not None:
        notes.append(f"{where}: cells right of the header (first at row {outside[0]}, column {outside[1]}) have "
                     "no column name and were not read.")
    return Sheet(sheet.title, frame, notes)


def _header(values: dict[int, str], where: str, limits: Limits) -> list[str]:
    width = max(values)
    if width > limits.max_columns:
        raise over_limit(where, f"the header reaches column {width:,}", "max_columns",
                         f"{limits.max_columns:,} columns")
    return unique_headers([values.get(column, "") for column in range(1, width + 1)])


def cell_text(value: Any) -> str:
    """A cell's value as the text a CSV export would hold.

    Whole numbers print without a decimal point (Excel shows 12, not 12.0); other numbers to 15
    significant digits, Excel's own precision, so 12.299999999999999 is the 12.3 the sheet shows.
    Dates print as `2026-10-05 00:00:00` (normalize reads that), errors as their text (`#N/A`).
    """
    if value is None:
        return ""
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else format(value, ".15g")
    return str(value)
