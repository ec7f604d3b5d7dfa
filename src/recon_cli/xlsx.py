"""The finance workbook: Summary, Exceptions, Lines, Missing, Evidence, Rejects.

A write-only openpyxl workbook: openpyxl writes the workbook, styles, summary, headers and
notes, and the data rows are streamed into its sheets as ready XML (openpyxl's per-cell
writer is too slow for 100,000 lines). Text goes through `safe_text`, so no cell can ever
run a formula; money is written as the Decimal's own digits with a money format, never
through float; one fill marks each status. Imported only by `export.write_xlsx`.
"""

from __future__ import annotations

import contextlib
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zipfile import ZIP_DEFLATED, ZipFile

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.comments import Comment
from openpyxl.comments.comment_sheet import CommentRecord
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.writer.excel import ExcelWriter

from recon_cli.export import atomic_path, evidence_lists, plain_column, safe_text
from recon_cli.models import NEEDS_PERSON, PriceStatus, Status

if TYPE_CHECKING:
    import pandas as pd
    from openpyxl.styles.cell_style import StyleArray
    from openpyxl.worksheet._write_only import WriteOnlyWorksheet

    from recon_cli.result import ReconResult

MAX_SHEET_ROWS = 1_048_576  # Excel's limit, header row included
MAX_COMMENTS = 10_000  # VML notes are slow to write and to open; the column has every text
WIDTH_SAMPLE = 1_000
MAX_CELL_TEXT = 32_767  # Excel's limit per cell
MAX_COMMENT_TEXT = 2_000
MONEY_FORMAT = "#,##0.00"
PCT_FORMAT = '0.00"%"'  # margin_pct is already in percent (16.67), not a fraction
_XML_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")  # openpyxl refuses these
# Any line of a column's joined text that starts like a formula or an error literal (#N/A).
_RISKY_LINE = re.compile(r"^[=+\-@\t\r#]", re.MULTILINE)
_TITLE_ILLEGAL = re.compile(r"[\\*?:/\[\]]")

STATUS_FILLS: dict[str, str] = {
    Status.MATCHED: "C6EFCE", Status.EXPLAINED: "DDEBF7", Status.PARTIALLY_EXPLAINED: "FFEB9C",
    Status.UNEXPLAINED: "FFC7CE", Status.UNMATCHED: "F8CBAD", Status.CONFIRMED: "E4DFEC",
}
STATUS_MEANINGS: dict[str, str] = {
    Status.MATCHED: "provider and subscription quantities agree",
    Status.EXPLAINED: "change-log records account for the whole difference",
    Status.PARTIALLY_EXPLAINED: "change-log records account for part of it; a residual remains",
    Status.UNEXPLAINED: "a difference no change-log record explains: needs a person",
    Status.UNMATCHED: "no subscription in the export: a cost that is never re-billed",
    Status.CONFIRMED: "a person confirmed the difference (recon confirm)",
}


@dataclass(frozen=True)
class Col:
    """One worksheet column: the frame field, its header, and how cells are written."""

    field: str
    header: str
    kind: str = "text"  # text | number | money | pct | status | ids


def _cols(spec: str) -> tuple[Col, ...]:
    """Parse "field:Header:kind, ..." (kind defaults to text) into columns."""
    out = []
    for item in spec.split(","):
        field, header, *kind = item.strip().split(":")
        out.append(Col(field, header, kind[0] if kind else "text"))
    return tuple(out)


