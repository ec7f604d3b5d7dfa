"""The run store: one SQLite file that `explain`, `confirm`, `runs` and `export` read later.

Stdlib sqlite3 only, and no pandas at import: `recon explain` answers from indexed lookups
without loading a run. Money and quantities are TEXT holding the exact decimal, never REAL.
"""

from __future__ import annotations

import gc
import os
import re
import sqlite3
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from recon_cli.errors import InputError, RunNotFound
from recon_cli.records import (
    EVIDENCE_FIELDS,
    LINE_FIELDS,
    MISSING_FIELDS,
    NEEDS_PERSON,
    REJECT_FIELDS,
    Confirmation,
    EvidenceRecord,
    Explanation,
)

if TYPE_CHECKING:
    import pandas as pd

    from recon_cli.models import RunSummary
    from recon_cli.result import ReconResult

LINE_DECIMALS = frozenset((
    "quantity", "billable_quantity", "provider_quantity", "subscription_quantity", "quantity_delta",
    "residual", "unit_cost", "unit_price", "margin_pct", "subtotal", "tax_total", "total", "money_at_risk"))
MISSING_DECIMALS = frozenset(("quantity", "unit_price", "expected_amount"))
# What a line was before `recon confirm`, so that `recon unconfirm` can put it back. save_run
# also stores them when ReconResult.lines has them (confirmations the pipeline carried over).
ORIGINAL_FIELDS = ("original_status", "original_reason", "original_explanation", "original_money_at_risk")
_TABLES = {"lines": (LINE_FIELDS, LINE_DECIMALS), "missing": (MISSING_FIELDS, MISSING_DECIMALS),
           "evidence": (EVIDENCE_FIELDS, frozenset()), "rejects": (REJECT_FIELDS, frozenset())}
_CHUNK = 100_000  # rows converted and inserted (or read and converted) at a time
LINE_KEY_SPAN = 10**9  # lines.id = run seq x LINE_KEY_SPAN + spreadsheet row
CONFIRMED_SUFFIX = " Confirmed by "

MIGRATIONS: list[Callable[[sqlite3.Connection], None]] = []
migration = MIGRATIONS.append


@migration
def m001_initial(db: sqlite3.Connection) -> None:
    # Spelled out, not built from LINE_FIELDS: a shipped migration must never change.
    def text(names: str) -> str:
        return ", ".join(f'"{name}" TEXT' for name in names.split())

    nocase = "TEXT COLLATE NOCASE"  # subscription GUIDs and line ids compare case-insensitively
    db.execute("""CREATE TABLE runs (run_id TEXT PRIMARY KEY, seq INTEGER NOT NULL UNIQUE, created_at TEXT NOT NULL,
        period TEXT, invoice_file TEXT, line_count INTEGER, needs_attention INTEGER, summary_json TEXT NOT NULL)""")
    # A line's key is its run's seq x 10^9 + its spreadsheet row: rows arrive in key order, so a
    # million-line save appends to the table instead of inserting into a random-keyed index, and
    # `explain LINE-ID` reads the line straight from the key.
    db.execute(f"""CREATE TABLE lines (id INTEGER PRIMARY KEY, sub_key TEXT NOT NULL, line_id {nocase} NOT NULL,
        "row" INTEGER, invoice_number TEXT, subscription_id {nocase}, {text('''customer_id customer_name product
        product_id sku_id charge_type kind billing_frequency order_date charge_start charge_end quantity
        billable_quantity status price_status reason match_method''')}, matched_subscription_id {nocase},
        {text('''provider_quantity subscription_quantity quantity_delta residual as_of unit_cost unit_price
        margin_pct subtotal tax_total total currency money_at_risk explanation evidence original_status
        original_reason original_explanation original_money_at_risk''')})""")
    # The one secondary index: the lower-cased subscription a line belongs to (matched, else its own).
    db.execute("CREATE INDEX lines_by_subscription ON lines (sub_key)")
    # The invoice's own id of a line matched on customer + product, so that id finds it too.
    db.execute("CREATE TABLE line_aliases (sub_key TEXT NOT NULL, id INTEGER NOT NULL)")
    db.execute("CREATE INDEX line_aliases_by_subscription ON line_aliases (sub_key)")
    db.execute(f"""CREATE TABLE evidence (run_id TEXT NOT NULL, change_id TEXT, subscription_id {nocase},
        "row" INTEGER, {text('''effective_date quantity_delta provisioning_status initiated_by
        customer_invoice status_reason evidence_kind''')})""")
    db.execute("CREATE INDEX evidence_by_subscription ON evidence (run_id, subscription_id)")
    db.execute(f"""CREATE TABLE missing (run_id TEXT NOT NULL, subscription_id {nocase}, "row" INTEGER,
        {text('''customer_id customer_name product quantity billing_frequency start_date unit_price
        currency expected_amount reason explanation''')})""")
    db.execute("CREATE INDEX missing_by_subscription ON missing (run_id, subscription_id)")
    db.execute(f"""CREATE TABLE rejects (run_id TEXT NOT NULL, file TEXT, "row" INTEGER,
        {text("column value code message")})""")
    db.execute("CREATE INDEX rejects_by_run ON rejects (run_id)")
    db.execute(f"""CREATE TABLE confirmations (subscription_id TEXT PRIMARY KEY, {text('''provider_quantity
        subscription_quantity note confirmed_by confirmed_at run_id line_id''')})""")


