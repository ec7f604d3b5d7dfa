"""Terminal renderables, compared with golden files (RECON_REGEN=1 rewrites them)."""

from __future__ import annotations

import dataclasses
import io
import os
import re
import subprocess
import sys
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from click.testing import CliRunner
from rich.console import Console, RenderableType

from recon_cli.cells import HeldCells
from recon_cli.cli import cli
from recon_cli.models import RunSummary
from recon_cli.outputs.terminal.explain import explanation_report
from recon_cli.outputs.terminal.listing import runs_report
from recon_cli.outputs.terminal.run import run_report
from recon_cli.pipeline import RunInputs, reconcile
from recon_cli.records import LINE_FIELDS, Confirmation, EvidenceRecord, Explanation
from recon_cli.result import ReconResult

GOLDEN = Path(__file__).parent / "golden"
ROOT = Path(__file__).parent.parent
SAMPLE = ROOT / "sample_data"
SAVED = {"store": ".recon/recon.db", "run": "20261125T020000Z-abcd", "xlsx": "october.xlsx"}


def render(renderable: RenderableType) -> str:
    """Plain text at a fixed width; trailing spaces (rich pads to the width) dropped."""
    console = Console(width=100, file=io.StringIO(), color_system=None, force_terminal=False)
    console.print(renderable)
    text = console.file.getvalue()  # type: ignore[attr-defined]
    return "\n".join(line.rstrip() for line in text.splitlines()) + "\n"


def assert_golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("RECON_REGEN") == "1":
        path.write_text(text, encoding="utf-8")
        return
    assert path.exists(), f"{path} is missing: create it with RECON_REGEN=1 pytest tests/test_report.py"
    assert text == path.read_text(encoding="utf-8"), (
        f"{name} differs from the golden file; if the new output is right, "
        "regenerate with RECON_REGEN=1 pytest tests/test_report.py and review the diff")


def stored(value: Any) -> Any:
    """A frame cell as the store gives it back: text, ints kept, evidence joined by ","."""
    if value is None or (isinstance(value, float) and value != value):
        return None
    if isinstance(value, list):
        return ",".join(value)
    return value if isinstance(value, int) else str(value)


def stored_lines(result: ReconResult) -> list[dict[str, Any]]:
    records = result.lines.astype("object").to_dict("records")
    return [{field: stored(record[field]) for field in LINE_FIELDS} for record in records]


def evidence(result: ReconResult) -> list[EvidenceRecord]:
    return [EvidenceRecord.model_validate({k: stored(v) for k, v in record.items()})
            for record in result.evidence.astype("object").to_dict("records")]


# --- recon run ------------------------------------------------------------------------------


def test_run_report_golden(tiny_result: ReconResult) -> None:
    """The run summary of the tiny result matches tests/golden/run_report.txt."""
    assert_golden("run_report.txt", render(run_report(tiny_result, SAVED)))


def sample_run(monkeypatch: pytest.MonkeyPatch) -> ReconResult:
    """A real reconcile() of sample_data/ with a fixed run id, its paths relative to the repo."""
    monkeypatch.chdir(ROOT)
    inputs = RunInputs(invoices=(Path("sample_data/invoice.csv"),), subscriptions=Path("sample_data/subscriptions.csv"),
                       changes=Path("sample_data/changes.csv"), min_margin=Decimal("10"),
                       as_of=datetime(2026, 11, 9, 23, 59, 59))  # the sample's own as-of: the golden never ages
    return reconcile(inputs, run_id="golden")


def test_run_report_of_the_sample_month_golden(monkeypatch: pytest.MonkeyPatch) -> None:
    """The report of a real run of sample_data/ matches tests/golden/run_report_sample.txt."""
    result = sample_run(monkeypatch)
    saved = {"store": ".recon/recon.db", "run": result.summary.run_id, "xlsx": "october.xlsx"}
    text = render(run_report(result, saved))
    assert "run golden" in text
    assert_golden("run_report_sample.txt", text)


# SGR parameters that set a colour (foreground, background, bright, 256 and true colour).
COLOR_CODES = {*map(str, range(30, 39)), *map(str, range(40, 49)), *map(str, range(90, 98)),
               *map(str, range(100, 108))}


def colors(text: str) -> set[str]:
    """The colour codes in `text`'s escape sequences (bold, dim and resets are not colours)."""
    return {code for params in re.findall(r"\x1b\[([0-9;]*)m", text) for code in params.split(";")
            if code in COLOR_CODES}


