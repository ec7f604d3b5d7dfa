"""Month over month (PRODUCT.md §1 `runs`, `diff`, `explain`, `confirm`; issue 12): two hand-made months.

October: s1 is billed 7 seats against 5 (unexplained), s2 3 against 2 (unexplained), s3 matches,
s4 (4 seats, 12.00) is due and not invoiced (missing). November: s1 unchanged (still open, since
October: 2 months), s2's export now says 3 (resolved), s3 is billed 4 against 3 (new), s4 still
missing (still open). Worked out by hand from rules 3-7: every difference has no change log, so it
is unexplained; money at risk = residual x the provider's unit cost (10.00 a seat a month).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from builders import NCE_COLUMNS, SUBSCRIPTION_COLUMNS, seat, subscription, write_csv
from recon_cli.cli import cli
from recon_cli.errors import ExitCode


def invoke(*args: str) -> tuple[int, str]:
    outcome = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return outcome.exit_code, outcome.stdout


def month(folder: Path, name: str, invoice: str, day: str, end: str, provider: dict[str, int],
          seats: dict[str, int]) -> list[str]:
    """One month's invoice and export; returns the `recon run` arguments."""
    folder.mkdir(exist_ok=True)
    def customer(sub: str) -> tuple[str, str]:
        return ("c-contoso", "Contoso") if sub in ("s1", "s2") else ("c-fabrikam", "Fabrikam")

    lines = [seat(sub, qty, "10.00", invoice=invoice, order=day, start=day, end=end, customer=customer(sub)[0],
                  CustomerName=customer(sub)[1]) for sub, qty in provider.items()]
    subs = [subscription(sub, qty, customer_id=customer(sub)[0], customer_name=customer(sub)[1])
            for sub, qty in seats.items()]
    return [str(write_csv(folder / f"{name}-invoice.csv", NCE_COLUMNS, lines)),
            str(write_csv(folder / f"{name}-subs.csv", SUBSCRIPTION_COLUMNS, subs))]


@pytest.fixture
def two_months(tmp_path: Path) -> dict[str, list[str]]:
    october = month(tmp_path, "oct", "G000000001", "10/5/2026", "11/4/2026", {"s1": 7, "s2": 3, "s3": 3},
                    {"s1": 5, "s2": 2, "s3": 3, "s4": 4})
    november = month(tmp_path, "nov", "G000000002", "11/5/2026", "12/4/2026", {"s1": 7, "s2": 3, "s3": 4},
                     {"s1": 5, "s2": 3, "s3": 3, "s4": 4})
    return {"october": october, "november": november}


def run_json(args: list[str], *extra: str) -> dict[str, object]:
    as_of = [] if "--as-of" in args else ["--as-of", "2026-12-01"]
    code, out = invoke("run", *args, *as_of, "--json", "-", "--quiet", *extra)
    assert code in (0, 1), out
    return json.loads(out)  # type: ignore[no-any-return]


def by_subscription(document: dict[str, object]) -> dict[str, dict[str, object]]:
    lines = {str(line["subscription_id"]): line for line in document["lines"]}  # type: ignore[attr-defined]
    missing = {str(m["subscription_id"]): m for m in document["missing_subscriptions"]}  # type: ignore[attr-defined]
    return {**lines, **missing}


def test_open_since_carries_an_unbroken_exception(two_months: dict[str, list[str]]) -> None:
    """October's exceptions start in 2026-10; in November s1 and s4 keep 2026-10, s3 starts 2026-11, and
    lines that need nothing carry no open_since."""
    october = by_subscription(run_json(two_months["october"], "--label", "final"))
    assert {k: v["open_since"] for k, v in october.items()} == {
        "s1": "2026-10", "s2": "2026-10", "s3": "", "s4": "2026-10"}
    november = by_subscription(run_json(two_months["november"]))
    assert {k: v["open_since"] for k, v in november.items()} == {
        "s1": "2026-10", "s2": "", "s3": "2026-11", "s4": "2026-10"}