def resolve_store_path(store: Path | None) -> Path:
    """The store file: `store` if given, else `$RECON_HOME/recon.db`, else `./.recon/recon.db`."""
    if store is not None:
        return store
    home = os.environ.get("RECON_HOME")
    return Path(home).expanduser() / "recon.db" if home else Path(".recon") / "recon.db"


def open_store(path: Path) -> sqlite3.Connection:
    """Open (creating if needed) the store and migrate it; InputError if it is not one, or newer."""
    path.parent.mkdir(parents=True, exist_ok=True)
    # Autocommit: each write opens its own transaction. A command that finds the store busy (a big
    # save holds the write lock for seconds) waits for it rather than failing after sqlite's 5 s.
    conn = sqlite3.connect(path, isolation_level=None, timeout=120)
    try:
        # Wide rows pack better in 16 KiB pages (a million-line save measured ~15% faster); this
        # only takes effect while the file is still empty.
        conn.execute("PRAGMA page_size = 16384")
        conn.execute("PRAGMA synchronous = NORMAL")
        version = conn.execute("PRAGMA user_version").fetchone()[0]
    except sqlite3.DatabaseError as exc:
        conn.close()
        raise InputError(f"{path} is not a recon run store ({exc}); pass another --store or move the "
                         "file aside") from exc
    if version > len(MIGRATIONS):
        conn.close()
        raise InputError(f"{path}: the run store is at schema version {version}, this recon knows "
                         f"{len(MIGRATIONS)}; upgrade recon or pass another --store")
    for number, step in enumerate(MIGRATIONS[version:], start=version + 1):
        with _transaction(conn):
            step(conn)
            conn.execute(f"PRAGMA user_version = {number}")
    return conn


_last_micros = 0


def new_run_id() -> str:
    """A run id that sorts by creation time: UTC to the microsecond, `-`, 4 random hex digits."""
    global _last_micros
    # Strictly increasing within a process, so ids made in the same microsecond still sort.
    _last_micros = max(time.time_ns() // 1000, _last_micros + 1)
    stamp = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=_last_micros)
    return f"{stamp:%Y%m%dT%H%M%S%fZ}-{os.urandom(2).hex()}"  # not `secrets`: 12 ms to import


