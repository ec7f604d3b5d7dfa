"""Store faults (issue 11): a busy store, a read-only one, another program's SQLite file, a bad path."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import pickle
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from builders import month, seat, subscription
from recon_cli import store
from recon_cli.errors import ConfigError, ExitCode, InputError, RunNotFound
from recon_cli.result import ReconResult

ROOT = os.geteuid() == 0


def _snapshot(path: Path) -> tuple[str, int, list[str]]:
    """The file's bytes (hashed) and modification time, and what its folder holds."""
    return (hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_mtime_ns,
            sorted(os.listdir(path.parent)))


def _big_result(result: ReconResult, copies: int, run_id: str) -> ReconResult:
    """The tiny run's lines repeated `copies` times, each with its own row."""
    lines = pd.concat([result.lines] * copies, ignore_index=True)
    lines["row"] = pd.Series(range(2, len(lines) + 2), dtype="int64")
    lines["line_id"] = "G000123456-" + lines["row"].astype("str")
    summary = result.summary.model_copy(update={"run_id": run_id, "line_count": len(lines)})
    return dataclasses.replace(result, lines=lines, summary=summary)


def _holder(path: Path, begin: str) -> sqlite3.Connection:
    """Another connection holding the store's lock, as another recon's save does."""
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute(begin)
    if begin == "BEGIN EXCLUSIVE":
        holder.execute("INSERT INTO confirmations (subscription_id) VALUES ('held')")
    return holder


# --- busy ------------------------------------------------------------------------------------------


def test_busy_store_waits_then_names_the_store(tmp_path: Path, tiny_result: ReconResult) -> None:
    """A save waits for another writer up to the timeout, then says which store and why; later it lands."""
    path = tmp_path / "recon.db"
    store.open_store(path).close()
    holder = _holder(path, "BEGIN IMMEDIATE")
    conn = store.open_store(path, timeout=0.3)  # reading and opening do not wait on a writer
    started = time.monotonic()
    with pytest.raises(InputError) as caught:
        store.save_run(conn, tiny_result)
    waited = time.monotonic() - started
    assert 0.3 <= waited < 5
    assert str(caught.value) == (f"the run store {path} is busy: another recon is writing to it and did not "
                                 "finish within 0.3 s; try again when it is done, or pass another --store")
    assert caught.value.exit_code == ExitCode.BAD_INPUT
    assert not conn.in_transaction
    holder.execute("ROLLBACK")
    store.save_run(conn, tiny_result)
    assert [run.run_id for run in store.list_runs(conn)] == [tiny_result.summary.run_id]
    conn.close()


def test_busy_timeout_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """RECON_STORE_TIMEOUT sets the wait; a store locked for writing delays even a reader, then says so."""
    path = tmp_path / "recon.db"
    store.open_store(path).close()
    holder = _holder(path, "BEGIN EXCLUSIVE")
    monkeypatch.setenv("RECON_STORE_TIMEOUT", "0.2")
    with pytest.raises(InputError, match=r"is busy: .* within 0\.2 s"):
        store.open_store(path, writing=False)
    holder.execute("ROLLBACK")
    monkeypatch.setenv("RECON_STORE_TIMEOUT", "soon")
    with pytest.raises(ConfigError, match="RECON_STORE_TIMEOUT must be a number of seconds"):
        store.open_store(path)


_SAVER = """
import dataclasses, json, pickle, sys, time
from pathlib import Path
from recon_cli import store

path, result_file, run_id = Path(sys.argv[1]), sys.argv[2], sys.argv[3]
with open(result_file, "rb") as file:
    result = pickle.load(file)
result = dataclasses.replace(result, summary=result.summary.model_copy(update={"run_id": run_id}))
conn = store.open_store(path)
print("ready", flush=True)
sys.stdin.readline()
started = time.monotonic()
store.save_run(conn, result)
print(json.dumps([started, time.monotonic()]), flush=True)
"""


