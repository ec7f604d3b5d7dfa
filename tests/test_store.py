"""The run store: migrations, save and lookups, confirmations, and the round trip of a run."""

from __future__ import annotations

import contextlib
import dataclasses
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from recon_cli import store
from recon_cli.errors import InputError, RunNotFound
from recon_cli.result import ReconResult
from recon_cli.store.schema import line_rows


def _with_run_id(result: ReconResult, run_id: str) -> ReconResult:
    summary = result.summary.model_copy(update={"run_id": run_id})
    return dataclasses.replace(result, summary=summary)


@pytest.fixture
def conn(tmp_path: Path) -> Iterator[sqlite3.Connection]:
    """An empty store in a fresh folder."""
    connection = store.open_store(tmp_path / "store" / "recon.db")
    yield connection
    connection.close()


@pytest.fixture
def saved(conn: sqlite3.Connection, tiny_result: ReconResult) -> sqlite3.Connection:
    """The store with the tiny run saved in it."""
    store.save_run(conn, tiny_result)
    return conn


def test_resolve_store_path(tmp_path: Path, recon_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """--store wins, then RECON_HOME, then recon.toml's [run] store, then the user's data folder."""
    assert store.resolve_store_path(tmp_path / "x.db") == tmp_path / "x.db"
    assert store.locate_store(None) == store.StoreLocation(recon_home / "recon.db", "RECON_HOME")
    monkeypatch.delenv("RECON_HOME")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    assert store.locate_store(None) == store.StoreLocation(tmp_path / "data" / "recon" / "recon.db", "default")
    (tmp_path / "recon.toml").write_text('[run]\nstore = "stores/team.db"\n')
    assert store.locate_store(None) == store.StoreLocation(Path("stores/team.db"), "recon.toml")
    (tmp_path / "recon.toml").unlink()
    (tmp_path / ".recon").mkdir()
    (tmp_path / ".recon" / "recon.db").write_bytes(b"")
    note = store.locate_store(None).note()
    assert note is not None and "--store .recon/recon.db" in note


def test_migrates_from_empty(conn: sqlite3.Connection) -> None:
    """A new store gets every migration, and user_version counts them."""
    assert conn.execute("PRAGMA user_version").fetchone()[0] == len(store.MIGRATIONS)
    tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"runs", "lines", "evidence", "missing", "rejects", "confirmations"} <= tables