def test_diff_new_resolved_open_and_months(two_months: dict[str, list[str]]) -> None:
    """`recon diff` of the two runs: s3 new (10.00 at risk), s2 resolved (10.00 had been at risk), s1 still
    open for 2 months (20.00), s4 still open (missing)."""
    run_json(two_months["october"], "--label", "final")
    run_json(two_months["november"])
    code, out = invoke("diff", "--json", "-")
    assert code == 0
    document = json.loads(out)
    changes = {row["subscription_id"]: row for row in document["changes"]}
    assert {k: v["change"] for k, v in changes.items()} == {"s3": "new", "s1": "open", "s4": "open", "s2": "resolved"}
    assert (changes["s1"]["open_since"], changes["s1"]["months_open"], changes["s1"]["money_now"]) == (
        "2026-10", 2, "20.00")
    assert changes["s3"]["money_now"] == "10.00" and changes["s2"]["money_before"] == "10.00"
    assert changes["s2"]["status_now"] == "matched"
    assert document["money"] == {"new": {"USD": "10.00"}, "open": {"USD": "20.00"}, "resolved": {"USD": "10.00"}}
    assert document["before"]["label"] == "final"
    code, out = invoke("diff")
    assert code == 0 and "New:" in out and "Resolved:" in out and "open since 2026-10 (2 months)" in out


def test_explain_shows_history_and_a_customer(two_months: dict[str, list[str]]) -> None:
    """`explain s1` lists both runs, newest first; `explain Contoso` lists the customer's two subscriptions;
    a name two customers share ("o", too short to search) is refused."""
    run_json(two_months["october"])
    run_json(two_months["november"])
    code, out = invoke("explain", "s1", "--json")
    history = json.loads(out)["history"]
    assert code == 0 and [(h["period"], h["status"], h["open_since"]) for h in history] == [
        ("2026-11", "unexplained", "2026-10"), ("2026-10", "unexplained", "2026-10")]
    code, out = invoke("explain", "contoso")
    assert code == 0 and "s1" in out and "s2" in out and "s3" not in out and "1 needing a person" in out
    code, out = invoke("explain", "c-fabrikam", "--json")
    assert code == 0 and {s["subscription_id"] for s in json.loads(out)["subscriptions"]} == {"s3", "s4"}
    outcome = CliRunner().invoke(cli, ["explain", "co"])
    assert outcome.exit_code == ExitCode.BAD_INPUT


def test_ambiguous_customer_lists_the_candidates(tmp_path: Path) -> None:
    """"Con" fits "Contoso" and "Contoso Pharma": exit 2, both named."""
    invoice = write_csv(tmp_path / "invoice.csv", NCE_COLUMNS,
                        [seat("s1", 1, customer="c-1", CustomerName="Contoso"),
                         seat("s2", 1, customer="c-2", CustomerName="Contoso Pharma")])
    subs = write_csv(tmp_path / "subs.csv", SUBSCRIPTION_COLUMNS, [subscription("s1", 1), subscription("s2", 1)])
    invoke("run", str(invoice), str(subs), "--quiet")
    outcome = CliRunner().invoke(cli, ["explain", "Con"])
    assert outcome.exit_code == ExitCode.BAD_INPUT
    assert "Contoso (c-1)" in outcome.output and "Contoso Pharma (c-2)" in outcome.output


def test_bulk_confirm_is_all_or_nothing(two_months: dict[str, list[str]], tmp_path: Path) -> None:
    """Two good ids and a bad one (row 4 of the file): nothing is confirmed and the row is named; the good
    ones alone are confirmed in one go, and the run's subscriptions stop needing a person."""
    run_json(two_months["october"])
    ids = tmp_path / "ids.csv"
    ids.write_text("subscription_id,note\ns1,agreed\ns2,agreed\nnope,agreed\n")
    outcome = CliRunner().invoke(cli, ["confirm", "--from-file", str(ids)])
    assert outcome.exit_code == ExitCode.BAD_INPUT and "ids.csv row 4" in outcome.output
    assert "nothing was confirmed" in outcome.output
    code, out = invoke("explain", "s1", "--json")
    assert json.loads(out)["confirmation"] is None
    code, out = invoke("confirm", "s1", "s2", "--note", "agreed with Contoso", "--by", "ana")
    assert code == 0 and out.count("Confirmed") == 2
    code, out = invoke("explain", "contoso", "--json")
    assert [s["needs_person"] for s in json.loads(out)["subscriptions"]] == [0, 0]


