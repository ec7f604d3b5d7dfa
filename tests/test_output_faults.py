"""Outputs never harm (PRODUCT.md §4, issue 11): devices, links, folders, faults, signals, hostile text.

Each test names the finding of issue 11 it guards: `--csv /dev/full` replaced the device with a file
when run as root, a symlinked output was replaced by a file, an unwritable folder failed after the
whole run with exit 70, SIGTERM left temporary files, Ctrl-C during the last output left a mix of
old and new files, escape sequences in names reached the terminal, provider formulas and lone CRs
went into `--csv` raw.
"""

from __future__ import annotations

import csv
import errno
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from builders import NCE_COLUMNS, SUBSCRIPTION_COLUMNS, month, seat, subscription, write_csv
from recon_cli.cli import cli
from recon_cli.errors import ExitCode
from recon_cli.outputs import files
from recon_cli.outputs.inert import inert


def invoke(*args: str) -> tuple[int, str]:
    outcome = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return outcome.exit_code, outcome.output


def a_month(folder: Path) -> list[str]:
    paths = month(folder, [seat("s1", 5, "10.00"), seat("s2", 3, "10.00")],
                  [subscription("s1", 5), subscription("s2", 2)])
    return [str(paths["invoice"]), str(paths["subscriptions"]), "--as-of", "2026-11-02",
            "--store", str(folder / "recon.db")]


def stored_runs(store: Path) -> int:
    if not store.exists():
        return 0
    with sqlite3.connect(store) as conn:
        return int(conn.execute("SELECT count(*) FROM runs").fetchone()[0])


def temporaries(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith((".tmp", ".probe")))


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="no /dev/full on this system")
def test_a_device_is_written_not_replaced(tmp_path: Path) -> None:
    """`--csv /dev/full`: the device stays a device; the full disk is exit 2 naming the output."""
    code, out = invoke("run", *a_month(tmp_path), "--csv", "/dev/full")
    assert code == ExitCode.BAD_INPUT and "--csv /dev/full" in out and "No space left" in out
    assert Path("/dev/full").is_char_device()
    code, _ = invoke("run", *a_month(tmp_path), "--csv", "/dev/null", "--xlsx", "/dev/null", "--json", "/dev/null")
    assert code == ExitCode.NEEDS_ATTENTION and Path("/dev/null").is_char_device()


def test_a_fifo_is_written_directly(tmp_path: Path) -> None:
    """A named pipe gets the CSV through it and stays a pipe."""
    fifo = tmp_path / "out.csv"
    os.mkfifo(fifo)
    reader = subprocess.Popen(["cat", str(fifo)], stdout=subprocess.PIPE)
    code, _ = invoke("run", *a_month(tmp_path), "--csv", str(fifo))
    received = reader.communicate(timeout=20)[0]
    assert code == ExitCode.NEEDS_ATTENTION and received.startswith(b"PartnerId,") and b"recon_status" in received
    assert fifo.is_fifo()


def test_a_symlink_is_followed(tmp_path: Path) -> None:
    """`--csv link.csv` pointing at real.csv: real.csv gets the output, link.csv stays a link."""
    (tmp_path / "real.csv").write_text("old\n")
    link = tmp_path / "link.csv"
    link.symlink_to(tmp_path / "real.csv")
    code, _ = invoke("run", *a_month(tmp_path), "--csv", str(link))
    assert code == ExitCode.NEEDS_ATTENTION
    assert link.is_symlink() and (tmp_path / "real.csv").read_text().startswith("PartnerId,")


@pytest.mark.parametrize("where, expected", [("missing/out.xlsx", "does not exist"), ("", "is a folder"),
                                             ("file.txt/out.xlsx", "is not a folder")])
def test_an_output_that_cannot_be_written_is_refused_before_the_work(tmp_path: Path, where: str,
                                                                     expected: str) -> None:
    """A missing folder, a folder as the output, a file as the folder: exit 2 naming the path, and no run
    is saved (the check comes before the work, not after it)."""
    (tmp_path / "file.txt").write_text("x")
    target = str(tmp_path / where) if where else str(tmp_path)
    for flag in ("--csv", "--json"):
        code, out = invoke("run", *a_month(tmp_path), flag, target)
        # click refuses a folder for the flags it types as files, in its own words
        assert code == ExitCode.BAD_INPUT and (expected in out or "is a directory" in out) and flag in out
    assert stored_runs(tmp_path / "recon.db") == 0


