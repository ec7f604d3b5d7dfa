"""The Summary sheet, what finance reads first.

From the top: what needs a person; the money figures of PRODUCT.md §3 rule 10 per currency,
each with its definition beside it; a bar chart of money at risk by customer; the customers
with something to look at (`customers.py`); then the run's facts, lines and subtotals per
status and currency, price statuses, findings, notes and the legend of status fills.

Every cell is rendered as row XML (`cells.cell_xml`, `rows.rows_xml`), so text can never
become a formula and the customer table streams like the data sheets. The rows are built in
memory first: column widths come from what each cell shows (money with its currency code),
so no number renders as ###. Text that ends its row may overflow to the right and does not
widen its column. Used by `workbook.write_xlsx` only.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from openpyxl.utils import get_column_letter
from openpyxl.worksheet.properties import PageSetupProperties

from recon_cli.outputs.xlsx.cells import (
    NONE_TEXT,
    STATUS_MEANINGS,
    RowXml,
    Styles,
    cell_xml,
    shown_money,
    widths,
)
from recon_cli.outputs.xlsx.customers import CHART_ROWS, CustomerTable, add_chart, customer_table
from recon_cli.outputs.xlsx.rows import rows_xml
from recon_cli.outputs.xlsx.stream import splice_rows
from recon_cli.records import MONEY_FIGURES, PriceStatus, Status

if TYPE_CHECKING:
    from openpyxl.styles.cell_style import StyleArray
    from openpyxl.worksheet._write_only import WriteOnlyWorksheet

    from recon_cli.models import RunSummary
    from recon_cli.result import ReconResult

TITLE = "recon: invoice reconciliation"
CUSTOMER_CHUNK = 5_000
MIN_WIDTH = 9
BOLD_FACTOR = 1.1  # bold characters are a little wider
# The money figures (RunSummary fields) in the order a finance team reads them; `always`: shown as
# 0.00 in a currency that has none. Labels and definitions are records.MONEY_FIGURES, the words the
# README uses too, else OWN_FIGURES for the figures it does not define.
FIGURES: tuple[tuple[str, bool], ...] = (
    ("unbilled_cost", True), ("under_billed", True), ("below_cost_loss", True), ("money_at_risk", True),
    ("over_billed", True), ("unclaimed_credit", True), ("to_bill", True), ("to_bill_forgotten", True),
    ("usage_cost", False), ("usage_to_bill", False), ("missing_value", False), ("missing_cost", False),
)
OWN_FIGURES: dict[str, tuple[str, str]] = {
    "usage_cost": ("Usage cost", "Usage on the invoices of subscriptions with a markup_percent, at the "
                   "provider's cost."),
    "missing_value": ("Missing, expected price", "Subscriptions due this period and absent from the invoices: "
                      "seats × unit price."),
    "missing_cost": ("Missing, expected cost", "The same subscriptions at their expected cost: "
                     "seats × unit cost."),
}
# The period's margin (RunSummary.margin[currency][key]) and the seat margin a year.
MARGIN_ROWS = (
    ("revenue", "Selling value this period",
     "Matched seat subscriptions: subscription seats × unit price for the provider's charge."),
    ("cost", "Provider cost this period", "The invoices' subtotals of those subscriptions."),
    ("margin", "Margin this period", MONEY_FIGURES["margin"][1]),
    ("margin_pct", "Margin % this period", "Margin ÷ selling value."),
)
YEAR_ROWS = (
    ("annual_revenue", "Seat sales a year",
     "Seat subscriptions with a unit price and a provider cost, each once: unit price × seats for a year."),
    ("margin_pct", "Seat margin % a year", "The margin on those sales, weighted by sales."),
)


@dataclass(frozen=True)
class _Cell:
    value: Any
    style: StyleArray | None = None
    shown: str = ""  # the text the cell shows, for its width
    bold: bool = False


class _Grid:
    """Summary rows held in memory from `first` on, until the column widths are known."""

    def __init__(self, styles: Styles, first: int) -> None:
        self.styles, self.first = styles, first
        self.rows: list[list[_Cell | None]] = []

    @property
    def next_row(self) -> int:
        return self.first + len(self.rows)

    def add(self, *cells: _Cell | str | None) -> int:
        """Append a row (plain strings become text cells); returns its row number."""
        self.rows.append([_Cell(c, shown=c) if isinstance(c, str) else c for c in cells])
        return self.next_row - 1

    def blank(self, count: int = 1) -> None:
        self.rows.extend([] for _ in range(count))

    def widths(self, out: dict[int, float]) -> None:
        """Widen `out` (column -> width) to what each cell shows; text ending its row overflows."""
        for row in self.rows:
            last = max((j for j, c in enumerate(row) if c is not None and c.value is not None), default=-1)
            for j, cell in enumerate(row):
                if cell is None or cell.value is None or (j == last and isinstance(cell.value, str)):
                    continue
                width = len(cell.shown) * (BOLD_FACTOR if cell.bold else 1) + 2
                out[j] = max(out.get(j, MIN_WIDTH), width)

    def xml(self) -> Iterator[str]:
        attr = self.styles.attr
        for r, row in enumerate(self.rows, start=self.first):
            cells = "".join(cell_xml(f"{get_column_letter(j + 1)}{r}", c.value, attr(c.style), self.styles)
                            for j, c in enumerate(row) if c is not None)
            if cells:  # a blank row is simply left out
                yield f'<row r="{r}">{cells}</row>'


class _Cells:
    """Makers of the Summary's cells, with their styles and shown text."""

    def __init__(self, styles: Styles) -> None:
        self.styles = styles

    def bold(self, text: str) -> _Cell:
        return _Cell(text, self.styles.bold, text, bold=True)

    def legend(self, text: str, bold: bool = False) -> _Cell:
        return _Cell(text, self.styles.indent_bold if bold else self.styles.indent, text, bold)

    def dim(self, text: str) -> _Cell:
        return _Cell(text, self.styles.dim, text)

    def headers(self, *texts: str, numbers: bool = True) -> list[_Cell | None]:
        """A small table's header: a label, then the headers of number columns (right-aligned)."""
        right = self.styles.header_right if numbers else self.styles.header
        return [_Cell(t, self.styles.header if j == 0 else right, t + " ", bold=True) for j, t in enumerate(texts)]

    def money(self, value: Any, currency: str, bold: bool = False) -> _Cell | None:
        if value is None or value == "":
            return None
        amount = Decimal(value)
        return _Cell(amount, self.styles.money(currency, bold), shown_money(amount, currency) + " ", bold)

    def pct(self, value: Any) -> _Cell | None:
        if value is None or value == "":
            return None
        amount = Decimal(value)
        return _Cell(amount, self.styles.pct, f"{amount:.2f}%")

    def count(self, value: int, style: StyleArray | None = None) -> _Cell:
        return _Cell(value, style, f"{value:,}", bold=style is not None)


