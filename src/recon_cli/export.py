"""Write a ReconResult as JSON, CSV or xlsx, each atomically, with formula-safe text.

Every writer goes through `atomic_write` / `atomic_path`: the output appears whole or not
at all, and an existing file is only replaced once the new one is complete (STYLE rule 19).
pandas and openpyxl are imported inside the functions: `recon --help` and `recon explain`
import this package and must stay light (STYLE rule 5).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import sys
import tempfile
from collections.abc import Iterable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from recon_cli.models import LINE_FIELDS, MISSING_FIELDS, REJECT_FIELDS

if TYPE_CHECKING:
    import pandas as pd

    from recon_cli.result import ReconResult

# Text Excel (or a CSV opened in Excel) could run as a formula: OWASP's "CSV injection" list.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# Literals Excel turns into error values rather than text; quoted for the same reason.
ERROR_LITERALS = frozenset({"#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A"})
_FORMULA_RE = re.compile(r"^[=+\-@\t\r]")

# Line fields that hold numbers (Decimal, or int for `row`): never text-escaped, so a -5.00
# credit stays a number; everything else in LINE_FIELDS is text except `evidence`.
LINE_NUMBER_FIELDS = frozenset({
    "row", "quantity", "billable_quantity", "provider_quantity", "subscription_quantity",
    "quantity_delta", "residual", "unit_cost", "unit_price", "margin_pct", "subtotal",
    "tax_total", "total", "money_at_risk",
})

# (csv column, line field): what the CSV appends to the provider's own columns.
CSV_RESULT_COLUMNS: tuple[tuple[str, str], ...] = (
    ("recon_line_id", "line_id"), ("recon_status", "status"), ("recon_price_status", "price_status"),
    ("recon_reason", "reason"), ("recon_kind", "kind"), ("recon_match_method", "match_method"),
    ("recon_provider_quantity", "provider_quantity"),
    ("recon_subscription_quantity", "subscription_quantity"),
    ("recon_quantity_delta", "quantity_delta"), ("recon_unit_cost", "unit_cost"),
    ("recon_unit_price", "unit_price"), ("recon_explanation", "explanation"),
    ("recon_evidence", "evidence"),
)
REJECTED_STATUS = "rejected"
# Lines encoded per Arrow pass when writing JSON: bounded memory on a million-line run.
JSON_CHUNK = 20_000


def _default_mode() -> int:
    """Permissions a plain open() would give: temp files start at 0600, which surprises."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def _finish(tmp: Path, target: Path) -> None:
    try:
        mode = target.stat().st_mode & 0o777
    except OSError:
        mode = _default_mode()
    os.chmod(tmp, mode)
    os.replace(tmp, target)


@contextlib.contextmanager
def atomic_write(target: Path, mode: str = "w", **open_kwargs: Any) -> Iterator[IO[Any]]:
    """Open a temporary file beside `target`; it replaces `target` only if the block succeeds.

    Args:
        target: the file to create or replace.
        mode: "w" or "wb"; `open_kwargs` (encoding, newline...) go to the temporary file.

    Yields:
        The open handle. On any error the temporary file is removed and an existing
        `target` is left untouched.
    """
    target = Path(target)
    handle = tempfile.NamedTemporaryFile(  # noqa: SIM115 - closed below, then renamed
        mode=mode, dir=target.parent, prefix=f".{target.name}.", suffix=".tmp", delete=False,
        **open_kwargs,
    )
    tmp = Path(handle.name)
    try:
        yield handle
        handle.flush()
        os.fsync(handle.fileno())
        handle.close()
        _finish(tmp, target)
    except BaseException:
        handle.close()
        tmp.unlink(missing_ok=True)
        raise