def test_an_interrupted_output_leaves_the_old_files_and_no_temporary(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """Ctrl-C while the last output (JSON) is written: the workbook and CSV written before it are not put in
    place either, the old files are untouched, no temporary file is left, and no run is saved."""
    from recon_cli.outputs import json as json_output

    old = {name: f"old {name}\n" for name in ("out.xlsx", "out.csv", "out.json")}
    for name, text in old.items():
        (tmp_path / name).write_text(text)

    def interrupted(*_args: object) -> None:
        with files.atomic_write(tmp_path / "out.json", "w") as handle:
            handle.write("{half")
            raise KeyboardInterrupt

    monkeypatch.setattr(json_output, "write_json", interrupted)
    code, out = invoke("run", *a_month(tmp_path), "--xlsx", str(tmp_path / "out.xlsx"),
                       "--csv", str(tmp_path / "out.csv"), "--json", str(tmp_path / "out.json"))
    assert code == ExitCode.INTERRUPTED and "Interrupted" in out
    assert {name: (tmp_path / name).read_text() for name in old} == old
    assert temporaries(tmp_path) == []
    assert stored_runs(tmp_path / "recon.db") == 0


def test_an_output_that_fails_after_the_save_saves_no_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The outputs are written on a second thread while the run is saved; the save commits only once they
    are written. A full disk under the JSON, found after every row of the run went into the store: exit
    2 naming the output, no run saved, the old files untouched, no temporary file."""
    from recon_cli import store
    from recon_cli.outputs import json as json_output

    old = {name: f"old {name}\n" for name in ("out.csv", "out.json")}
    for name, text in old.items():
        (tmp_path / name).write_text(text)
    saved = threading.Event()
    real_save = store.save_run

    def save_then_wait(*args: object, **kwargs: object) -> None:
        commit = kwargs["before_commit"]
        assert callable(commit)
        real_save(*args, before_commit=lambda: (saved.set(), commit()))  # type: ignore[arg-type]

    def full_disk(*_args: object) -> None:
        assert saved.wait(30)  # the save's rows are all in before the output fails
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(store, "save_run", save_then_wait)
    monkeypatch.setattr(json_output, "write_json", full_disk)
    code, out = invoke("run", *a_month(tmp_path), "--csv", str(tmp_path / "out.csv"),
                       "--json", str(tmp_path / "out.json"))
    assert code == ExitCode.BAD_INPUT and "--json" in out and "No space left" in out
    assert stored_runs(tmp_path / "recon.db") == 0
    assert {name: (tmp_path / name).read_text() for name in old} == old
    assert temporaries(tmp_path) == []


def test_a_save_that_fails_stops_the_outputs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The save fails (the store's disk is full) while the workbook is still being written on the other
    thread: the writer stops at its next piece, nothing is put in place, no temporary file is left, exit 2
    names the store."""
    from recon_cli.errors import InputError
    from recon_cli.outputs.xlsx import stream
    from recon_cli.store import runs

    (tmp_path / "out.xlsx").write_text("old\n")
    writing, stopped = threading.Event(), threading.Event()
    real_write = files.write_alongside

    def slow_pieces(out: object, pieces: Iterable[bytes]) -> None:
        def held() -> Iterator[bytes]:
            writing.set()
            for piece in pieces:
                yield piece
                time.sleep(0.05)
            yield from (b"" for _ in range(600))  # ~30 s more unless stopped
        try:
            real_write(out, held())  # type: ignore[arg-type]
        except files.OutputAbandoned:
            stopped.set()
            raise

    def disk_full(*_args: object) -> None:
        assert writing.wait(30)
        raise InputError("the run store: the disk is full; free some space or pass another --store")

    monkeypatch.setattr(stream, "write_alongside", slow_pieces)
    monkeypatch.setattr(runs, "_save_customers", disk_full)
    started = time.monotonic()
    code, out = invoke("run", *a_month(tmp_path), "--xlsx", str(tmp_path / "out.xlsx"))
    assert code == ExitCode.BAD_INPUT and "disk is full" in out
    assert stopped.is_set() and time.monotonic() - started < 20
    assert (tmp_path / "out.xlsx").read_text() == "old\n"
    assert temporaries(tmp_path) == [] and stored_runs(tmp_path / "recon.db") == 0


def test_an_abandoned_staging_stops_its_writers(tmp_path: Path) -> None:
    """`Staging.abandon`: a writer still running stops at its next piece and its file is removed."""
    with files.Staging() as staging:
        staging.abandon()
        with pytest.raises(files.OutputAbandoned), files.atomic_write(tmp_path / "a.txt", "wb") as handle:
            files.write_alongside(handle, iter([b"a", b"b"]))
    assert not (tmp_path / "a.txt").exists() and temporaries(tmp_path) == []


def test_staging_renames_all_or_none(tmp_path: Path) -> None:
    """Inside a Staging, finished files wait for the commit; leaving without it removes them."""
    target = tmp_path / "a.txt"
    with files.Staging():
        with files.atomic_write(target) as handle:
            handle.write("new")
        assert not target.exists() and len(temporaries(tmp_path)) == 1
    assert not target.exists() and temporaries(tmp_path) == []
    with files.Staging() as staging:
        with files.atomic_write(target) as handle:
            handle.write("new")
        staging.commit()
    assert target.read_text() == "new"


def test_sigterm_mid_run_leaves_nothing_behind(tmp_path: Path) -> None:
    """SIGTERM while a big month is being reconciled: exit 143, no temporary file, no half run, no output."""
    rows = [seat(f"s{i}", 5, "10.00") for i in range(60_000)]
    invoice = write_csv(tmp_path / "invoice.csv", NCE_COLUMNS, rows)
    subs = write_csv(tmp_path / "subs.csv", SUBSCRIPTION_COLUMNS, [subscription(f"s{i}", 5) for i in range(60_000)])
    store = tmp_path / "recon.db"
    command = [sys.executable, "-m", "recon_cli", "run", str(invoice), str(subs), "--store", str(store),
               "--xlsx", str(tmp_path / "out.xlsx"), "--csv", str(tmp_path / "out.csv"), "-q"]
    process = subprocess.Popen(command, stderr=subprocess.PIPE)
    time.sleep(2.0)
    process.send_signal(signal.SIGTERM)
    _, error = process.communicate(timeout=60)
    if process.returncode in (0, 1):
        pytest.skip("the run finished before the signal; nothing to check")
    assert process.returncode == ExitCode.TERMINATED, error
    assert b"Terminated" in error
    assert temporaries(tmp_path) == [] and not (tmp_path / "out.xlsx").exists() and not (tmp_path / "out.csv").exists()
    assert stored_runs(store) == 0


HOSTILE = "\x1b[2J\x1b]8;;http://evil.example\x07Contoso\x1b]8;;\x07 \x1b[8mhidden\x1b[0m \u202eabc \x9b31m"


def test_input_text_never_reaches_the_terminal_raw(tmp_path: Path) -> None:
    """Escape sequences (clear-screen, an OSC 8 link, concealed text, a C1 CSI) and a right-to-left override
    in a customer name, a product and an id: printed escaped by `run` and `explain`, never raw."""
    # Ten plain lines first: a file whose first 4 KB are mostly control characters is refused as binary.
    plain = [seat(f"p{i}", 1, "10.00") for i in range(10)]
    paths = month(tmp_path, [*plain, seat("s1" + "\u200b", 7, "10.00", CustomerName=HOSTILE, SkuName=HOSTILE)],
                  [*(subscription(f"p{i}", 1) for i in range(10)), subscription("s1", 5, customer_name=HOSTILE)])
    store = str(tmp_path / "recon.db")
    code, out = invoke("run", str(paths["invoice"]), str(paths["subscriptions"]), "--store", store)
    assert code == ExitCode.NEEDS_ATTENTION
    for raw in ("\x1b", "\x07", "\u202e", "\x9b", "\u200b"):
        assert raw not in out
    assert "\\x1b[2J" in out and "<U+202E>" in out
    # The zero-width space is ignored for matching (s1 matched, with a note), and shown escaped.
    words = " ".join(out.split())
    assert "invisible or text-direction characters" in words and "provider 7 · subscription 5" in words
    code, out = invoke("explain", "G000000001-12", "--store", store)
    assert code == 0 and "\x1b" not in out and "\\x1b" in out


def test_inert_shows_every_control_character() -> None:
    assert inert("a\x1b[31mb\tc\nd\u202e\x00") == "a\\x1b[31mb c\nd<U+202E>\\x00"
    assert inert("Société Générale") == "Société Générale"


def test_csv_neutralises_provider_formulas_and_quotes_line_breaks(tmp_path: Path) -> None:
    """Provider cells `=HYPERLINK(...)`, `=cmd|' /C calc'!A0`, `@SUM(1)` get a leading apostrophe; -5.00 and
    +3 stay numbers; a lone CR inside a name is quoted, so a reader gets exactly one record per line."""
    rows = [seat("s1", 5, "10.00", CustomerName='=HYPERLINK("http://evil","x")'),
            seat("s2", 5, "10.00", CustomerName="=cmd|' /C calc'!A0", SkuName="@SUM(1)"),
            seat("s3", 5, "10.00", CustomerName="line\ronly CR", TaxTotal="-5.00", Total="+3")]
    paths = month(tmp_path, rows, [subscription(s, 5) for s in ("s1", "s2", "s3")])
    target = tmp_path / "out.csv"
    code, _ = invoke("run", str(paths["invoice"]), str(paths["subscriptions"]), "--store", str(tmp_path / "r.db"),
                     "--csv", str(target))
    assert code in (0, 1)
    with target.open(newline="", encoding="utf-8") as handle:
        records = list(csv.DictReader(handle))
    assert len(records) == 3
    assert [r["CustomerName"] for r in records] == ['\'=HYPERLINK("http://evil","x")', "'=cmd|' /C calc'!A0",
                                                    "line\ronly CR"]
    assert records[1]["SkuName"] == "'@SUM(1)"
    assert (records[2]["TaxTotal"], records[2]["Total"]) == ("-5.00", "+3")