def test_runs_money_label_and_prune(two_months: dict[str, list[str]]) -> None:
    """`recon runs` shows the label and the money at risk per currency; --prune 1 keeps the newest."""
    run_json(two_months["october"], "--label", "final")
    run_json(two_months["november"])
    outcome = CliRunner(env={"COLUMNS": "140"}).invoke(cli, ["runs"])
    assert outcome.exit_code == 0 and "final" in outcome.output and "30.00 USD" in outcome.output
    code, out = invoke("runs", "--prune", "1")
    assert code == 0 and "Deleted 1 run" in out and "2026-10" not in out.split("kept")[1]


def test_a_three_month_story_through_the_cli(tmp_path: Path) -> None:
    """`recon sample --months 3` walked as a finance user would: each month run through the CLI; two of
    October's exceptions confirmed; in November one October exception resolved and one still open
    (open_since 2026-10), the two confirmed ones no longer needing anyone; in December new ones. `recon
    diff` and `recon explain` say exactly what the sample's plan says (sample_story.py's transitions)."""
    from recon_cli.sample import generate_sample, transitions

    plan = generate_sample(tmp_path / "story", lines=60, seed=7, months=3)
    months = plan.months
    runs = []
    for month_plan in months:
        args = [*map(str, month_plan.invoices), str(month_plan.subscriptions), "--changes", str(month_plan.changes),
                "--as-of", f"{month_plan.as_of:%Y-%m-%d}"]
        document = run_json(args)
        runs.append(document["run_id"])
        if month_plan is months[0]:
            # Two exceptions that stay the same into November (Tailspin: failed provisioning; Humongous:
            # cost changed): confirmed now, they need no one next month while nothing changes.
            october = months[0].exceptions()
            confirmed = [sub for sub, (_, case) in october.items()
                         if case in ("explained_failed_provisioning", "cost_changed")]
            assert len(confirmed) == 2
            code, out = invoke("confirm", *confirmed, "--note", "agreed at the October review", "--by", "ana")
            assert code == 0 and out.count("Confirmed") == 2
    # November against October.
    code, out = invoke("diff", runs[0], runs[1], "--json", "-")
    changes = {row["subscription_id"].lower(): row for row in json.loads(out)["changes"]}
    moved = transitions(months[0], months[1])
    expected_open = {sub.lower() for sub in moved.persisting} - {sub.lower() for sub in confirmed}
    assert {k for k, v in changes.items() if v["change"] in ("open", "changed")} == expected_open
    assert {k for k, v in changes.items() if v["change"] == "new"} == {s.lower() for s in moved.new}
    resolved = {k for k, v in changes.items() if v["change"] == "resolved"}
    assert {s.lower() for s in moved.resolved} == resolved
    # Confirmed in October, the two need no one in either run: not in the diff, `confirmed` in November.
    assert not {s.lower() for s in confirmed} & set(changes)
    code, out = invoke("explain", confirmed[0], "--json")
    assert [h["status"] for h in json.loads(out)["history"]][1:] == ["confirmed", "confirmed"]
    still = sorted(expected_open)[0]
    assert changes[still]["open_since"] == "2026-10" and changes[still]["months_open"] == 2
    # The history of a subscription still open says so, run by run.
    code, out = invoke("explain", still, "--json")
    history = json.loads(out)["history"]
    assert [(h["period"], h["open_since"]) for h in history][1:] == [("2026-11", "2026-10"), ("2026-10", "2026-10")]
    # December: the default diff is the two latest runs.
    code, out = invoke("diff", "--json", "-")
    document = json.loads(out)
    assert (document["before"]["period"], document["now"]["period"]) == ("2026-11", "2026-12")
    december = transitions(months[1], months[2])
    assert {r["subscription_id"].lower() for r in document["changes"] if r["change"] == "new"} == {
        s.lower() for s in december.new}
    assert december.new