def save_run(conn: sqlite3.Connection, result: ReconResult) -> None:
    """Store a run in one transaction: summary, lines, evidence, missing subscriptions, rejects."""
    s = result.summary
    conn.execute("PRAGMA cache_size = -262144")  # 256 MB: the subscription index takes random inserts
    with _transaction(conn):
        seq = conn.execute("SELECT COALESCE(MAX(seq), 0) + 1 FROM runs").fetchone()[0]
        conn.execute("INSERT INTO runs (run_id, seq, created_at, period, invoice_file, line_count, "
                     "needs_attention, summary_json) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", (
                         s.run_id, seq, s.created_at, s.period, s.invoice_file, s.line_count,
                         s.needs_attention, s.model_dump_json()))
        lines = _keyed_lines(result.lines, seq)
        aliases = lines.loc[lines["alias"] != "", ["alias", "id"]]
        conn.executemany("INSERT INTO line_aliases (sub_key, id) VALUES (?, ?)",
                         zip(aliases["alias"].tolist(), aliases["id"].tolist(), strict=True))
        for table, frame in (("lines", lines), ("missing", result.missing),
                             ("evidence", result.evidence), ("rejects", result.rejects)):
            fields, decimals = _TABLES[table]
            fields = (*fields, *(f for f in ORIGINAL_FIELDS if f in frame.columns))
            if table == "lines":
                fields = ("id", "sub_key", *fields)
                sql = f"INSERT INTO lines ({_names(fields)}) VALUES ({', '.join('?' * len(fields))})"
            else:
                sql = f"INSERT INTO {table} (run_id, {_names(fields)}) VALUES (?{', ?' * len(fields)})"
            # In slices, so that a million lines never exist as Python objects all at once.
            for start in range(0, len(frame), _CHUNK):
                part = frame.iloc[start:start + _CHUNK]
                columns = [_sql_values(part[name], name in decimals) for name in fields]
                if table != "lines":
                    columns.insert(0, [s.run_id] * len(part))
                # zip over converted columns, not itertuples: under pandas 3 a frame rebuilt from
                # them would infer the str dtype again and turn None back into NaN.
                conn.executemany(sql, zip(*columns, strict=True))


def _keyed_lines(lines: pd.DataFrame, seq: int) -> pd.DataFrame:
    """The lines with their key (`id`), lower-cased subscription (`sub_key`) and fallback `alias`."""
    own = lines["subscription_id"].fillna("").astype("str").str.strip().str.lower()
    matched = lines["matched_subscription_id"].fillna("").astype("str").str.strip().str.lower()
    sub_key = matched.where(matched != "", own)
    return lines.assign(id=lines["row"].astype("int64") + seq * LINE_KEY_SPAN, sub_key=sub_key,
                        alias=own.where(own != sub_key, ""))


def _sql_values(column: pd.Series, decimal: bool) -> list[Any]:
    """One frame column as values sqlite3 binds: NULL for missing, text for Decimals and lists."""
    import numpy as np
    import pandas as pd
    import pyarrow as pa  # type: ignore[import-untyped]

    if column.dtype.kind in "iub" and not column.hasnans:
        return column.tolist()
    if isinstance(column.dtype, pd.StringDtype):  # through arrow: twice as fast as numpy
        return pa.array(column).to_pylist()  # type: ignore[no-any-return]
    if decimal:  # each distinct amount turned into text once: a million str() calls cost seconds
        codes, uniques = pd.factorize(column, use_na_sentinel=True)
        texts = np.array([*(str(u) for u in uniques), None], dtype=object)
        return texts[np.where(codes < 0, len(uniques), codes)].tolist()  # type: ignore[no-any-return]
    values = column.to_numpy(dtype=object, na_value=None).tolist()  # type: ignore[call-overload]
    # `evidence` holds lists of change ids; anything else (a Decimal delta, a date) as its text.
    return [v if v is None or type(v) is str else ",".join(v) if isinstance(v, list) else str(v)
            for v in values]


def list_runs(conn: sqlite3.Connection, limit: int = 50) -> list[RunSummary]:
    """The stored runs, newest first."""
    rows = conn.execute("SELECT summary_json FROM runs ORDER BY run_id DESC LIMIT ?", (limit,))
    from recon_cli.models import RunSummary

    return [RunSummary.model_validate_json(row[0]) for row in rows]


def load_summary(conn: sqlite3.Connection, run_id: str | None = None) -> RunSummary:
    """The summary of run `run_id`, or of the newest; RunNotFound if there is none."""
    from recon_cli.models import RunSummary

    return RunSummary.model_validate_json(_run(conn, run_id)[3])