def test_run_report_respects_no_color(tiny_result: ReconResult, monkeypatch: pytest.MonkeyPatch) -> None:
    """On a terminal the report is coloured, unless NO_COLOR is set; off a terminal it is plain."""
    def on_terminal() -> str:
        console = Console(width=100, file=io.StringIO(), force_terminal=True, color_system="truecolor")
        console.print(run_report(tiny_result, SAVED))
        return console.file.getvalue()  # type: ignore[attr-defined]

    assert colors(on_terminal())
    monkeypatch.setenv("NO_COLOR", "1")
    plain = on_terminal()
    assert "\x1b[" in plain  # still a terminal: bold stays
    assert not colors(plain)
    monkeypatch.delenv("NO_COLOR")
    assert "\x1b" not in render(run_report(tiny_result, SAVED))


@pytest.mark.parametrize("no_color", ["", "1"])
def test_recon_run_honours_no_color(no_color: str, tmp_path: Path) -> None:
    """`recon run` builds its Console from the environment: FORCE_COLOR colours the report,
    NO_COLOR takes the colours out again."""
    env = {"FORCE_COLOR": "1", "NO_COLOR": no_color, "COLUMNS": "100"}
    result = CliRunner().invoke(cli, ["run", str(SAMPLE / "invoice.csv"), str(SAMPLE / "subscriptions.csv"),
                                      "--changes", str(SAMPLE / "changes.csv"), "--store", str(tmp_path / "r.db")],
                                env=env)
    assert result.exit_code == 1, result.output
    assert "Needs a person" in result.stdout
    assert bool(colors(result.stdout)) == (not no_color)


def test_run_report_cuts_long_lists(tiny_result: ReconResult) -> None:
    """Past `top`, the report says how many more there are and where to see them."""
    text = render(run_report(tiny_result, SAVED, top=1))
    assert "G000123456-4" in text
    assert "G000123456-5" not in text
    assert "... and 1 more subscription; see --xlsx" in text


def test_run_report_groups_lines_by_subscription(tiny_result: ReconResult) -> None:
    """Two exception lines of one subscription are one entry, with their money at risk summed."""
    lines = tiny_result.lines.astype("object")
    extra = lines.iloc[[2]].copy()
    extra["line_id"], extra["row"], extra["money_at_risk"] = "G000123456-9", 9, Decimal("5.00")
    result = dataclasses.replace(tiny_result, lines=pd.concat([lines, extra], ignore_index=True))
    text = render(run_report(result, SAVED))
    assert "3 lines on 2 subscriptions" in text
    assert "G000123456-4 (+1 line)  unexplained · below_cost  35.00 USD at risk" in text


def test_run_report_keeps_input_text_literal(tiny_result: ReconResult) -> None:
    """A customer name that looks like rich markup is shown as written."""
    lines = tiny_result.lines.copy()
    lines.loc[2, "customer_name"] = "[bold]Evil[/bold] Corp"
    text = render(run_report(dataclasses.replace(tiny_result, lines=lines), SAVED))
    assert "[bold]Evil[/bold] Corp" in text


def test_run_report_when_nothing_needs_a_person(tiny_result: ReconResult) -> None:
    """A clean run says so instead of listing exceptions."""
    clean = tiny_result.lines.iloc[[0, 1]]
    summary = tiny_result.summary.model_copy(update={"needs_person": 0, "missing_needing_person": 0})
    text = render(run_report(dataclasses.replace(tiny_result, lines=clean, summary=summary), {}))
    assert "Nothing needs a person" in text
    assert "Saved" not in text


# --- recon explain --------------------------------------------------------------------------


def test_explain_one_line_golden(tiny_result: ReconResult) -> None:
    """One explained line, with its change-log evidence, matches tests/golden/explain_line.txt."""
    explanation = Explanation(run_id="20261125T020000Z-abcd", query="G000123456-3", matched_by="line_id",
                              period="2026-10", invoice_file="invoice.csv",
                              lines=[stored_lines(tiny_result)[1]], evidence=evidence(tiny_result))
    text = render(explanation_report(explanation))
    assert "not yet invoiced" in text
    assert_golden("explain_line.txt", text)


