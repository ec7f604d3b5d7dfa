"""The finance workbook (`--xlsx`), reopened with openpyxl: sheets, Summary, customers and chart,
the money sheets, formula-safe text, widths, and a workbook written from a stored run."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
import pandas as pd
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl.utils import column_index_from_string, get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from builders import with_lines
from recon_cli import store
from recon_cli.cli import cli
from recon_cli.errors import ExitCode
from recon_cli.outputs.xlsx import cells as xlsx_cells
from recon_cli.outputs.xlsx import customers as xlsx_customers
from recon_cli.outputs.xlsx import summary as xlsx_summary
from recon_cli.outputs.xlsx import workbook as xlsx
from recon_cli.outputs.xlsx.workbook import write_xlsx
from recon_cli.records import (
    LINES,
    MARGIN,
    MARGIN_FIELDS,
    MONEY_FIGURES,
    REJECT_FIELDS,
    REJECTS,
    TO_BILL,
    TO_BILL_FIELDS,
    USAGE_BILLING,
    USAGE_BILLING_FIELDS,
    Output,
    Status,
    carried,
)
from recon_cli.result import ReconResult

D = Decimal
HYPERLINK = '=HYPERLINK("http://evil","x")'
SHEETS = ["Summary", "Exceptions", "Lines", "Missing", "To bill", "Margin", "Evidence", "Rejects"]
SAMPLE = Path(__file__).resolve().parent.parent / "sample_data"


def write(result: ReconResult, tmp_path: Path, name: str = "recon.xlsx") -> openpyxl.Workbook:
    write_xlsx(result, tmp_path / name)
    return openpyxl.load_workbook(tmp_path / name)


@pytest.fixture
def money_result(tiny_result: ReconResult) -> ReconResult:
    """The tiny run with what to bill (one forgotten), margins, usage re-billing, a usage check and a warning."""
    to_bill = pd.DataFrame([
        dict(customer_name="Fabrikam Inc", subscription_id="bbbb-2", product="Microsoft 365 Business Premium",
             change_id="LCL-1001", effective_date="2026-10-12", quantity_delta=D("2"), unit_price=D("15.00"),
             amount=D("30.00"), currency="USD", forgotten=False, explanation="LCL-1001: +2 seats"),
        dict(customer_name="Fabrikam Inc", subscription_id="bbbb-2", product="Microsoft 365 Business Premium",
             change_id="LCL-0900", effective_date="2026-08-02", quantity_delta=D("1"), unit_price=D("15.00"),
             amount=D("15.00"), currency="USD", forgotten=True, explanation="LCL-0900: +1 seat, forgotten billing?"),
    ], columns=list(TO_BILL_FIELDS))
    margin = pd.DataFrame([
        dict(customer_name="Contoso Ltd", customer_id="cust-1", currency="USD", subscriptions=1, revenue=D("264.00"),
             cost=D("220.00"), margin=D("44.00"), margin_pct=D("16.67"), money_at_risk=D("0"), over_billed=D("0"),
             needs_person=0),
        dict(customer_name="Fabrikam Inc", customer_id="cust-1", currency="USD", subscriptions=1,
             revenue=D("180.00"), cost=D("125.00"), margin=D("55.00"), margin_pct=D("30.56"),
             money_at_risk=D("0"), over_billed=D("0"), needs_person=0),
        dict(customer_name=HYPERLINK, customer_id="cust-1", currency="USD", subscriptions=1, revenue=D("100.00"),
             cost=D("150.00"), margin=D("-50.00"), margin_pct=D("-50.00"), money_at_risk=D("30.00"),
             over_billed=D("0"), needs_person=1),
        dict(customer_name="Tailspin", customer_id="cust-9", currency="USD", subscriptions=2, revenue=D("90.00"),
             cost=D("100.00"), margin=D("-10.00"), margin_pct=D("-11.11"), money_at_risk=D("0"), over_billed=D("0"),
             needs_person=0),
    ], columns=list(MARGIN_FIELDS))
    usage = pd.DataFrame([dict(customer_name="Contoso Ltd", customer_id="cust-1", subscription_id="azure-1",
                               currency="USD", lines=3, usage_cost=D("120.00"), markup_percent=D("15"),
                               to_bill=D("138.00"))], columns=list(USAGE_BILLING_FIELDS))
    warnings = pd.DataFrame([dict(file="subscriptions.csv", row=9, column="unit_price", value="12,5,0",
                                  code="not_a_number", message="expected a price, found '12,5,0'; left blank")],
                            columns=list(REJECT_FIELDS))
    check = {"file": "/data/dru.csv", "rows": 90, "lines_checked": 3, "lines_differing": 1, "unmatched_usage": {},
             "differences": [{"line_id": "G000123456-2", "subscription_id": "aaaa-1", "product": "Azure plan",
                              "invoice_subtotal": "220.00", "daily_rated_total": "212.40", "difference": "7.60",
                              "days": 31, "dru_rows": 62}]}
    summary = tiny_result.summary.model_copy(update={
        "to_bill": {"USD": "45.00"}, "to_bill_forgotten": {"USD": "15.00"}, "usage_cost": {"USD": "120.00"},
        "usage_to_bill": {"USD": "138.00"}, "over_billed": {"USD": "0.00"},
        "margin": {"USD": {"revenue": "634.00", "cost": "595.00", "margin": "39.00", "margin_pct": "6.15"}},
        "annual_revenue": {"USD": "7608.00"}, "margin_pct": {"USD": "6.15"}, "usage_check": check,
        "notes": ["unknown column '=cmd' ignored"]})
    return dataclasses.replace(tiny_result, to_bill=to_bill, margin=margin, usage_billing=usage, warnings=warnings,
                               summary=summary)


def headers(sheet: Worksheet, row: int = 1) -> list[Any]:
    return [cell.value for cell in sheet[row]]


def records(sheet: Worksheet, header_row: int = 1, stop: int | None = None) -> list[dict[str, Any]]:
    """The rows under `header_row` as dicts keyed by the header, up to the first blank row."""
    keys = headers(sheet, header_row)
    out = []
    for row in sheet.iter_rows(min_row=header_row + 1, max_row=stop, values_only=True):
        if all(v is None for v in row):
            break
        out.append(dict(zip(keys, row, strict=False)))
    return out


def summary_rows(book: openpyxl.Workbook) -> dict[Any, tuple[Any, ...]]:
    """Summary rows by their first cell (the first row of each label)."""
    rows: dict[Any, tuple[Any, ...]] = {}
    for row in book["Summary"].iter_rows(values_only=True):
        if row and row[0] is not None:
            rows.setdefault(row[0], row[1:])
    return rows


def customer_table(book: openpyxl.Workbook) -> tuple[int, list[dict[str, Any]]]:
    """The Summary's customer table: its header row and its rows."""
    sheet = book["Summary"]
    title = next(c.row for c in sheet["A"] if c.value == "Customers to look at, most money at risk first")
    return title + 1, records(sheet, title + 1)