def test_two_recons_saving_at_once_both_land(tmp_path: Path, tiny_result: ReconResult) -> None:
    """Two processes create the same store and save a 20,000-line run into it at the same moment: both land.

    With the deferred BEGIN of before, the second failed at once with "database is locked" (3 runs in 3).
    """
    copies = 5_000
    result_file = tmp_path / "run.pickle"
    result_file.write_bytes(pickle.dumps(_big_result(tiny_result, copies, "x")))
    path = tmp_path / "shared" / "recon.db"
    ids = ["20261125T020000000000Z-aaaa", "20261125T020000000000Z-bbbb"]
    savers = [subprocess.Popen([sys.executable, "-c", _SAVER, str(path), str(result_file), run_id],
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
              for run_id in ids]
    try:
        for saver in savers:
            assert saver.stdout is not None and saver.stdout.readline().strip() == "ready"
        for saver in savers:  # both told at once: the second finds the first holding the lock
            assert saver.stdin is not None
            saver.stdin.write("go\n")
            saver.stdin.flush()
        outputs = [saver.communicate(timeout=120) for saver in savers]
    finally:
        for saver in savers:
            saver.kill()
    assert [saver.returncode for saver in savers] == [0, 0], [err for _, err in outputs]
    spans = sorted(json.loads(out) for out, _ in outputs)
    assert spans[1][0] < spans[0][1], "the saves did not overlap, so nothing was tested"
    conn = store.open_store(path, writing=False)
    assert sorted(run.run_id for run in store.list_runs(conn)) == ids
    per_run = conn.execute("SELECT id / 1000000000, count(*) FROM lines GROUP BY 1 ORDER BY 1").fetchall()
    assert per_run == [(1, 4 * copies), (2, 4 * copies)]
    conn.close()


# --- read-only -----------------------------------------------------------------------------------


def _without_root_powers() -> None:
    """In the child, before exec: drop root's power to ignore permission bits (from the bounding set, so
    the exec'd interpreter never regains it). Root then owns its files like any user: a mode of 0o444
    means read-only, with no mount and no other user needed."""
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    for capability in (1, 2, 3):  # CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER
        if libc.prctl(24, capability, 0, 0, 0) != 0:  # PR_CAPBSET_DROP
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP)")


def _unprivileged(code: str, *args: str) -> subprocess.CompletedProcess[str]:
    """Run Python `code` in a process that permission bits do stop (as root: without its override)."""
    env = {**os.environ, "RECON_HOME": "/nonexistent"}
    try:
        return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, env=env,
                              preexec_fn=_without_root_powers if ROOT else None, timeout=60, check=False)
    except subprocess.SubprocessError as exc:
        if "preexec_fn" not in str(exc):
            raise
        # No CAP_SETPCAP (a restricted container): root cannot give up its override, so nothing is read-only.
        pytest.skip(f"cannot run without root's permission override: {exc}")


_OPEN = """
import sys
from pathlib import Path
from recon_cli import store
from recon_cli.errors import ReconError
try:
    conn = store.open_store(Path(sys.argv[1]), writing=sys.argv[2] == "write")
    print("opened", len(store.list_runs(conn)))
except ReconError as exc:
    print(exc.exit_code, exc)
"""


def _read_only_store(folder: Path, tiny_result: ReconResult, file_mode: int, folder_mode: int) -> Path:
    """A store with the tiny run in `folder`, then the modes given to the file and the folder."""
    path = folder / "recon.db"
    conn = store.open_store(path)
    store.save_run(conn, tiny_result)
    conn.close()
    path.chmod(file_mode)
    folder.chmod(folder_mode)
    return path


def test_read_only_store_file(tmp_path: Path, tiny_result: ReconResult) -> None:
    """A store file that cannot be written: exit 2 at opening for a write; still readable; unchanged."""
    path = _read_only_store(tmp_path / "store", tiny_result, 0o444, 0o777)
    before = _snapshot(path)
    out = _unprivileged(_OPEN, str(path), "write")
    assert out.stdout.strip() == (f"2 the run store {path} is read-only; pass another --store, or --no-store "
                                  "to run without saving"), out.stderr
    assert _unprivileged(_OPEN, str(path), "read").stdout.strip() == "opened 1"
    assert _snapshot(path) == before


def test_read_only_store_folder(tmp_path: Path, tiny_result: ReconResult) -> None:
    """A writable store in a folder that is not: refused for writing (SQLite's journal goes there)."""
    path = _read_only_store(tmp_path / "store", tiny_result, 0o666, 0o555)
    try:
        out = _unprivileged(_OPEN, str(path), "write")
        assert out.stdout.strip() == (f"2 the run store {path} is read-only: its folder {path.parent} cannot be "
                                      "written (SQLite writes a journal beside the store); pass another --store, "
                                      "or --no-store to run without saving"), out.stderr
        assert _unprivileged(_OPEN, str(path), "read").stdout.strip() == "opened 1"
    finally:
        path.parent.chmod(0o755)


