"""Signs that a file went through Excel before it reached us (formats/partner-center.md §3.1).

Excel reads ids as numbers: `0001` becomes `1`, and an 18-digit id keeps 15 significant
digits (`569142413664018751` → `569142413664018000`, shown as `5.69142E+17`). The file is
still read; the user is told which column, with an example, because such ids no longer match
Partner Center's and the fix is a fresh download, not an edit.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from recon_cli.formats import GUID, ID, TableFormat

if TYPE_CHECKING:
    import pandas as pd

SKU_ID_LENGTH = 4
# Excel keeps 15 significant digits; an id longer than that has been rounded if it was a number.
EXCEL_DIGITS = 15
LONGEST_NUMBER = 24
SAMPLE_ROWS = 5_000
SUSPECT = r"\d(?:\.\d+)?E\+\d+|\d{16,24}"
FIX = "re-download the file rather than saving it from Excel (or import the column as Text)"


def excel_damage_notes(frame: pd.DataFrame, fmt: TableFormat, headers: dict[str, str], file: str,
                       workbook: bool) -> list[str]:
    """One note per id column that looks damaged, naming the column and an example.

    Args:
        frame: the typed frame (id columns still text).
        headers: our column name -> the file's header, for the message.
        workbook: the file is an .xlsx, where a long id stored as a number comes back with
            binary noise in its last digits rather than zeros.
    """
    notes: list[str] = []
    # Excel converts a whole column, so an even sample of rows finds the damage as surely.
    step = max(1, len(frame) // SAMPLE_ROWS)
    if "sku_id" in headers and "sku_id" in frame:
        sku = frame["sku_id"].iloc[::step]
        short = sku.loc[(sku.str.len() < SKU_ID_LENGTH) & (sku != "")]
        short = short.loc[short.str.isdigit()]
        if len(short):
            notes.append(f"{file}: column '{headers['sku_id']}' looks damaged by Excel: {short.iloc[0]!r} "
                         f"({SKU_ID_LENGTH} characters expected, like '0001': leading zeros were lost); {FIX}.")
    for column in fmt.columns:
        if column.type not in (ID, GUID) or column.name not in headers or column.name not in frame:
            continue
        example = _long_id_example(frame[column.name].iloc[::step], workbook)
        if example is not None:
            notes.append(f"{file}: column '{headers[column.name]}' looks damaged by Excel: {example!r} "
                         f"(a long id turned into a number keeps only {EXCEL_DIGITS} digits); {FIX}.")
    return notes


def _long_id_example(values: pd.Series, workbook: bool) -> str | None:
    # One pass over the sample finds any candidate; the closer look runs only on a hit.
    if not values.str.fullmatch(SUSPECT).any():
        return None
    scientific = values.loc[values.str.contains("E+", regex=False)]
    scientific = scientific.loc[scientific.str.fullmatch(r"\d(?:\.\d+)?E\+\d+")]
    if len(scientific):
        return str(scientific.iloc[0])
    lengths = values.str.len()
    # Ids Excel rounds are numbers of 16 to ~20 digits; a 36-character GUID is never one.
    long = values.loc[(lengths > EXCEL_DIGITS) & (lengths <= LONGEST_NUMBER)]
    long = long.loc[long.str.isdigit()]
    if long.empty:
        return None
    zeros = long.loc[long.str.endswith("000")]
    if len(zeros) and (len(zeros) == len(long) or len(zeros) * 2 > len(long)):
        return str(zeros.iloc[0])
    if workbook:
        # A number cell read back: every long value is exactly a double, which real ids rarely are.
        distinct = long.unique().tolist()
        if len(long) >= 2 and all(int(float(v)) == int(v) for v in distinct[:1000]):
            return str(distinct[0])
    return None