def _run(conn: sqlite3.Connection, run_id: str | None) -> tuple[str, str | None, str, str, int]:
    """(run_id, period, invoice_file, summary_json, seq) of the run asked for, or of the newest."""
    sql = "SELECT run_id, period, invoice_file, summary_json, seq FROM runs"
    row: tuple[str, str | None, str, str, int] | None = (
        conn.execute(f"{sql} WHERE run_id = ?", (run_id,)) if run_id
        else conn.execute(f"{sql} ORDER BY run_id DESC LIMIT 1")).fetchone()
    if row is None:
        path = conn.execute("PRAGMA database_list").fetchone()[2] or "memory"
        if run_id:
            raise RunNotFound(f"no run '{run_id}' in {path}; `recon runs` lists them")
        raise RunNotFound(f"no runs stored yet in {path}; run `recon run INVOICE SUBSCRIPTIONS` first")
    return row


def _names(fields: Iterable[str]) -> str:
    return ", ".join(f'"{name}"' for name in fields)  # quoted: `row` and `column` are SQL keywords


def _rows(cursor: sqlite3.Cursor) -> list[dict[str, Any]]:
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor]


_LINE_SELECT = f"SELECT id AS rowid, {_names((*LINE_FIELDS, *ORIGINAL_FIELDS))} FROM lines"
# Lines of one subscription in one run: by the subscription index, plus lines the invoice lists
# under another id that were matched on customer + product (line_aliases).
_SUBSCRIPTION_LINES = (f"{_LINE_SELECT} WHERE sub_key = :key AND id BETWEEN :low AND :high UNION "
                       f"{_LINE_SELECT} WHERE id IN (SELECT id FROM line_aliases WHERE sub_key = :key "
                       'AND id BETWEEN :low AND :high) ORDER BY "row"')


def _find(conn: sqlite3.Connection, run_id: str, seq: int, query: str, whole: bool = False,
          ) -> tuple[str | None, str, list[dict[str, Any]], list[dict[str, Any]]]:
    """(line id if `query` is one, subscription lower-cased, lines, missing rows) it names.

    `whole`: all the lines of a line's subscription rather than the one line.
    """
    query = query.strip()
    span = {"low": seq * LINE_KEY_SPAN, "high": (seq + 1) * LINE_KEY_SPAN - 1}
    row = re.fullmatch(r".+-(\d{1,9})", query)
    lines = _rows(conn.execute(f"{_LINE_SELECT} WHERE id = ?", (seq * LINE_KEY_SPAN + int(row[1]),))) if row else []
    lines = [line for line in lines if line["line_id"].lower() == query.lower()]
    if lines:
        line_id = lines[0]["line_id"]
        key = (lines[0]["matched_subscription_id"] or lines[0]["subscription_id"] or "").lower()
        if whole and key:
            lines = _rows(conn.execute(_SUBSCRIPTION_LINES, {"key": key, **span}))
        return line_id, key, lines, []
    lines = _rows(conn.execute(_SUBSCRIPTION_LINES, {"key": query.lower(), **span}))
    missing = _rows(conn.execute(f"SELECT {_names(MISSING_FIELDS)} FROM missing "
                                 "WHERE run_id = ? AND subscription_id = ?", (run_id, query)))
    if not lines and not missing:
        raise RunNotFound(f"no line or subscription '{query}' in run {run_id}; give a line id such as "
                          "G000123456-2 or a subscription id, or pick another run with --run")
    return None, query.lower(), lines, missing


def find_explanation(conn: sqlite3.Connection, query: str, run_id: str | None = None) -> Explanation:
    """What a run (the newest by default) says about a line or subscription id, with its evidence.

    Raises RunNotFound when there is no such run, or the id is neither a line nor a subscription in it.
    """
    run_id, period, invoice_file, _, seq = _run(conn, run_id)
    line_id, key, lines, missing = _find(conn, run_id, seq, query)
    named = list(dict.fromkeys(c for line in lines for c in (line["evidence"] or "").split(",") if c))
    subscriptions = {s for line in lines for s in (line["subscription_id"], line["matched_subscription_id"])
                     if s}
    records = _rows(conn.execute(f"SELECT {_names(EVIDENCE_FIELDS)} FROM evidence WHERE run_id = ? AND "
                                 f"subscription_id IN ({', '.join('?' * len(subscriptions))})",
                                 (run_id, *subscriptions)))
    evidence = {r["change_id"]: EvidenceRecord.model_validate(r) for r in records if r["change_id"] in named}
    keys = sorted({key, *(s.lower() for s in subscriptions)})
    found = _rows(conn.execute(
        f"SELECT * FROM confirmations WHERE subscription_id IN ({', '.join('?' * len(keys))})", keys))
    return Explanation(
        run_id=run_id, query=query, matched_by="line_id" if line_id else "subscription_id", period=period,
        invoice_file=invoice_file, lines=[{name: line[name] for name in LINE_FIELDS} for line in lines],
        evidence=[evidence[c] for c in named if c in evidence], missing=missing[0] if missing else None,
        confirmation=Confirmation.model_validate(found[0]) if found else None)


