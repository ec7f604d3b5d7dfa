"""Cells of the finance workbook: columns, values, styles, and the streamed row XML.

Frame columns become cell values once per column (text made XML-legal and formula-safe,
money kept as the Decimal's own digits), styles are registered once with the workbook, and
data rows are rendered as ready `<row>` XML that `splice_rows` puts into a sheet openpyxl
has written (openpyxl's per-cell writer is too slow for 100,000 lines). The data sheets'
columns are derived from the field catalogue (`records.LINES`...). Used by `workbook.py`
and `summary.py` only.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING, Any

from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from recon_cli.outputs.files import safe_text
from recon_cli.outputs.values import evidence_lists, plain_column
from recon_cli.records import EVIDENCE, LINES, MISSING, REJECTS, Field, FieldKind, Output, Status, carried

if TYPE_CHECKING:
    import pandas as pd
    from openpyxl import Workbook
    from openpyxl.styles.cell_style import StyleArray
    from openpyxl.worksheet._write_only import WriteOnlyWorksheet

WIDTH_SAMPLE = 1_000
MAX_CELL_TEXT = 32_767  # Excel's limit per cell
MONEY_FORMAT = "#,##0.00"  # money whose currency is unknown
PCT_FORMAT = '0.00"%"'  # margin_pct is already in percent (16.67), not a fraction
LINK_COLOR = "0563C1"  # Excel's own hyperlink blue
FONT = {"name": "Calibri", "size": 11}  # the workbook's default font: styled cells keep it
_CURRENCY_CODE = re.compile(r"[A-Z]{3}")  # only ISO codes go into a number format
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
    """One worksheet column: the frame field, its header, and how cells are written.

    `kind` is text, number, money, pct, status (text with its status fill), ids (evidence
    lists) or link (text shown as a link; the sheet writer adds the targets). A money
    column takes its currency from `currency`, else from the row's "currency" column.
    """

    field: str
    header: str
    kind: str = "text"
    currency: str | None = None


# How a catalogue field is written: dates are ISO text, ints and decimals alike are numbers.
CELL_KINDS: dict[FieldKind, str] = {
    FieldKind.TEXT: "text", FieldKind.DATE: "text", FieldKind.STATUS: "status", FieldKind.INT: "number",
    FieldKind.NUMBER: "number", FieldKind.MONEY: "money", FieldKind.PCT: "pct", FieldKind.IDS: "ids",
    FieldKind.BOOL: "flag",
}


def columns_of(fields: tuple[Field, ...], output: Output = Output.LINES) -> tuple[Col, ...]:
    """The worksheet columns of the catalogue fields `output` carries, in catalogue order."""
    return tuple(Col(f.name, f.header, CELL_KINDS[f.kind]) for f in carried(fields, output))


LINE_COLUMNS = columns_of(LINES)
# The line id of an Exceptions row links to that line on the Lines sheet.
EXCEPTION_COLUMNS = tuple(replace(c, kind="link") if c.field == "line_id" else c
                          for c in columns_of(LINES, Output.EXCEPTIONS))
MISSING_COLUMNS = columns_of(MISSING)
EVIDENCE_COLUMNS = columns_of(EVIDENCE)
REJECT_COLUMNS = columns_of(REJECTS)
NUMBER_CELLS = frozenset({"number", "money", "pct"})  # cell kinds written as numbers, right-aligned
# Prose columns stop widening here (characters): a long explanation must not push the rest away.
WIDTH_CAPS = {"explanation": 90, "product": 45, "message": 70}


def money_format(currency: Any) -> str:
    """`#,##0.00 "USD"` for an ISO currency code; the bare money format for anything else."""
    code = currency.strip().upper() if isinstance(currency, str) else ""
    return f'{MONEY_FORMAT} "{code}"' if _CURRENCY_CODE.fullmatch(code) else MONEY_FORMAT


def safe_sheet_title(title: str) -> str:
    """A title Excel accepts: none of \\ * ? : / [ ], no edge apostrophes, at most 31 chars."""
    cleaned = _TITLE_ILLEGAL.sub("_", title).strip("'")[:31]
    return cleaned or "Sheet"


def clean_note(text: str, limit: int) -> str:
    """Note text without the control characters XML refuses, within `limit` characters."""
    return _XML_ILLEGAL.sub("", text)[:limit]


def texts(values: list[Any]) -> list[str | None]:
    """Text cells: XML-legal, within Excel's limit, formula-safe; each check made once over
    the whole column's joined text, and per cell only where that finds something."""
    out = [v if v is None or v.__class__ is str else str(v) for v in values]
    joined = "\n".join(t for t in out if t)
    if _XML_ILLEGAL.search(joined):
        out = [_XML_ILLEGAL.sub("", t) if t else t for t in out]
    if len(joined) > MAX_CELL_TEXT:
        out = [t[:MAX_CELL_TEXT] if t and len(t) > MAX_CELL_TEXT else t for t in out]
    if _RISKY_LINE.search(joined):  # some cell may start like a formula: check each one
        return [safe_text(t) if t else None for t in out]
    return [t or None for t in out]


