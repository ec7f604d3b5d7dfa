"""The Summary sheet: the run's facts, totals per status and currency, money at risk, the
legend of status fills, and one row per customer, most money at risk first.

Money cells carry their currency in the number format (`#,##0.00 "USD"`). The customer
table comes last so its rows can be streamed like the data sheets' (a million-line run
has tens of thousands of customers). Used by `workbook.write_xlsx` only.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from openpyxl.utils import get_column_letter
from openpyxl.worksheet.properties import PageSetupProperties

from recon_cli.outputs.xlsx.cells import STATUS_MEANINGS, Col, Styles, rows_xml, splice_rows, texts
from recon_cli.records import PriceStatus, Status

if TYPE_CHECKING:
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles.cell_style import StyleArray
    from openpyxl.worksheet._write_only import WriteOnlyWorksheet

    from recon_cli.result import ReconResult

MAX_CUSTOMERS = 100_000  # rows of the customer table; the Lines sheet has every line
CUSTOMER_CHUNK = 5_000
ZERO = Decimal(0)


def customer_table(columns: dict[str, list[Any]]) -> tuple[tuple[Col, ...], list[list[Any]]]:
    """One row per customer (name and id): lines, subtotal per currency, lines needing a
    person, money at risk per currency, the id; most money at risk first.

    Args:
        columns: the Lines sheet's cell values by field (customer_name, customer_id,
            currency, status, subtotal, money_at_risk), one entry per line.

    Returns:
        The table's columns and its values column by column. Customers are ordered by money
        at risk (currency by currency, the currency with most at risk first), then lines
        needing a person, then subtotal, then name.
    """
    groups: dict[tuple[Any, Any], list[Any]] = {}
    for name, cid, currency, needs, subtotal, risk in zip(
            columns["customer_name"], columns["customer_id"], columns["currency"], columns["needs_person"],
            columns["subtotal"], columns["money_at_risk"], strict=True):
        group = groups.get((name, cid))
        if group is None:
            group = groups[(name, cid)] = [0, 0, {}, {}]
        group[0] += 1
        if needs:
            group[1] += 1
        code = currency or ""
        if subtotal is not None:
            group[2][code] = group[2].get(code, ZERO) + subtotal
        if risk is not None:
            group[3][code] = group[3].get(code, ZERO) + risk
    currencies = sorted({code for g in groups.values() for code in (*g[2], *g[3])})
    at_risk = {c: sum((g[3].get(c, ZERO) for g in groups.values()), ZERO) for c in currencies}
    by_risk = sorted(currencies, key=lambda c: at_risk[c], reverse=True)
    ordered = sorted(groups.items(), key=lambda item: (
        tuple(-item[1][3].get(c, ZERO) for c in by_risk), -item[1][1],
        tuple(-item[1][2].get(c, ZERO) for c in by_risk), item[0][0] or "", item[0][1] or ""))
    table = (
        [Col("customer_name", "Customer"), Col("lines", "Lines", "number")]
        + [Col(f"subtotal {c}", f"Subtotal {c}".strip(), "money", c) for c in currencies]
        + [Col("needs", "Needs a person", "number")]
        + [Col(f"at risk {c}", f"At risk {c}".strip(), "money", c) for c in currencies]
        + [Col("customer_id", "Customer ID")]
    )
    values: list[list[Any]] = [[key[0] or "(no customer name)" for key, _ in ordered],
                               [g[0] for _, g in ordered]]
    values += [[g[2].get(c) for _, g in ordered] for c in currencies]
    values.append([g[1] for _, g in ordered])
    values += [[g[3].get(c, ZERO) if c in g[2] or c in g[3] else None for _, g in ordered] for c in currencies]
    values.append([key[1] for key, _ in ordered])
    return tuple(table), values


class _Sheet:
    """A write-only sheet that counts the rows appended to it."""

    def __init__(self, ws: WriteOnlyWorksheet) -> None:
        self.ws, self.rows = ws, 0

    def append(self, *cells: Any) -> None:
        self.ws.append(list(cells))
        self.rows += 1


def write_summary(ws: WriteOnlyWorksheet, styles: Styles, result: ReconResult, notes: list[str],
                  lines: dict[str, list[Any]]) -> None:
    """Fill and close the Summary sheet.

    Key facts, counts and amounts per status and currency, the money lines, the counts
    that need a person, `notes`, the fills legend, then the customer table built from the
    Lines sheet's values (`lines`, by field).
    """
    s = result.summary
    currencies = sorted(set(s.subtotal_total) | set(s.subtotal_by_status) | set(s.unbilled_cost)
                        | set(s.money_at_risk) | set(s.missing_value))
    columns, values = customer_table(lines)
    shown = min(len(values[0]), MAX_CUSTOMERS)
    if shown < len(values[0]):
        notes = [*notes, f"Customers: the {shown:,} with most money at risk of {len(values[0]):,}; "
                         "filter the Lines sheet by Customer for the others."]
    names = [len(str(v)) for v in values[0][:1_000]]
    widths = [min(45, max([34, *names]) + 2), 12, *[18] * (len(columns) - 3), 40]
    for j, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(j)].width = width
    # Printed or exported to PDF: landscape, as wide as one page.
    ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0
    ws.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    sheet = _Sheet(ws)

    def bold(text: str) -> WriteOnlyCell:
        return styles.cell(ws, text, styles.bold)

    def money(value: str | None, currency: str, bold: bool = False) -> WriteOnlyCell | None:
        return styles.cell(ws, Decimal(value), styles.money(currency, bold)) if value else None

    sheet.append(styles.cell(ws, "recon: invoice reconciliation", styles.title))
    facts = [
        ("Period", s.period or ""), ("Invoice numbers", ", ".join(s.invoice_numbers)),
        ("Run id", s.run_id), ("Created", s.created_at), ("Invoice file", s.invoice_file),
        ("Invoice format", s.invoice_format), ("Subscriptions file", s.subscriptions_file),
        ("Change log", s.changes_file or "none: no difference could be explained"),
        ("As of", s.as_of or ""), ("Minimum margin %", s.min_margin or "off"),
    ]
    for label, value in facts:
        sheet.append(label, *texts([value]))
    sheet.append()
    sheet.append(*_header(ws, styles, ["Status", "Lines", *(f"Subtotal {c}" for c in currencies)]))
    for status in Status:
        count = s.status_counts.get(status, 0)
        amounts = [money(s.subtotal_by_status.get(c, {}).get(status), c) for c in currencies]
        if count or any(amounts):
            sheet.append(styles.cell(ws, str(status), styles.status[status]), count, *amounts)
    sheet.append(bold("Total"), styles.cell(ws, s.line_count, styles.bold),
                 *(money(s.subtotal_total.get(c), c, bold=True) for c in currencies))
    sheet.append()
    sheet.append(*_header(ws, styles, ["Price status", "Lines"]))
    for price in PriceStatus:
        if s.price_status_counts.get(price):
            sheet.append(str(price), s.price_status_counts[price])
    sheet.append()
    sheet.append(*_header(ws, styles, ["Amounts", *currencies]))
    for label, by_currency in (("Unbilled cost (unmatched)", s.unbilled_cost), ("Money at risk", s.money_at_risk),
                               ("Missing subscriptions value", s.missing_value),
                               ("Seat sales per year (priced subscriptions)", s.annual_revenue)):
        sheet.append(label, *(money(by_currency.get(c), c) for c in currencies))
    if s.margin_pct:
        sheet.append("Seat margin % (weighted by sales)", *(
            Decimal(s.margin_pct[c]) if c in s.margin_pct else None for c in currencies))
    sheet.append()
    for label, count in (("Needing a person (lines and missing subscriptions)", s.needs_person),
                         ("Missing subscriptions", s.missing_count), ("Rejected rows", s.reject_count)):
        sheet.append(label, count)
    if notes:
        sheet.append()
        sheet.append(bold("Notes"))
        for note in notes:
            sheet.append(*texts([note]))
    sheet.append()
    sheet.append(*_header(ws, styles, ["Legend", "Meaning"], numbers=False))
    for status in Status:
        sheet.append(styles.cell(ws, str(status), styles.status[status]), STATUS_MEANINGS[status])
    sheet.append()
    sheet.append(bold("Customers, most money at risk first"))
    sheet.append(*styles.headers(ws, columns))
    first = sheet.rows + 1
    ws.auto_filter.ref = f"A{sheet.rows}:{get_column_letter(len(columns))}{sheet.rows + shown}"
    ws.close()
    splice_rows(ws, (rows_xml(columns, [c[i:min(shown, i + CUSTOMER_CHUNK)] for c in values],
                              first + i, styles) for i in range(0, shown, CUSTOMER_CHUNK)))


def _header(ws: WriteOnlyWorksheet, styles: Styles, headers: list[str], numbers: bool = True
            ) -> list[WriteOnlyCell]:
    """A small table's header: a label, then the headers of number columns (right-aligned)."""
    right: StyleArray = styles.header_right if numbers else styles.header
    return [styles.cell(ws, text, styles.header if j == 0 else right) for j, text in enumerate(headers)]
