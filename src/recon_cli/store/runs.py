"""Saving a whole run in one transaction, listing runs, and rebuilding a run for `recon export`."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from contextlib import suppress
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from recon_cli.collection import paused_collection
from recon_cli.frames import distinct_objects, distinct_rows, positions, whole
from recon_cli.records import Field, FieldKind
from recon_cli.store.packing import NULL, SEPARATOR, layout_of, pack, pack_columns, unpack_columns
from recon_cli.store.schema import (
    FILE_KEY_SPAN,
    LINE_KEY_SPAN,
    PACKED,
    TABLES,
    find_run,
    load_summary,
    quoted,
    transaction,
)
from recon_cli.textscan import byte_table, has_bytes

if TYPE_CHECKING:
    from concurrent.futures import Executor, Future

    import numpy as np
    import pandas as pd
    import pyarrow as pa

    from recon_cli.models import RunSummary
    from recon_cli.outputs.columns import ColumnTexts
    from recon_cli.result import ReconResult

_CHUNK = 100_000  # rows converted and inserted (or read and converted) at a time


def save_run(conn: sqlite3.Connection, result: ReconResult, texts: ColumnTexts | None = None,
             before_commit: Callable[[], object] | None = None) -> None:
    """Store a run in one transaction: summary, lines, evidence, missing subscriptions, rejects.

    `texts`: the lines' columns as text, when the outputs of the run have made them already.
    `before_commit`: called last inside the transaction (the outputs written alongside): if it raises,
    nothing of the run is saved.
    """
    from concurrent.futures import ThreadPoolExecutor

    s = result.summary
    conn.execute("PRAGMA cache_size = -262144")  # 256 MB: the subscription index takes random inserts
    with transaction(conn):
        seq = conn.execute("SELECT COALESCE(MAX(seq), 0) + 1 FROM runs").fetchone()[0]
        conn.execute("INSERT INTO runs (run_id, seq, created_at, period, invoice_file, line_count, "
                     "needs_attention, summary_json, label) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", (
                         s.run_id, seq, s.created_at, s.period, s.invoice_file, s.line_count,
                         s.needs_attention, s.model_dump_json(), s.label))
        lines = _keyed_lines(result.lines, seq, s.invoice_files or [s.invoice_file])
        aliases = lines.loc[lines["alias"] != "", ["alias", "id"]]
        conn.executemany("INSERT INTO line_aliases (sub_key, id) VALUES (?, ?)",
                         zip(aliases["alias"].tolist(), aliases["id"].tolist(), strict=True))
        # A second thread packs the lines (mostly Arrow, which lets go of the GIL) while this one inserts them.
        # Listing each subscription's lines there too while the customers are saved was 0.8 s faster, but
        # the two together set the run's memory peak (+120-170 MiB at 1M): not done.
        with ThreadPoolExecutor(1, thread_name_prefix="recon-save") as packer:
            _save_lines(conn, lines, seq, texts if texts is not None and texts.frame is result.lines else None,
                        packer)
        _save_customers(conn, s.run_id, result.subscriptions)
        extra_columns = {"subscriptions": {"line_keys": _line_lists(lines, seq, result.subscriptions)}}
        for table, frame in (("missing", result.missing), ("evidence", result.evidence),
                             ("rejects", result.rejects), ("warnings", result.warnings), ("to_bill", result.to_bill),
                             ("margin", result.margin), ("usage_billing", result.usage_billing),
                             ("change_log_mismatch", result.change_log_mismatch),
                             ("subscriptions", result.subscriptions)):
            # A store-only field (what a confirmed line was) is saved when the frame has it.
            fields = [f for f in TABLES[table] if f.name in frame.columns or not f.name.startswith("original_")]
            extra = extra_columns.get(table, {})
            names = [f.name for f in fields] + list(extra)
            sql = f"INSERT INTO {table} (run_id, {quoted(names)}) VALUES (?{', ?' * len(names)})"
            # In slices, so that a million lines never exist as Python objects all at once.
            for start in range(0, len(frame), _CHUNK):
                part = frame.iloc[start:start + _CHUNK]
                columns = [_sql_values(part[f.name], f) for f in fields]
                columns += [values[start:start + _CHUNK] for values in extra.values()]
                columns.insert(0, [s.run_id] * len(part))
                # zip over converted columns, not itertuples: under pandas 3 a frame rebuilt from
                # them would infer the str dtype again and turn None back into NaN.
                conn.executemany(sql, zip(*columns, strict=True))
        if before_commit is not None:
            before_commit()


def _save_customers(conn: sqlite3.Connection, run_id: str, states: pd.DataFrame) -> None:
    """The run's customers (distinct customer_id and customer_name), each with its subscriptions' keys packed
    in one list: what `explain CUSTOMER` looks a customer up in (store/schema.py m006)."""
    import numpy as np
    import pandas as pd
    import pyarrow as pa
    import pyarrow.compute as pc

    if not len(states):
        return
    fields = {f.name: f for f in TABLES["subscriptions"]}
    names = ("customer_id", "customer_name")
    pair = [states[name] if name in states.columns else pd.Series([None] * len(states), dtype=object)
            for name in names]
    # Distinct as the frame holds them (None and NaN apart, both stored NULL: a pair twice is harmless).
    firsts, numbers = distinct_rows(pair)
    stored = [_sql_values(column.iloc[firsts], fields[name]) for column, name in zip(pair, names, strict=True)]
    order = np.argsort(numbers, kind="stable")
    keys = whole(pa.array(states["subscription_key"].iloc[order], type=pa.large_string(), from_pandas=True))
    if has_bytes(keys, byte_table("\\" + SEPARATOR + NULL)) or keys.null_count:
        keys = pa.array([pack([key]) for key in keys.to_pylist()], type=pa.large_string())  # escaped as `pack` does
    listed = _joined_groups(numbers[order], len(firsts), keys, SEPARATOR).to_pylist()
    # Inserted in the order of the customers' index (customer id without case): its pages are then filled
    # one after the other, not at random (1.5 s -> 1.0 s for 170,000 customers). Only the order: values
    # Arrow cannot hold as text (a mix of types) keep theirs.
    rows: Any = range(len(firsts))
    with suppress(pa.ArrowInvalid, pa.ArrowTypeError):
        folded = [pc.ascii_lower(pc.cast(pa.array(values, from_pandas=True), pa.large_string())) for values in stored]
        rows = pc.sort_indices(pa.table({"id": folded[0], "name": folded[1]}),
                               sort_keys=[("id", "ascending"), ("name", "ascending")]).to_pylist()
    conn.executemany("INSERT INTO customers (run_id, customer_id, customer_name, subscription_keys) "
                     "VALUES (?, ?, ?, ?)", ((run_id, stored[0][i], stored[1][i], listed[i]) for i in rows))


def _line_lists(lines: pd.DataFrame, seq: int, states: pd.DataFrame) -> list[str | None]:
    """Each subscription row's lines, ascending, joined by ',' (None: no line): how `explain` finds a
    subscription's lines (schema.subscription_lines), instead of an index over every line's subscription.
    Each line as its id within the run (file index x FILE_KEY_SPAN + row), so that the list stays true
    if the run's sequence number changes."""
    import numpy as np
    import pandas as pd
    import pyarrow as pa
    import pyarrow.compute as pc

    codes, found = pd.factorize(lines["sub_key"], use_na_sentinel=True)
    ids = lines["id"].to_numpy(dtype=np.int64) - seq * LINE_KEY_SPAN
    order = np.lexsort((ids, codes))
    order = order[codes[order] >= 0]
    joined = _joined_groups(codes[order], len(found), pc.cast(pa.array(ids[order]), pa.large_string()), ",")
    at = positions(pd.Series(found, dtype="str"), states["subscription_key"].astype("str"))
    return joined.take(pa.array(at, mask=at < 0)).to_pylist()  # type: ignore[no-any-return]