def _currencies(s: RunSummary) -> list[str]:
    """Every currency with a figure; the invoices' largest first (by its total), then by code."""
    found = {c for field, _ in FIGURES for c in getattr(s, field)} | set(s.margin) | set(s.subtotal_total)
    total = {c: abs(Decimal(v)) for c, v in s.subtotal_total.items()}
    return sorted(found | set(s.annual_revenue), key=lambda c: (-total.get(c, Decimal(0)), c))


def _money_rows(grid: _Grid, make: _Cells, s: RunSummary, currencies: list[str]) -> None:
    """The money figures per currency, each with its definition, then margins."""
    if not currencies:
        grid.add(make.bold("Money: nothing at risk, nothing owed, nothing to bill."))
        return
    grid.add(*make.headers("Money", *currencies), _Cell("What it means", make.styles.header_indent, bold=True))
    for field, always in FIGURES:
        label, meaning = MONEY_FIGURES.get(field) or OWN_FIGURES[field]
        amounts: dict[str, str] = getattr(s, field)
        if not always and not any(amounts.values()):
            continue
        bold = field == "money_at_risk"
        cells = [make.money(amounts.get(c, "0.00" if always else None), c, bold) for c in currencies]
        grid.add(make.bold(label) if bold else label, *cells, make.legend(meaning, bold))
    if s.margin:
        for key, label, meaning in MARGIN_ROWS:
            values = [s.margin[c].get(key) if c in s.margin else None for c in currencies]
            cells = [make.pct(v) if key == "margin_pct" else make.money(v, c) for v, c in zip(values, currencies,
                                                                                              strict=True)]
            grid.add(label, *cells, make.legend(meaning))
    if s.annual_revenue or s.margin_pct:
        for field, label, meaning in YEAR_ROWS:
            by_currency: dict[str, str] = getattr(s, field)
            cells = [make.pct(by_currency.get(c)) if field == "margin_pct" else make.money(by_currency.get(c), c)
                     for c in currencies]
            grid.add(label, *cells, make.legend(meaning))


