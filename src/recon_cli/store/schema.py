"""The store's file: where it lives, its schema and migrations, and the few helpers every query uses.

Stdlib sqlite3 only, and no pandas: `recon explain` answers from indexed lookups without loading
a run. Money and quantities are TEXT holding the exact decimal, never REAL.
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from recon_cli.errors import InputError, RunNotFound
from recon_cli.records import (
    CHANGE_LOG_MISMATCH,
    EVIDENCE,
    LINES,
    MARGIN,
    MAX_INVOICES,
    MISSING,
    MISSING_ORIGINALS,
    ORIGINALS,
    REJECTS,
    SUBSCRIPTION_STATES,
    TO_BILL,
    USAGE_BILLING,
    Field,
    FieldKind,
    Output,
    carried,
)
from recon_cli.store import access
from recon_cli.store.access import APPLICATION_ID
from recon_cli.store.packing import layout_of, sql_escaped, sql_pack, unpack

if TYPE_CHECKING:
    from recon_cli.models import RunSummary

# lines.id = run seq x LINE_KEY_SPAN + invoice file index x FILE_KEY_SPAN + spreadsheet row.
LINE_KEY_SPAN = 10**9
FILE_KEY_SPAN = LINE_KEY_SPAN // MAX_INVOICES
# Tables whose rows are packed records (store/packing.py): their fields are a layout, not columns.
PACKED = ("lines",)
# Each stored table's fields, from the catalogue: what save writes and the columns the schema must have.
TABLES: dict[str, tuple[Field, ...]] = {
    "lines": carried(LINES + ORIGINALS, Output.STORE),
    "missing": carried(MISSING + MISSING_ORIGINALS, Output.STORE),
    "evidence": carried(EVIDENCE, Output.STORE),
    "rejects": carried(REJECTS, Output.STORE),
    "warnings": carried(REJECTS, Output.STORE),
    "to_bill": carried(TO_BILL, Output.STORE),
    "margin": carried(MARGIN, Output.STORE),
    "usage_billing": carried(USAGE_BILLING, Output.STORE),
    "change_log_mismatch": carried(CHANGE_LOG_MISMATCH, Output.STORE),
    "subscriptions": carried(SUBSCRIPTION_STATES, Output.STORE),
}

MIGRATIONS: list[Callable[[sqlite3.Connection], None]] = []
migration = MIGRATIONS.append
# Migrations (by number) that change only indexes: every query still answers without them, so a store
# that cannot be written is read as it is.
INDEX_ONLY = {7, 8}


@migration
def m001_initial(db: sqlite3.Connection) -> None:
    # Spelled out, not built from the catalogue: a shipped migration must never change. Fields
    # added to the catalogue later become columns in `add_catalogue_columns`.
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


@migration
def m002_confirmed_prices(db: sqlite3.Connection) -> None:
    # A confirmation holds while cost and price stay the same too (PRODUCT.md v2 rule 9).
    db.execute("ALTER TABLE confirmations ADD COLUMN unit_cost TEXT")
    db.execute("ALTER TABLE confirmations ADD COLUMN unit_price TEXT")


@migration
def m003_money_tables(db: sqlite3.Connection) -> None:
    # What to bill, the margin per customer, usage re-billing, read warnings and the change-log mismatch,
    # per run (PRODUCT.md v2 rule 10, §2); their columns come from the catalogue (add_catalogue_columns).
    for table in ("warnings", "to_bill", "margin", "usage_billing", "change_log_mismatch"):
        db.execute(f"CREATE TABLE {table} (run_id TEXT NOT NULL)")
        db.execute(f"CREATE INDEX {table}_by_run ON {table} (run_id)")


@migration
def m004_history(db: sqlite3.Connection) -> None:
    # One row per subscription per run (history.py), for `recon diff` and the history in `explain`
    # (by subscription, across runs) and `explain CUSTOMER` (by customer, in a run); runs get a label.
    db.execute("CREATE TABLE subscriptions (run_id TEXT NOT NULL)")
    db.execute("ALTER TABLE runs ADD COLUMN label TEXT")


@migration
def m005_packed_lines(db: sqlite3.Connection) -> None:
    # Each line becomes one packed record (store/packing.py): a million-line save binds 3 values per
    # line instead of ~60. Stored runs are packed in SQL, in the columns they were saved with.
    columns = [row[1] for row in db.execute("PRAGMA table_info(lines)") if row[1] not in ("id", "sub_key")]
    db.execute("CREATE TABLE line_layouts (seq INTEGER PRIMARY KEY, fields TEXT NOT NULL)")
    db.execute("INSERT INTO line_layouts (seq, fields) SELECT seq, ? FROM runs", (",".join(columns),))
    db.execute("CREATE TABLE packed_lines (id INTEGER PRIMARY KEY, sub_key TEXT NOT NULL, record TEXT NOT NULL)")
    db.execute(f"INSERT INTO packed_lines (id, sub_key, record) SELECT id, sub_key, {sql_pack(columns)} FROM lines")
    db.execute("DROP TABLE lines")
    db.execute("ALTER TABLE packed_lines RENAME TO lines")
    db.execute("CREATE INDEX lines_by_subscription ON lines (sub_key)")


@migration
def m006_lookup_lists(db: sqlite3.Connection) -> None:
    # `explain` finds a subscription's lines and a customer's subscriptions through lists kept on one row
    # (`subscriptions.line_keys`, `customers.subscription_keys`), not through indexes over every line's and
    # every subscription's text: at a million lines, the lines' index took 2.2 s of their 3.5 s insert and
    # the two customer indexes most of the subscriptions' (measured alone: 12.1 s with them, 3.8 s without).
    # The lines of runs saved before keep their index (a partial one: lines saved from now on have an empty
    # sub_key), and their customers are listed here.
    db.execute("CREATE TABLE customers (run_id TEXT NOT NULL, customer_id TEXT, customer_name TEXT, "
               "subscription_keys TEXT NOT NULL)")
    db.execute("ALTER TABLE subscriptions ADD COLUMN line_keys TEXT")
    db.execute("DROP INDEX IF EXISTS subscriptions_by_customer_id")
    db.execute("DROP INDEX IF EXISTS subscriptions_by_customer_name")
    db.execute("DROP INDEX IF EXISTS lines_by_subscription")
    db.execute("CREATE INDEX lines_by_subscription ON lines (sub_key) WHERE sub_key <> ''")
    stored = {row[1] for row in db.execute("PRAGMA table_info(subscriptions)")}
    if not {"subscription_key", "customer_id", "customer_name"} <= stored:
        return  # a new store: its catalogue columns come after the migrations, and it holds no run
    db.execute("INSERT INTO customers (run_id, customer_id, customer_name, subscription_keys) "
               f"SELECT run_id, customer_id, customer_name, group_concat({sql_escaped('subscription_key')}, "
               "char(31)) FROM subscriptions GROUP BY run_id, customer_id, customer_name")


@migration
def m007_subscriptions_by_run(db: sqlite3.Connection) -> None:
    # The subscriptions' key index leads with the run (`_history_indexes`): a run's rows then go in at the
    # index's end, one after the other. Led by the key, each month's 865,000 rows went in among all the
    # months before, and a save took longer with every run the store held (4.2 s on an empty store, 9.6 s
    # on the eighth month of a million-line run, measured alone).
    db.execute("DROP INDEX IF EXISTS subscriptions_by_key")


@migration
def m008_open_subscriptions(db: sqlite3.Connection) -> None:
    # A run's subscriptions needing a person are found through a partial index of those rows alone
    # (`_history_indexes`), not an index over every subscription: about 1% of a month's rows instead of all
    # 865,000 at a million lines (the insert 4.5 s -> 3.7 s, the store 34 MB smaller a month, measured alone).
    db.execute("DROP INDEX IF EXISTS subscriptions_by_run")


def subscription_lines(conn: sqlite3.Connection, run_id: str, seq: int, key: str, *, aliases: bool = True
                       ) -> list[dict[str, Any]]:
    """The lines of subscription `key` (lower-cased) in one run, in id order: those its `subscriptions` row
    lists (runs saved since m006, each line by its id within the run), those the lines index finds (runs
    saved before), and with `aliases` the lines the invoice lists under another id matched to it."""
    low, high = seq * LINE_KEY_SPAN, (seq + 1) * LINE_KEY_SPAN - 1
    ids: set[int] = set()
    for (listed,) in conn.execute("SELECT line_keys FROM subscriptions WHERE subscription_key = ? AND run_id = ? "
                                  "AND line_keys IS NOT NULL", (key, run_id)):
        ids.update(low + number for number in map(int, listed.split(",")) if 0 <= number < LINE_KEY_SPAN)
    indexed = "SELECT id FROM lines WHERE sub_key = ? AND sub_key <> '' AND id BETWEEN ? AND ?"
    if aliases:
        indexed += " UNION SELECT id FROM line_aliases WHERE sub_key = ? AND id BETWEEN ? AND ?"
    ids.update(number for (number,) in conn.execute(indexed, (key, low, high) * (2 if aliases else 1)))
    wanted = sorted(ids)
    found = [line for start in range(0, len(wanted), 500) for line in line_rows(
        conn, f"id IN ({', '.join('?' * len(wanted[start:start + 500]))})", wanted[start:start + 500])]
    return sorted(found, key=lambda line: line["rowid"])


def line_rows(conn: sqlite3.Connection, where: str, params: Any = ()) -> list[dict[str, Any]]:
    """The stored lines `where` selects (SQL over id and sub_key), each as {field: value, "rowid": id}."""
    fields = {f.name: f for f in TABLES["lines"]}
    found: dict[int, tuple[str, ...]] = {}
    out = []
    for key, record in conn.execute(f"SELECT id, record FROM lines WHERE {where}", params):
        seq = key // LINE_KEY_SPAN
        if seq not in found:
            found[seq] = layout_of(conn, seq)
        out.append({**unpack(record, found[seq], fields), "rowid": key})
    return out


def _history_indexes(db: sqlite3.Connection) -> None:
    """Indexes over catalogue columns, made once the columns exist (add_catalogue_columns)."""
    db.execute("CREATE INDEX IF NOT EXISTS subscriptions_by_run_key ON subscriptions (run_id, subscription_key)")
    # Queries name `needs_person = 1` as written here, so that SQLite may use the partial index.
    db.execute("CREATE INDEX IF NOT EXISTS subscriptions_open ON subscriptions (run_id) WHERE needs_person = 1")
    db.execute("CREATE INDEX IF NOT EXISTS customers_by_id ON customers (run_id, customer_id COLLATE NOCASE)")
    db.execute("CREATE INDEX IF NOT EXISTS customers_by_name ON customers (run_id, customer_name COLLATE NOCASE)")


def add_catalogue_columns(db: sqlite3.Connection) -> None:
    """Give each stored table a column for every catalogue field it lacks (NULL in older runs).

    A field added to the catalogue needs no migration of its own: the field list is the schema.
    """
    for table, fields in TABLES.items():
        if table in PACKED:
            continue
        present = {row[1] for row in db.execute(f"PRAGMA table_info({table})")}
        for field in fields:
            if field.name not in present:
                kind = "INTEGER" if field.kind in (FieldKind.INT, FieldKind.BOOL) else "TEXT"
                db.execute(f'ALTER TABLE {table} ADD COLUMN "{field.name}" {kind}')


def open_store(path: Path, *, writing: bool = True, timeout: float | None = None) -> sqlite3.Connection:
    """Open the store at `path`, creating and migrating it as needed.

    Args:
        writing: the command will write (`run`, `confirm`): the store is created if missing, and a store
            or folder that cannot be written is refused now, before any work. Otherwise (`explain`,
            `runs`, `export`) nothing is created: no store yet is RunNotFound.
        timeout: seconds to wait for another recon writing the store (default: access.busy_timeout).

    Raises:
        InputError: the path cannot hold a store, the store is read-only or busy past the timeout, the
            file is not a recon store (it is left untouched), or a newer recon wrote it.
        RunNotFound: not writing, and there is no store yet.
    """
    wait = access.busy_timeout(timeout)
    access.preflight(path, writing)
    kind = access.inspect(path, wait)  # refuses another program's file before opening it for writing
    if kind == "new" and not writing:
        raise RunNotFound(f"no runs stored yet in {path}; run `recon run INVOICE SUBSCRIPTIONS` first")
    conn = access.connect(path, path, wait)
    try:
        if kind == "new":
            # Wide rows pack better in 16 KiB pages (a million-line save measured ~15% faster); this
            # only takes effect while the file is still empty.
            conn.execute("PRAGMA page_size = 16384")
        conn.execute("PRAGMA synchronous = NORMAL")
        _migrate(conn, path, writing)
    except sqlite3.DatabaseError as exc:
        conn.close()
        raise InputError(f"{path} is not a recon run store ({exc}); pass another --store or move the "
                         "file aside") from exc
    except BaseException:
        conn.close()
        raise
    return conn


def _migrate(conn: sqlite3.Connection, path: Path, writing: bool) -> None:
    """Apply the migrations not yet applied, mark the file as a recon store, add catalogue columns."""
    if _state(conn, path) == (APPLICATION_ID, len(MIGRATIONS), False):
        return  # up to date: no write lock taken, so reading never waits on another recon's save
    try:
        # One IMMEDIATE transaction: two recons creating the same store at once take turns, and the
        # second finds the work done when it reads the version again under the lock.
        with transaction(conn):
            _, version, _ = _state(conn, path)
            for number, step in enumerate(MIGRATIONS[version:], start=version + 1):
                step(conn)
                conn.execute(f"PRAGMA user_version = {number}")
            conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
            add_catalogue_columns(conn)
            _history_indexes(conn)
    except access.ReadOnlyStore:
        # A store made before the mark, or before a migration of its indexes only, can still be read where it
        # cannot be written, if nothing else is missing.
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if writing or not set(range(version + 1, len(MIGRATIONS) + 1)) <= INDEX_ONLY or _columns_missing(conn):
            raise


def _state(conn: sqlite3.Connection, path: Path) -> tuple[int, int, bool]:
    """(application_id, user_version, whether catalogue columns are missing); InputError if newer than us."""
    application_id = conn.execute("PRAGMA application_id").fetchone()[0]
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    if version > len(MIGRATIONS):
        raise InputError(f"{path}: the run store is at schema version {version}, this recon knows "
                         f"{len(MIGRATIONS)}; upgrade recon or pass another --store")
    if version < len(MIGRATIONS):
        return application_id, version, True
    return application_id, version, _columns_missing(conn)


def _columns_missing(conn: sqlite3.Connection) -> bool:
    """Whether a stored table lacks a column for a catalogue field (add_catalogue_columns adds them)."""
    columns = {table: {row[0] for row in conn.execute("SELECT name FROM pragma_table_info(?)", (table,))}
               for table in TABLES if table not in PACKED}
    return any(field.name not in columns[table] for table, fields in TABLES.items() if table not in PACKED
               for field in fields)


_last_micros = 0


def new_run_id() -> str:
    """A run id that sorts by creation time: UTC to the microsecond, `-`, 4 random hex digits."""
    global _last_micros
    # Strictly increasing within a process, so ids made in the same microsecond still sort.
    _last_micros = max(time.time_ns() // 1000, _last_micros + 1)
    stamp = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=_last_micros)
    return f"{stamp:%Y%m%dT%H%M%S%fZ}-{os.urandom(2).hex()}"  # not `secrets`: 12 ms to import


@contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[None]:
    """One write transaction, its lock taken up front.

    IMMEDIATE: a deferred BEGIN reads first and asks for the write lock later, when another writer
    may hold it; SQLite then fails at once ("database is locked") rather than wait. Taking it up front
    makes a second recon wait for the first (up to the busy timeout, then a clear InputError).
    """
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
        conn.execute("COMMIT")  # may wait too: readers finish before the file is written
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise


def quoted(fields: Iterable[str]) -> str:
    return ", ".join(f'"{name}"' for name in fields)  # quoted: `row` and `column` are SQL keywords


def rows(cursor: sqlite3.Cursor) -> list[dict[str, Any]]:
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor]


def find_run(conn: sqlite3.Connection, run_id: str | None) -> tuple[str, str | None, str, str, int]:
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


def load_summary(conn: sqlite3.Connection, run_id: str | None = None) -> RunSummary:
    """The summary of run `run_id`, or of the newest; RunNotFound if there is none."""
    from recon_cli.models import RunSummary

    return RunSummary.model_validate_json(find_run(conn, run_id)[3])


def save_summary(conn: sqlite3.Connection, summary: RunSummary) -> None:
    """Replace a stored run's summary (after a confirmation moved some of its lines)."""
    conn.execute("UPDATE runs SET summary_json = ?, needs_attention = ? WHERE run_id = ?",
                 (summary.model_dump_json(), summary.needs_attention, summary.run_id))