_RUN_WITHOUT_WORK = """
import sys
from recon_cli import pipeline
from recon_cli.cli import cli

def no_work(*args, **kwargs):
    raise AssertionError("the reconciliation started")

pipeline.reconcile = no_work
cli(sys.argv[1:], prog_name="recon")
"""


def test_run_on_a_read_only_store_stops_before_the_work(tmp_path: Path, tiny_result: ReconResult) -> None:
    """`recon run` with a read-only store: exit 2 and the message before reconciling, not 70 after it."""
    path = _read_only_store(tmp_path / "store", tiny_result, 0o444, 0o755)
    inputs = month(tmp_path, [seat("s1", 10)], [subscription("s1", 10)])
    out = _unprivileged(_RUN_WITHOUT_WORK, "run", str(inputs["invoice"]), str(inputs["subscriptions"]),
                        "--store", str(path), "--quiet")
    assert out.returncode == ExitCode.BAD_INPUT, out.stderr
    assert out.stderr.strip() == (f"Error: the run store {path} is read-only; pass another --store, or "
                                  "--no-store to run without saving")


@pytest.mark.skipif(not Path("/sys/kernel").is_dir(), reason="no sysfs: no folder here refuses even root")
def test_folder_nothing_can_be_created_in() -> None:
    """A store in /sys, where not even root can create a file, is refused for writing before any work."""
    with pytest.raises(InputError, match=r"the run store /sys/recon\.db is read-only: its folder /sys cannot"):
        store.open_store(Path("/sys/recon.db"))
    assert not Path("/sys/recon.db").exists()


# --- another program's file ----------------------------------------------------------------------


def _sqlite_file(*statements: str) -> Callable[[Path], None]:
    def make(path: Path) -> None:
        other = sqlite3.connect(path, isolation_level=None)
        for statement in statements:
            other.execute(statement)
        other.close()
    return make


FOREIGN: dict[str, Callable[[Path], None]] = {
    "tables": _sqlite_file("CREATE TABLE notes (body TEXT)", "INSERT INTO notes VALUES ('keep me')"),
    "recon-like tables": _sqlite_file(*(f"CREATE TABLE {name} (x)" for name in ("runs", "lines", "confirmations"))),
    "application id": _sqlite_file("PRAGMA application_id = 1297105496"),  # MBTiles' "MPBX"
    "user_version": _sqlite_file("PRAGMA user_version = 7"),
    "write-ahead log": _sqlite_file("PRAGMA journal_mode = WAL", "CREATE TABLE notes (body TEXT)"),
    "text": lambda path: path.write_text("hello, I am a CSV\n" * 100),
    "short": lambda path: path.write_bytes(b"SQLite format 3\x00"),
}


@pytest.mark.parametrize("kind", list(FOREIGN))
def test_another_programs_file_is_refused_and_untouched(tmp_path: Path, kind: str) -> None:
    """A file that is not a recon store: refused for reading and writing, its bytes, time and folder as they were."""
    path = tmp_path / "recon.db"
    FOREIGN[kind](path)
    os.utime(path, ns=(1_000_000_000, 1_000_000_000))  # a time a rewrite could not keep by chance
    before = _snapshot(path)
    for writing in (True, False):
        with pytest.raises(InputError, match=r"recon\.db is not a recon run store \(.+\); recon leaves it untouched"):
            store.open_store(path, writing=writing)
        assert _snapshot(path) == before


def test_cli_refuses_another_programs_file(tmp_path: Path) -> None:
    """`recon run` and `recon explain` on another program's SQLite file: exit 2, the file unchanged."""
    from click.testing import CliRunner

    from recon_cli.cli import cli

    path = tmp_path / "app" / "app.db"
    path.parent.mkdir()
    FOREIGN["tables"](path)
    before = _snapshot(path)
    inputs = month(tmp_path, [seat("s1", 10)], [subscription("s1", 10)])
    for args in (["run", str(inputs["invoice"]), str(inputs["subscriptions"]), "-q"], ["explain", "G1-2"]):
        result = CliRunner().invoke(cli, [*args, "--store", str(path)])
        assert result.exit_code == ExitCode.BAD_INPUT, result.output
        assert "is not a recon run store" in result.stderr and "Traceback" not in result.stderr
    assert _snapshot(path) == before


