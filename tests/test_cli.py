"""The command line through click's runner: exit codes, outputs, and the light commands."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from builders import change, month, seat, subscription
from recon_cli.cli import cli
from recon_cli.errors import ExitCode

SAMPLE = Path(__file__).resolve().parents[1] / "sample_data"
SAMPLE_ARGS = [str(SAMPLE / "invoice.csv"), str(SAMPLE / "subscriptions.csv"), "--changes", str(SAMPLE / "changes.csv")]


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def clean_month(tmp_path: Path) -> list[str]:
    paths = month(tmp_path, [seat("s1", 10)], [subscription("s1", 12)], [change("LCL-1", "s1", "2026-10-12", "+2")])
    return [str(paths["invoice"]), str(paths["subscriptions"]), "--changes", str(paths["changes"])]


def test_every_command_has_help() -> None:
    """Each command answers --help with its summary and an example."""
    for name, command in cli.commands.items():
        code, out, _ = invoke(name, "--help")
        assert code == 0, name
        assert command.help and "Example:" in out, name


def test_reconciled_month_exits_zero_and_explain_names_the_record(tmp_path: Path) -> None:
    """All lines explained: exit 0; `explain` of the line names its change-log record."""
    code, out, _ = invoke("run", *clean_month(tmp_path))
    assert code == ExitCode.OK
    assert "explained" in out
    code, out, _ = invoke("explain", "G000000001-2")
    assert code == ExitCode.OK
    assert "LCL-1" in out and "not yet invoiced" in out and "2026-10-12" in out


def test_sample_month_needs_a_person(tmp_path: Path) -> None:
    """The sample month plants unexplained and unmatched lines: exit 1 by default, 0 with --fail-on never."""
    out_json = tmp_path / "run.json"
    code, _, _ = invoke("run", *SAMPLE_ARGS, "--json", str(out_json), "--quiet")
    assert code == ExitCode.NEEDS_ATTENTION
    data = json.loads(out_json.read_text())
    assert list(data) == ["run_id", "period", "as_of", "summary", "lines", "missing_subscriptions", "rejects",
                          "warnings"]
    code, _, _ = invoke("run", *SAMPLE_ARGS, "--quiet", "--fail-on", "never")
    assert code == ExitCode.OK


def test_fail_on_any_counts_price_findings(tmp_path: Path) -> None:
    """--fail-on any also fails on a price finding, where the default does not."""
    paths = month(tmp_path, [seat("s1", 5, "10.00")], [subscription("s1", 5, "9.00")])
    args = [str(paths["invoice"]), str(paths["subscriptions"]), "--quiet"]
    assert invoke("run", *args)[0] == ExitCode.OK
    assert invoke("run", *args, "--fail-on", "any")[0] == ExitCode.NEEDS_ATTENTION


def test_json_to_stdout_is_pure_json(tmp_path: Path) -> None:
    """--json - writes only JSON on stdout; the report goes to stderr."""
    code, out, err = invoke("run", *clean_month(tmp_path), "--json", "-")
    assert code == ExitCode.OK
    data = json.loads(out)
    assert data["lines"][0]["line_id"] == "G000000001-2"
    assert data["lines"][0]["subtotal"] == "100.00"
    assert "explained" in err


def test_outputs_are_written(tmp_path: Path) -> None:
    """--xlsx, --csv and --json each write their file."""
    targets = {fmt: tmp_path / f"out.{fmt}" for fmt in ("xlsx", "csv", "json")}
    code, out, _ = invoke("run", *clean_month(tmp_path), *[a for f, p in targets.items() for a in (f"--{f}", str(p))])
    assert code == ExitCode.OK
    assert all(path.stat().st_size > 0 for path in targets.values())
    assert str(targets["xlsx"]) in out


@pytest.mark.parametrize("args, message", [
    (["run", "missing.csv", "subs.csv"], "does not exist"),
    (["run", "{invoice}", "{subs}", "--period", "2026-13"], "--period"),
    (["run", "{invoice}", "{subs}", "--min-margin", "ten"], "--min-margin"),
    (["run", "{invoice}", "{subs}", "--invoice-format", "pax8"], "--invoice-format"),
    (["explain", "G000000001-99"], "no line, subscription or customer"),
])
def test_bad_input_or_usage_exits_two(tmp_path: Path, args: list[str], message: str) -> None:
    """Bad input or usage: exit 2 and one clear line on stderr, never a traceback."""
    paths = clean_month(tmp_path)
    invoke("run", *paths, "--quiet")
    filled = [a.format(invoice=paths[0], subs=paths[1]) for a in args]
    code, _, err = invoke(*filled)
    assert code == ExitCode.BAD_INPUT
    assert message in err
    assert "Traceback" not in err


def test_bad_row_is_rejected_not_fatal(tmp_path: Path) -> None:
    """A row with Quantity 'abc' is reported as a reject; the run goes on."""
    paths = month(tmp_path, [seat("s1", 5), seat("s1", 5, Quantity="abc")], [subscription("s1", 5)])
    code, _, _ = invoke("run", str(paths["invoice"]), str(paths["subscriptions"]), "--json", str(tmp_path / "r.json"),
                        "--quiet")
    assert code == ExitCode.OK
    rejects = json.loads((tmp_path / "r.json").read_text())["rejects"]
    assert [(r["file"], r["row"], r["column"]) for r in rejects] == [("invoice.csv", 3, "Quantity")]


def test_explain_without_any_run_exits_two() -> None:
    """explain before any run: exit 2 with what to do."""
    code, _, err = invoke("explain", "G1-2")
    assert code == ExitCode.BAD_INPUT
    assert "no runs stored yet" in err


def test_internal_error_is_one_line_exit_70(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An unexpected exception: exit 70 and one line; --debug shows the traceback."""
    import recon_cli.pipeline

    def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(recon_cli.pipeline, "reconcile", broken)
    code, _, err = invoke("run", *clean_month(tmp_path))
    assert code == ExitCode.INTERNAL
    assert err.strip().splitlines() == ["Internal error: RuntimeError: boom (run with --debug for the traceback)"]
    with pytest.raises(RuntimeError):
        CliRunner().invoke(cli, ["--debug", "run", *clean_month(tmp_path)], catch_exceptions=False)