def _joined_groups(codes: np.ndarray, count: int, texts: pa.Array, separator: str) -> pa.Array:
    """Per group 0..count-1, its texts joined by `separator`; `codes` ascending, one per text."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    offsets = np.concatenate([[0], np.cumsum(np.bincount(codes, minlength=count))]).astype(np.int64)
    lists = pa.LargeListArray.from_arrays(pa.array(offsets), texts)
    return pc.binary_join(lists, pa.scalar(separator, pa.large_string()))


def _save_lines(conn: sqlite3.Connection, lines: pd.DataFrame, seq: int, texts: ColumnTexts | None,
                packer: Executor) -> None:
    """The run's lines as packed records (store/packing.py), in the layout of today's catalogue.

    Decimal columns are packed as text with each amount's own digits: those the run's writers made
    already from `texts`, the others a slice at a time (made whole for the save alone, they held
    ~270 MB through it at a million lines). `packer` packs the next slices while SQLite inserts this
    one (1M lines: 4.1-4.3 s -> 2.8-3.5 s, the same records)."""
    from collections import deque

    fields = TABLES["lines"]
    conn.execute("INSERT INTO line_layouts (seq, fields) VALUES (?, ?)", (seq, ",".join(f.name for f in fields)))
    made = {f.name: texts.made(f.name) for f in fields if f.is_decimal} if texts is not None else {}
    decimals = {name: text for name, text in made.items() if text is not None}
    pack_slice = partial(_packed_slice, lines, fields, decimals)
    ahead: deque[Future[tuple[list[int], list[str]]]] = deque()
    try:
        for start in range(0, len(lines), _LINES_CHUNK):
            ahead.append(packer.submit(pack_slice, start))
            if len(ahead) > _PACKED_AHEAD:
                _insert_lines(conn, *ahead.popleft().result())
        while ahead:
            _insert_lines(conn, *ahead.popleft().result())
    finally:
        for pending in ahead:  # an insert failed: the slices not yet packed are not packed for nothing
            pending.cancel()


# The lines are packed in slices of 50,000 (~28 MB of records each), one packed ahead of the one inserted:
# as fast at a million lines as 100,000 two ahead, with ~100 MB less held.
_LINES_CHUNK = 50_000
_PACKED_AHEAD = 1


def _packed_slice(lines: pd.DataFrame, fields: tuple[Field, ...], decimals: dict[str, pa.Array],
                  start: int) -> tuple[list[int], list[str]]:
    """The ids and packed records of the lines from `start`, a slice of `_LINES_CHUNK`."""
    part = lines.iloc[start:start + _LINES_CHUNK]
    columns = [decimals[f.name].slice(start, _LINES_CHUNK) if f.name in decimals
               else (_slice_text(part[f.name], f) if f.name in part.columns else None) for f in fields]
    return part["id"].tolist(), pack_columns(columns, len(part))


def _insert_lines(conn: sqlite3.Connection, ids: list[int], records: list[str]) -> None:
    # sub_key '' (not indexed): the subscription's row lists its lines (`_line_lists`).
    conn.executemany("INSERT INTO lines (id, sub_key, record) VALUES (?, '', ?)", zip(ids, records, strict=True))


def _slice_text(column: pd.Series, field: Field) -> Any:
    """A slice of a column as text for packing: a Decimal column through `arrow_text` (as the writers
    show it), the others through `_text_values`."""
    from recon_cli.outputs.columns import arrow_text

    text = arrow_text(column) if field.is_decimal else None
    return text if text is not None else _text_values(column, field)


def _text_values(column: pd.Series, field: Field) -> Any:
    """A column as text or None for packing: numbers and flags as digits, the rest as _sql_values."""
    import pandas as pd
    import pyarrow as pa
    import pyarrow.compute as pc

    if column.dtype.kind in "iub" and not column.hasnans:
        return pc.cast(pa.array(column.astype("int64")), pa.large_string())
    if isinstance(column.dtype, pd.StringDtype):
        return pa.array(column, type=pa.large_string(), from_pandas=True)
    if field.kind == FieldKind.IDS:
        from recon_cli.outputs.columns import id_lists

        lists = id_lists(column)  # lists of ids joined by Arrow; a missing list stays NULL, an empty one ""
        if lists is not None:
            return pc.binary_join(lists, pa.scalar(",", pa.large_string()))
    values = _sql_values(column, field)
    if field.kind in (FieldKind.INT, FieldKind.BOOL):
        return [None if v is None else str(int(v)) for v in values]
    return values


def _keyed_lines(lines: pd.DataFrame, seq: int, files: list[str]) -> pd.DataFrame:
    """The lines with their key (`id`), lower-cased subscription (`sub_key`) and fallback `alias`."""
    import numpy as np
    import pandas as pd

    own = lines["subscription_id"].fillna("").astype("str").str.strip().str.lower()
    matched = lines["matched_subscription_id"].fillna("").astype("str").str.strip().str.lower()
    sub_key = matched.where(matched != "", own)
    index = {Path(name).name: position for position, name in enumerate(files)}
    file_index: Any = 0
    if "invoice_file" in lines:  # looked up once per distinct file name, not per line (Series.map: 0.3 s at 1M)
        codes, names = pd.factorize(lines["invoice_file"])
        file_index = np.array([index.get(name, 0) for name in names] + [0], dtype=np.int64)[codes]  # -1: no file
    return lines.assign(id=lines["row"].astype("int64") + seq * LINE_KEY_SPAN + file_index * FILE_KEY_SPAN,
                        sub_key=sub_key, alias=own.where(own != sub_key, ""))


def _sql_values(column: pd.Series, field: Field) -> list[Any]:
    """One frame column as values sqlite3 binds: NULL for missing, text for Decimals and lists."""
    import numpy as np
    import pandas as pd
    import pyarrow as pa

    if column.dtype.kind in "iub" and not column.hasnans:
        return column.astype("int64").tolist() if column.dtype.kind == "b" else column.tolist()
    if field.kind == FieldKind.BOOL:
        return [None if v is None or v != v else int(bool(v)) for v in column.tolist()]
    if isinstance(column.dtype, pd.StringDtype):  # through arrow: twice as fast as numpy
        return pa.array(column).to_pylist()  # type: ignore[no-any-return]
    if field.is_decimal:  # each amount's own digits (0 and 0.00 are equal): text per distinct object
        codes, distinct = distinct_objects(column.to_numpy(dtype=object))
        texts = np.array(list(map(str, distinct)), dtype=object)
        texts = texts if codes is None else texts[codes]
        texts[column.isna().to_numpy()] = None
        return texts.tolist()  # type: ignore[no-any-return]
    values = column.astype(object).where(column.notna(), None).tolist()
    # `evidence` holds lists of change ids; anything else (a Decimal delta, a date) as its text.
    return [v if v is None or type(v) is str else ",".join(v) if isinstance(v, list) else str(v)
            for v in values]


def list_runs(conn: sqlite3.Connection, limit: int = 50) -> list[RunSummary]:
    """The stored runs, newest first."""
    from recon_cli.models import RunSummary

    rows = conn.execute("SELECT summary_json FROM runs ORDER BY seq DESC LIMIT ?", (limit,))
    return [RunSummary.model_validate_json(row[0]) for row in rows]


def prune_runs(conn: sqlite3.Connection, keep: int) -> list[str]:
    """Delete every run but the newest `keep` (confirmations stay); returns the run ids deleted."""
    if keep < 1:
        raise ValueError("keep at least one run")
    doomed = [row for row in conn.execute("SELECT run_id, seq FROM runs ORDER BY seq DESC LIMIT -1 OFFSET ?",
                                          (keep,))]
    if not doomed:
        return []
    per_run = [table for table in TABLES if table != "lines"]
    with transaction(conn):
        for run_id, seq in doomed:
            span = (seq * LINE_KEY_SPAN, (seq + 1) * LINE_KEY_SPAN - 1)
            conn.execute("DELETE FROM lines WHERE id BETWEEN ? AND ?", span)
            conn.execute("DELETE FROM line_aliases WHERE id BETWEEN ? AND ?", span)
            conn.execute("DELETE FROM line_layouts WHERE seq = ?", (seq,))
            for table in [*per_run, "customers"]:
                conn.execute(f"DELETE FROM {table} WHERE run_id = ?", (run_id,))
            conn.execute("DELETE FROM runs WHERE run_id = ?", (run_id,))
    return [run_id for run_id, _ in doomed]


def load_result(conn: sqlite3.Connection, run_id: str | None = None) -> ReconResult:
    """Rebuild a stored run (the newest by default) for `recon export`; RunNotFound if none."""
    import pandas as pd

    from recon_cli.result import ReconResult

    summary = load_summary(conn, run_id)
    seq = find_run(conn, summary.run_id)[4]
    frames = {}
    with paused_collection():  # a million `evidence` lists would be rescanned again and again
        for table, stored in TABLES.items():
            fields = tuple(f for f in stored if not f.name.startswith("original_"))
            if table in PACKED:  # unpacked column-wise, a slice of records at a time
                cursor = conn.execute("SELECT record FROM lines WHERE id BETWEEN ? AND ? ORDER BY id",
                                      (seq * LINE_KEY_SPAN, (seq + 1) * LINE_KEY_SPAN - 1))
                layout = layout_of(conn, seq)
                parts = [_packed_frame(unpack_columns([record for (record,) in records], layout), fields,
                                       len(records)) for records in iter(partial(cursor.fetchmany, _CHUNK), [])]
            else:  # rowid: the order the frames were saved in
                # A run's rows were inserted together: read their rowid range in order (`+run_id`: not through
                # a run_id index, which would sort a million rows again in a temporary B-tree).
                low, high = conn.execute(f"SELECT min(rowid), max(rowid) FROM {table} WHERE run_id = ?",
                                         (summary.run_id,)).fetchone()
                cursor = conn.execute(f"SELECT {quoted(f.name for f in fields)} FROM {table} WHERE rowid BETWEEN ? "
                                      "AND ? AND +run_id = ? ORDER BY rowid", (low, high, summary.run_id))
                parts = [_frame(rows, fields) for rows in iter(partial(cursor.fetchmany, _CHUNK), [])]
            frames[table] = pd.concat(parts, ignore_index=True) if parts else _frame([], fields)
    return ReconResult(lines=frames["lines"], missing=frames["missing"], evidence=frames["evidence"],
                       rejects=frames["rejects"], summary=summary, invoice_raw=None, warnings=frames["warnings"],
                       to_bill=frames["to_bill"], margin=frames["margin"], usage_billing=frames["usage_billing"],
                       change_log_mismatch=frames["change_log_mismatch"], subscriptions=frames["subscriptions"])


def _packed_frame(columns: dict[str, pa.Array], fields: tuple[Field, ...], count: int) -> pd.DataFrame:
    """A stored table's columns (Arrow, text or int) as the run's frame: text fields straight from Arrow, INT
    and BOOL fields parsed, a Decimal made once per distinct amount, lists of ids split."""
    import numpy as np
    import pandas as pd
    import pyarrow as pa
    import pyarrow.compute as pc

    data: dict[str, Any] = {}
    for field in fields:
        column = columns.get(field.name)
        if column is None:  # a field the run's layout does not hold
            column = pa.nulls(count, pa.large_string())
        if field.is_decimal:
            encoded = column.dictionary_encode()
            amounts = np.array([Decimal(text) for text in encoded.dictionary.to_pylist()] + [None], dtype=object)
            codes = encoded.indices.fill_null(len(encoded.dictionary)).to_numpy()
            data[field.name] = pd.Series(amounts[codes], dtype=object)
        elif field.kind == FieldKind.IDS:
            data[field.name] = pd.Series([text.split(",") if text else [] for text in column.to_pylist()],
                                         dtype=object)
        elif field.kind == FieldKind.BOOL:
            flags = pc.not_equal(pc.cast(column, pa.int64()), 0).fill_null(False)
            data[field.name] = pd.Series(flags.to_numpy(zero_copy_only=False), dtype=bool)
        elif field.kind == FieldKind.INT:
            numbers = pc.cast(column, pa.int64())
            data[field.name] = (pd.Series(numbers.to_numpy(zero_copy_only=False), dtype="int64")
                                if not numbers.null_count else pd.Series(numbers.to_pylist(), dtype="Int64"))
        else:
            data[field.name] = pd.array(column, dtype="str")
    return pd.DataFrame(data, columns=[f.name for f in fields])


def _frame(rows: list[tuple[Any, ...]], fields: tuple[Field, ...]) -> pd.DataFrame:
    """Rows as SQLite gives them (a value per field: INT and BOOL as int, the rest as text) as a frame, made
    column-wise as unpacked records are (`_packed_frame`)."""
    import pyarrow as pa

    columns = list(zip(*rows, strict=True)) if rows else [() for _ in fields]
    arrays = {field.name: pa.array(values, type=pa.int64() if field.kind in (FieldKind.INT, FieldKind.BOOL)
                                   else pa.large_string()) for field, values in zip(fields, columns, strict=True)}
    return _packed_frame(arrays, fields, len(rows))