def test_empty_files_become_stores(tmp_path: Path) -> None:
    """A missing file, an empty one and an empty SQLite database become recon stores, marked as ours."""
    empty, blank = tmp_path / "empty.db", tmp_path / "blank.db"
    empty.touch()
    _sqlite_file("VACUUM")(blank)
    for path in (tmp_path / "new.db", empty, blank):
        conn = store.open_store(path)
        assert conn.execute("PRAGMA application_id").fetchone() == (store.APPLICATION_ID,)
        assert conn.execute("PRAGMA user_version").fetchone() == (len(store.MIGRATIONS),)
        conn.close()


def test_store_made_before_the_mark_is_marked(tmp_path: Path, tiny_result: ReconResult) -> None:
    """A recon store without the application id (made by an older recon) is recognised, marked and kept."""
    path = tmp_path / "recon.db"
    conn = store.open_store(path)
    store.save_run(conn, tiny_result)
    conn.execute("PRAGMA application_id = 0")
    conn.close()
    conn = store.open_store(path, writing=False)
    assert conn.execute("PRAGMA application_id").fetchone() == (store.APPLICATION_ID,)
    assert [run.run_id for run in store.list_runs(conn)] == [tiny_result.summary.run_id]
    conn.close()


# --- paths that cannot hold a store --------------------------------------------------------------


def test_folder_as_store(tmp_path: Path) -> None:
    """A folder given as the store: one line saying so and what to pass instead."""
    for writing in (True, False):
        with pytest.raises(InputError, match=f"the run store {tmp_path} is a folder; pass a file path such as "
                                             f"{tmp_path / 'recon.db'}$"):
            store.open_store(tmp_path, writing=writing)


def test_missing_parent(tmp_path: Path) -> None:
    """Writing creates the missing folders; reading says there are no runs yet and creates nothing."""
    path = tmp_path / "a" / "b" / "recon.db"
    with pytest.raises(RunNotFound, match=f"no runs stored yet in {path}; run `recon run"):
        store.open_store(path, writing=False)
    assert not (tmp_path / "a").exists()
    store.open_store(path).close()
    assert path.is_file()


@pytest.mark.parametrize("under", ["recon.db", "deeper/recon.db"])
def test_parent_is_a_file(tmp_path: Path, under: str) -> None:
    """A store under a file: exit 2 naming the file, for reading and writing alike; nothing created."""
    blocker = tmp_path / "notes.txt"
    blocker.write_text("a file, not a folder")
    for writing in (True, False):
        with pytest.raises(InputError, match=f"cannot be created: {blocker} is a file, not a folder") as caught:
            store.open_store(blocker / under, writing=writing)
        assert caught.value.exit_code == ExitCode.BAD_INPUT
    assert blocker.read_text() == "a file, not a folder"


def test_not_a_regular_file(tmp_path: Path) -> None:
    """A FIFO (or a device) as the store is refused rather than opened."""
    fifo = tmp_path / "pipe.db"
    os.mkfifo(fifo)
    with pytest.raises(InputError, match="is not a regular file"):
        store.open_store(fifo)


def test_reading_a_missing_or_empty_store_creates_nothing(tmp_path: Path) -> None:
    """The light commands' open: no store yet is RunNotFound, and no file, folder or table appears."""
    empty = tmp_path / "empty.db"
    empty.touch()
    for path in (tmp_path / "missing.db", empty):
        with pytest.raises(RunNotFound, match="no runs stored yet"):
            store.open_store(path, writing=False)
    assert os.listdir(tmp_path) == ["empty.db"]
    assert empty.stat().st_size == 0
    assert store.stored_confirmations(tmp_path / "missing.db") == []
    assert not (tmp_path / "missing.db").exists()