LINE_COLUMNS = _cols(
    "line_id:Line, row:Row:number, invoice_number:Invoice, customer_name:Customer,"
    "customer_id:Customer ID, subscription_id:Subscription ID, product:Product, product_id:Product ID,"
    "sku_id:SKU, charge_type:Charge type, kind:Kind, billing_frequency:Billing,"
    "order_date:Order date, charge_start:Charge start, charge_end:Charge end, status:Status:status,"
    "reason:Reason, price_status:Price status, match_method:Match method,"
    "matched_subscription_id:Matched subscription, quantity:Quantity:number,"
    "billable_quantity:Billable qty:number, provider_quantity:Provider qty:number,"
    "subscription_quantity:Subscription qty:number, quantity_delta:Delta:number,"
    "residual:Residual:number, as_of:Provider as of, unit_cost:Unit cost:money,"
    "unit_price:Unit price:money, margin_pct:Margin:pct, subtotal:Subtotal:money,"
    "tax_total:Tax:money, total:Total:money, currency:Currency, money_at_risk:At risk:money,"
    "explanation:Explanation, evidence:Evidence:ids"
)
EXCEPTION_COLUMNS = _cols(
    "line_id:Line, customer_name:Customer, subscription_id:Subscription ID, product:Product,"
    "charge_type:Charge type, status:Status:status, reason:Reason, price_status:Price status,"
    "provider_quantity:Provider qty:number, subscription_quantity:Subscription qty:number,"
    "quantity_delta:Delta:number, residual:Residual:number, as_of:Provider as of,"
    "unit_cost:Unit cost:money, unit_price:Unit price:money, subtotal:Subtotal:money,"
    "currency:Currency, money_at_risk:At risk:money, explanation:Explanation, evidence:Evidence:ids"
)
MISSING_COLUMNS = _cols(
    "subscription_id:Subscription ID, row:Row:number, customer_id:Customer ID,"
    "customer_name:Customer, product:Product, quantity:Quantity:number, billing_frequency:Billing,"
    "start_date:Start date, unit_price:Unit price:money, currency:Currency,"
    "expected_amount:Expected amount:money, reason:Reason, explanation:Explanation"
)
EVIDENCE_COLUMNS = _cols(
    "change_id:Change ID, subscription_id:Subscription ID, row:Row:number,"
    "effective_date:Effective date, quantity_delta:Delta:number,"
    "provisioning_status:Provisioning status, initiated_by:Initiated by,"
    "customer_invoice:Customer invoice, status_reason:Status reason, evidence_kind:Evidence kind"
)
REJECT_COLUMNS = _cols(
    "file:File, row:Row:number, column:Column, value:Value, code:Code, message:Message"
)
NUMBER_KINDS = frozenset({"number", "money", "pct"})
# wb.save() deflates at level 6: 2 s of a 100,000-line workbook for a file 25% smaller.
ZIP_LEVEL = 1
XML_CHUNK = 5_000  # rows rendered per string: bounded memory on a million-line run
WIDTH_CAPS = {"explanation": 90, "product": 45, "message": 70}


def safe_sheet_title(title: str) -> str:
    """A title Excel accepts: none of \\ * ? : / [ ], no edge apostrophes, at most 31 chars."""
    cleaned = _TITLE_ILLEGAL.sub("_", title).strip("'")[:31]
    return cleaned or "Sheet"


def _texts(values: list[Any]) -> list[str | None]:
    """Text cells: XML-legal, within Excel's limit, formula-safe; each check made once over
    the whole column's joined text, and per cell only where that finds something."""
    texts = [v if v is None or v.__class__ is str else str(v) for v in values]
    joined = "\n".join(t for t in texts if t)
    if _XML_ILLEGAL.search(joined):
        texts = [_XML_ILLEGAL.sub("", t) if t else t for t in texts]
    if len(joined) > MAX_CELL_TEXT:
        texts = [t[:MAX_CELL_TEXT] if t and len(t) > MAX_CELL_TEXT else t for t in texts]
    if _RISKY_LINE.search(joined):  # some cell may start like a formula: check each one
        return [safe_text(t) if t else None for t in texts]
    return [t or None for t in texts]


def _number(value: Any) -> Decimal | int | None:
    """A number cell value: Decimal or int kept exact; text (a stored run) parsed."""
    if value is None or value.__class__ is Decimal or value.__class__ is int:
        return value
    if isinstance(value, float) and value != value:
        return None
    try:
        number = Decimal(str(value).replace(",", ""))
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def _column(series: pd.Series, kind: str) -> list[Any]:
    """A frame column as cell values for `kind`, converted once for the whole column."""
    if kind == "ids":
        return _texts(["; ".join(ids) for ids in evidence_lists(series)])
    if kind in NUMBER_KINDS:
        if series.dtype.kind in "iu" and not series.hasnans:
            return series.tolist()
        return [v if v.__class__ is Decimal and v.is_finite() else _number(v) for v in series.tolist()]
    return _texts(plain_column(series))


def _frame_columns(frame: pd.DataFrame, cols: tuple[Col, ...]) -> list[list[Any]]:
    n = len(frame)
    return [_column(frame[c.field], c.kind) if c.field in frame.columns else [None] * n for c in cols]