def number(value: Any) -> Decimal | int | None:
    """A number cell value: Decimal or int kept exact; text (a stored run) parsed."""
    if value is None or value.__class__ is Decimal or value.__class__ is int:
        return value
    if isinstance(value, float) and value != value:
        return None
    try:
        parsed = Decimal(str(value).replace(",", ""))
    except InvalidOperation:
        return None
    return parsed if parsed.is_finite() else None


def column_values(series: pd.Series, kind: str) -> list[Any]:
    """A frame column as cell values for `kind`, converted once for the whole column."""
    if kind == "ids":
        return texts(["; ".join(ids) for ids in evidence_lists(series)])
    if kind == "flag":  # a yes/no field: "yes" reads and filters better than TRUE
        return ["yes" if v is True or v == 1 else None for v in series.tolist()]
    if kind in NUMBER_CELLS:
        if series.dtype.kind in "iu" and not series.hasnans:
            return series.tolist()
        return [v if v.__class__ is Decimal and v.is_finite() else number(v) for v in series.tolist()]
    return texts(plain_column(series))


def frame_columns(frame: pd.DataFrame, columns: tuple[Col, ...]) -> list[list[Any]]:
    """Every column of `columns` as cell values; a field the frame lacks is blank."""
    n = len(frame)
    return [column_values(frame[c.field], c.kind) if c.field in frame.columns else [None] * n
            for c in columns]


class Styles:
    """Styles registered once with the workbook, as openpyxl style arrays (for openpyxl
    cells) and as the `s="N"` attribute the streamed rows carry."""

    def __init__(self, wb: Workbook, ws: WriteOnlyWorksheet) -> None:
        self.wb, self.ws = wb, ws
        bold = Font(**FONT, bold=True)
        grey = PatternFill("solid", fgColor="D9D9D9")
        self.bold = self._make(font=bold)
        self.title = self._make(font=Font(name=FONT["name"], size=14, bold=True))
        self.header = self._make(font=bold, fill=grey)
        # Numbers align right, so do their headers.
        self.header_right = self._make(font=bold, fill=grey, alignment=Alignment(horizontal="right"))
        self.status = {s: self._make(fill=PatternFill("solid", fgColor=c)) for s, c in STATUS_FILLS.items()}
        self.kind_attr = {"pct": self._attr(self._make(number_format=PCT_FORMAT)), "number": "",
                          "link": self._attr(self._make(font=Font(**FONT, color=LINK_COLOR, underline="single")))}
        self.status_attr = {s: self._attr(style) for s, style in self.status.items()}
        self._money: dict[tuple[str, bool], StyleArray] = {}
        self._money_attr: dict[str, str] = {}

    def _make(self, **attrs: Any) -> StyleArray:
        cell = WriteOnlyCell(self.ws)
        for name, value in attrs.items():
            setattr(cell, name, value)
        return cell._style

    def _attr(self, style: StyleArray) -> str:
        # The same index openpyxl's `cell.style_id` computes when it writes a cell.
        return f' s="{self.wb._cell_styles.add(style)}"'

    def money(self, currency: Any, bold: bool = False) -> StyleArray:
        """The money style for `currency` ("#,##0.00 "USD""), bold for totals."""
        fmt = money_format(currency)
        key = (fmt, bold)
        if key not in self._money:
            self._money[key] = self._make(number_format=fmt, **({"font": Font(**FONT, bold=True)} if bold else {}))
        return self._money[key]

    def money_attrs(self, currencies: list[Any]) -> list[str]:
        """The `s="N"` attribute of each row's money cells, from each row's currency."""
        for currency in set(currencies) - self._money_attr.keys():
            self._money_attr[currency] = self._attr(self.money(currency))
        attrs = self._money_attr
        return [attrs[c] for c in currencies]

    def headers(self, ws: WriteOnlyWorksheet, columns: tuple[Col, ...]) -> list[WriteOnlyCell]:
        """The header row of `columns`: bold on grey, right-aligned over numbers."""
        return [self.cell(ws, c.header, self.header_right if c.kind in NUMBER_CELLS else self.header)
                for c in columns]

    def cell(self, ws: WriteOnlyWorksheet, value: Any, style: StyleArray | None) -> WriteOnlyCell:
        cell = WriteOnlyCell(ws, value)
        if style is not None:
            cell._style = style
        return cell


