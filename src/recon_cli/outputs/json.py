"""The `--json` document (PRODUCT.md §4), with an Arrow fast path for the lines.

Keys and their order come from the field catalogue (`records.LINES`, `MISSING`, `REJECTS`):
money and quantities as exact decimal strings, the evidence as lists of change ids, absent
values as null. pandas and pyarrow are imported inside the functions that use them.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from recon_cli.outputs.columns import ColumnTexts, id_lists, large, text_pieces
from recon_cli.outputs.files import atomic_write, write_alongside
from recon_cli.outputs.values import evidence_lists, plain_column, scalar
from recon_cli.records import LINES, MISSING, REJECTS, Field, FieldKind, Output, carried
from recon_cli.textscan import byte_table, has_bytes

if TYPE_CHECKING:
    import pandas as pd

    from recon_cli.result import ReconResult

LINE_JSON = carried(LINES, Output.JSON)
MISSING_JSON = carried(MISSING, Output.JSON)
REJECT_JSON = carried(REJECTS, Output.JSON)
# Lines encoded per Arrow pass when writing JSON: bounded memory on a million-line run.
JSON_CHUNK = 20_000
# What JSON text must escape: control characters, the quote and the backslash.
_JSON_ESCAPED = "".join(map(chr, range(32))) + '"\\'


def _records(frame: pd.DataFrame, fields: tuple[Field, ...]) -> list[dict[str, Any]]:
    """Rows as dicts with exactly `fields`, converted column by column (no per-row pandas)."""
    n = len(frame)
    columns: list[list[Any]] = []
    for field in fields:
        if field.name not in frame.columns:
            columns.append([None] * n)
        elif field.kind is FieldKind.IDS:
            columns.append(evidence_lists(frame[field.name]))
        else:
            columns.append(plain_column(frame[field.name]))
    keys = [field.name for field in fields]
    return [dict(zip(keys, values, strict=True)) for values in zip(*columns, strict=True)]


def result_to_json(result: ReconResult) -> dict[str, Any]:
    """The `--json` document of PRODUCT.md §4.

    Returns:
        `{"run_id", "period", "as_of", "summary", "lines", "missing_subscriptions", "rejects", "warnings"}`:
        lines carry every LINE_FIELDS key (money and quantities as exact decimal strings,
        `evidence` as a list of change ids, absent values as None).
    """
    summary = result.summary
    return {
        "run_id": summary.run_id,
        "period": summary.period,
        "as_of": summary.as_of,
        "summary": summary.model_dump(),
        "lines": _records(result.lines, LINE_JSON),
        "missing_subscriptions": _records(result.missing, MISSING_JSON),
        "rejects": _records(result.rejects, REJECT_JSON),
        "warnings": _records(result.warnings, REJECT_JSON),
    }


def _json_strings(values: list[Any]) -> list[str]:
    """JSON text of each value; Decimals (the bulk of a line's fields) on a fast path."""
    # Optimistic pass: str(Decimal) is already the JSON string's content unless it is
    # NaN/Infinity or in exponent form, which all show capitals; those redo the column.
    fast = ['"' + str(v) + '"' if v.__class__ is Decimal else "null" if v is None else "true" if v is True
            else "false" if v is False else json.dumps(scalar(v), ensure_ascii=False) for v in values]
    joined = "".join(fast)
    if "E" not in joined and "N" not in joined and "I" not in joined:
        return fast
    return [json.dumps(scalar(v), ensure_ascii=False) for v in values]


def _arrow_texts(texts: list[str]) -> Any:
    """An Arrow string array from Python strings free of newlines (JSON texts are): one
    join and one split in C++ instead of a million conversions."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if not texts:
        return pa.array([], pa.large_string())
    return pc.split_pattern(pa.array(["\n".join(texts)], pa.large_string()), "\n").flatten()


def _json_fragments(series: pd.Series, kind: FieldKind, text: Any) -> tuple[Any, bool]:
    """A column as an Arrow array of JSON texts, and whether it still needs its quotes.

    `text` is the column as Arrow text when it holds only text, Decimals and blanks (`ColumnTexts`),
    else None. Text is escaped by vectorised replaces (only a column holding control characters goes
    through json.dumps); other objects go through Python once. Quotes of a text column without
    nulls are left to the row template.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    if series.dtype.kind in "iu" and not series.hasnans:
        return pc.cast(pa.array(series), pa.large_string()), False
    if kind is FieldKind.IDS:
        return _ids_json(series), False
    if text is None:
        return _arrow_texts(_json_strings(series.tolist())), False
    if has_bytes(text, byte_table(_JSON_ESCAPED)):  # rare: escape
        if pc.any(pc.match_substring_regex(text, r"[\x00-\x1f]")).as_py():
            return _arrow_texts(_json_strings(text.to_pylist())), False
        text = pc.replace_substring(pc.replace_substring(text, "\\", "\\\\"), '"', '\\"')
    if text.null_count:
        quote = pa.scalar('"', pa.large_string())
        return pc.fill_null(pc.binary_join_element_wise(quote, text, quote, large("")), "null"), False
    return text, True


def _ids_json(series: pd.Series) -> Any:
    """An id-list column as JSON arrays: lists of plain text by Arrow, anything else by json.dumps."""
    import pyarrow.compute as pc

    lists = id_lists(series)
    if lists is None or has_bytes(pc.list_flatten(lists), byte_table(_JSON_ESCAPED)):
        ids = evidence_lists(series)
        return _arrow_texts(["[]" if not i else json.dumps(i, ensure_ascii=False) for i in ids])
    arrays = pc.binary_join_element_wise(large('["'), pc.binary_join(lists, large('", "')), large('"]'), large(""))
    return pc.if_else(pc.fill_null(pc.greater(pc.list_value_length(lists), 0), False), arrays, large("[]"))


def _write_lines_json(lines: pd.DataFrame, out: IO[bytes], texts: ColumnTexts | None = None) -> None:
    """Write `"lines": [...]` content: each row is `, {...}`, built by Arrow per chunk.

    Equal to json.dumps(result_to_json(...)["lines"]) but many times faster, which is what
    lets a million-line run be written in seconds (a test holds the two equal). A second thread
    writes each chunk while the next is built (`files.write_alongside`).
    """
    write_alongside(out, _line_pieces(lines, texts or ColumnTexts(lines)))


def _line_pieces(lines: pd.DataFrame, texts: ColumnTexts) -> Iterator[memoryview]:
    import pyarrow as pa
    import pyarrow.compute as pc

    for start in range(0, len(lines), JSON_CHUNK):
        chunk = lines.iloc[start:start + JSON_CHUNK]
        parts: list[Any] = []
        literal = ", {"
        for j, field in enumerate(LINE_JSON):
            literal += ("" if j == 0 else ", ") + json.dumps(field.name) + ": "
            if field.name not in chunk.columns:
                literal += "null"
                continue
            text = None if field.kind is FieldKind.IDS else texts.get(field.name)
            fragments, quoted = _json_fragments(chunk[field.name], field.kind,
                                                None if text is None else text.slice(start, JSON_CHUNK))
            parts += [pa.scalar(literal + ('"' if quoted else ""), pa.large_string()), fragments]
            literal = '"' if quoted else ""
        rows = pc.binary_join_element_wise(*parts, pa.scalar(literal + "}", pa.large_string()), large(""))
        # Every part is non-null; each row starts with its ", " separator, which the document's first drops.
        yield from text_pieces(rows, skip=2 if start == 0 else 0)


def write_json(result: ReconResult, target: Path | str, texts: ColumnTexts | None = None) -> None:
    """Write the `--json` document (as `result_to_json`) to `target`, or stdout for "-".

    `texts`: the lines' columns as text, when the CSV of the same run has made them already.
    """
    summary = result.summary
    head = {"run_id": summary.run_id, "period": summary.period, "as_of": summary.as_of,
            "summary": summary.model_dump()}
    tail = {"missing_subscriptions": _records(result.missing, MISSING_JSON),
            "rejects": _records(result.rejects, REJECT_JSON), "warnings": _records(result.warnings, REJECT_JSON)}

    def dump(out: IO[bytes]) -> None:
        out.write(json.dumps(head, ensure_ascii=False)[:-1].encode("utf-8") + b', "lines": [')
        _write_lines_json(result.lines, out, texts)
        out.write(b"], " + json.dumps(tail, ensure_ascii=False)[1:].encode("utf-8") + b"\n")

    if str(target) != "-":
        with atomic_write(Path(target), "wb") as handle:
            dump(handle)
        return
    sys.stdout.flush()
    buffer = getattr(sys.stdout, "buffer", None)
    if buffer is not None:  # JSON is UTF-8 whatever the terminal's encoding
        dump(buffer)
        buffer.flush()
    else:
        sys.stdout.write(json.dumps(result_to_json(result)) + "\n")