def column_widths(sheet: Worksheet) -> dict[int, float]:
    """Each column's width as written (a <col> may span several columns)."""
    out: dict[int, float] = {}
    for dim in sheet.column_dimensions.values():
        if dim.width:
            for index in range(dim.min or column_index_from_string(dim.index), (dim.max or dim.min) + 1):
                out[index] = dim.width
    return out


def shown(cell: openpyxl.cell.Cell) -> str:
    """What a number cell shows in its format: "123,456,789.00 USD", "16.52%", "60"."""
    fmt = cell.number_format
    code = re.search(r'"([A-Z]{3})"', fmt)
    if fmt.startswith("#,##0.00"):
        return f"{D(str(cell.value)):,.2f}" + (f" {code.group(1)}" if code else "")
    if fmt == xlsx_cells.PCT_FORMAT:
        return f"{D(str(cell.value)):.2f}%"
    return str(cell.value)


# --- sheets ------------------------------------------------------------------------------


def test_sheets_in_order_with_usage_only_when_there_is_usage(tiny_result: ReconResult, money_result: ReconResult,
                                                              tmp_path: Path) -> None:
    """Summary, Exceptions, Lines, Missing, To bill, Margin, (Usage), Evidence, Rejects."""
    assert write(tiny_result, tmp_path, "a.xlsx").sheetnames == SHEETS
    assert write(money_result, tmp_path, "b.xlsx").sheetnames == [*SHEETS[:6], "Usage", *SHEETS[6:]]
    no_check = money_result.summary.model_copy(update={"usage_check": None})
    assert "Usage" in write(dataclasses.replace(money_result, summary=no_check), tmp_path, "c.xlsx").sheetnames