def _facts(grid: _Grid, make: _Cells, s: RunSummary) -> None:
    grid.add(*make.headers("Run", numbers=False))
    usage_file = (s.usage_check or {}).get("file")
    facts: list[tuple[str, Any]] = [
        ("Period", s.period or ""), ("Invoice numbers", ", ".join(s.invoice_numbers)),
        ("Invoice files", "; ".join(s.invoice_files or [s.invoice_file])), ("Invoice format", s.invoice_format),
        ("Subscriptions file", s.subscriptions_file),
        ("Change log", s.changes_file or "none: no difference could be explained"),
        *([("Usage file", str(usage_file))] if usage_file else []),
        ("As of", s.as_of or ""), ("Minimum margin %", s.min_margin or "off"),
        ("Invoice lines", make.count(s.line_count)), ("Subscriptions", make.count(s.subscription_count)),
        ("Change-log records", make.count(s.change_count)), ("Run id", s.run_id), ("Created", s.created_at),
    ]
    for label, value in facts:
        grid.add(label, value)


def _counts(grid: _Grid, make: _Cells, result: ReconResult, currencies: list[str]) -> None:
    """Lines and subtotal per status and currency, price statuses, findings."""
    s = result.summary
    subtotal_currencies = [c for c in currencies if c in s.subtotal_total or c in s.subtotal_by_status]
    grid.add(*make.headers("Status", "Lines", *(f"Subtotal {c}" for c in subtotal_currencies)))
    styles = make.styles
    for status in Status:
        count = s.status_counts.get(status, 0)
        amounts = [make.money(s.subtotal_by_status.get(c, {}).get(status), c) for c in subtotal_currencies]
        if count or any(amounts):
            grid.add(_Cell(str(status), styles.status[status], str(status)), make.count(count), *amounts)
    grid.add(make.bold("Total"), make.count(s.line_count, styles.bold),
             *(make.money(s.subtotal_total.get(c), c, bold=True) for c in subtotal_currencies))
    grid.blank()
    grid.add(*make.headers("Price status", "Lines"))
    for price in PriceStatus:
        if s.price_status_counts.get(price):
            grid.add(str(price), make.count(s.price_status_counts[price]))
    grid.blank()
    grid.add(*make.headers("Findings", "Count"))
    for label, count in (
            ("Quantity findings (with missing)", s.needs_attention),
            ("Price findings", s.price_findings), ("Provider arithmetic off", s.arithmetic_findings),
            ("Missing subscriptions", s.missing_count),
            ("Not checked (other currency)", s.not_checked_other_currency),
            ("Rejected rows", s.reject_count), ("Warnings", len(result.warnings))):
        grid.add(label, make.count(count))


