"""The data sheets' tables: their columns from the field catalogue, and their values.

Lines, Exceptions, Missing, To bill, Margin, Usage, Evidence and Rejects each take the
catalogue fields their output carries, in catalogue order (`cells.columns_of`). Two columns
are the workbook's own: the Rejects sheet's Severity ("reject" or "warning": rejects and
warnings share the REJECTS fields), and the figures of `summary.usage_check`, which is a
dict in the run summary rather than a frame. Used by `workbook.py` only.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from openpyxl.utils import get_column_letter

from recon_cli.outputs.xlsx.cells import NUMBER_CELLS, Col, RowXml, Styles, cell_xml, columns_of, frame_columns
from recon_cli.outputs.xlsx.rows import rows_xml
from recon_cli.records import (
    CHANGE_LOG_MISMATCH,
    DIFF,
    EVIDENCE,
    LINES,
    MARGIN,
    MISSING,
    REJECTS,
    TO_BILL,
    USAGE_BILLING,
    Field,
    FieldKind,
    Output,
)

if TYPE_CHECKING:
    import pandas as pd

    from recon_cli.models import RunSummary

LINE_COLUMNS = columns_of(LINES)
# The line id of an Exceptions row links to that line on the Lines sheet.
EXCEPTION_COLUMNS = tuple(replace(c, kind="link") if c.field == "line_id" else c
                          for c in columns_of(LINES, Output.EXCEPTIONS))
MISSING_COLUMNS = columns_of(MISSING)
EVIDENCE_COLUMNS = columns_of(EVIDENCE)
MARGIN_COLUMNS = columns_of(MARGIN)
USAGE_COLUMNS = columns_of(USAGE_BILLING)
MISMATCH_COLUMNS = columns_of(CHANGE_LOG_MISMATCH)
DIFF_COLUMNS = columns_of(DIFF)
# Forgotten billing (a change older than a period, still not invoiced) is filled on its row.
TO_BILL_COLUMNS = tuple(replace(c, mark=True) if c.kind == "flag" else c for c in columns_of(TO_BILL))
REJECT_COLUMNS = (Col("severity", "Severity", "status"), *columns_of(REJECTS))
# summary.usage_check["differences"]: the line's own fields, then the check's figures.
_LINE_FIELDS = {f.name: f for f in LINES}
USAGE_CHECK_FIELDS: tuple[Field, ...] = (
    *(_LINE_FIELDS[name] for name in ("line_id", "subscription_id", "product")),
    Field("invoice_subtotal", "Invoice subtotal", FieldKind.MONEY),
    Field("daily_rated_total", "Daily-rated total", FieldKind.MONEY),
    Field("difference", "Difference", FieldKind.MONEY),
    Field("days", "Days", FieldKind.INT), Field("dru_rows", "Daily-rated rows", FieldKind.INT),
    _LINE_FIELDS["currency"],
)
USAGE_CHECK_COLUMNS = columns_of(USAGE_CHECK_FIELDS)


def exception_order(lines: dict[str, list[Any]]) -> list[int]:
    """The lines needing a person: most money at risk first, then over-billed, then price effect."""
    zero = Decimal(0)
    risk, over, effect = lines["money_at_risk"], lines["over_billed"], lines["price_effect"]
    found = [i for i, flag in enumerate(lines["needs_person"]) if flag]
    found.sort(key=lambda i: (risk[i] or zero, over[i] or zero, abs(effect[i] or zero)), reverse=True)
    return found


def reject_values(rejects: pd.DataFrame, warnings: pd.DataFrame) -> list[list[Any]]:
    """The Rejects sheet's columns: the rejected rows, then the warnings, each with its severity."""
    fields = REJECT_COLUMNS[1:]
    ours, theirs = frame_columns(rejects, fields), frame_columns(warnings, fields)
    severity = ["reject"] * len(rejects) + ["warning"] * len(warnings)
    return [severity, *(a + b for a, b in zip(ours, theirs, strict=True))]


def usage_check_title(check: dict[str, Any]) -> str:
    """'Daily-rated usage check: 12 usage lines checked against dru.csv; 1 differs'."""
    checked, differing = int(check.get("lines_checked", 0)), int(check.get("lines_differing", 0))
    text = (f"Daily-rated usage check: {checked:,} usage line{'s' if checked != 1 else ''} checked against "
            f"{Path(str(check.get('file'))).name}; "
            + (f"{differing:,} differ{'s' if differing == 1 else ''}" if differing else "all agree"))
    shown = len(check.get("differences") or [])
    if shown < differing:
        text += f" (the {shown:,} largest differences are listed)"
    unmatched = check.get("unmatched_usage") or {}
    if unmatched:
        text += "; daily-rated usage not on the invoices: " + ", ".join(
            f"{Decimal(str(amount)):,.2f} {currency}" for currency, amount in sorted(unmatched.items()))
    return text


def usage_check_rows(summary: RunSummary, lines: dict[str, list[Any]], first: int,
                     styles: Styles) -> tuple[Iterator[RowXml], list[list[Any]]]:
    """The usage check's differences under the Usage sheet's table, from row `first` + 1.

    Returns:
        The rows' XML, and the table's values column by column (for the widths).
    """
    check = summary.usage_check or {}
    differences = check.get("differences") or []
    currency = dict(zip(lines["line_id"], lines["currency"], strict=True))
    values = [[currency.get(d.get("line_id")) if c.field == "currency" else
               (Decimal(str(d[c.field])) if c.kind in NUMBER_CELLS and d.get(c.field) is not None
                else d.get(c.field)) for d in differences] for c in USAGE_CHECK_COLUMNS]

    def rows() -> Iterator[RowXml]:
        title = first + 1
        text = cell_xml(f"A{title}", usage_check_title(check), styles.attr(styles.bold), styles)
        yield f'<row r="{title}">{text}</row>'
        header = "".join(cell_xml(f"{get_column_letter(j + 1)}{title + 1}", c.header,
                                  styles.attr(styles.header_style(USAGE_CHECK_COLUMNS, j)), styles)
                         for j, c in enumerate(USAGE_CHECK_COLUMNS))
        yield f'<row r="{title + 1}">{header}</row>'
        if differences:
            yield rows_xml(USAGE_CHECK_COLUMNS, values, title + 2, styles)

    return rows(), values