def test_stored_confirmations_only_read(tmp_path: Path, tiny_result: ReconResult) -> None:
    """A run that saves nothing still applies the store's confirmations, and leaves the store as it was."""
    path = tmp_path / "recon.db"
    conn = store.open_store(path)
    store.save_run(conn, tiny_result)
    store.confirm(conn, "cccc-3", note="agreed", by="ana")
    conn.close()
    before = _snapshot(path)
    assert [c.subscription_id for c in store.stored_confirmations(path)] == ["cccc-3"]
    assert _snapshot(path) == before


def test_no_store_saves_nothing_and_creates_nothing(tmp_path: Path) -> None:
    """`recon run --no-store` reconciles and reports, and no store file appears."""
    from click.testing import CliRunner

    from recon_cli.cli import cli

    paths = month(tmp_path, [seat("s1", 5)], [subscription("s1", 5)])
    outcome = CliRunner().invoke(cli, ["run", str(paths["invoice"]), str(paths["subscriptions"]), "--no-store",
                                       "--store", str(tmp_path / "recon.db")], catch_exceptions=False)
    assert outcome.exit_code == ExitCode.OK, outcome.output
    assert "not saved (--no-store)" in outcome.output
    assert not (tmp_path / "recon.db").exists()


def test_a_read_only_store_before_an_index_migration_is_still_read(tmp_path: Path, tiny_result: ReconResult) -> None:
    """A store saved before m007 and m008 (the subscriptions indexed by key first, and every one by run and
    flag) that cannot be written: reading it needs no new index, so `runs`, a subscription's history and the
    open exceptions answer from it as it is; saving is refused."""
    path = tmp_path / "store" / "recon.db"
    conn = store.open_store(path)
    store.save_run(conn, tiny_result)
    conn.execute("DROP INDEX subscriptions_by_run_key")
    conn.execute("CREATE INDEX subscriptions_by_key ON subscriptions (subscription_key, run_id)")
    conn.execute("DROP INDEX subscriptions_open")
    conn.execute("CREATE INDEX subscriptions_by_run ON subscriptions (run_id, needs_person)")
    conn.execute("PRAGMA user_version = 6")
    conn.commit()
    conn.close()
    before = _snapshot(path)
    path.chmod(0o444)
    read = """
import sys
from pathlib import Path
from recon_cli import store
from recon_cli.errors import ReconError
conn = store.open_store(Path(sys.argv[1]), writing=False)
print(len(store.list_runs(conn)), [row["status"] for row in store.subscription_history(conn, "AAAA-1")],
      sorted(store.open_exceptions(conn, store.list_runs(conn)[0].period)))
try:
    store.open_store(Path(sys.argv[1]))
except ReconError as exc:
    print(exc.exit_code, "read-only" in str(exc))
"""
    try:
        out = _unprivileged(read, str(path))
    finally:
        path.chmod(0o644)
    expected = ["1 ['matched'] ['cccc-3', 'dddd-4', 'eeee-5']", "2 True"]
    assert out.stdout.splitlines() == expected, out.stdout + out.stderr
    assert _snapshot(path) == before


def test_explain_reads_a_read_only_store(tmp_path: Path) -> None:
    """A store that cannot be written still answers `explain` and `runs` (they only read): run as a user
    without root's powers, as a read-only store looks in CI."""
    from click.testing import CliRunner

    from recon_cli.cli import cli

    paths = month(tmp_path, [seat("s1", 5)], [subscription("s1", 5)])
    db = tmp_path / "recon.db"
    CliRunner().invoke(cli, ["run", str(paths["invoice"]), str(paths["subscriptions"]), "--store", str(db)],
                       catch_exceptions=False)
    db.chmod(0o444)
    tmp_path.chmod(0o555)
    try:
        done = _unprivileged("""
import sys
from click.testing import CliRunner
from recon_cli.cli import cli
for args in (["explain", "G000000001-2"], ["runs"], ["confirm", "G000000001-2", "--note", "x"]):
    outcome = CliRunner().invoke(cli, [*args, "--store", sys.argv[1]])
    errors = [line for line in outcome.output.splitlines() if line.startswith("Error")]
    print(args[0], outcome.exit_code, errors[0] if errors else "")
""", str(db))
    finally:
        tmp_path.chmod(0o755)
        db.chmod(0o644)
    lines = done.stdout.splitlines()
    assert lines[0].startswith("explain 0") and lines[1].startswith("runs 0"), done.stdout + done.stderr
    assert lines[2].startswith("confirm 2") and "read-only" in lines[2]