def load_confirmations(conn: sqlite3.Connection) -> list[Confirmation]:
    """Every active confirmation, for the pipeline to carry into a new run."""
    rows = _rows(conn.execute("SELECT * FROM confirmations ORDER BY subscription_id"))
    return [Confirmation.model_validate(row) for row in rows]


def confirm(conn: sqlite3.Connection, query: str, note: str, by: str,
            run_id: str | None = None) -> Confirmation:
    """Confirm the difference of a subscription, or of a line's subscription, in a run.

    As the pipeline does in later runs (PRODUCT.md §3 rule 9), the subscription's lines that are not
    matched and show the confirmed quantities become `confirmed`, and the run's summary follows.
    A subscription missing from the invoice can be confirmed too: it stays listed, reason
    `confirmed`, and no longer needs a person while its quantity stays the same.
    Raises RunNotFound for an unknown run or id; InputError when the line has no subscription id.
    """
    run_id, *_, seq = _run(conn, run_id)
    line_id, key, lines, missing = _find(conn, run_id, seq, query, whole=True)
    if not lines and missing:
        return _confirm_missing(conn, run_id, missing[0], note, by)
    if not lines or not key:
        raise InputError(f"'{query}' is not on an invoice line with a subscription id, so there is "
                         "nothing to confirm; `recon explain` shows what the run says about it")
    seat = next((line for line in lines if line["provider_quantity"] or line["subscription_quantity"]),
                lines[0])
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    confirmation = Confirmation(
        subscription_id=key, provider_quantity=seat["provider_quantity"],
        subscription_quantity=seat["subscription_quantity"], note=note, confirmed_by=by,
        confirmed_at=now, run_id=run_id, line_id=line_id)
    moved = [line for line in lines if line["status"] != "matched" and _same(line, confirmation)]
    with _transaction(conn):
        fields = Confirmation.model_fields
        conn.execute(f"INSERT OR REPLACE INTO confirmations ({_names(fields)}) "
                     f"VALUES ({', '.join(':' + f for f in fields)})", confirmation.model_dump())
        # SET reads the old row, so a re-confirm keeps the first original and replaces the note. A
        # line saved already confirmed (carried over by the pipeline) has no original to keep.
        conn.executemany("""UPDATE lines SET
            original_status = COALESCE(original_status, NULLIF(status, 'confirmed')),
            original_reason = COALESCE(original_reason, NULLIF(reason, 'confirmed')),
            original_explanation = COALESCE(original_explanation,
                CASE WHEN status <> 'confirmed' THEN explanation END),
            original_money_at_risk = COALESCE(original_money_at_risk,
                CASE WHEN status <> 'confirmed' THEN money_at_risk END),
            status = 'confirmed', reason = 'confirmed', money_at_risk = '0',
            explanation = COALESCE(original_explanation, explanation, '') || ? WHERE id = ?""",
                         [(f" Confirmed by {by} on {now[:10]}: {note.rstrip('.')}.", line["rowid"])
                          for line in moved])
        _shift_summary(conn, run_id, [(line, line["status"], "confirmed", "0") for line in moved])
    return confirmation


def _confirm_missing(conn: sqlite3.Connection, run_id: str, missing: dict[str, Any], note: str, by: str
                     ) -> Confirmation:
    """Accept a subscription's absence from the invoice: it stays listed, no longer needing a person."""
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    confirmation = Confirmation(
        subscription_id=str(missing["subscription_id"]).lower(), provider_quantity=None,
        subscription_quantity=missing["quantity"], note=note, confirmed_by=by, confirmed_at=now, run_id=run_id)
    with _transaction(conn):
        fields = Confirmation.model_fields
        conn.execute(f"INSERT OR REPLACE INTO confirmations ({_names(fields)}) "
                     f"VALUES ({', '.join(':' + f for f in fields)})", confirmation.model_dump())
        if missing["reason"] != "confirmed":
            conn.execute("UPDATE missing SET reason = 'confirmed', explanation = explanation || ? "
                         "WHERE run_id = ? AND subscription_id = ?",
                         (f"{CONFIRMED_SUFFIX}{by} on {now[:10]}: {note.rstrip('.')}.", run_id,
                          missing["subscription_id"]))
            _shift_missing(conn, run_id, -1)
    return confirmation