def test_interrupt_exits_130(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Ctrl-C during a run: exit 130."""
    import recon_cli.pipeline

    def interrupted(*_args: object, **_kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(recon_cli.pipeline, "reconcile", interrupted)
    assert invoke("run", *clean_month(tmp_path))[0] == ExitCode.INTERRUPTED


def test_confirm_then_rerun_carries_the_confirmation(tmp_path: Path) -> None:
    """confirm turns a difference into confirmed, and a re-run with the same quantities keeps it."""
    paths = month(tmp_path, [seat("s1", 9)], [subscription("s1", 7)])
    args = [str(paths["invoice"]), str(paths["subscriptions"]), "--quiet"]
    assert invoke("run", *args)[0] == ExitCode.NEEDS_ATTENTION
    code, out, _ = invoke("confirm", "G000000001-2", "--note", "two seats billed by hand", "--by", "ana")
    assert code == ExitCode.OK and "Confirmed" in out
    assert invoke("run", *args)[0] == ExitCode.OK
    code, out, _ = invoke("explain", "s1", "--json")
    assert json.loads(out)["lines"][0]["status"] == "confirmed"
    assert invoke("unconfirm", "s1")[0] == ExitCode.OK
    assert invoke("run", *args)[0] == ExitCode.NEEDS_ATTENTION


def test_runs_and_export_rerender_a_stored_run(tmp_path: Path) -> None:
    """`runs` lists the run; `export` re-renders it without the input files."""
    invoke("run", *clean_month(tmp_path), "--quiet")
    code, out, _ = invoke("runs")
    assert code == ExitCode.OK and "G000000001" in out
    target = tmp_path / "again.json"
    code, _, _ = invoke("export", "--json", str(target))
    assert code == ExitCode.OK
    assert json.loads(target.read_text())["lines"][0]["status"] == "explained"


def test_sample_writes_a_month_that_runs(tmp_path: Path) -> None:
    """`recon sample` writes three inputs that `recon run` reconciles."""
    code, out, _ = invoke("sample", str(tmp_path / "m"), "--lines", "40", "--seed", "3")
    assert code == ExitCode.OK
    assert (tmp_path / "m" / "invoice.csv").exists() and "planted" in out
    folder = tmp_path / "m"
    code, _, _ = invoke("run", str(folder / "invoice.csv"), str(folder / "subscriptions.csv"), "--changes",
                        str(folder / "changes.csv"), "--quiet")
    assert code == ExitCode.NEEDS_ATTENTION


def test_formats_lists_the_nce_columns() -> None:
    """`recon formats` lists each format with its columns."""
    code, out, _ = invoke("formats")
    assert code == ExitCode.OK
    assert "PCToBCExchangeRate" in out and "quantity_delta" in out


def test_config_file_supplies_defaults_and_flags_win(tmp_path: Path) -> None:
    """recon.toml gives defaults; a bad key is named with the valid ones."""
    paths = month(tmp_path, [seat("s1", 9)], [subscription("s1", 7)])
    config = tmp_path / "recon.toml"
    config.write_text('[run]\nfail_on = "never"\n')
    args = [str(paths["invoice"]), str(paths["subscriptions"]), "--quiet", "--config", str(config)]
    assert invoke("run", *args)[0] == ExitCode.OK
    assert invoke("run", *args, "--fail-on", "unexplained")[0] == ExitCode.NEEDS_ATTENTION
    config.write_text('[run]\nfail_onn = "never"\n')
    code, _, err = invoke("run", *args)
    assert code == ExitCode.BAD_INPUT and "fail_onn" in err and "valid keys" in err


@pytest.mark.parametrize("argv", [["--help"], ["explain", "X-2"], ["runs"]])
def test_light_commands_do_not_import_pandas_or_openpyxl(argv: list[str], tmp_path: Path) -> None:
    """`recon --help`, `explain` and `runs` leave pandas, openpyxl and pydantic unimported (explain, help)."""
    code = (
        "import sys\n"
        f"sys.argv = ['recon', *{argv!r}]\n"
        "from recon_cli.cli import cli\n"
        "try:\n    cli()\nexcept SystemExit:\n    pass\n"
        "heavy = sorted(m for m in ('pandas', 'openpyxl', 'numpy', 'pyarrow', 'duckdb') if m in sys.modules)\n"
        "print('HEAVY', heavy, 'pydantic' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False,
                          env={"RECON_HOME": str(tmp_path), "PATH": ""})
    line = next(text for text in done.stdout.splitlines() if text.startswith("HEAVY"))
    assert line.startswith("HEAVY []"), line
    if argv[0] != "runs":
        assert line.endswith("False"), line


@pytest.mark.parametrize("chosen", [None, "system"])
def test_a_run_allocates_from_jemalloc_unless_the_user_chose_a_pool(chosen: str | None, tmp_path: Path) -> None:
    """`recon run` has Arrow allocate from jemalloc where pyarrow has it (collection.reuse_freed_pages);
    a pool the user chose in ARROW_DEFAULT_MEMORY_POOL is left as it is."""
    code = (
        "import sys\n"
        f"sys.argv = ['recon', 'run', *{clean_month(tmp_path)!r}]\n"
        "from recon_cli.cli import cli\n"
        "try:\n    cli()\nexcept SystemExit as exit:\n    print('EXIT', exit.code)\n"
        "import pyarrow as pa\n"
        "try:\n    pa.jemalloc_memory_pool()\n    built = True\nexcept NotImplementedError:\n    built = False\n"
        "print('POOL', pa.default_memory_pool().backend_name, built)\n"
    )
    env = {"RECON_HOME": str(tmp_path), "PATH": "", **({"ARROW_DEFAULT_MEMORY_POOL": chosen} if chosen else {})}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False, env=env)
    assert "EXIT 0" in done.stdout, done.stdout + done.stderr
    pool, built = next(text for text in done.stdout.splitlines() if text.startswith("POOL")).split()[1:]
    assert pool == (chosen or ("jemalloc" if built == "True" else "mimalloc"))


def test_confirming_a_missing_subscription_stops_it_needing_a_person(tmp_path: Path) -> None:
    """A subscription absent from the invoice can be confirmed; it stays listed, and the exit code clears."""
    paths = month(tmp_path, [seat("s1", 5)], [subscription("s1", 5), subscription("elsewhere", 3)])
    args = [str(paths["invoice"]), str(paths["subscriptions"]), "--quiet"]
    assert invoke("run", *args)[0] == ExitCode.NEEDS_ATTENTION
    assert invoke("confirm", "elsewhere", "--note", "billed through another provider", "--by", "ana")[0] == 0
    target = tmp_path / "r.json"
    assert invoke("run", *args, "--json", str(target))[0] == ExitCode.OK
    missing = json.loads(target.read_text())["missing_subscriptions"]
    assert [(m["subscription_id"], m["reason"]) for m in missing] == [("elsewhere", "confirmed")]
    assert invoke("unconfirm", "elsewhere")[0] == ExitCode.OK
    assert invoke("run", *args)[0] == ExitCode.NEEDS_ATTENTION


def test_two_invoices_are_one_month(tmp_path: Path) -> None:
    """`recon run inv-usd.csv inv-eur.csv subs.csv`: one run, lines of both invoices with their own ids, and
    missing checked against both (PRODUCT.md §1)."""
    from builders import NCE_COLUMNS, SUBSCRIPTION_COLUMNS, write_csv

    usd = write_csv(tmp_path / "inv-usd.csv", NCE_COLUMNS, [seat("s1", 5, invoice="G1")])
    eur = write_csv(tmp_path / "inv-eur.csv", NCE_COLUMNS, [seat("s2", 3, invoice="G2", currency="EUR")])
    subs = write_csv(tmp_path / "subs.csv", SUBSCRIPTION_COLUMNS, [
        subscription("s1", 5), subscription("s2", 3, currency="EUR"), subscription("s3", 2, currency="GBP")])
    code, out, _ = invoke("run", str(usd), str(eur), str(subs), "--json", "-", "--quiet")
    data = json.loads(out)
    assert code == ExitCode.OK
    assert [(line["line_id"], line["currency"], line["status"]) for line in data["lines"]] == [
        ("G1-2", "USD", "matched"), ("G2-2", "EUR", "matched")]
    assert data["summary"]["invoice_files"] == [str(usd), str(eur)]
    # The GBP subscription is in no invoice's currency: not checked, never reported missing.
    assert data["missing_subscriptions"] == [] and data["summary"]["not_checked_other_currency"] == 1
    assert invoke("explain", "G2-2")[0] == ExitCode.OK


def test_the_same_invoice_twice_is_refused(tmp_path: Path) -> None:
    """Two files whose line ids collide (one invoice given twice) exit 2 naming the line id."""
    args = clean_month(tmp_path)
    code, _, err = invoke("run", args[0], args[0], *args[1:])
    assert code == ExitCode.BAD_INPUT and "G000000001-2" in err and "twice" in err


def test_fail_on_unexplained_ignores_price_findings(tmp_path: Path) -> None:
    """A below-cost line needs a person (needs_person) but the default --fail-on counts quantity findings only."""
    paths = month(tmp_path, [seat("s1", 5, "10.00")], [subscription("s1", 5, "9.00")])
    args = [str(paths["invoice"]), str(paths["subscriptions"]), "--json", "-", "--quiet"]
    code, out, _ = invoke("run", *args)
    line = json.loads(out)["lines"][0]
    assert (code, line["status"], line["price_status"], line["needs_person"]) == (0, "matched", "below_cost", True)
    assert invoke("run", *args, "--fail-on", "any")[0] == ExitCode.NEEDS_ATTENTION


def test_confirming_what_needs_nothing_exits_two(tmp_path: Path) -> None:
    """`recon confirm` of a matched line says it needs nothing and exits 2 (rule 9)."""
    paths = month(tmp_path, [seat("s1", 5)], [subscription("s1", 5)])
    invoke("run", str(paths["invoice"]), str(paths["subscriptions"]), "--quiet")
    code, _, err = invoke("confirm", "G000000001-2", "--note", "fine")
    assert code == ExitCode.BAD_INPUT and "needs nothing" in err


def test_as_of_is_stored_with_the_run_and_defaults_to_today(tmp_path: Path) -> None:
    """The run's as-of is the end of the day the run is made, unless --as-of gives one; the JSON carries it."""
    from datetime import date

    _, out, _ = invoke("run", *clean_month(tmp_path), "--json", "-", "--quiet")
    assert json.loads(out)["as_of"] == f"{date.today().isoformat()}T23:59:59"
    _, out, _ = invoke("run", *clean_month(tmp_path), "--json", "-", "--quiet", "--as-of", "2026-10-11")
    data = json.loads(out)
    # The +2 of 12 October is after the run's as-of: scheduled, not evidence, so the gap is unexplained.
    assert (data["as_of"], data["lines"][0]["status"], data["lines"][0]["scheduled"]) == (
        "2026-10-11T23:59:59", "unexplained", ["LCL-1"])


def test_every_command_has_arrows_allocator_return_freed_pages_unless_the_user_says(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The CLI sets mimalloc's purge delay to 0 before a command can load pyarrow (peak memory of a
    million-line run -4%); a value the user exported is kept."""
    import os

    monkeypatch.delenv("MIMALLOC_PURGE_DELAY", raising=False)
    assert CliRunner().invoke(cli, ["formats"]).exit_code == 0
    assert os.environ["MIMALLOC_PURGE_DELAY"] == "0"
    monkeypatch.setenv("MIMALLOC_PURGE_DELAY", "250")
    assert CliRunner().invoke(cli, ["formats"]).exit_code == 0
    assert os.environ["MIMALLOC_PURGE_DELAY"] == "250"
