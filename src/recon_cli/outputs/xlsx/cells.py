"""Cells of the finance workbook: columns, values, styles, and the streamed row XML.

Frame columns become cell values once per column (text made XML-legal, money kept as the
Decimal's own digits), styles are registered once with the workbook, and data rows are
rendered as ready `<row>` XML (`rows.rows_xml`) that `stream.splice_rows` puts into a sheet openpyxl has written
(openpyxl's per-cell writer is too slow for 100,000 lines). Text is always an inline string,
which Excel never evaluates; text that starts like a formula also gets a style with
`quotePrefix`, so it stays text when someone edits the cell, and shows no apostrophe. The
data sheets' columns are derived from the field catalogue (`records.LINES`...). Used by the
other modules of this package only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.styles.cell_style import StyleArray

from recon_cli.outputs.columns import ids_text
from recon_cli.outputs.files import ERROR_LITERALS, FORMULA_START
from recon_cli.outputs.values import plain_column
from recon_cli.records import Field, FieldKind, Output, Status, carried

if TYPE_CHECKING:
    import pandas as pd
    from openpyxl import Workbook
    from openpyxl.worksheet._write_only import WriteOnlyWorksheet

# Rendered rows: text (a few cells) or UTF-8 bytes (a table's rows, from Arrow buffers).
RowXml = str | bytes | memoryview
WIDTH_SAMPLE = 1_000
MAX_CELL_TEXT = 32_767  # Excel's limit per cell
MONEY_FORMAT = "#,##0.00"  # money whose currency is unknown
PCT_FORMAT = '0.00"%"'  # margin_pct is already in percent (16.67), not a fraction
LINK_COLOR = "0563C1"  # Excel's own hyperlink blue
FONT = {"name": "Calibri", "size": 11}  # the workbook's default font: styled cells keep it
NONE_TEXT = "none"  # the one row of an empty table
_CURRENCY_CODE = re.compile(r"[A-Z]{3}")  # only ISO codes go into a number format
XML_ILLEGAL_PATTERN = r"[\x00-\x08\x0b\x0c\x0e-\x1f]"  # characters openpyxl refuses
_XML_ILLEGAL = re.compile(XML_ILLEGAL_PATTERN)
XML_ESCAPES = (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"), ("\r", "&#13;"))  # "&" first
# What opens a text cell's text: xml:space="preserve" only where blank space at an end would otherwise be
# lost (openpyxl's rule, and a cell of blanks alone too); on every cell it was a fifth of the Lines sheet.
TEXT_OPEN, TEXT_OPEN_PRESERVED = "<t>", '<t xml:space="preserve">'
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
# The Severity column of the Rejects sheet: a rejected row was not used, a warning's row was.
SEVERITY_FILLS: dict[str, str] = {"reject": "FFC7CE", "warning": "FFEB9C"}
MARK_FILL = "F8CBAD"  # a "yes" that asks for action (forgotten billing)


@dataclass(frozen=True)
class Col:
    """One worksheet column: the frame field, its header, and how cells are written.

    `kind` is text, number, money, pct, status (text with its status fill), ids (evidence
    lists), flag ("yes" or blank) or link (text shown as a link; the sheet writer adds the
    targets). A money column takes its currency from `currency`, else from the row's
    "currency" column. `mark` fills the "yes" cells of a flag column.
    """

    field: str
    header: str
    kind: str = "text"
    currency: str | None = None
    mark: bool = False


# How a catalogue field is written: dates are ISO text, ints and decimals alike are numbers.
CELL_KINDS: dict[FieldKind, str] = {
    FieldKind.TEXT: "text", FieldKind.DATE: "text", FieldKind.STATUS: "status", FieldKind.INT: "number",
    FieldKind.NUMBER: "number", FieldKind.MONEY: "money", FieldKind.PCT: "pct", FieldKind.IDS: "ids",
    FieldKind.BOOL: "flag",
}


def columns_of(fields: tuple[Field, ...], output: Output = Output.LINES) -> tuple[Col, ...]:
    """The worksheet columns of the catalogue fields `output` carries, in catalogue order."""
    return tuple(Col(f.name, f.header, CELL_KINDS[f.kind]) for f in carried(fields, output))


NUMBER_CELLS = frozenset({"number", "money", "pct"})  # cell kinds written as numbers, right-aligned
# Prose columns stop widening here (characters): a long explanation must not push the rest away.
WIDTH_CAPS = {"explanation": 90, "product": 45, "message": 70}


def money_format(currency: Any) -> str:
    """`#,##0.00 "USD"` for an ISO currency code; the bare money format for anything else."""
    code = currency_code(currency)
    return f'{MONEY_FORMAT} "{code}"' if code else MONEY_FORMAT


def currency_code(currency: Any) -> str:
    """The ISO code a money format may carry ("USD"), or "" for anything else."""
    code = currency.strip().upper() if isinstance(currency, str) else ""
    return code if _CURRENCY_CODE.fullmatch(code) else ""


def shown_money(value: Decimal | int, currency: Any) -> str:
    """A money cell as its money format shows it: "1,234.50 USD"."""
    code = currency_code(currency)
    return f"{value:,.2f} {code}" if code else f"{value:,.2f}"


def safe_sheet_title(title: str) -> str:
    """A title Excel accepts: none of \\ * ? : / [ ], no edge apostrophes, at most 31 chars."""
    cleaned = _TITLE_ILLEGAL.sub("_", title).strip("'")[:31]
    return cleaned or "Sheet"


def clean_note(text: str, limit: int) -> str:
    """Note text without the control characters XML refuses, within `limit` characters."""
    return _XML_ILLEGAL.sub("", text)[:limit]


def is_risky(text: str) -> bool:
    """Text a spreadsheet would evaluate if typed: a formula start or an error literal."""
    return text.startswith(FORMULA_START) or text in ERROR_LITERALS


def texts(values: list[Any]) -> list[str | None]:
    """Text cells, XML-legal and within Excel's limit; each check made once over the whole
    column's joined text, and per cell only where that finds something. Text is kept exact:
    `rows.rows_xml` gives formula-like text its quote-prefix style."""
    out = [v if v is None or v.__class__ is str else str(v) for v in values]
    joined = "\n".join(filter(None, out))
    if _XML_ILLEGAL.search(joined):
        out = [_XML_ILLEGAL.sub("", t) if t else t for t in out]
    if len(joined) > MAX_CELL_TEXT:
        out = [t[:MAX_CELL_TEXT] if t and len(t) > MAX_CELL_TEXT else t for t in out]
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
        return texts(ids_text(series, "; ").to_pylist())
    if kind == "flag":  # a yes/no field: "yes" reads and filters better than TRUE
        return ["yes" if v is True or v == 1 else None for v in series.tolist()]
    if kind in NUMBER_CELLS:
        if series.dtype.kind in "iu" and not series.hasnans:
            return series.tolist()
        return [v if v.__class__ is Decimal and v.is_finite() else number(v) for v in series.tolist()]
    return texts(plain_column(series))


class ColumnValues(dict[str, list[Any]]):
    """A frame's columns as cell values by field, each converted when first asked for: the sheets
    that read Python values (Summary, customers, the Exceptions order) need only a few."""

    def __init__(self, frame: pd.DataFrame, columns: tuple[Col, ...]) -> None:
        super().__init__()
        self.frame, self.kinds = frame, {c.field: c.kind for c in columns}

    def __missing__(self, field: str) -> list[Any]:
        if field not in self.frame.columns:
            values: list[Any] = [None] * len(self.frame)
        else:
            values = column_values(self.frame[field], self.kinds.get(field, "text"))
        self[field] = values
        return values


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
        self._arrays: dict[str, StyleArray] = {"": StyleArray()}
        self._quoted: dict[str, str] = {}
        self.bold = self._make(font=bold)
        self.title = self._make(font=Font(name=FONT["name"], size=14, bold=True))
        self.header = self._make(font=bold, fill=grey)
        # Numbers align right, so do their headers.
        self.header_right = self._make(font=bold, fill=grey, alignment=Alignment(horizontal="right"))
        self.dim = self._make(font=Font(**FONT, italic=True, color="595959"))
        # Text right of a number (right-aligned) is indented, so the two do not run together.
        indent = Alignment(horizontal="left", indent=1)
        self.indent = self._make(alignment=indent)
        self.indent_bold = self._make(font=bold, alignment=indent)
        self.header_indent = self._make(font=bold, fill=grey, alignment=indent)
        self.pct = self._make(number_format=PCT_FORMAT)
        fills = {**STATUS_FILLS, **SEVERITY_FILLS}
        self.status = {s: self._make(fill=PatternFill("solid", fgColor=c)) for s, c in fills.items()}
        self.kind_attr = {"pct": self.attr(self.pct), "number": "",
                          "link": self.attr(self._make(font=Font(**FONT, color=LINK_COLOR, underline="single")))}
        self.indent_attr = self.attr(self.indent)
        self.status_attr = {s: self.attr(style) for s, style in self.status.items()}
        self.mark_attr = {"yes": self.attr(self._make(font=bold, fill=PatternFill("solid", fgColor=MARK_FILL)))}
        self.none_attr = self.attr(self.dim)
        self._money: dict[tuple[str, bool], StyleArray] = {}
        self._money_attr: dict[str, str] = {}

    def _make(self, **attrs: Any) -> StyleArray:
        cell = WriteOnlyCell(self.ws)
        for name, value in attrs.items():
            setattr(cell, name, value)
        return cell._style

    def attr(self, style: StyleArray | None) -> str:
        """The ` s="N"` attribute of a style: the index openpyxl's `cell.style_id` computes."""
        if style is None:
            return ""
        attr = f' s="{self.wb._cell_styles.add(style)}"'
        self._arrays.setdefault(attr, style)
        return attr

    def quoted(self, attr: str) -> str:
        """The attribute of the same style with `quotePrefix` set: Excel keeps the cell text
        when it is edited, and shows no apostrophe."""
        found = self._quoted.get(attr)
        if found is None:
            style = StyleArray(list(self._arrays[attr]))
            style.quotePrefix = 1
            found = self._quoted[attr] = self.attr(style)
        return found

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
            self._money_attr[currency] = self.attr(self.money(currency))
        attrs = self._money_attr
        return [attrs[c] for c in currencies]

    def header_style(self, columns: tuple[Col, ...], j: int) -> StyleArray:
        """The header of column `j`: bold on grey, right-aligned over numbers, indented after one."""
        if columns[j].kind in NUMBER_CELLS:
            return self.header_right
        return self.header_indent if after_number(columns, j) else self.header

    def headers(self, ws: WriteOnlyWorksheet, columns: tuple[Col, ...]) -> list[WriteOnlyCell]:
        """The header row of `columns`."""
        return [self.cell(ws, c.header, self.header_style(columns, j)) for j, c in enumerate(columns)]

    def cell(self, ws: WriteOnlyWorksheet, value: Any, style: StyleArray | None) -> WriteOnlyCell:
        cell = WriteOnlyCell(ws, value)
        if style is not None:
            cell._style = style
        return cell


