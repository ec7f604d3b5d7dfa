"""A stored line as one text record: what makes a million-line save cheap and `explain` light.

SQLite binds each value of a row separately: a line of ~60 fields costs ~60 binds, and at a million
lines the binding was most of the save (12.2 s wide against 4.5 s packed, measured on the same
rows). So `lines` holds (id, sub_key, record): the fields in a run's layout (`line_layouts`, the
catalogue's field names when the run was saved), joined by US (0x1f). NULL is a lone RS (0x1e);
text escapes `\\`, US and RS as `\\\\`, `\\1`, `\\0`. Packing a whole run is column-wise
(pyarrow, in `pack_columns`); unpacking one record is plain Python, so `explain` and `confirm`
need neither pandas nor pyarrow.
"""

from __future__ import annotations

import re
import sqlite3
from typing import TYPE_CHECKING, Any

from recon_cli.records import Field, FieldKind

if TYPE_CHECKING:
    pass

SEPARATOR, NULL = "\x1f", "\x1e"
_ESCAPED = re.compile(r"\\(.)", re.DOTALL)
_UNESCAPE = {"\\": "\\", "1": SEPARATOR, "0": NULL}
_NUMBERS = (FieldKind.INT, FieldKind.BOOL)


def sql_pack(columns: list[str]) -> str:
    """The SQL expression packing `columns` of a row the way `pack` does (for the migration)."""
    escaped = [sql_escaped(c) for c in columns]
    return " || char(31) || ".join(escaped) if escaped else "''"


def sql_escaped(column: str) -> str:
    """The SQL expression of one value as `pack` writes it (NULL as RS, text escaped)."""
    return (f"COALESCE(replace(replace(replace(CAST(\"{column}\" AS TEXT), '\\', '\\\\'), char(31), '\\1'), "
            f"char(30), '\\0'), char(30))")


def unpack_list(record: str) -> list[str | None]:
    """The values of a packed list (`pack`, `pack_columns` of one list per row), in order."""
    return [_unescaped(text) for text in record.split(SEPARATOR)]


def pack(values: list[Any]) -> str:
    """One record from plain values (None, int, or text), in layout order."""
    return SEPARATOR.join(NULL if v is None else _escape(str(int(v) if isinstance(v, bool) else v))
                          for v in values)


def unpack(record: str, layout: tuple[str, ...], fields: dict[str, Field]) -> dict[str, Any]:
    """A record as {field: value}, values as the wide table gave them: INT and BOOL fields as int, the
    rest as text, NULL as None. Fields the record does not hold (not in the run's layout, or added to
    it after the record was packed) are None."""
    out: dict[str, Any] = dict.fromkeys(fields)
    # A layout only grows at its end (`extend_layout`): a record packed before has no trailing fields.
    for name, text in zip(layout, record.split(SEPARATOR), strict=False):
        value: Any = _unescaped(text)
        field = fields.get(name)
        if field is not None and field.kind in _NUMBERS and value is not None:
            value = int(value)
        out[name] = value
    return out


def _unescaped(text: str) -> str | None:
    """One packed value as it was: None for NULL, escapes undone."""
    if text == NULL:
        return None
    return _ESCAPED.sub(lambda m: _UNESCAPE[m.group(1)], text) if "\\" in text else text


def _escape(text: str) -> str:
    if "\\" in text or SEPARATOR in text or NULL in text:
        return text.replace("\\", "\\\\").replace(SEPARATOR, "\\1").replace(NULL, "\\0")
    return text


def pack_columns(columns: list[Any], count: int | None = None) -> list[str]:
    """The records of a slice of `count` lines: each column as text or None (a list, or a pyarrow array;
    see runs._text_values), or None for a column null in every line; escaped and joined column-wise by
    pyarrow. `count` may be left out when some column is given."""
    import pyarrow as pa
    import pyarrow.compute as pc

    from recon_cli.textscan import byte_table, has_bytes

    # Arrow's join costs about the same per argument whatever it holds: columns null in every line of the
    # slice (a fresh run's ten `original_*` fields) go in as one text of NULL marks and separators, the same
    # bytes.
    parts: list[Any] = []
    for column in columns:
        text = None
        if column is not None:
            if isinstance(column, pa.ChunkedArray):
                column = column.combine_chunks()
            text = (pc.cast(column, pa.large_string()) if isinstance(column, pa.Array)
                    else pa.array(column, type=pa.large_string(), from_pandas=True))
            count = len(text)
        if text is None or text.null_count == len(text):
            parts.append(NULL if not parts or not isinstance(parts[-1], str) else parts.pop() + SEPARATOR + NULL)
            continue
        if has_bytes(text, byte_table("\\" + SEPARATOR + NULL)):
            text = pc.replace_substring(text, "\\", "\\\\")
            text = pc.replace_substring(pc.replace_substring(text, SEPARATOR, "\\1"), NULL, "\\0")
        parts.append(pc.fill_null(text, NULL))
    if all(isinstance(part, str) for part in parts):  # every column null: the same record for each line
        if count is None:
            raise ValueError("pack_columns needs a count when no column is given")
        return [SEPARATOR.join(parts)] * count
    arrays = [pa.scalar(part, pa.large_string()) if isinstance(part, str) else part for part in parts]
    records: list[str] = pc.binary_join_element_wise(*arrays, pa.scalar(SEPARATOR, pa.large_string())).to_pylist()
    return records


def unpack_columns(records: list[str], layout: tuple[str, ...]) -> dict[str, Any]:
    """Records as `unpack` reads them one by one, column-wise: one pyarrow text array per field of the layout
    (NULL as null, escapes undone; a record packed before its layout grew has nulls in the trailing fields).
    What `recon export` rebuilds a million-line run from; numbers stay text, as in the record."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    from recon_cli.textscan import byte_table, has_bytes

    texts = pa.array(records, type=pa.large_string())
    lists = pc.split_pattern(texts, SEPARATOR)  # a packed value never holds a bare US: `_escape`
    values, offsets = lists.values, lists.offsets.to_numpy()
    lengths = np.diff(offsets)
    escaped = has_bytes(texts, byte_table("\\"))
    columns = {}
    for position, name in enumerate(layout):
        column = values.take(pa.array(offsets[:-1] + position, mask=lengths <= position))
        column = pc.if_else(pc.equal(column, NULL), pa.scalar(None, pa.large_string()), column)
        if escaped and has_bytes(column, byte_table("\\")):  # rare: escapes undone value by value
            column = pa.array([None if text is None else _unescaped(text) for text in column.to_pylist()],
                              type=pa.large_string())
        columns[name] = column
    return columns


def layout_of(conn: sqlite3.Connection, seq: int) -> tuple[str, ...]:
    found = conn.execute("SELECT fields FROM line_layouts WHERE seq = ?", (seq,)).fetchone()
    return tuple(found[0].split(",")) if found and found[0] else ()


def extend_layout(conn: sqlite3.Connection, seq: int, names: list[str]) -> tuple[str, ...]:
    """The run's layout with `names` appended where missing (a field a later recon writes into a run
    saved before it existed, such as the original of a confirmed value); records packed before simply
    end earlier."""
    layout = layout_of(conn, seq)
    extra = [name for name in names if name not in layout]
    if extra:
        layout = (*layout, *extra)
        conn.execute("UPDATE line_layouts SET fields = ? WHERE seq = ?", (",".join(layout), seq))
    return layout