def test_reopening_applies_nothing_new(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Opening an up-to-date store runs no migration."""
    path = tmp_path / "recon.db"
    store.open_store(path).close()
    ran: list[str] = []
    monkeypatch.setattr(store.schema, "MIGRATIONS", [lambda db: ran.append("again")] * len(store.MIGRATIONS))
    conn = store.open_store(path)
    assert ran == []
    assert conn.execute("PRAGMA user_version").fetchone()[0] == len(store.MIGRATIONS)
    conn.close()


def test_not_a_database(tmp_path: Path) -> None:
    """A file that is not SQLite is an input error naming the file."""
    path = tmp_path / "recon.db"
    path.write_text("hello, I am a CSV\n" * 100)
    with pytest.raises(InputError, match=r"recon\.db is not a recon run store"):
        store.open_store(path)


def test_newer_store(tmp_path: Path) -> None:
    """A store written by a newer recon is refused rather than misread."""
    path = tmp_path / "recon.db"
    newer = sqlite3.connect(path)
    newer.execute(f"PRAGMA application_id = {store.APPLICATION_ID}")  # a recon store: it carries the mark
    newer.execute(f"PRAGMA user_version = {len(store.MIGRATIONS) + 1}")
    newer.close()
    with pytest.raises(InputError, match="upgrade recon"):
        store.open_store(path)


def test_run_ids_sort_by_time() -> None:
    """Ids made one after another sort in the order they were made."""
    ids = [store.new_run_id() for _ in range(200)]
    assert ids == sorted(ids)
    assert len(set(ids)) == len(ids)
    assert len(ids[0]) == len("20261125T021503123456Z-3fa2")


def test_save_then_list_and_load_summary(saved: sqlite3.Connection, tiny_result: ReconResult) -> None:
    """A saved run is listed, newest first, and its summary comes back whole."""
    later = _with_run_id(tiny_result, store.new_run_id())
    store.save_run(saved, later)
    runs = store.list_runs(saved)
    assert [r.run_id for r in runs] == [later.summary.run_id, tiny_result.summary.run_id]
    assert store.load_summary(saved) == later.summary
    assert store.load_summary(saved, tiny_result.summary.run_id) == tiny_result.summary


def test_no_runs_yet(conn: sqlite3.Connection) -> None:
    """An empty store says how to make a run; an unknown run id says how to list them."""
    with pytest.raises(RunNotFound, match="no runs stored yet"):
        store.load_summary(conn)
    with pytest.raises(RunNotFound, match="`recon runs` lists them"):
        store.load_summary(conn, "20990101T000000000000Z-0000")


def test_stored_types(saved: sqlite3.Connection) -> None:
    """Money is the exact decimal as text, rows are integers, and a missing value is NULL."""
    [line] = [line for line in line_rows(saved, "1") if line["line_id"] == "G000123456-5"]
    row = tuple(line[name] for name in ("subtotal", "row", "matched_subscription_id", "residual", "evidence"))
    assert row == ("-15.00", 5, None, None, "")


def test_a_line_is_one_packed_record_and_text_survives_it(tmp_path: Path) -> None:
    """A stored line is (id, sub_key, record): ~60 fields in one bound value. Text holding the
    separators, the null mark or backslashes comes back exactly, and None stays distinct from ""."""
    from recon_cli.records import LINES
    from recon_cli.store.packing import pack, pack_columns, unpack

    fields = {f.name: f for f in LINES}
    layout = ("line_id", "explanation", "customer_name", "row", "needs_person", "subtotal")
    tricky = ["a\x1fb", "\x1e", "back\\slash\\1", "", None, "\\0\x1f\x1e\\"]
    for text in tricky:
        values = ["G1-2", text, "x", "7", "1", "-5.00"]
        [record] = pack_columns([[v] for v in values])
        assert record == pack(values)
        assert unpack(record, layout, fields) | {} == {**dict.fromkeys(fields), "line_id": "G1-2", "explanation": text,
                                                     "customer_name": "x", "row": 7, "needs_person": 1,
                                                     "subtotal": "-5.00"}


def test_explain_by_line_id(saved: sqlite3.Connection) -> None:
    """A line id finds its line and the evidence records it names."""
    found = store.find_explanation(saved, "g000123456-3")
    assert found.matched_by == "line_id"
    assert [line["line_id"] for line in found.lines] == ["G000123456-3"]
    assert found.lines[0]["row"] == 3
    assert found.lines[0]["quantity_delta"] == "-2"
    assert [e.change_id for e in found.evidence] == ["LCL-1001"]
    assert found.evidence[0].initiated_by == "jane@reseller.com"
    assert found.period == "2026-10"


def test_explain_by_subscription_id_any_case(saved: sqlite3.Connection) -> None:
    """A subscription id matches whatever its case, with the same evidence."""
    found = store.find_explanation(saved, "BBBB-2")
    assert found.matched_by == "subscription_id"
    assert [line["line_id"] for line in found.lines] == ["G000123456-3"]
    assert [e.change_id for e in found.evidence] == ["LCL-1001"]
    assert found.missing is None and found.confirmation is None


def test_explain_missing_subscription(saved: sqlite3.Connection) -> None:
    """A subscription absent from the invoice answers with its missing entry."""
    found = store.find_explanation(saved, "EEEE-5")
    assert found.lines == []
    assert found.missing is not None
    assert found.missing["reason"] == "not_on_invoice"
    assert (found.missing["expected_cost"], found.missing["expected_price"]) == ("32.00", "38.40")


def test_explain_unknown_id(saved: sqlite3.Connection) -> None:
    """An id that is neither a line nor a subscription is RunNotFound."""
    with pytest.raises(RunNotFound, match="no line, subscription or customer 'nope'"):
        store.find_explanation(saved, "nope")


def test_lookups_use_indexes(saved: sqlite3.Connection) -> None:
    """Explain's lookups (a line, a subscription with its lines, a customer by id, name or part of it) search
    indexes, never scan the lines, subscriptions or customers of a million-line run."""
    line_id = line_rows(saved, "1")[0]["line_id"]
    statements: list[str] = []
    saved.set_trace_callback(statements.append)  # each statement as run, its values written in
    for query in (line_id, "AAAA-1", "cust-1", "Northwind", "orthwi"):
        with contextlib.suppress(InputError):  # "cust-1" names several customers: found, then refused
            store.find_explanation(saved, query)
    saved.set_trace_callback(None)
    selects = [sql for sql in statements if sql.lstrip().upper().startswith("SELECT")]
    assert any("FROM customers" in sql for sql in selects) and any("line_keys" in sql for sql in selects)
    for sql in selects:
        plan = [row[3] for row in saved.execute(f"EXPLAIN QUERY PLAN {sql}")]
        assert not any(step.startswith("SCAN") and any(f" {table}" in step for table in (
            "lines", "subscriptions", "customers", "evidence", "missing")) for step in plan), (sql, plan)


def test_fallback_match_is_found_by_the_invoice_id(tmp_path: Path, tiny_result: ReconResult) -> None:
    """A line matched on customer + product is found by the invoice's own subscription id too."""
    lines = tiny_result.lines.copy()
    lines.loc[0, ["subscription_id", "matched_subscription_id", "match_method"]] = [
        "NEW-ID", "aaaa-1", "customer_product"]
    conn = store.open_store(tmp_path / "fallback.db")
    store.save_run(conn, dataclasses.replace(tiny_result, lines=lines))
    assert [line["line_id"] for line in store.find_explanation(conn, "new-id").lines] == ["G000123456-2"]
    assert [line["line_id"] for line in store.find_explanation(conn, "AAAA-1").lines] == ["G000123456-2"]


def test_confirm_then_unconfirm(saved: sqlite3.Connection, tiny_result: ReconResult) -> None:
    """Confirming changes the lines and counts; unconfirming restores both exactly."""
    before = store.find_explanation(saved, "cccc-3").lines[0]
    confirmation = store.confirm(saved, "G000123456-4", note="customer agreed", by="ana")
    assert (confirmation.subscription_id, confirmation.line_id) == ("cccc-3", "G000123456-4")
    assert (confirmation.provider_quantity, confirmation.subscription_quantity) == ("5", "4")
    line = store.find_explanation(saved, "CCCC-3").lines[0]
    assert (line["status"], line["reason"], line["money_at_risk"]) == ("confirmed", "confirmed", "0")
    assert str(line["explanation"]).endswith(": customer agreed.")
    assert "Confirmed by ana on " in str(line["explanation"])
    summary = store.load_summary(saved)
    assert summary.status_counts == {"confirmed": 1, "explained": 1, "matched": 1, "unmatched": 1}
    assert summary.subtotal_by_status["USD"]["confirmed"] == "150.00"
    assert summary.needs_attention == 2
    # The 30.00 under-billed on cccc-3 is accepted; the credit on dddd-4 puts nothing at risk (v2 rule 10).
    assert (summary.money_at_risk, summary.under_billed) == ({}, {})
    assert store.load_confirmations(saved) == [confirmation]
    assert store.find_explanation(saved, "G000123456-4").confirmation == confirmation

    assert store.unconfirm(saved, "CCCC-3") == confirmation
    assert store.find_explanation(saved, "cccc-3").lines[0] == before
    assert store.load_summary(saved) == tiny_result.summary
    assert store.load_confirmations(saved) == []
    with pytest.raises(RunNotFound, match="nothing is confirmed"):
        store.unconfirm(saved, "cccc-3")


def test_reconfirm_replaces_the_note(saved: sqlite3.Connection, tiny_result: ReconResult) -> None:
    """A second confirmation replaces the first and still unconfirms to the original."""
    store.confirm(saved, "cccc-3", note="first", by="ana")
    second = store.confirm(saved, "cccc-3", note="second", by="bo")
    assert store.load_confirmations(saved) == [second]
    explanation = str(store.find_explanation(saved, "cccc-3").lines[0]["explanation"])
    assert "first" not in explanation and explanation.endswith("Confirmed by bo on "
                                                               f"{second.confirmed_at[:10]}: second.")
    assert store.load_summary(saved).status_counts["confirmed"] == 1
    store.unconfirm(saved, "cccc-3")
    assert store.load_summary(saved) == tiny_result.summary


def test_confirm_unmatched_keys_on_invoice_subscription(saved: sqlite3.Connection) -> None:
    """An unmatched line is confirmed under the invoice's own subscription id."""
    confirmation = store.confirm(saved, "G000123456-5", note="internal tenant", by="ana")
    assert confirmation.subscription_id == "dddd-4"
    summary = store.load_summary(saved)
    assert "unmatched" not in summary.status_counts
    assert "unmatched" not in summary.subtotal_by_status["USD"]
    # v2 rule 9: accepting an unmatched line does not change what it is worth: the credit stays unclaimed.
    assert (summary.money_at_risk, summary.unclaimed_credit) == ({"USD": "30.00"}, {"USD": "15.00"})


def test_confirm_missing_subscription(saved: sqlite3.Connection) -> None:
    """A missing subscription can be confirmed: listed as confirmed, needing no person; unconfirm undoes it."""
    before = store.load_summary(saved).needs_attention
    confirmation = store.confirm(saved, "eeee-5", note="billed elsewhere", by="ana")
    assert (confirmation.provider_quantity, confirmation.subscription_quantity) == (None, "8")
    missing = store.find_explanation(saved, "eeee-5").missing
    assert missing is not None and missing["reason"] == "confirmed"
    assert str(missing["explanation"]).endswith("Confirmed by ana on " + confirmation.confirmed_at[:10]
                                                + ": billed elsewhere.")
    assert store.load_summary(saved).needs_attention == before - 1
    store.unconfirm(saved, "eeee-5")
    missing = store.find_explanation(saved, "eeee-5").missing
    assert missing is not None and missing["reason"] == "not_on_invoice"
    assert "Confirmed" not in str(missing["explanation"])
    assert store.load_summary(saved).needs_attention == before
    assert store.load_confirmations(saved) == []


def test_unconfirm_outside_the_run(saved: sqlite3.Connection, tiny_result: ReconResult) -> None:
    """A confirmation can be withdrawn from a run that does not show the subscription."""
    confirmation = store.confirm(saved, "cccc-3", note="ok", by="ana")
    other = tiny_result.lines[tiny_result.lines["subscription_id"] != "cccc-3"]
    store.save_run(saved, dataclasses.replace(_with_run_id(tiny_result, store.new_run_id()), lines=other))
    with pytest.raises(RunNotFound):
        store.find_explanation(saved, "cccc-3")
    assert store.unconfirm(saved, "CCCC-3") == confirmation
    assert store.load_confirmations(saved) == []


def test_confirm_unknown_id(saved: sqlite3.Connection) -> None:
    """Confirming an id the run does not know is RunNotFound, and records nothing."""
    with pytest.raises(RunNotFound):
        store.confirm(saved, "nope", note="x", by="ana")
    assert store.load_confirmations(saved) == []


def test_load_result_round_trip(saved: sqlite3.Connection, tiny_result: ReconResult) -> None:
    """The frames come back as saved: exact Decimals, lists of change ids, integer rows."""
    loaded = store.load_result(saved)
    assert loaded.summary == tiny_result.summary
    assert loaded.invoice_raw is None
    for name in ("lines", "missing", "evidence", "rejects"):
        pd.testing.assert_frame_equal(getattr(loaded, name), getattr(tiny_result, name), obj=name)
    credit = loaded.lines["subtotal"].iloc[3]
    assert isinstance(credit, Decimal) and str(credit) == "-15.00"
    assert loaded.lines["evidence"].iloc[1] == ["LCL-1001"]


def test_save_is_one_transaction(conn: sqlite3.Connection, tiny_result: ReconResult) -> None:
    """A save that fails part-way leaves nothing behind."""
    broken = dataclasses.replace(tiny_result, rejects=tiny_result.rejects.drop(columns="message"))
    with pytest.raises(KeyError):
        store.save_run(conn, broken)
    assert store.list_runs(conn) == []
    assert conn.execute("SELECT count(*) FROM lines").fetchone() == (0,)


def test_lines_packed_ahead_are_saved_in_order(conn: sqlite3.Connection, tiny_result: ReconResult,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """One line per slice: the packing thread runs ahead of the inserts, and every line lands once, in order."""
    from recon_cli.store import runs

    monkeypatch.setattr(runs, "_LINES_CHUNK", 1)
    store.save_run(conn, tiny_result)
    loaded = store.load_result(conn)
    assert len(tiny_result.lines) > runs._PACKED_AHEAD + 1
    pd.testing.assert_frame_equal(loaded.lines, tiny_result.lines)


@pytest.mark.parametrize("failing", ["_packed_slice", "_insert_lines"])
def test_a_slice_failing_saves_nothing_and_leaves_no_thread(conn: sqlite3.Connection, tiny_result: ReconResult,
                                                            monkeypatch: pytest.MonkeyPatch, failing: str) -> None:
    """A slice that cannot be packed (on the packing thread) or inserted (on this one) fails the save: its error
    reaches the caller, nothing of the run is saved, and the packing thread is gone."""
    import threading

    from recon_cli.store import runs

    monkeypatch.setattr(runs, "_LINES_CHUNK", 1)
    original = getattr(runs, failing)
    calls: list[int] = []

    def third_fails(*args: object) -> object:
        calls.append(1)
        if len(calls) == 3:
            raise sqlite3.OperationalError("database or disk is full")
        return original(*args)

    monkeypatch.setattr(runs, failing, third_fails)
    with pytest.raises(sqlite3.OperationalError, match="disk is full"):
        store.save_run(conn, tiny_result)
    assert store.list_runs(conn) == []
    assert conn.execute("SELECT count(*) FROM lines").fetchone() == (0,)
    assert not [t for t in threading.enumerate() if t.name.startswith("recon-save")]


def test_carried_over_confirmation(conn: sqlite3.Connection, tiny_result: ReconResult) -> None:
    """A line saved already confirmed unconfirms to its original when given, else to needing a person."""
    lines = tiny_result.lines.copy()
    lines.loc[2, ["status", "reason"]] = ["confirmed", "confirmed"]
    lines.loc[3, ["status", "reason"]] = ["confirmed", "confirmed"]
    lines["original_status"] = [None, None, "partially_explained", None]
    counts = {"confirmed": 2, "explained": 1, "matched": 1}
    summary = tiny_result.summary.model_copy(update={"status_counts": counts, "needs_attention": 1})
    store.save_run(conn, dataclasses.replace(tiny_result, lines=lines, summary=summary))
    store.confirm(conn, "cccc-3", note="ok", by="ana")
    store.confirm(conn, "dddd-4", note="ok", by="ana")
    assert store.load_summary(conn).status_counts == counts
    store.unconfirm(conn, "cccc-3")
    store.unconfirm(conn, "dddd-4")
    statuses = [line["status"] for q in ("cccc-3", "dddd-4") for line in store.find_explanation(conn, q).lines]
    assert statuses == ["partially_explained", "unmatched"]
    assert store.load_summary(conn).needs_attention == 3


def test_explain_leaves_pandas_out(saved: sqlite3.Connection) -> None:
    """Importing the store and answering `explain` never import pandas (or pyarrow)."""
    path = saved.execute("PRAGMA database_list").fetchone()[2]
    code = ("import sys; from pathlib import Path; from recon_cli import store; "
            "store.find_explanation(store.open_store(Path(sys.argv[1])), 'bbbb-2'); "
            "print(sorted({'pandas', 'pyarrow'} & set(sys.modules)))")
    out = subprocess.run([sys.executable, "-c", code, path], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_a_field_written_into_an_older_layout_extends_it(saved: sqlite3.Connection) -> None:
    """A run packed without a field (saved before it existed) takes it when a confirmation writes it:
    the layout grows at its end, and the run's other records, packed shorter, read it as None."""
    from recon_cli.store.packing import SEPARATOR, layout_of

    seq = saved.execute("SELECT seq FROM runs").fetchone()[0]
    full = list(layout_of(saved, seq))
    gone = full.index("original_status")
    for key, record in saved.execute("SELECT id, record FROM lines").fetchall():  # as an older recon packed it
        parts = record.split(SEPARATOR)
        shorter = SEPARATOR.join(parts[:gone] + parts[gone + 1:])
        saved.execute("UPDATE lines SET record = ? WHERE id = ?", (shorter, key))
    saved.execute("UPDATE line_layouts SET fields = ? WHERE seq = ?", (",".join(full[:gone] + full[gone + 1:]), seq))
    before = {line["line_id"]: line for line in line_rows(saved, "1")}
    [target] = [i for i, line in before.items() if line["needs_person"]][:1]
    store.confirm(saved, target, note="ok", by="jane")
    after = {line["line_id"]: line for line in line_rows(saved, "1")}
    assert layout_of(saved, seq)[-1] == "original_status"
    assert after[target]["status"] == "confirmed"
    assert after[target]["original_status"] == before[target]["status"] != "confirmed"
    others = [i for i in before if after[i]["status"] == before[i]["status"]]
    assert others and all(after[i]["original_status"] is None and after[i]["line_id"] == i for i in others)


def test_the_migration_packs_in_sql_exactly_as_python_does() -> None:
    """m005 packs stored runs with `sql_pack`: the same record as `pack`, tricky text and NULLs included."""
    from recon_cli.store.packing import pack, sql_pack

    rows = [("a\x1fb", None, 3), ("\\1\x1e\\", "", 0), ("plain", "x\\0", None)]
    db = sqlite3.connect(":memory:")
    db.execute('CREATE TABLE lines (t TEXT, u TEXT, "row" INTEGER)')
    db.executemany("INSERT INTO lines VALUES (?, ?, ?)", rows)
    packed = [record for (record,) in db.execute(f'SELECT {sql_pack(["t", "u", "row"])} FROM lines ORDER BY rowid')]
    assert packed == [pack(list(row)) for row in rows]


_PACKED_TEXT = st.one_of(st.none(), st.text(alphabet=st.sampled_from("ab,0\\\x1e\x1f é"), max_size=6))


@given(st.lists(st.tuples(st.lists(_PACKED_TEXT, min_size=4, max_size=4), st.integers(0, 4)), max_size=30))
@example([(["\\1", "\x1f\\", None, "\x1e"], 4), (["", "\\\\0", "a,b", "é"], 2), ([None] * 4, 0)])
def test_unpack_columns_reads_records_as_unpack_does(rows: list[tuple[list[str | None], int]]) -> None:
    """Column-wise unpacking (`recon export`) gives each record's values as `unpack` does one by one: escapes
    undone, NULL as None, and None for the fields a record packed before its layout grew does not hold."""
    from recon_cli.store.packing import pack, unpack, unpack_columns

    layout = ("a", "b", "c", "d")
    records = [pack(values[:kept]) for values, kept in rows]
    records = [record for record, (_, kept) in zip(records, rows, strict=True) if kept]  # none packs no field
    columns = unpack_columns(records, layout)
    assert [{name: columns[name][i].as_py() for name in layout} for i in range(len(records))] == [
        {name: unpack(record, layout, {}).get(name) for name in layout} for record in records]


@given(st.lists(st.lists(_PACKED_TEXT, min_size=5, max_size=5), min_size=1, max_size=12),
       st.lists(st.booleans(), min_size=5, max_size=5))
@example([["a", None, None, "\x1e", None]], [False, True, True, False, True])
@example([[None] * 5, [None] * 5], [True] * 5)
def test_pack_columns_of_wholly_null_columns_packs_as_pack_does(rows: list[list[str | None]],
                                                               absent: list[bool]) -> None:
    """A column the frame lacks is passed as None (null in every line): the records are byte for byte what
    `pack` makes of each line with those fields None, wherever such columns fall (first, last, side by
    side, or all of them)."""
    from recon_cli.store.packing import pack, pack_columns

    rows = [[None if gone else value for value, gone in zip(row, absent, strict=True)] for row in rows]
    columns = [None if gone else [row[j] for row in rows] for j, gone in enumerate(absent)]
    assert pack_columns(columns, len(rows)) == [pack(row) for row in rows]


def test_m006_lists_the_customers_and_keeps_finding_the_lines_of_stored_runs(tmp_path: Path,
                                                                             tiny_result: ReconResult) -> None:
    """A store saved before m006 (lines indexed by subscription, text indexes on the subscriptions'
    customer, no `customers`): opening it lists each run's customers as a save would, and `explain` finds
    the same lines, subscriptions and customers as it does on a run saved since."""
    from recon_cli.store.lookup import find
    from recon_cli.store.packing import unpack_list
    from recon_cli.store.schema import subscription_lines

    path = tmp_path / "recon.db"
    fresh = store.open_store(path)
    store.save_run(fresh, tiny_result)
    run_id, seq = fresh.execute("SELECT run_id, seq FROM runs").fetchone()

    def customers(conn: sqlite3.Connection) -> list[tuple[object, ...]]:
        return sorted((r[0], r[1], r[2], tuple(sorted(map(str, unpack_list(r[3]))))) for r in conn.execute(
            "SELECT run_id, customer_id, customer_name, subscription_keys FROM customers"))

    keys = [key for (key,) in fresh.execute("SELECT DISTINCT subscription_key FROM subscriptions")]
    expected = ({key: [line["rowid"] for line in subscription_lines(fresh, run_id, seq, key)] for key in keys},
                customers(fresh), store.customer_subscriptions(fresh, run_id, "NORTHWIND"),
                [find(fresh, run_id, seq, line["line_id"], whole=True)[2] for line in line_rows(fresh, "1")])
    assert any(expected[0].values()) and expected[2]
    # Back to version 5, as an older recon saved the run.
    for line in line_rows(fresh, "1"):
        old_key = (line["matched_subscription_id"] or line["subscription_id"] or "").strip().lower()
        fresh.execute("UPDATE lines SET sub_key = ? WHERE id = ?", (old_key, line["rowid"]))
    fresh.execute("ALTER TABLE subscriptions DROP COLUMN line_keys")
    fresh.execute("DROP TABLE customers")
    fresh.execute("DROP INDEX lines_by_subscription")
    fresh.execute("CREATE INDEX lines_by_subscription ON lines (sub_key)")
    fresh.execute("CREATE INDEX subscriptions_by_customer_id ON subscriptions (customer_id COLLATE NOCASE, run_id)")
    fresh.execute("PRAGMA user_version = 5")
    fresh.commit()
    fresh.close()
    migrated = store.open_store(path)
    assert migrated.execute("PRAGMA user_version").fetchone()[0] == len(store.MIGRATIONS)
    indexes = {row[0] for row in migrated.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
    assert "subscriptions_by_customer_id" not in indexes and "customers_by_name" in indexes
    plan = " ".join(str(row) for row in migrated.execute(
        "EXPLAIN QUERY PLAN SELECT id FROM lines WHERE sub_key = ? AND sub_key <> '' AND id BETWEEN ? AND ?",
        ("x", 0, 1)))
    assert "lines_by_subscription" in plan  # the old run's lines are still found through their index
    assert ({key: [line["rowid"] for line in subscription_lines(migrated, run_id, seq, key)] for key in keys},
            customers(migrated), store.customer_subscriptions(migrated, run_id, "NORTHWIND"),
            [find(migrated, run_id, seq, line["line_id"], whole=True)[2] for line in line_rows(migrated, "1")]
            ) == expected
    # A run saved after the migration: its lines carry no sub_key, its subscriptions list them.
    store.save_run(migrated, _with_run_id(tiny_result, "second"))
    second = migrated.execute("SELECT seq FROM runs WHERE run_id = 'second'").fetchone()[0]
    assert {key: [line["rowid"] % store.schema.LINE_KEY_SPAN for line in subscription_lines(
        migrated, "second", second, key)] for key in keys} == {
        key: [rowid % store.schema.LINE_KEY_SPAN for rowid in ids] for key, ids in expected[0].items()}
    store.prune_runs(migrated, keep=1)
    assert {row[0] for row in migrated.execute("SELECT run_id FROM customers")} == {"second"}
    migrated.close()


def test_m007_leads_the_subscriptions_index_with_the_run(tmp_path: Path, tiny_result: ReconResult) -> None:
    """A store whose subscriptions were indexed by key first (before m007): opening it indexes them by run
    first, and a subscription's history across runs is the same, newest first, found by searching each run."""
    path = tmp_path / "recon.db"
    fresh = store.open_store(path)
    for run_id in ("first", "second", "third"):
        store.save_run(fresh, _with_run_id(tiny_result, run_id))
    keys = [key for (key,) in fresh.execute("SELECT DISTINCT subscription_key FROM subscriptions")]
    expected = {key: store.subscription_history(fresh, key) for key in keys}
    assert [row["run_id"] for row in expected["aaaa-1"]] == ["third", "second", "first"]
    assert [row["run_id"] for row in store.subscription_history(fresh, "AAAA-1", limit=2)] == ["third", "second"]
    _index_subscriptions_as_before_m008(fresh)
    fresh.execute("DROP INDEX subscriptions_by_run_key")
    fresh.execute("CREATE INDEX subscriptions_by_key ON subscriptions (subscription_key, run_id)")
    fresh.execute("PRAGMA user_version = 6")
    fresh.commit()
    fresh.close()
    migrated = store.open_store(path)
    indexes = {row[0] for row in migrated.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
    assert "subscriptions_by_key" not in indexes and "subscriptions_by_run_key" in indexes
    assert {key: store.subscription_history(migrated, key) for key in keys} == expected
    statements: list[str] = []
    migrated.set_trace_callback(statements.append)
    store.subscription_history(migrated, "aaaa-1")
    migrated.set_trace_callback(None)
    plan = [row[3] for row in migrated.execute(f"EXPLAIN QUERY PLAN {statements[0]}")]
    assert any(step.startswith("SEARCH s USING INDEX subscriptions_by_run_key") for step in plan), plan
    assert not any(step.startswith("SCAN s") for step in plan), plan
    migrated.close()


def _index_subscriptions_as_before_m008(conn: sqlite3.Connection) -> None:
    """The subscriptions needing a person indexed as before m008: every row, by run and flag."""
    conn.execute("DROP INDEX subscriptions_open")
    conn.execute("CREATE INDEX subscriptions_by_run ON subscriptions (run_id, needs_person)")


def test_m008_indexes_only_the_subscriptions_needing_a_person(tmp_path: Path, tiny_result: ReconResult) -> None:
    """A store whose subscriptions were all indexed by run and flag (before m008): opening it keeps a partial
    index of those needing a person, which the open exceptions and `recon diff` are read through; a
    confirmation takes its subscription out of that index and an unconfirmation puts it back."""
    path = tmp_path / "recon.db"
    fresh = store.open_store(path)
    for run_id, period in (("first", "2026-10"), ("second", "2026-11")):
        store.save_run(fresh, _with_run_id(dataclasses.replace(
            tiny_result, summary=tiny_result.summary.model_copy(update={"period": period})), run_id))
    expected = store.open_exceptions(fresh, "2026-11"), store.compare_runs(fresh, "first", "second")
    assert set(expected[0]) == {"cccc-3", "dddd-4", "eeee-5"}
    _index_subscriptions_as_before_m008(fresh)
    fresh.execute("PRAGMA user_version = 7")
    fresh.commit()
    fresh.close()
    migrated = store.open_store(path)
    indexes = {row[0]: row[1] for row in migrated.execute("SELECT name, sql FROM sqlite_master WHERE type = 'index'")}
    assert "subscriptions_by_run" not in indexes and "WHERE needs_person = 1" in indexes["subscriptions_open"]
    assert (store.open_exceptions(migrated, "2026-11"), store.compare_runs(migrated, "first", "second")) == expected
    statements: list[str] = []
    migrated.set_trace_callback(statements.append)
    store.open_exceptions(migrated, "2026-11")
    store.compare_runs(migrated, "first", "second")
    migrated.set_trace_callback(None)
    flagged = [sql for sql in statements if "needs_person = 1" in sql and sql.lstrip().startswith("SELECT")]
    assert flagged
    for sql in flagged:
        plan = [row[3] for row in migrated.execute(f"EXPLAIN QUERY PLAN {sql}")]
        assert plan == ["SEARCH subscriptions USING INDEX subscriptions_open (run_id=?)"], (sql, plan)
    store.confirm(migrated, "cccc-3", note="agreed", by="ana")
    assert set(store.open_exceptions(migrated, "2026-11")) == {"dddd-4", "eeee-5"}
    store.unconfirm(migrated, "cccc-3")
    assert store.open_exceptions(migrated, "2026-11") == expected[0]
    # What the dropped index also served, a run's rows (`recon export`, pruning), the key index leading with
    # the run serves now: searched, never scanned.
    statements.clear()
    migrated.set_trace_callback(statements.append)
    store.load_result(migrated)
    assert store.prune_runs(migrated, keep=1) == ["first"]
    migrated.set_trace_callback(None)
    touching = [sql for sql in statements if "subscriptions" in sql and sql.lstrip().startswith(("SELECT", "DELETE"))]
    assert any(sql.lstrip().startswith("DELETE") for sql in touching)
    for sql in touching:
        plan = [row[3] for row in migrated.execute(f"EXPLAIN QUERY PLAN {sql}")]
        assert not any(step.startswith("SCAN subscriptions") for step in plan), (sql, plan)
    migrated.close()


def test_amounts_are_stored_with_their_own_digits() -> None:
    """0 and 0.00 are equal Decimals but read differently: each is stored as the run wrote it (an
    earlier save turned each distinct value into text once, and stored "0.00" for both)."""
    from recon_cli.store.runs import _sql_values
    from recon_cli.store.schema import TABLES

    field = next(f for f in TABLES["subscriptions"] if f.name == "money_at_risk")
    column = pd.Series([Decimal("0.00"), Decimal("0"), None, Decimal("NaN"), Decimal("7.2E+2"), Decimal("0")],
                       dtype=object)
    assert _sql_values(column, field) == ["0.00", "0", None, None, "7.2E+2", "0"]