class _Styles:
    """Styles registered once with the workbook, as openpyxl style arrays (for openpyxl
    cells) and as the `s="N"` attribute the streamed rows carry."""

    def __init__(self, wb: Workbook, ws: WriteOnlyWorksheet) -> None:
        self.wb, self.ws = wb, ws
        bold = Font(bold=True)
        self.bold = self._make(font=bold)
        self.header = self._make(font=bold, fill=PatternFill("solid", fgColor="D9D9D9"))
        self.money = self._make(number_format=MONEY_FORMAT)
        self.money_bold = self._make(number_format=MONEY_FORMAT, font=bold)
        self.status = {s: self._make(fill=PatternFill("solid", fgColor=c)) for s, c in STATUS_FILLS.items()}
        self.kind_attr = {"money": self._attr(self.money),
                          "pct": self._attr(self._make(number_format=PCT_FORMAT)), "number": ""}
        self.status_attr = {s: self._attr(style) for s, style in self.status.items()}

    def _make(self, **attrs: Any) -> StyleArray:
        cell = WriteOnlyCell(self.ws)
        for name, value in attrs.items():
            setattr(cell, name, value)
        return cell._style

    def _attr(self, style: StyleArray) -> str:
        # The same index openpyxl's `cell.style_id` computes when it writes a cell.
        return f' s="{self.wb._cell_styles.add(style)}"'

    def cell(self, ws: WriteOnlyWorksheet, value: Any, style: StyleArray | None) -> WriteOnlyCell:
        cell = WriteOnlyCell(ws, value)
        if style is not None:
            cell._style = style
        return cell


def _escape(texts: list[str | None]) -> list[str | None]:
    """XML-escape a chunk of text cells; most chunks need nothing, checked in one pass."""
    joined = "".join(t for t in texts if t)
    if not any(ch in joined for ch in "&<>\r"):
        return texts
    return [t.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\r", "&#13;")
            if t else t for t in texts]


def _rows_xml(cols: tuple[Col, ...], chunk: list[list[Any]], first_row: int, styles: _Styles) -> str:
    """`<row>` elements for a chunk of rows, built column by column with plain strings.

    openpyxl's own writer costs ~10 µs a cell without lxml (37 s for 100,000 lines);
    this is the same XML (inline strings, shared style ids) at a fraction of that.
    """
    numbers = range(first_row, first_row + len(chunk[0]))
    rendered = []
    for j, (col, values) in enumerate(zip(cols, chunk, strict=True)):
        ref = get_column_letter(j + 1)
        if col.kind in NUMBER_KINDS:
            s = styles.kind_attr[col.kind]
            rendered.append([f'<c r="{ref}{r}"{s}><v>{v!s}</v></c>' if v is not None else ""
                             for r, v in zip(numbers, values, strict=True)])
            continue
        status = styles.status_attr if col.kind == "status" else {}
        rendered.append([
            f'<c r="{ref}{r}"{status.get(v, "")} t="inlineStr"><is><t xml:space="preserve">{t}</t></is></c>'
            if t else "" for r, v, t in zip(numbers, values, _escape(values), strict=True)
        ])
    return "".join(f'<row r="{r}">{"".join(cells)}</row>'
                   for r, *cells in zip(numbers, *rendered, strict=True))


def _widths(cols: tuple[Col, ...], columns: list[list[Any]]) -> list[float]:
    """Column widths from the header and the first WIDTH_SAMPLE values."""
    widths: list[float] = []
    for col, values in zip(cols, columns, strict=True):
        longest = len(col.header) + 3  # room for the filter button
        for value in values[:WIDTH_SAMPLE]:
            if value is None:
                continue
            text = f"{value:,.2f}" if col.kind == "money" else str(value)
            longest = max(longest, len(text) + 2)
        widths.append(min(longest, WIDTH_CAPS.get(col.field, 50)))
    return widths


def _sheet_titles(title: str, rows: int) -> list[str]:
    per_sheet = MAX_SHEET_ROWS - 1
    parts = max(1, math.ceil(rows / per_sheet))
    return [safe_sheet_title(title if i == 0 else f"{title} ({i + 1})") for i in range(parts)]


def _note(ws: WriteOnlyWorksheet, row: int, column: int, text: str) -> None:
    """Attach a note to a streamed cell, as openpyxl records one from a cell it writes."""
    text = _XML_ILLEGAL.sub("", text)[:MAX_COMMENT_TEXT]
    height = min(400, 30 + 15 * math.ceil(len(text) / 50))
    cell = WriteOnlyCell(ws)
    cell.row, cell.column = row, column
    cell.comment = Comment(text, "recon", height=height, width=320)
    ws._comments.append(CommentRecord.from_cell(cell))


