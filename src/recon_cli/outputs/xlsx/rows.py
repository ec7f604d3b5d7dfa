"""A table's data rows as ready `<row>` XML, rendered by Arrow column by column.

openpyxl's own writer costs ~10 µs a cell (37 s for 100,000 lines); building each cell with a
Python f-string still cost ~1 µs, most of a million-line workbook. Here every column becomes one
Arrow array of cell XML (inline strings, shared style ids, the same XML openpyxl writes) and the
rows are joined in C++. Styles that depend on a value (a status fill, a mark, the quote prefix of
formula-like text) are looked up once per distinct value. Used by the other modules of this
package only.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from openpyxl.utils import get_column_letter

from recon_cli.outputs.columns import ColumnTexts, arrow_text, formula_cells, ids_text, large, text_pieces
from recon_cli.outputs.xlsx.cells import (
    MAX_CELL_TEXT,
    NUMBER_CELLS,
    TEXT_OPEN,
    TEXT_OPEN_PRESERVED,
    XML_ESCAPES,
    XML_ILLEGAL_PATTERN,
    Col,
    Styles,
    after_number,
    column_values,
    is_risky,
)
from recon_cli.textscan import byte_table, has_bytes

if TYPE_CHECKING:
    import pandas as pd

_XML_ILLEGAL = "".join(map(chr, [*range(0, 9), 11, 12, *range(14, 32)]))  # the characters of XML_ILLEGAL_PATTERN
_DIGITS = r"^-?[0-9]+(\.[0-9]+)?$"  # a Decimal's own digits, as a number cell holds them
_OPEN_TEXT, _OPEN_PRESERVED = (f' t="inlineStr"><is>{opening}' for opening in (TEXT_OPEN, TEXT_OPEN_PRESERVED))


def table_column(series: pd.Series, kind: str, texts: ColumnTexts | None = None) -> pa.Array:
    """A frame column as the cells' Arrow text, straight from the frame (`cells.column_values` made
    column-wise): numbers as their exact digits, ids joined by "; ", text XML-legal and within
    Excel's limit per cell, null for a blank. `texts`: the frame's columns as text, when the CSV or
    JSON of the same run has made them already."""
    text: pa.Array | None = None
    if kind == "ids":
        text = ids_text(series, "; ")
    elif kind in NUMBER_CELLS and series.dtype.kind in "iu":
        text = pc.cast(pa.array(series), pa.large_string())
    elif kind != "flag":
        text = texts.get(str(series.name)) if texts is not None else arrow_text(series)
        if text is not None and kind in NUMBER_CELLS and not pc.all(pc.match_substring_regex(text, _DIGITS)).as_py():
            text = None  # text of a stored run ("1,234.00"): parsed cell by cell
    if text is None:  # flags, and columns holding other values: cell by cell
        return _texts(column_values(series, kind))
    if kind not in NUMBER_CELLS:
        if has_bytes(text, byte_table(_XML_ILLEGAL)):
            text = pc.replace_substring_regex(text, XML_ILLEGAL_PATTERN, "")
        if len(text) and (pc.max(pc.binary_length(text)).as_py() or 0) > MAX_CELL_TEXT:
            text = pc.utf8_slice_codeunits(text, 0, MAX_CELL_TEXT)
    return _texts(text)


def _texts(values: list[Any] | pa.Array) -> pa.Array:
    """Cell values as Arrow text, null for a blank (None or "")."""
    if isinstance(values, pa.Array):
        text = values
    else:
        try:
            text = pa.array(values, pa.large_string())
        except (pa.ArrowTypeError, pa.ArrowInvalid):  # numbers: each its own digits, as str() shows them
            blank = np.fromiter((v is None for v in values), dtype=bool, count=len(values))
            return pa.array(list(map(str, values)), pa.large_string(), mask=blank)
    empty = pc.equal(text, large(""))
    if pc.any(empty).as_py():
        text = pc.if_else(empty, pa.nulls(len(text), pa.large_string()), text)
    return text


def _per_value(text: pa.Array, attr_of: Callable[[str], str]) -> pa.Array:
    """`attr_of(value)` for every cell, computed once per distinct value ("" for a blank)."""
    encoded = pc.dictionary_encode(text)
    attrs = pa.array([attr_of(v) for v in encoded.dictionary.to_pylist()], pa.large_string())
    return pc.fill_null(attrs.take(encoded.indices), large(""))


def _text_cells(col: Col, text: pa.Array, fixed: str, styles: Styles) -> tuple[Any, Any, pa.Array]:
    """A text column's style attribute (one for the column, or one per cell), what opens each cell's text
    (`<t xml:space="preserve">` only for text with blank space at an end, as `cells.text_xml`), and its
    escaped text."""
    style = styles.status_attr if col.kind == "status" else styles.mark_attr if col.mark else None
    cells = formula_cells(text)
    risky = cells is not None and bool(pc.any(cells).as_py())
    attrs: Any = fixed
    if style is not None:  # text stays exact; a formula-like cell gets the quote-prefix style
        def attr(v: str) -> str:
            return styles.quoted(style.get(v, fixed)) if risky and is_risky(v) else style.get(v, fixed)

        attrs = _per_value(text, attr)
    elif risky:
        attrs = pc.if_else(cells, large(styles.quoted(fixed)), large(fixed))
    # Blank space at an end, as Python's str.isspace has it (utf8_trim_whitespace trims the same characters).
    opens: Any = _OPEN_TEXT
    ends_blank = pc.fill_null(pc.not_equal(pc.binary_length(pc.utf8_trim_whitespace(text)), pc.binary_length(text)),
                              False)
    if pc.any(ends_blank).as_py():
        opens = pc.if_else(ends_blank, large(_OPEN_PRESERVED), large(_OPEN_TEXT))
    if has_bytes(text, byte_table("&<>\r")):
        for character, entity in XML_ESCAPES:
            text = pc.replace_substring(text, character, entity)
    return attrs, opens, text


def rows_xml(columns: tuple[Col, ...], chunk: list[list[Any]] | list[pa.Array], first_row: int,
             styles: Styles) -> bytes | memoryview:
    """`<row>` elements, numbered from `first_row`, for a chunk of rows given column by column
    (cell values, or the cells' Arrow text from `table_column`).

    Money cells carry the number format of their currency: the column's, else the row's. A blank
    cell (None or "") is left out, as openpyxl leaves it out.
    """
    n = len(chunk[0]) if chunk else 0
    if not n:
        return b""
    numbers = pc.cast(pa.array(np.arange(first_row, first_row + n, dtype=np.int64)), pa.large_string())
    currency = next((values for col, values in zip(columns, chunk, strict=True) if col.field == "currency"),
                    [None] * n)
    if isinstance(currency, pa.Array):
        currency = currency.to_pylist()
    row_money: pa.Array | None = None
    # A cell's reference ends in the row number: `numbers` joined once with each constant that follows it
    # (the cell's style and opening tag) serves every column sharing that constant, one join argument
    # per cell fewer (Arrow's element-wise join costs per argument and row, not per byte).
    numbered: dict[str, pa.Array] = {}
    parts: list[str | pa.Array] = ['<row r="', numbers, '">']
    for j, (col, values) in enumerate(zip(columns, chunk, strict=True)):
        ref = get_column_letter(j + 1)
        text = _texts(values)
        if col.kind in NUMBER_CELLS:
            if col.kind != "money":
                attrs: Any = styles.kind_attr[col.kind]
            elif col.currency:
                attrs = styles.money_attrs([col.currency])[0]
            else:
                if row_money is None:
                    row_money = pa.array(styles.money_attrs(currency), pa.large_string())
                attrs = row_money
            middle, tail = "><v>", "</v></c>"
        else:
            fixed = styles.kind_attr.get(col.kind, styles.indent_attr if after_number(columns, j) else "")
            attrs, middle, text = _text_cells(col, text, fixed, styles)
            tail = "</t></is></c>"
        if isinstance(attrs, str) and isinstance(middle, str):
            after = '"' + attrs + middle
            if after not in numbered:
                numbered[after] = _joined([numbers, after])
            cell = [f'<c r="{ref}', numbered[after], text, tail]
        else:
            cell = [f'<c r="{ref}', numbers, '"', attrs, middle, text, tail]
        # A blank cell is left out: its join is null, written as nothing. A column without blanks goes
        # straight into the rows' join: one join and one buffer fewer per column.
        parts += [pc.fill_null(_joined(cell), large(""))] if text.null_count else cell
    rows = _joined([*parts, "</row>"])
    pieces = list(text_pieces(rows))  # views of the Arrow buffer: no copy for one piece
    return pieces[0] if len(pieces) == 1 else b"".join(pieces)


def _joined(parts: list[str | pa.Array]) -> pa.Array:
    """Text arrays and constant text, joined row by row; adjacent constants first made one piece."""
    merged: list[Any] = []
    for part in parts:
        if isinstance(part, str) and merged and isinstance(merged[-1], str):
            merged[-1] += part
        else:
            merged.append(part)
    return pc.binary_join_element_wise(*(large(p) if isinstance(p, str) else p for p in merged), large(""))