def test_data_sheets_have_a_bold_frozen_header_and_a_filter(money_result: ReconResult, tmp_path: Path) -> None:
    """Lines and Exceptions freeze the line id too (B2); every data sheet filters its table."""
    book = write(money_result, tmp_path)
    for name in book.sheetnames[1:]:
        sheet = book[name]
        assert sheet.freeze_panes == ("B2" if name in ("Lines", "Exceptions") else "A2"), name
        assert all(cell.font.bold for cell in sheet[1] if cell.value), name
        assert sheet.auto_filter.ref.startswith("A1:"), name
    lines = book["Lines"]
    assert lines.auto_filter.ref == f"A1:{get_column_letter(lines.max_column)}5"
    assert column_widths(lines)[4] > 10


def test_lines_and_exceptions_columns_come_from_the_catalogue(tiny_result: ReconResult, tmp_path: Path) -> None:
    """Line, Customer, Product, Status, Needs a person, At risk lead both sheets, in catalogue order."""
    book = write(tiny_result, tmp_path)
    first = ["Line", "Customer", "Product", "Status", "Needs a person", "At risk"]
    assert headers(book["Lines"]) == [f.header for f in carried(LINES, Output.LINES)]
    assert headers(book["Exceptions"]) == [f.header for f in carried(LINES, Output.EXCEPTIONS)]
    assert headers(book["Lines"])[:6] == headers(book["Exceptions"])[:6] == first
    lines = records(book["Lines"])
    assert [r["Needs a person"] for r in lines] == [None, None, "yes", "yes"]
    assert lines[0]["Provider arithmetic off"] is None


def test_status_fills_notes_and_money(tiny_result: ReconResult, tmp_path: Path) -> None:
    """One fill per status, a note on an exception's status cell, money as formatted numbers."""
    lines = write(tiny_result, tmp_path)["Lines"]
    columns = {v: i + 1 for i, v in enumerate(headers(lines))}
    status_cells = [lines.cell(row, columns["Status"]) for row in range(2, 6)]
    assert [c.value for c in status_cells] == ["matched", "explained", "unexplained", "unmatched"]
    assert len({c.fill.fgColor.rgb for c in status_cells}) == 4
    assert status_cells[2].comment is not None
    assert "no change-log record explains it" in status_cells[2].comment.text
    assert status_cells[0].comment is None
    subtotal = lines.cell(5, columns["Subtotal"])
    assert (subtotal.data_type, subtotal.value, subtotal.number_format) == ("n", -15, '#,##0.00 "USD"')
    assert lines.cell(2, columns["Unit price"]).value == pytest.approx(26.4)
    assert lines.cell(3, columns["Evidence"]).value == "LCL-1001"


def test_exceptions_by_money_at_risk_then_over_billed_then_price_effect(tiny_result: ReconResult,
                                                                          tmp_path: Path) -> None:
    """Every line needing a person, the largest amount at stake first; each links to its line."""
    result = with_lines(tiny_result, needs_person={0: True, 1: True}, over_billed={1: D("12.00")},
                        price_effect={0: D("-40.00"), 3: D("5.00")})
    book = write(result, tmp_path)
    exceptions = book["Exceptions"]
    ids = [exceptions.cell(row, 1).value for row in range(2, exceptions.max_row + 1)]
    assert ids == ["G000123456-4", "G000123456-3", "G000123456-2", "G000123456-5"]
    for row in range(2, exceptions.max_row + 1):
        link = exceptions.cell(row, 1)
        assert link.hyperlink.target is None  # a place in the workbook, not an address
        sheet, _, ref = link.hyperlink.location.rpartition("!")
        assert book[sheet.strip("'")][ref].value == link.value
        assert link.font.underline == "single"