def _splice_rows(ws: WriteOnlyWorksheet, rows: Iterator[str]) -> None:
    """Put the streamed rows into the closed sheet's XML, after openpyxl's header row."""
    path = Path(ws._writer.out)
    head, end, tail = path.read_bytes().partition(b"</sheetData>")
    if not end:  # openpyxl changed how it writes sheets: fail loudly, never write a bad file
        raise RuntimeError(f"cannot find </sheetData> in the XML openpyxl wrote for {ws.title!r}")
    with path.open("wb") as out:
        out.write(head)
        for xml in rows:
            out.write(xml.encode("utf-8"))
        out.write(end + tail)


def _write_table(wb: Workbook, styles: _Styles, titles: list[str], cols: tuple[Col, ...],
                 columns: list[list[Any]], comments: dict[int, str] | None = None) -> None:
    """Write one table onto as many sheets as `titles` names: header, freeze, filter, rows.

    openpyxl writes each sheet's frame (widths, frozen pane, bold header, filter, notes);
    the data rows are streamed into it by `_rows_xml`.
    """
    widths = _widths(cols, columns)
    status_col = next((j + 1 for j, c in enumerate(cols) if c.kind == "status"), None)
    total = len(columns[0]) if columns else 0
    per_sheet = MAX_SHEET_ROWS - 1
    for part, title in enumerate(titles):
        start, stop = part * per_sheet, min(total, (part + 1) * per_sheet)
        ws = wb.create_sheet(title)
        # Widths and the frozen pane come before the rows in the sheet XML: set them first.
        for j, width in enumerate(widths, start=1):
            ws.column_dimensions[get_column_letter(j)].width = width
        ws.freeze_panes = "A2"
        ws.append([styles.cell(ws, c.header, styles.header) for c in cols])
        ws.auto_filter.ref = f"A1:{get_column_letter(len(cols))}{stop - start + 1}"
        if comments and status_col:
            for index in sorted(i for i in comments if start <= i < stop):
                _note(ws, index - start + 2, status_col, comments[index])
        ws.close()
        chunks = range(start, stop, XML_CHUNK)
        _splice_rows(ws, (_rows_xml(cols, [c[i:min(stop, i + XML_CHUNK)] for c in columns], i - start + 2,
                                    styles) for i in chunks))


def _write_summary(ws: WriteOnlyWorksheet, styles: _Styles, result: ReconResult,
                   notes: list[str]) -> None:
    """Key facts, counts and amounts per status and currency, then notes and the legend."""
    s = result.summary
    currencies = sorted(set(s.subtotal_total) | set(s.subtotal_by_status) | set(s.unbilled_cost)
                        | set(s.money_at_risk) | set(s.missing_value))
    for letter, width in zip("ABCDEFGH", (30, 18, 18, 18, 18, 18, 18, 18), strict=True):
        ws.column_dimensions[letter].width = width
    ws.column_dimensions["B"].width = 60 if not currencies else 22

    def bold(text: str) -> WriteOnlyCell:
        return styles.cell(ws, text, styles.bold)

    def money(value: str | None, style: StyleArray | None = None) -> WriteOnlyCell | None:
        return styles.cell(ws, Decimal(value), style or styles.money) if value else None

    ws.append([bold("recon: invoice reconciliation")])
    facts = [
        ("Period", s.period or ""), ("Invoice numbers", ", ".join(s.invoice_numbers)),
        ("Run id", s.run_id), ("Created", s.created_at), ("Invoice file", s.invoice_file),
        ("Invoice format", s.invoice_format), ("Subscriptions file", s.subscriptions_file),
        ("Change log", s.changes_file or "none: no difference could be explained"),
        ("As of", s.as_of or ""), ("Minimum margin %", s.min_margin or "off"),
    ]
    for label, value in facts:
        ws.append([label, *_texts([value])])
    ws.append([])
    ws.append([bold("Status"), bold("Lines"), *(bold(f"Subtotal {c}") for c in currencies)])
    for status in Status:
        lines = s.status_counts.get(status, 0)
        amounts = [money(s.subtotal_by_status.get(c, {}).get(status)) for c in currencies]
        if lines or any(amounts):
            ws.append([styles.cell(ws, str(status), styles.status[status]), lines, *amounts])
    ws.append([bold("Total"), styles.cell(ws, s.line_count, styles.bold),
               *(money(s.subtotal_total.get(c), styles.money_bold) for c in currencies)])
    ws.append([])
    ws.append([bold("Price status"), bold("Lines")])
    for price in PriceStatus:
        if s.price_status_counts.get(price):
            ws.append([str(price), s.price_status_counts[price]])
    ws.append([])
    ws.append([bold("Amounts"), *(bold(c) for c in currencies)])
    for label, values in (("Unbilled cost (unmatched)", s.unbilled_cost),
                          ("Money at risk", s.money_at_risk),
                          ("Missing subscriptions value", s.missing_value)):
        ws.append([label, *(money(values.get(c)) for c in currencies)])
    ws.append([])
    for label, count in (("Lines needing a person", s.needs_attention),
                         ("Missing subscriptions", s.missing_count), ("Rejected rows", s.reject_count)):
        ws.append([label, count])
    if notes:
        ws.append([])
        ws.append([bold("Notes")])
        for note in notes:
            ws.append(_texts([note]))
    ws.append([])
    ws.append([bold("Legend"), bold("Meaning")])
    for status in Status:
        ws.append([styles.cell(ws, str(status), styles.status[status]), STATUS_MEANINGS[status]])