@contextlib.contextmanager
def atomic_path(target: Path) -> Iterator[Path]:
    """Like `atomic_write`, for writers that want a path (openpyxl's `wb.save(path)`).

    Yields:
        A temporary path in `target`'s folder; it is fsynced and renamed onto `target`
        when the block succeeds, removed when it fails.
    """
    target = Path(target)
    with tempfile.NamedTemporaryFile(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp",
                                     delete=False) as handle:
        tmp = Path(handle.name)
    try:
        yield tmp
        with tmp.open("rb+") as written:
            os.fsync(written.fileno())
        _finish(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def safe_text(value: str) -> str:
    """Make text that a spreadsheet would evaluate show as the same text instead.

    Text starting with `=`, `+`, `-`, `@`, tab or CR gets a leading `'`, as do Excel's
    error literals ("#N/A"...). Only for text: numbers are never passed here, so a -5.00
    credit stays a number.
    """
    if value.startswith(FORMULA_START) or value in ERROR_LITERALS:
        return "'" + value
    return value


def _safe_text_column(series: pd.Series) -> pd.Series:
    """`safe_text` over a column of text or None at pandas speed (the same rule, vectorised)."""
    text = series.astype("str")
    risky = text.str.match(_FORMULA_RE, na=False) | text.isin(ERROR_LITERALS)
    return series.where(~risky.to_numpy(), "'" + text)


# --- plain values ---------------------------------------------------------------------


def decimal_text(value: Decimal) -> str:
    """Fixed-point text of a Decimal ("720.00", never "7.2E+2")."""
    text = str(value)  # C-fast; only exponent forms need the slower format()
    return format(value, "f") if "E" in text else text


def _scalar(value: Any) -> Any:
    """A JSON-ready scalar from whatever a frame cell holds (NaN, NA, numpy, Decimal...)."""
    if value is None or value.__class__ is str:
        return value
    if isinstance(value, Decimal):
        return decimal_text(value) if value.is_finite() else None
    if isinstance(value, float):
        return None if value != value or value in (float("inf"), float("-inf")) else value
    if isinstance(value, bool | int):
        return value
    if hasattr(value, "isoformat"):
        return None if str(value) == "NaT" else value.isoformat()
    if hasattr(value, "item") and getattr(value, "ndim", 1) == 0:
        return _scalar(value.item())  # a numpy scalar
    if value.__class__.__name__ in ("NAType", "NaTType"):
        return None
    return str(value)


def plain_column(series: pd.Series) -> list[Any]:
    """A column as JSON-ready Python values: Decimal as text, NA as None, ints as int."""
    if series.dtype.kind in "iub" and not series.hasnans:  # nullable Int64 with NA goes below
        return series.tolist()
    values = series.tolist()
    # Most cells are str or Decimal: test those inline, call _scalar only for the rest.
    return [
        v if v.__class__ is str
        else (decimal_text(v) if v.__class__ is Decimal and v.is_finite() else _scalar(v))
        for v in values
    ]


def evidence_lists(series: pd.Series) -> list[list[str]]:
    """The `evidence` column as lists of change ids (lists, arrays, or text joined by ","
    as the store keeps them, or ";")."""
    out: list[list[str]] = []
    for value in series.tolist():
        if isinstance(value, str):
            out.append([part.strip() for part in value.replace(";", ",").split(",") if part.strip()])
        elif value is None or isinstance(value, float):
            out.append([])
        else:
            out.append([str(v) for v in value])
    return out


def _records(frame: pd.DataFrame, fields: tuple[str, ...]) -> list[dict[str, Any]]:
    """Rows as dicts with exactly `fields`, converted column by column (no per-row pandas)."""
    n = len(frame)
    columns: list[list[Any]] = []
    for name in fields:
        if name not in frame.columns:
            columns.append([None] * n)
        elif name == "evidence":
            columns.append(evidence_lists(frame[name]))
        else:
            columns.append(plain_column(frame[name]))
    return [dict(zip(fields, values, strict=True)) for values in zip(*columns, strict=True)]


def result_to_json(result: ReconResult) -> dict[str, Any]:
    """The `--json` document of PRODUCT.md §4.

    Returns:
        `{"run_id", "period", "summary", "lines", "missing_subscriptions", "rejects"}`:
        lines carry every LINE_FIELDS key (money and quantities as exact decimal strings,
        `evidence` as a list of change ids, absent values as None).
    """
    summary = result.summary
    return {
        "run_id": summary.run_id,
        "period": summary.period,
        "summary": summary.model_dump(),
        "lines": _records(result.lines, LINE_FIELDS),
        "missing_subscriptions": _records(result.missing, MISSING_FIELDS),
        "rejects": _records(result.rejects, REJECT_FIELDS),
    }


def _json_strings(values: list[Any]) -> list[str]:
    """JSON text of each value; Decimals (the bulk of a line's fields) on a fast path."""
    # Optimistic pass: str(Decimal) is already the JSON string's content unless it is
    # NaN/Infinity or in exponent form, which all show capitals; those redo the column.
    fast = ['"' + str(v) + '"' if v.__class__ is Decimal else json.dumps(_scalar(v), ensure_ascii=False)
            for v in values]
    joined = "".join(fast)
    if "E" not in joined and "N" not in joined and "I" not in joined:
        return fast
    return [json.dumps(_scalar(v), ensure_ascii=False) for v in values]


def _arrow_texts(texts: list[str]) -> Any:
    """An Arrow string array from Python strings free of newlines (JSON texts are): one
    join and one split in C++ instead of a million conversions."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if not texts:
        return pa.array([], pa.large_string())
    return pc.split_pattern(pa.array(["\n".join(texts)], pa.large_string()), "\n").flatten()


def _json_fragments(series: pd.Series) -> tuple[Any, bool]:
    """A column as an Arrow array of JSON texts, and whether it still needs its quotes.

    Text columns stay in Arrow (escaped by vectorised replaces; only a column holding
    control characters goes through json.dumps); Decimal and other objects go through
    Python once. Quotes of a text column without nulls are left to the row template.
    """
    import pandas as pd
    import pyarrow as pa
    import pyarrow.compute as pc

    if series.dtype.kind in "iu" and not series.hasnans:
        return pc.cast(pa.array(series), pa.large_string()), False
    if series.name == "evidence":
        ids = evidence_lists(series)
        return _arrow_texts(["[]" if not i else json.dumps(i, ensure_ascii=False) for i in ids]), False
    if pd.api.types.infer_dtype(series, skipna=True) not in ("string", "empty"):
        return _arrow_texts(_json_strings(series.tolist())), False
    text = pa.array(series, type=pa.large_string(), from_pandas=True)
    if isinstance(text, pa.ChunkedArray):  # a frame built by concat keeps its pieces
        text = text.combine_chunks()
    if pc.any(pc.match_substring_regex(text, r'[\x00-\x1f"\\]')).as_py():  # rare: escape
        if pc.any(pc.match_substring_regex(text, r"[\x00-\x1f]")).as_py():
            return _arrow_texts(_json_strings(text.to_pylist())), False
        text = pc.replace_substring(pc.replace_substring(text, "\\", "\\\\"), '"', '\\"')
    if text.null_count:
        quote, empty = pa.scalar('"', pa.large_string()), pa.scalar("", pa.large_string())
        return pc.fill_null(pc.binary_join_element_wise(quote, text, quote, empty), "null"), False
    return text, True


def _write_lines_json(lines: pd.DataFrame, out: IO[bytes]) -> None:
    """Write `"lines": [...]` content: each row is `, {...}`, built by Arrow per chunk.

    Equal to json.dumps(result_to_json(...)["lines"]) but about 5x faster, which is what
    lets a million-line run be written in seconds (a test holds the two equal).
    """
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    for start in range(0, len(lines), JSON_CHUNK):
        chunk = lines.iloc[start:start + JSON_CHUNK]
        parts: list[Any] = []
        literal = ", {"
        for j, field in enumerate(LINE_FIELDS):
            literal += ("" if j == 0 else ", ") + json.dumps(field) + ": "
            if field not in chunk.columns:
                literal += "null"
                continue
            fragments, quoted = _json_fragments(chunk[field])
            parts += [pa.scalar(literal + ('"' if quoted else ""), pa.large_string()), fragments]
            literal = '"' if quoted else ""
        rows = pc.binary_join_element_wise(*parts, pa.scalar(literal + "}", pa.large_string()),
                                           pa.scalar("", pa.large_string()))
        if isinstance(rows, pa.ChunkedArray):
            rows = rows.combine_chunks()
        # Every part is non-null, so the rows' UTF-8 bytes sit end to end in the data buffer;
        # each starts with its ", " separator, which the document's first row drops.
        offsets = np.frombuffer(rows.buffers()[1], dtype=np.int64)[rows.offset:rows.offset + len(rows) + 1]
        first = int(offsets[0]) + (2 if start == 0 else 0)
        out.write(memoryview(rows.buffers()[2])[first:int(offsets[-1])])


def write_json(result: ReconResult, target: Path | str) -> None:
    """Write the `--json` document (as `result_to_json`) to `target`, or stdout for "-"."""
    summary = result.summary
    head = {"run_id": summary.run_id, "period": summary.period, "summary": summary.model_dump()}
    tail = {"missing_subscriptions": _records(result.missing, MISSING_FIELDS),
            "rejects": _records(result.rejects, REJECT_FIELDS)}

    def dump(out: IO[bytes]) -> None:
        out.write(json.dumps(head, ensure_ascii=False)[:-1].encode("utf-8") + b', "lines": [')
        _write_lines_json(result.lines, out)
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


# --- CSV -------------------------------------------------------------------------------


def _csv_columns(lines: pd.DataFrame, columns: Iterable[tuple[str, str]]) -> pd.DataFrame:
    """(CSV column, line field) pairs as text: exact decimals, evidence ids joined by ";",
    and our text formula-safe (numbers never prefixed, so a -5.00 credit stays a number)."""
    import pandas as pd

    data = {}
    for column, field in columns:
        if field not in lines.columns:
            data[column] = pd.Series([None] * len(lines), dtype="object")
            continue
        if field == "evidence":
            values: list[Any] = [";".join(ids) for ids in evidence_lists(lines[field])]
        else:
            values = plain_column(lines[field])
        series = pd.Series(values, dtype="object")
        data[column] = series if field in LINE_NUMBER_FIELDS else _safe_text_column(series)
    return pd.DataFrame(data)


def _reject_messages(result: ReconResult) -> dict[int, str]:
    """Spreadsheet row -> why the invoice row was rejected (rejects of other files excluded)."""
    rejects = result.rejects
    if rejects.empty:
        return {}
    invoice_name = Path(result.summary.invoice_file).name
    mine = rejects[rejects["file"].astype("str").map(lambda f: Path(f).name) == invoice_name]
    messages: dict[int, str] = {}
    for row, column, message in zip(mine["row"].tolist(), mine["column"].tolist(),
                                    mine["message"].tolist(), strict=True):
        text = f"{column}: {message}" if column else str(message)
        key = int(row)
        messages[key] = f"{messages[key]}; {text}" if key in messages else text
    return messages


def write_csv(result: ReconResult, target: Path) -> None:
    """Write the invoice's own columns, unchanged, with the recon_ result columns appended.

    Rows that were rejected at load have no line: they get recon_status "rejected" and the
    reject message as recon_explanation. A run re-rendered from the store has no invoice
    (`invoice_raw` is None): then the columns are LINE_FIELDS.
    """
    import pandas as pd

    raw = result.invoice_raw
    if raw is None:
        frame = _csv_columns(result.lines, ((field, field) for field in LINE_FIELDS))
    else:
        appended = _csv_columns(result.lines, CSV_RESULT_COLUMNS)
        appended.index = result.lines["row"].astype("int64").to_numpy()
        # One line per invoice row by construction; keep the first if a caller repeats a row.
        appended = appended[~appended.index.duplicated()]
        rows = raw["__row__"].astype("int64").to_numpy()
        appended = appended.reindex(rows)
        unmatched = appended["recon_status"].isna().to_numpy()
        if unmatched.any():
            messages = _reject_messages(result)
            fallback = "rejected at load; see the rejects"
            appended.loc[unmatched, "recon_status"] = REJECTED_STATUS
            appended.loc[unmatched, "recon_explanation"] = [
                safe_text(messages.get(int(r), fallback)) for r in rows[unmatched]
            ]
        provider = raw.drop(columns="__row__").reset_index(drop=True)
        frame = pd.concat([provider, appended.reset_index(drop=True)], axis=1)
    with atomic_write(Path(target), "w", encoding="utf-8", newline="") as handle:
        frame.to_csv(handle, index=False, lineterminator="\n")


def write_xlsx(result: ReconResult, target: Path) -> None:
    """Write the finance workbook (see `recon_cli.xlsx.write_xlsx`)."""
    from recon_cli import xlsx

    xlsx.write_xlsx(result, target)