def test_lines_continue_on_more_sheets_and_links_follow(tiny_result: ReconResult, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """Past the row limit, lines go on "Lines (2)", links go there, and the Summary says so."""
    monkeypatch.setattr(xlsx, "MAX_SHEET_ROWS", 3)  # header + 2 lines per sheet
    monkeypatch.setattr(xlsx, "MAX_COMMENTS", 1)
    book = write(tiny_result, tmp_path)
    assert book.sheetnames[2:4] == ["Lines", "Lines (2)"]
    ids = [row[0] for name in ("Lines", "Lines (2)") for row in book[name].iter_rows(min_row=2, values_only=True)]
    assert ids == [f"G000123456-{row}" for row in (2, 3, 4, 5)]
    assert book["Lines (2)"].freeze_panes == "B2"
    assert [book["Exceptions"][f"A{r}"].hyperlink.location for r in (2, 3)] == ["'Lines (2)'!A2", "'Lines (2)'!A3"]
    assert any("Lines (2)" in str(label) for label in summary_rows(book))
    comments = [c for name in ("Lines", "Lines (2)") for row in book[name].iter_rows() for c in row if c.comment]
    assert len(comments) == 1
    assert xlsx.line_location(["Lines", "Lines (2)"], 1) == "'Lines'!A3"


# --- formula-safe text ------------------------------------------------------------------


@pytest.mark.parametrize("name", [HYPERLINK, "+1 555 0100", "-5 seats", "@SUM(A1)", "\tTabbed", "#N/A"])
def test_formula_like_text_is_kept_exact_with_a_quote_prefix(name: str, tiny_result: ReconResult,
                                                              tmp_path: Path) -> None:
    """Text that starts like a formula reads back exactly, as text with quotePrefix, on every sheet."""
    result = with_lines(tiny_result, customer_name={2: name})
    book = write(result, tmp_path)
    header_row, _ = customer_table(book)
    places = [("Lines", 4, 2), ("Exceptions", 2, 2), ("Summary", header_row + 1, 1)]
    for sheet, row, column in places:
        cell = book[sheet].cell(row, column)
        assert (cell.value, cell.data_type, cell.quotePrefix) == (name, "s", True), sheet
    assert book["Lines"].cell(2, 2).quotePrefix is False  # ordinary text has no prefix


def test_no_cell_anywhere_is_a_formula(money_result: ReconResult, tmp_path: Path) -> None:
    """Every sheet of a full workbook holds values only, and the formula-like note stays text."""
    book = write(money_result, tmp_path)
    cells = [c for sheet in book.worksheets for row in sheet.iter_rows() for c in row]
    assert [c.coordinate for c in cells if c.data_type == "f"] == []
    note = next(c for c in book["Summary"]["A"] if c.value == "unknown column '=cmd' ignored")
    assert note.data_type == "s"
    customer = next(c for c in book["Margin"]["A"] if c.value == HYPERLINK)
    assert customer.quotePrefix


@pytest.mark.parametrize("name", ["  Leading", "Trailing  ", "\u00a0no-break", "tab\t", " "])
def test_blank_space_at_an_end_of_text_is_kept(name: str, tiny_result: ReconResult, tmp_path: Path) -> None:
    """Text with blank space at either end is marked xml:space="preserve" and reads back exactly; other
    text goes without it (as openpyxl writes it: on every cell it was a fifth of the Lines sheet)."""
    import zipfile

    book = write(with_lines(tiny_result, customer_name={2: name}), tmp_path)
    assert book["Lines"].cell(4, 2).value == name
    with zipfile.ZipFile(tmp_path / "recon.xlsx") as archive:
        sheet = archive.read(f"xl/worksheets/sheet{SHEETS.index('Lines') + 1}.xml").decode()
    opened = {m.group(2): m.group(1) for m in re.finditer(r'<is><t( xml:space="preserve")?>([^<]*)</t>', sheet)}
    assert opened[xml_text(name)] == ' xml:space="preserve"'
    assert opened["Contoso Ltd"] is None


def xml_text(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


@settings(max_examples=150, deadline=None)
@given(st.lists(st.none() | st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=6),
                min_size=1, max_size=8), st.sampled_from(["text", "status"]))
def test_column_wise_rows_are_the_cells_one_by_one(values: list[str | None], kind: str) -> None:
    """`rows_xml` renders a text column, from cell values (`column_values`) or column-wise from the frame
    (`table_column`, the Lines sheet), as `cell_xml` renders each of its cells, for any text: XML-illegal
    characters dropped, escapes, the quote prefix of formula-like text, xml:space only where needed."""
    from openpyxl import Workbook

    from recon_cli.outputs.xlsx.rows import rows_xml, table_column

    wb = Workbook(write_only=True)
    styles = xlsx_cells.Styles(wb, wb.create_sheet())
    columns = (xlsx_cells.Col("customer_name", "Customer", kind),)
    series = pd.Series(values, dtype="str", name="customer_name")
    expected = "".join(
        f'<row r="{row}">'
        + xlsx_cells.cell_xml(f"A{row}", value, styles.status_attr.get(value, "") if kind == "status" else "", styles)
        + "</row>" for row, value in enumerate(values, start=2))
    for cells in (xlsx_cells.column_values(series, kind), table_column(series, kind)):
        assert bytes(rows_xml(columns, [cells], 2, styles)).decode() == expected


# --- Summary -----------------------------------------------------------------------------


def test_summary_opens_with_the_money_figures_and_their_definitions(money_result: ReconResult,
                                                                    tmp_path: Path) -> None:
    """Rule 10's figures per currency, each with its definition beside it; money at risk bold."""
    book = write(money_result, tmp_path)
    sheet = book["Summary"]
    assert sheet["A1"].value == xlsx_summary.TITLE
    assert sheet["A3"].value == money_result.summary.needs_person_text()
    money_row = next(c.row for c in sheet["A"] if c.value == "Money")
    assert money_row < 8
    assert headers(sheet, money_row)[:3] == ["Money", "USD", "What it means"]
    figures = {r["Money"]: (r["USD"], r["What it means"]) for r in records(sheet, money_row)}
    for field in ("unbilled_cost", "unclaimed_credit", "under_billed", "over_billed", "below_cost_loss",
                  "money_at_risk", "to_bill", "to_bill_forgotten", "usage_to_bill"):
        label, meaning = MONEY_FIGURES[field]
        amount = getattr(money_result.summary, field).get("USD", "0")
        assert figures[label] == (D(amount), meaning), field
    assert figures["Usage cost"][0] == 120
    assert figures["Margin this period"] == (39, MONEY_FIGURES["margin"][1])
    assert figures["Margin % this period"][0] == pytest.approx(6.15)
    assert figures["Seat sales a year"][0] == 7608
    assert figures["Seat margin % a year"][0] == pytest.approx(6.15)
    risk = next(c for c in sheet["A"] if c.value == MONEY_FIGURES["money_at_risk"][0])
    assert risk.font.bold and sheet.cell(risk.row, 2).font.bold
    assert sheet.cell(risk.row, 2).number_format == '#,##0.00 "USD"'


def test_summary_facts_counts_and_legend(money_result: ReconResult, tmp_path: Path) -> None:
    """The run's facts, lines per status and currency, findings, notes and the fills legend."""
    book = write(money_result, tmp_path)
    rows = summary_rows(book)
    assert rows["Run id"][0] == "20261125T020000Z-abcd"
    assert rows["Invoice numbers"][0] == "G000123456"
    assert rows["Usage file"][0] == "/data/dru.csv"
    assert rows["unexplained"][:2] == (1, 150)
    assert rows["Total"][:2] == (4, 480)
    assert rows["below_cost"][0] == 1
    assert (rows["Rejected rows"][0], rows["Warnings"][0], rows["Missing subscriptions"][0]) == (1, 1, 1)
    legend = [c for c in book["Summary"]["A"] if c.value == "partially_explained"]
    assert legend[-1].fill.fgColor.rgb.endswith(xlsx_cells.STATUS_FILLS["partially_explained"])


def test_no_summary_number_is_too_wide_for_its_column(money_result: ReconResult, tmp_path: Path) -> None:
    """With 9-digit amounts, every number's column fits it as its format shows it (no ###), and
    every text cell followed by another cell fits too (text ending a row may overflow)."""
    big = "123456789.00"
    summary = money_result.summary
    update: dict[str, Any] = {f: {"USD": big, "EUR": big} for f, _ in xlsx_summary.FIGURES}
    update |= {"subtotal_total": {"USD": big, "EUR": big},
               "subtotal_by_status": {c: {"unexplained": big} for c in ("USD", "EUR")},
               "margin": {c: {"revenue": big, "cost": big, "margin": "-" + big, "margin_pct": "-100.00"}
                          for c in ("USD", "EUR")},
               "annual_revenue": {"USD": big, "EUR": big}, "margin_pct": {"USD": "99.99", "EUR": "-12.50"},
               "line_count": 123456789}
    result = with_lines(dataclasses.replace(money_result, summary=summary.model_copy(update=update)),
                        money_at_risk={2: D(big)}, over_billed={3: D(big)}, currency={3: "EUR"})
    sheet = write(result, tmp_path)["Summary"]
    fitted = column_widths(sheet)
    numbers = 0
    for row in sheet.iter_rows():
        filled = [c for c in row if c.value is not None]
        for cell in filled:
            width = fitted.get(cell.column, 8.43)
            if cell.data_type == "n":  # (blank cells are never in `filled`)
                numbers += 1
                assert width >= len(shown(cell)) + 1, (cell.coordinate, shown(cell), width)
            elif cell is not filled[-1] and cell.row > 1:
                assert width >= len(str(cell.value)), (cell.coordinate, cell.value, width)
    assert numbers > 60
    assert any(shown(c) == "123,456,789.00 USD" for row in sheet.iter_rows() for c in row if c.data_type == "n")


# --- customers and chart ------------------------------------------------------------------


def test_customer_table_lists_only_customers_with_something_to_look_at(money_result: ReconResult,
                                                                       tmp_path: Path) -> None:
    """Money at risk, a line needing a person or a negative margin; the rest summed in one row."""
    book = write(money_result, tmp_path)
    header_row, rows = customer_table(book)
    sheet = book["Summary"]
    columns = [c for c in headers(sheet, header_row) if c]
    assert sorted(columns) == sorted(f.header for f in carried(MARGIN, Output.LINES))
    assert columns[:9] == ["Customer", "Subscriptions", "Selling value", "Provider cost", "Margin", "Margin %",
                           "At risk", "Over-billed", "Lines needing a person"]
    table = [(r["Customer"], r["At risk"], r["Lines needing a person"], r["Margin"]) for r in rows]
    assert table == [(HYPERLINK, 30, 1, -50), ("Northwind", 0, 1, None), ("Tailspin", 0, 0, -10),
                     ("2 other customers, nothing to look at", 0, 0, 99)]
    others = rows[-1]
    assert (others["Selling value"], others["Provider cost"], others["Subscriptions"]) == (444, 345, 2)
    assert others["Margin %"] == pytest.approx(22.30)
    assert rows[0]["Customer ID"] == "cust-1" and rows[0]["Currency"] == "USD"
    assert sheet.auto_filter.ref == f"A{header_row}:K{header_row + 4}"
    assert sheet.cell(header_row + 1, 7).number_format == '#,##0.00 "USD"'


def test_customer_table_without_margins_still_lists_the_lines_findings(tiny_result: ReconResult,
                                                                       tmp_path: Path) -> None:
    """A run without a margin frame (an older stored run) takes risk and needs from the lines."""
    result = with_lines(tiny_result, over_billed={1: D("12.00")}, currency={3: "EUR"})
    _, rows = customer_table(write(result, tmp_path))
    assert [(r["Customer"], r["At risk"], r["Over-billed"], r["Currency"]) for r in rows] == [
        (HYPERLINK, 30, 0, "USD"), ("Fabrikam Inc", 0, 12, "USD"), ("Northwind", 0, 0, "EUR"),
        ("1 other customer, nothing to look at", 0, 0, "USD")]
    assert rows[-1]["Selling value"] is None


def test_customer_table_past_its_cap_sums_the_rest_and_says_so(money_result: ReconResult, tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """Past MAX_CUSTOMERS, the customers not listed are summed with their risk, and a note says so."""
    monkeypatch.setattr(xlsx_customers, "MAX_CUSTOMERS", 1)
    book = write(money_result, tmp_path)
    _, rows = customer_table(book)
    assert [(r["Customer"], r["At risk"], r["Lines needing a person"]) for r in rows] == [
        (HYPERLINK, 30, 1), ("4 other customers (not listed; see the Margin sheet)", 0, 1)]
    assert any(str(label).startswith("Customers: the 1 with most money at risk of the 3")
               for label in summary_rows(book))


def test_the_chart_shows_money_at_risk_from_the_customer_table(tiny_result: ReconResult, tmp_path: Path) -> None:
    """A native bar chart whose data and categories are the table's At risk and Customer cells."""
    result = with_lines(tiny_result, money_at_risk={0: D("5.00"), 1: D("7.50")})
    book = write(result, tmp_path)
    sheet = book["Summary"]
    header_row, rows = customer_table(book)
    assert [r["Customer"] for r in rows[:3]] == [HYPERLINK, "Fabrikam Inc", "Contoso Ltd"]
    (chart,) = sheet._charts
    assert chart.tagname == "barChart" and chart.type == "bar"
    (series,) = chart.series
    first, last = header_row + 1, header_row + 3
    assert series.val.numRef.f == f"'Summary'!$G${first}:$G${last}"
    assert series.cat.numRef.f == f"'Summary'!$A${first}:$A${last}"
    assert [sheet[f"G{r}"].value for r in range(first, last + 1)] == [30, 7.5, 5]
    anchor = chart.anchor._from
    assert anchor.row + 1 < header_row  # above the table, below the money figures


def test_no_chart_when_nothing_is_at_risk(tiny_result: ReconResult, tmp_path: Path) -> None:
    result = with_lines(tiny_result, money_at_risk={2: D("0")})
    assert write(result, tmp_path)["Summary"]._charts == []


# --- money sheets -------------------------------------------------------------------------


def test_to_bill_margin_and_usage_sheets_come_from_their_frames(money_result: ReconResult, tmp_path: Path) -> None:
    """Catalogue columns, money in its currency, forgotten billing marked, the usage check below."""
    book = write(money_result, tmp_path)
    to_bill = book["To bill"]
    assert headers(to_bill) == [f.header for f in carried(TO_BILL, Output.LINES)]
    rows = records(to_bill)
    assert [(r["Change ID"], r["To bill"], r["Forgotten billing"]) for r in rows] == [
        ("LCL-1001", 30, None), ("LCL-0900", 15, "yes")]
    flag = to_bill.cell(3, headers(to_bill).index("Forgotten billing") + 1)
    assert flag.fill.fgColor.rgb.endswith(xlsx_cells.MARK_FILL)
    assert to_bill.cell(2, headers(to_bill).index("To bill") + 1).number_format == '#,##0.00 "USD"'
    margin = book["Margin"]
    assert headers(margin) == [f.header for f in carried(MARGIN, Output.LINES)]
    assert [r["Customer"] for r in records(margin)] == ["Contoso Ltd", "Fabrikam Inc", HYPERLINK, "Tailspin"]
    assert records(margin)[3]["Margin %"] == pytest.approx(-11.11)
    usage = book["Usage"]
    assert headers(usage)[:8] == [f.header for f in carried(USAGE_BILLING, Output.LINES)]
    assert [{k: v for k, v in r.items() if k} for r in records(usage)] == [{
        "Customer": "Contoso Ltd", "Customer ID": "cust-1", "Subscription ID": "azure-1", "Currency": "USD",
        "Lines": 3, "Usage cost": 120, "Markup %": 15, "To bill": 138}]
    title = next(c for c in usage["A"] if str(c.value).startswith("Daily-rated usage check"))
    assert title.value == "Daily-rated usage check: 3 usage lines checked against dru.csv; 1 differs"
    (difference,) = records(usage, title.row + 1)
    assert difference["Line"] == "G000123456-2" and difference["Subscription ID"] == "aaaa-1"
    assert (difference["Invoice subtotal"], difference["Daily-rated total"], difference["Difference"]) == (
        220, pytest.approx(212.4), pytest.approx(7.6))
    cell = usage.cell(title.row + 2, headers(usage, title.row + 1).index("Difference") + 1)
    assert cell.number_format == '#,##0.00 "USD"'


def test_rejects_sheet_lists_rejects_and_warnings_with_their_severity(money_result: ReconResult,
                                                                       tmp_path: Path) -> None:
    sheet = write(money_result, tmp_path)["Rejects"]
    assert headers(sheet) == ["Severity", *(f.header for f in carried(REJECTS, Output.LINES))]
    rows = records(sheet)
    assert [(r["Severity"], r["File"], r["Row"], r["Column"]) for r in rows] == [
        ("reject", "invoice.csv", 6, "Quantity"), ("warning", "subscriptions.csv", 9, "unit_price")]
    assert sheet["A2"].fill.fgColor.rgb != sheet["A3"].fill.fgColor.rgb


# --- empty, stored and CLI ----------------------------------------------------------------


def test_empty_tables_say_none(tiny_result: ReconResult, tmp_path: Path) -> None:
    """A run without lines still writes every sheet; an empty table says "none"."""
    empty = dataclasses.replace(tiny_result, lines=tiny_result.lines.iloc[0:0])
    book = write(empty, tmp_path)
    assert book.sheetnames == SHEETS
    for name in ("Exceptions", "Lines", "To bill", "Margin"):
        assert [c.value for c in book[name]["A"]][1:] == ["none"], name
    _, rows = customer_table(book)
    assert [r["Customer"] for r in rows] == ["none"]


def test_a_stored_run_exports_a_valid_workbook(money_result: ReconResult, tmp_path: Path) -> None:
    """`recon export --xlsx` re-renders a stored run; frames an older run lacks become "none" sheets."""
    conn = store.open_store(tmp_path / "recon.db")
    store.save_run(conn, money_result)
    loaded = store.load_result(conn)
    conn.close()
    book = write(loaded, tmp_path, "stored.xlsx")
    assert book.sheetnames == [*SHEETS[:6], "Usage", *SHEETS[6:]]
    assert [r["Customer"] for r in records(book["Margin"])] == ["Contoso Ltd", "Fabrikam Inc", HYPERLINK, "Tailspin"]
    assert book["Exceptions"]["B2"].value == HYPERLINK and book["Exceptions"]["B2"].quotePrefix
    old = dataclasses.replace(loaded, to_bill=pd.DataFrame(), margin=pd.DataFrame(), usage_billing=pd.DataFrame(),
                              warnings=pd.DataFrame(), summary=loaded.summary.model_copy(update={"usage_check": None}))
    book = write(old, tmp_path, "old.xlsx")
    assert book.sheetnames == SHEETS
    assert book["To bill"]["A2"].value == book["Margin"]["A2"].value == "none"


def test_recon_export_writes_the_workbook_of_the_sample_month(tmp_path: Path) -> None:
    """Through the CLI: run the sample month into a store, then export its workbook."""
    db, out = tmp_path / "recon.db", tmp_path / "export.xlsx"
    runner = CliRunner()
    ran = runner.invoke(cli, ["run", str(SAMPLE / "invoice.csv"), str(SAMPLE / "invoice-eur.csv"),
                              str(SAMPLE / "subscriptions.csv"), "--changes", str(SAMPLE / "changes.csv"),
                              "--min-margin", "10", "--fail-on", "never", "--store", str(db), "--quiet"])
    assert ran.exit_code == ExitCode.OK, ran.output
    exported = runner.invoke(cli, ["export", "--xlsx", str(out), "--store", str(db)])
    assert exported.exit_code == ExitCode.OK, exported.output
    book = openpyxl.load_workbook(out)
    assert book.sheetnames == SHEETS
    assert len(book["Summary"]._charts) == 1
    assert records(book["To bill"]) and records(book["Margin"])


def test_safe_sheet_titles() -> None:
    """Sheet titles lose the characters Excel refuses and fit in 31 characters."""
    assert xlsx_cells.safe_sheet_title("a/b\\c*d?e:f[g]") == "a_b_c_d_e_f_g_"
    assert len(xlsx_cells.safe_sheet_title("x" * 40)) == 31


def test_rows_deflated_alongside_keep_their_order_and_failures_surface() -> None:
    """The second thread writes every piece in order; a failure on either side is raised, never lost."""
    import io

    from recon_cli.outputs import files

    out = io.BytesIO()
    files.write_alongside(out, iter(["<a/>", b"<b/>", memoryview(b"<c/>")] * 50))
    assert out.getvalue() == b"<a/><b/><c/>" * 50

    class Full(io.BytesIO):
        def write(self, data: object) -> int:
            raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        files.write_alongside(Full(), iter(["<a/>"] * 20))

    def broken() -> Iterator[str]:
        yield "<a/>"
        raise ValueError("rendering failed")

    with pytest.raises(ValueError, match="rendering failed"):
        files.write_alongside(io.BytesIO(), broken())


_AMOUNTS = st.one_of(st.none(), st.decimals(min_value=-1000, max_value=1000, places=2, allow_nan=False))


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.sampled_from([True, False, None, 1, 0]),
                          st.sampled_from(["matched", "explained", "unexplained", "unmatched", None, ""]),
                          st.one_of(st.none(), st.sampled_from(["", "why", "=cmd", "\x01", "seats differ"])),
                          _AMOUNTS, _AMOUNTS, _AMOUNTS), max_size=40))
def test_exceptions_and_notes_read_only_the_lines_to_look_at(rows: list[tuple[Any, ...]]) -> None:
    """The Exceptions order, the status notes and the count of lines not matched are the same as when
    every line's values are read (how the workbook did it before reading only the lines to look at)."""
    names = ["needs_person", "status", "explanation", "money_at_risk", "over_billed", "price_effect"]
    lines = pd.DataFrame({name: pd.Series([row[i] for row in rows], dtype=object) for i, name in enumerate(names)})
    lines["status"] = lines["status"].astype("str")
    every = xlsx_cells.ColumnValues(lines, xlsx.LINE_COLUMNS)
    expected = (xlsx.exception_order(every),
                xlsx._comment_rows(every["status"], every["needs_person"], every["explanation"]),
                sum(1 for status in every["status"] if status != Status.MATCHED))
    assert xlsx.exceptions_and_notes(lines) == expected