def test_explain_a_subscription_with_several_lines(tiny_result: ReconResult) -> None:
    """Several lines are listed compactly and the evidence is shown once; so is a confirmation."""
    lines = stored_lines(tiny_result)
    confirmation = Confirmation(subscription_id="bbbb-2", provider_quantity="10", subscription_quantity="12",
                                note="Seats added on the 12th", confirmed_by="ann",
                                confirmed_at="2026-11-26T10:00:00Z", run_id="20261125T020000Z-abcd")
    explanation = Explanation(run_id="20261125T020000Z-abcd", query="bbbb-2", matched_by="subscription_id",
                              lines=[lines[1], {**lines[1], "line_id": "G000123456-8", "row": 8}],
                              evidence=evidence(tiny_result), confirmation=confirmation)
    text = render(explanation_report(explanation))
    assert text.count("Change-log records used") == 1
    assert "G000123456-3, G000123456-8: Provider has 10 seats" in text
    assert "Confirmed by ann" in text
    assert "Seats added on the 12th" in text


def test_explain_a_missing_subscription(tiny_result: ReconResult) -> None:
    """A subscription absent from the invoice shows its missing entry."""
    missing = {k: stored(v) for k, v in tiny_result.missing.astype("object").to_dict("records")[0].items()}
    explanation = Explanation(run_id="r", query="eeee-5", matched_by="subscription_id", missing=missing)
    text = render(explanation_report(explanation))
    assert text.startswith("Missing from the invoice")
    assert "38.40 USD" in text
    assert "has no line on the invoice" in text


# --- recon runs -------------------------------------------------------------------------------


def test_runs_golden(tiny_result: ReconResult) -> None:
    """Stored runs, newest first, match tests/golden/runs.txt."""
    newer = tiny_result.summary.model_copy(update={"run_id": "20261125T020000123456Z-abcd"})
    older = tiny_result.summary.model_copy(update={
        "run_id": "20261025T010000654321Z-0001", "created_at": "2026-10-25T01:00:00Z", "period": "2026-09",
        "invoice_numbers": ["G000111111"], "needs_attention": 0, "missing_count": 0, "reject_count": 0,
        "line_count": 1250})
    text = render(runs_report([older, newer]))
    assert text.index("20261125T020000123456Z-abcd") < text.index("20261025T010000654321Z-0001")
    assert_golden("runs.txt", text)


def test_runs_on_a_narrow_terminal(tiny_result: ReconResult) -> None:
    """On 80 columns the Created column goes and run ids stay whole on one line."""
    run = tiny_result.summary.model_copy(update={"run_id": "20261125T020000123456Z-abcd"})
    console = Console(width=80, file=io.StringIO(), color_system=None, force_terminal=False)
    console.print(runs_report([run]))
    text = console.file.getvalue()  # type: ignore[attr-defined]
    assert "Created" not in text
    assert re.search(r"20261125T020000123456Z-abcd +2026-10 +G000123456 .*30\.00 USD", text)


def test_runs_when_none_are_stored() -> None:
    """An empty store tells how to make a run."""
    assert "No runs stored yet" in render(runs_report([]))


def test_report_imports_no_pandas() -> None:
    """`recon explain` and `recon runs` import outputs/terminal/: it must not load pandas."""
    code = ("import sys, recon_cli.outputs.terminal.run, recon_cli.outputs.terminal.explain, "
            "recon_cli.outputs.terminal.listing; print('pandas' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_runs_report_accepts_minimal_summaries() -> None:
    """A run with no invoice numbers shows its file name instead."""
    run = RunSummary(run_id="r1", created_at="2026-11-01T00:00:00Z", period=None, invoice_file="inv.csv",
                     subscriptions_file="s.csv", changes_file=None, invoice_format="nce")
    assert "inv.csv" in render(runs_report([run]))


def test_raw_cells_are_kept_only_when_asked_and_change_nothing_else() -> None:
    """`--csv` alone writes the invoices' raw cells back (held compressed); without it they are let go,
    and every result is the same."""
    inputs = RunInputs(invoices=(SAMPLE / "invoice.csv",), subscriptions=SAMPLE / "subscriptions.csv",
                       changes=SAMPLE / "changes.csv", as_of=datetime(2026, 11, 9, 23, 59, 59))
    kept = reconcile(inputs, run_id="r")
    dropped = reconcile(dataclasses.replace(inputs, keep_raw=False), run_id="r")
    assert isinstance(kept.invoice_raw, HeldCells) and len(kept.invoice_raw) == len(kept.lines)
    assert kept.invoice_raw.names == ("invoice.csv",) and kept.invoice_raw.file_codes.max() == 0
    assert dropped.invoice_raw is None
    pd.testing.assert_frame_equal(kept.lines, dropped.lines)
    pd.testing.assert_frame_equal(kept.subscriptions, dropped.subscriptions)
    assert kept.summary.model_dump(exclude={"created_at"}) == dropped.summary.model_dump(exclude={"created_at"})