def _closing(grid: _Grid, make: _Cells, notes: list[str]) -> None:
    """Notes, then the legend of status fills."""
    if notes:
        grid.add(make.bold("Notes"))
        for note in notes:
            grid.add(note)
        grid.blank()
    grid.add(*make.headers("Legend", "Meaning", numbers=False))
    for status in Status:
        grid.add(_Cell(str(status), make.styles.status[status], str(status)), STATUS_MEANINGS[status])


def write_summary(ws: WriteOnlyWorksheet, styles: Styles, result: ReconResult, notes: list[str],
                  cells: Mapping[str, Any]) -> None:
    """Fill and close the Summary sheet.

    Args:
        notes: the workbook's own notes (continuation sheets, caps), after the run's notes.
        cells: the Lines sheet's cells (Arrow text) by field, for the customer table.
    """
    s = result.summary
    make = _Cells(styles)
    table = customer_table(cells, result.lines, result.margin)
    currencies = _currencies(s)
    if table.with_something > table.listed:
        notes = [*notes, f"Customers: the {table.listed:,} with most money at risk of the {table.with_something:,} "
                         "with something to look at; the others are summed. The Margin sheet has every customer."]
    head = _Grid(styles, first=2)  # row 1 is the title, written by openpyxl
    subtitle = [f"Period {s.period or '?'}", "invoice" + ("s " if len(s.invoice_numbers) > 1 else " ")
                + (", ".join(s.invoice_numbers) or s.invoice_file), f"as of {(s.as_of or '?')[:10]}"]
    head.add(make.dim(" · ".join(subtitle)))
    head.add(make.bold(s.needs_person_text()))
    head.blank()
    _money_rows(head, make, s, currencies)
    head.blank()
    chart_row = head.next_row
    head.blank(CHART_ROWS if table.at_risk_rows() else 0)
    head.add(make.bold("Customers to look at, most money at risk first"))
    header_row = head.add(*(_Cell(c.header, styles.header_style(table.columns, j), c.header + "   ", bold=True)
                            for j, c in enumerate(table.columns)))
    if not table.rows:
        head.add(make.dim(NONE_TEXT))
    tail = _Grid(styles, first=max(head.next_row - 1, header_row + table.rows) + 2)
    _facts(tail, make, s)
    tail.blank()
    _counts(tail, make, result, currencies)
    tail.blank()
    _closing(tail, make, [*s.notes, *notes])

    fitted: dict[int, float] = dict(enumerate(widths(table.columns, table.data)))
    head.widths(fitted)
    tail.widths(fitted)
    for j in sorted(fitted):
        ws.column_dimensions[get_column_letter(j + 1)].width = round(fitted[j], 1)
    # Printed or exported to PDF: landscape, the customer table as wide as one page (the prose
    # that overflows further right is cut at its edge).
    last_column = max(len(table.columns), *(len(row) for grid in (head, tail) for row in grid.rows))
    ws.print_area = f"A1:{get_column_letter(last_column)}{tail.next_row - 1}"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0
    ws.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    if table.rows:
        ws.auto_filter.ref = f"A{header_row}:{get_column_letter(len(table.columns))}{header_row + table.rows}"
    add_chart(ws, table, header_row, f"A{chart_row}")
    ws.append([styles.cell(ws, TITLE, styles.title)])
    ws.close()
    splice_rows(ws, _rows(head, tail, table, header_row + 1, styles))


def _rows(head: _Grid, tail: _Grid, table: CustomerTable, first: int, styles: Styles) -> Iterator[RowXml]:
    """The Summary's rows in order: the head, the customer table in chunks, the tail."""
    yield from head.xml()
    for i in range(0, table.rows, CUSTOMER_CHUNK):
        yield rows_xml(table.columns, [c[i:i + CUSTOMER_CHUNK] for c in table.data], first + i, styles)
    yield from tail.xml()