def _escape(values: list[str | None]) -> list[str | None]:
    """XML-escape a chunk of text cells; most chunks need nothing, checked in one pass."""
    joined = "".join(t for t in values if t)
    if not any(ch in joined for ch in "&<>\r"):
        return values
    return [t.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\r", "&#13;")
            if t else t for t in values]


def rows_xml(columns: tuple[Col, ...], chunk: list[list[Any]], first_row: int, styles: Styles) -> str:
    """`<row>` elements for a chunk of rows, built column by column with plain strings.

    openpyxl's own writer costs ~10 µs a cell without lxml (37 s for 100,000 lines);
    this is the same XML (inline strings, shared style ids) at a fraction of that.
    Money cells carry the number format of their currency: the column's, else the row's.
    """
    n = len(chunk[0])
    numbers = range(first_row, first_row + n)
    currency = next((values for col, values in zip(columns, chunk, strict=True) if col.field == "currency"),
                    [None] * n)
    row_money: list[str] | None = None
    rendered = []
    for j, (col, values) in enumerate(zip(columns, chunk, strict=True)):
        ref = get_column_letter(j + 1)
        if col.kind in NUMBER_CELLS:
            if col.kind != "money":
                attrs = [styles.kind_attr[col.kind]] * n
            elif col.currency:
                attrs = styles.money_attrs([col.currency]) * n
            else:
                attrs = row_money = row_money or styles.money_attrs(currency)
            rendered.append([f'<c r="{ref}{r}"{s}><v>{v!s}</v></c>' if v is not None else ""
                             for r, v, s in zip(numbers, values, attrs, strict=True)])
            continue
        style = styles.status_attr if col.kind == "status" else {}
        fixed = styles.kind_attr.get(col.kind, "")
        rendered.append([
            f'<c r="{ref}{r}"{style.get(v, fixed)} t="inlineStr"><is><t xml:space="preserve">{t}</t></is></c>'
            if t else "" for r, v, t in zip(numbers, values, _escape(values), strict=True)
        ])
    return "".join(f'<row r="{r}">{"".join(cells)}</row>'
                   for r, *cells in zip(numbers, *rendered, strict=True))


def widths(columns: tuple[Col, ...], values: list[list[Any]]) -> list[float]:
    """Column widths from the header and the first WIDTH_SAMPLE values (money with its
    currency code)."""
    has_currency = any(c.field == "currency" for c in columns)
    out: list[float] = []
    for col, column in zip(columns, values, strict=True):
        longest = len(col.header) + 3  # room for the filter button
        for value in column[:WIDTH_SAMPLE]:
            if value is None:
                continue
            if col.kind == "money":
                text = f"{value:,.2f}" + (" USD" if col.currency or has_currency else "")
            else:
                text = str(value)
            longest = max(longest, len(text) + (3 if col.kind == "money" else 2))
        out.append(min(longest, WIDTH_CAPS.get(col.field, 50)))
    return out


def splice_rows(ws: WriteOnlyWorksheet, rows: Iterator[str]) -> None:
    """Put the streamed rows into the closed sheet's XML, after the rows openpyxl wrote."""
    path = Path(ws._writer.out)
    head, end, tail = path.read_bytes().partition(b"</sheetData>")
    if not end:  # openpyxl changed how it writes sheets: fail loudly, never write a bad file
        raise RuntimeError(f"cannot find </sheetData> in the XML openpyxl wrote for {ws.title!r}")
    with path.open("wb") as out:
        out.write(head)
        for xml in rows:
            out.write(xml.encode("utf-8"))
        out.write(end + tail)