def _unconfirm_missing(conn: sqlite3.Connection, run_id: str, missing: dict[str, Any]) -> None:
    if missing["reason"] == "confirmed":
        conn.execute("UPDATE missing SET reason = 'not_on_invoice', explanation = ? "
                     "WHERE run_id = ? AND subscription_id = ?",
                     (str(missing["explanation"]).split(CONFIRMED_SUFFIX)[0], run_id, missing["subscription_id"]))
        _shift_missing(conn, run_id, +1)


def _shift_missing(conn: sqlite3.Connection, run_id: str, change: int) -> None:
    summary = load_summary(conn, run_id)
    needs = summary.needs_attention + change
    summary = summary.model_copy(update={"needs_attention": needs})
    conn.execute("UPDATE runs SET summary_json = ?, needs_attention = ? WHERE run_id = ?",
                 (summary.model_dump_json(), needs, run_id))


def _same(line: dict[str, Any], confirmation: Confirmation) -> bool:
    """Whether a line shows the quantities confirmed, compared as numbers ("5" == "5.0")."""
    pairs = ((line["provider_quantity"], confirmation.provider_quantity),
             (line["subscription_quantity"], confirmation.subscription_quantity))
    return all(a is b is None or (a is not None and b is not None and Decimal(a) == Decimal(b))
               for a, b in pairs)


def unconfirm(conn: sqlite3.Connection, query: str, run_id: str | None = None) -> Confirmation:
    """Withdraw a subscription's confirmation and put its lines in the run back as they were.

    Raises RunNotFound for an unknown run, or when nothing is confirmed for the id.
    """
    run_id, *_, seq = _run(conn, run_id)
    try:
        _, key, lines, missing = _find(conn, run_id, seq, query, whole=True)
    except RunNotFound:  # not in this run: the confirmation is withdrawn all the same
        key, lines, missing = query.strip().lower(), [], []
    found = _rows(conn.execute("SELECT * FROM confirmations WHERE subscription_id = ?", (key,)))
    if not found:
        raise RunNotFound(f"nothing is confirmed for '{query}'; `recon explain {query}` shows its status")
    moves = []
    for line in (line for line in lines if line["status"] == "confirmed"):
        # A confirmation the pipeline carried over left no original: the line needs a person again.
        status, reason = ("unmatched", "subscription_not_found") if line["match_method"] == "none" \
            else ("unexplained", "no_evidence")
        moves.append((line, line["original_status"] or status, line["original_reason"] or reason,
                      line["original_money_at_risk"] or line["money_at_risk"]))
    with _transaction(conn):
        conn.execute("DELETE FROM confirmations WHERE subscription_id = ?", (key,))
        if missing and not lines:
            _unconfirm_missing(conn, run_id, missing[0])
        conn.executemany("""UPDATE lines SET status = ?, reason = ?, money_at_risk = ?,
            explanation = COALESCE(original_explanation, explanation), original_status = NULL,
            original_reason = NULL, original_explanation = NULL, original_money_at_risk = NULL
            WHERE id = ?""", [(st, why, money, line["rowid"]) for line, st, why, money in moves])
        _shift_summary(conn, run_id, [(line, "confirmed", status, money) for line, status, _, money in moves])
    return Confirmation.model_validate(found[0])