def _comment_rows(status: list[Any], explanation: list[Any]) -> dict[int, str]:
    """Line index -> note text: lines needing a person first, then other non-matched ones."""
    needs = [i for i, st in enumerate(status) if st in NEEDS_PERSON and explanation[i]]
    others = [i for i, st in enumerate(status)
              if st not in NEEDS_PERSON and st != Status.MATCHED and explanation[i]]
    return {i: explanation[i] for i in (needs + others)[:MAX_COMMENTS]}


def write_xlsx(result: ReconResult, target: Path) -> None:
    """Write the finance workbook to `target`, atomically.

    Sheets: Summary, Exceptions (lines needing a person, most money at risk first), Lines
    (continued on "Lines (2)"... past Excel's row limit), Missing, Evidence, Rejects.
    """
    lines = result.lines
    converted = dict(zip((c.field for c in LINE_COLUMNS), _frame_columns(lines, LINE_COLUMNS), strict=True))
    status = converted["status"]
    exceptions = [i for i, st in enumerate(status) if st in NEEDS_PERSON]
    risk = converted["money_at_risk"]
    exceptions.sort(key=lambda i: risk[i] if risk[i] is not None else Decimal(0), reverse=True)

    titles = {
        "Exceptions": _sheet_titles("Exceptions", len(exceptions)),
        "Lines": _sheet_titles("Lines", len(lines)),
        "Missing": _sheet_titles("Missing", len(result.missing)),
        "Evidence": _sheet_titles("Evidence", len(result.evidence)),
        "Rejects": _sheet_titles("Rejects", len(result.rejects)),
    }
    comments = _comment_rows(status, converted["explanation"])
    notes = [f"{name} continues on sheets: {', '.join(parts)}."
             for name, parts in titles.items() if len(parts) > 1]
    if len(comments) < sum(1 for st in status if st != Status.MATCHED):
        notes.append(f"Notes on the status cell: {len(comments):,} lines (most urgent first); "
                     "the Explanation column has every line's text.")

    wb = Workbook(write_only=True)
    try:
        summary_ws = wb.create_sheet("Summary")
        styles = _Styles(wb, summary_ws)
        _write_summary(summary_ws, styles, result, notes)
        summary_ws.close()  # closed now, so a failure later leaves no half-written sheet stream
        exception_columns = [[converted[c.field][i] for i in exceptions] for c in EXCEPTION_COLUMNS]
        _write_table(wb, styles, titles["Exceptions"], EXCEPTION_COLUMNS, exception_columns)
        _write_table(wb, styles, titles["Lines"], LINE_COLUMNS, [converted[c.field] for c in LINE_COLUMNS],
                     comments)
        for name, frame, cols in (("Missing", result.missing, MISSING_COLUMNS),
                                  ("Evidence", result.evidence, EVIDENCE_COLUMNS),
                                  ("Rejects", result.rejects, REJECT_COLUMNS)):
            _write_table(wb, styles, titles[name], cols, _frame_columns(frame, cols))
        with atomic_path(Path(target)) as tmp, ZipFile(tmp, "w", ZIP_DEFLATED, allowZip64=True,
                                                        compresslevel=ZIP_LEVEL) as archive:
            ExcelWriter(wb, archive).save()
    except BaseException:
        _discard(wb)
        raise


def _discard(wb: Workbook) -> None:
    """Remove the sheets' temporary XML files (in the system temp folder) a failure leaves."""
    for ws in wb.worksheets:
        with contextlib.suppress(Exception):  # already failing: clean up what can be
            if not ws.closed:
                ws.close()
        writer = ws._writer
        if writer is not None and Path(writer.out).exists():
            writer.cleanup()