def _escape(text: str) -> str:
    """XML-escape one text cell (a carriage return as a character reference, so it survives)."""
    for character, entity in XML_ESCAPES:
        text = text.replace(character, entity)
    return text


def text_xml(ref: str, text: str, attr: str, styles: Styles) -> str:
    """One text cell: an inline string (never evaluated), quote-prefixed if it looks like a formula;
    nothing for text of XML-illegal characters alone (blank, as `rows.rows_xml` leaves it)."""
    text = _XML_ILLEGAL.sub("", text)[:MAX_CELL_TEXT]
    if not text:
        return ""
    if is_risky(text):
        attr = styles.quoted(attr)
    opening = TEXT_OPEN_PRESERVED if text[:1].isspace() or text[-1:].isspace() else TEXT_OPEN
    return f'<c r="{ref}"{attr} t="inlineStr"><is>{opening}{_escape(text)}</t></is></c>'


def cell_xml(ref: str, value: Any, attr: str, styles: Styles) -> str:
    """One cell of any kind (text, Decimal or int); nothing for a blank."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        return text_xml(ref, value, attr, styles)
    return f'<c r="{ref}"{attr}><v>{value!s}</v></c>'


def after_number(columns: tuple[Col, ...], j: int) -> bool:
    """Whether column `j` is text that follows a number column (and is indented)."""
    return j > 0 and columns[j - 1].kind in NUMBER_CELLS and columns[j].kind not in NUMBER_CELLS


def widths(columns: tuple[Col, ...], values: list[list[Any]] | list[Any]) -> list[float]:
    """Column widths from the header and the first WIDTH_SAMPLE values (money as its format
    shows it, with the currency code)."""
    currency = next((v for c, v in zip(columns, values, strict=True) if c.field == "currency"), None)
    if currency is not None and not isinstance(currency, list):
        currency = currency[:WIDTH_SAMPLE].to_pylist()
    out: list[float] = []
    for col, column in zip(columns, values, strict=True):
        longest = len(col.header) + 3  # room for the filter button
        sample = column[:WIDTH_SAMPLE]
        if not isinstance(sample, list):  # a column's Arrow text (rows.table_column)
            sample = [number(v) if col.kind in NUMBER_CELLS else v for v in sample.to_pylist()]
        for i, value in enumerate(sample):
            if value is None:
                continue
            if col.kind == "money":
                code = col.currency or (currency[i] if currency is not None else None) or "USD"
                text = shown_money(value, code) + " "
            elif col.kind == "pct":
                text = f"{value:.2f}%"
            else:
                text = str(value)
            longest = max(longest, len(text) + 2)
        indent = 2 if after_number(columns, len(out)) else 0
        out.append(min(longest + indent, WIDTH_CAPS.get(col.field, 50)))
    return out