def _shift_summary(conn: sqlite3.Connection, run_id: str,
                   moves: list[tuple[dict[str, Any], str, str, str | None]]) -> None:
    """Move lines (as stored, status before, status after, money at risk after) in the summary.

    Counting only the lines that moved keeps `confirm` instant and exact on a million-line run,
    where a GROUP BY would read every line, and could not sum text amounts exactly.
    """
    summary = load_summary(conn, run_id)
    counts = Counter(summary.status_counts)
    by_status = {currency: dict(amounts) for currency, amounts in summary.subtotal_by_status.items()}
    at_risk = dict(summary.money_at_risk)
    needs = summary.needs_attention
    for line, before, after, money in moves:
        counts[before] -= 1
        counts[after] += 1
        needs += (after in NEEDS_PERSON) - (before in NEEDS_PERSON)
        currency, subtotal = line["currency"] or "", Decimal(line["subtotal"] or 0)
        amounts = by_status.setdefault(currency, {})
        amounts[before] = str(Decimal(amounts.get(before, 0)) - subtotal)
        amounts[after] = str(Decimal(amounts.get(after, 0)) + subtotal)
        risk = Decimal(money or 0) - Decimal(line["money_at_risk"] or 0)
        at_risk[currency] = str(Decimal(at_risk.get(currency, 0)) + risk)
    gone = {status for status, n in counts.items() if n <= 0}  # and so no amount, in any currency
    summary = summary.model_copy(update={
        "status_counts": {s: n for s, n in sorted(counts.items()) if s not in gone},
        "subtotal_by_status": {c: {s: a for s, a in sorted(amounts.items()) if s not in gone}
                               for c, amounts in by_status.items()},
        "money_at_risk": {c: a for c, a in sorted(at_risk.items()) if Decimal(a) != 0},
        "needs_attention": needs})
    conn.execute("UPDATE runs SET summary_json = ?, needs_attention = ? WHERE run_id = ?",
                 (summary.model_dump_json(), needs, run_id))


def load_result(conn: sqlite3.Connection, run_id: str | None = None) -> ReconResult:
    """Rebuild a stored run (the newest by default) for `recon export`; RunNotFound if none."""
    import pandas as pd

    summary = load_summary(conn, run_id)
    seq = _run(conn, summary.run_id)[4]
    frames = {}
    collecting = gc.isenabled()
    gc.disable()  # a million `evidence` lists would be rescanned again and again (20% of the time)
    try:
        for table, (fields, decimals) in _TABLES.items():
            if table == "lines":
                cursor = conn.execute(f"SELECT {_names(fields)} FROM lines WHERE id BETWEEN ? AND ? ORDER BY id",
                                      (seq * LINE_KEY_SPAN, (seq + 1) * LINE_KEY_SPAN - 1))
            else:  # rowid: the order the frames were saved in
                cursor = conn.execute(f"SELECT {_names(fields)} FROM {table} WHERE run_id = ? ORDER BY rowid",
                                      (summary.run_id,))
            parts = [_frame(rows, fields, decimals) for rows in iter(partial(cursor.fetchmany, _CHUNK), [])]
            frames[table] = pd.concat(parts, ignore_index=True) if parts else _frame([], fields, decimals)
    finally:
        if collecting:
            gc.enable()
    from recon_cli.result import ReconResult

    return ReconResult(lines=frames["lines"], missing=frames["missing"], evidence=frames["evidence"],
                       rejects=frames["rejects"], summary=summary, invoice_raw=None)


def _frame(rows: list[tuple[Any, ...]], fields: tuple[str, ...], decimals: frozenset[str]) -> pd.DataFrame:
    import pandas as pd
    import pyarrow as pa

    columns = list(zip(*rows, strict=True)) if rows else [() for _ in fields]
    data: dict[str, Any] = {}
    for name, values in zip(fields, columns, strict=True):
        if name in decimals:
            data[name] = pd.Series([None if v is None else Decimal(v) for v in values], dtype=object)
        elif name == "evidence" and "line_id" in fields:
            data[name] = pd.Series([v.split(",") if v else [] for v in values], dtype=object)
        elif name == "row":
            data[name] = pd.Series(values, dtype="Int64" if None in values else "int64")
        else:
            # pandas' own text dtype (NULL reads as NaN), through arrow: 4x faster than from a tuple.
            data[name] = pd.array(pa.array(values, type=pa.large_string()), dtype="str")
    return pd.DataFrame(data, columns=list(fields))


@contextmanager
def _transaction(conn: sqlite3.Connection) -> Iterator[None]:
    conn.execute("BEGIN")
    try:
        yield
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
