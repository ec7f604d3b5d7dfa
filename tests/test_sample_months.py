"""`recon sample` over several months: one reseller whose exceptions stay open, get fixed, or appear.

Each story is written once per module (three months), and each month reconciled through the
pipeline as of the 9th of the next month. Every planted case and situation must come out as its
month's plan says, and the exceptions the engine finds must be new, still open (since when) and
resolved exactly as the plan says.
"""

from __future__ import annotations

import csv
import hashlib
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, time
from decimal import Decimal
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest

from recon_cli.result import ReconResult
from recon_cli.sample import SamplePlan, generate_sample, transitions

FILES = ("invoice.csv", "invoice-eur.csv", "subscriptions.csv", "changes.csv")


def read_rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


@dataclass(frozen=True)
class Story:
    folder: Path
    plan: SamplePlan
    results: list[ReconResult]
    min_margin: Decimal | None

    def months(self) -> list[tuple[SamplePlan, ReconResult]]:
        return list(zip(self.plan.months, self.results, strict=True))


def reconcile_month(plan: SamplePlan, min_margin: Decimal | None) -> ReconResult:
    from recon_cli.pipeline import RunInputs, reconcile

    return reconcile(RunInputs(invoices=plan.invoices, subscriptions=plan.subscriptions, changes=plan.changes,
                               as_of=datetime.combine(plan.as_of, time.max), min_margin=min_margin))


STORIES = {"small": (60, 7, None, "2026-10"), "large": (4000, 5, Decimal(10), "2027-02")}


@pytest.fixture(scope="module", params=sorted(STORIES))
def story(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Story:
    lines, seed, min_margin, period = STORIES[request.param]
    folder = tmp_path_factory.mktemp(request.param)
    plan = generate_sample(folder, lines=lines, seed=seed, period=period, months=3)
    return Story(folder, plan, [reconcile_month(month, min_margin) for month in plan.months], min_margin)


def engine_exceptions(result: ReconResult) -> set[str]:
    """The subscriptions the engine says need a person: by the export's id when matched, else the invoice's."""
    lines = result.lines.loc[result.lines["needs_person"].astype(bool)]
    ids = lines["matched_subscription_id"].where(lines["matched_subscription_id"] != "", lines["subscription_id"])
    return {str(i).lower() for i in ids} | {str(i).lower() for i in result.missing["subscription_id"]}


# ---- the files ---------------------------------------------------------------------------------------


def test_one_folder_per_month_and_a_readme(story: Story) -> None:
    """Three month folders of four files each, and the story beside them."""
    periods = [month.period for month in story.plan.months]
    assert sorted(p.name for p in story.folder.iterdir()) == sorted([*periods, "README.md"])
    for month in story.plan.months:
        assert sorted(p.name for p in (story.folder / month.period).iterdir()) == sorted(FILES)
        assert (*month.invoices, month.subscriptions, month.changes) == tuple(
            story.folder / month.period / name for name in FILES)
    assert story.plan.readme == story.folder / "README.md"
    assert [m.month for m in story.plan.months] == [0, 1, 2]


def test_consecutive_periods_and_new_invoice_numbers(story: Story) -> None:
    """Months follow each other; each has its own two invoice numbers, and line ids are <InvoiceNumber>-<row>."""
    months = story.plan.months
    years_months = [(int(m.period[:4]), int(m.period[5:])) for m in months]
    assert [y * 12 + mo for y, mo in years_months] == list(range(years_months[0][0] * 12 + years_months[0][1],
                                                                years_months[0][0] * 12 + years_months[0][1] + 3))
    numbers = [n for m in months for n in m.invoice_numbers]
    assert len(set(numbers)) == 6
    for month, result in story.months():
        assert result.rejects.empty and result.summary.period == month.period
        assert result.lines["line_id"].tolist() == month.line_ids()
        for path, number in zip(month.invoices, month.invoice_numbers, strict=True):
            assert {row["InvoiceNumber"] for row in read_rows(path)} == {number}


def test_subscription_and_change_ids_are_stable(story: Story) -> None:
    """Every export row stays in the next month's export under the same id (cancelled ones too), and every
    change-log record keeps its id, subscription and date."""
    months = story.plan.months
    for before, after in pairwise(months):
        assert {r["subscription_id"] for r in read_rows(before.subscriptions)} <= {
            r["subscription_id"] for r in read_rows(after.subscriptions)}
        later = {r["change_id"]: r for r in read_rows(after.changes)}
        for record in read_rows(before.changes):
            kept = later[record["change_id"]]
            assert (kept["subscription_id"], kept["effective_date"]) == (record["subscription_id"],
                                                                         record["effective_date"])
    for name in ("matched", "explained_failed_provisioning", "unmatched_seat", "eur_unexplained"):
        assert len({m.case(name).subscription_id for m in months}) == 1


def test_annual_lines_are_billed_on_their_anniversary(story: Story) -> None:
    """A seat line billed yearly starts in its subscription's anniversary month; one billed monthly belongs to
    a subscription billed monthly."""
    for month in story.plan.months:
        export = {r["subscription_id"]: r for r in read_rows(month.subscriptions)}
        for row in read_rows(month.invoice):
            sub = export.get(row["SubscriptionId"])
            if sub is None or row["MeterDescription"] or "commitment" not in row["TermAndBillingCycle"]:
                continue
            if row["BillingFrequency"] == "Annual":
                assert sub["billing_frequency"] == "annual", row["SubscriptionId"]
                assert int(row["ChargeStartDate"].split("/")[0]) == int(sub["start_date"][5:7])
            elif row["BillingFrequency"] == "Monthly":
                assert sub["billing_frequency"] == "monthly", row["SubscriptionId"]


def test_the_first_month_is_the_one_month_sample(tmp_path: Path) -> None:
    """With months=3 the first folder holds exactly what months=1 writes; the same seed, the same bytes."""
    one = generate_sample(tmp_path / "one", lines=3000, seed=2)
    three = generate_sample(tmp_path / "three", lines=3000, seed=2, months=3)
    generate_sample(tmp_path / "again", lines=3000, seed=2, months=3)
    for name in FILES:
        assert (tmp_path / "one" / name).read_bytes() == (tmp_path / "three" / "2026-10" / name).read_bytes()
    for month in three.months:
        for name in FILES:
            digest = hashlib.sha256((tmp_path / "three" / month.period / name).read_bytes()).hexdigest()
            assert digest == hashlib.sha256((tmp_path / "again" / month.period / name).read_bytes()).hexdigest()
    assert one.situations == three.situations


def test_months_and_period_are_checked(tmp_path: Path) -> None:
    """One to twelve months, and a period written YYYY-MM."""
    for months in (0, 13):
        with pytest.raises(ValueError, match="months"):
            generate_sample(tmp_path, months=months)
    with pytest.raises(ValueError, match="YYYY-MM"):
        generate_sample(tmp_path, period="2026-1")


# ---- through the pipeline ------------------------------------------------------------------------------


def test_every_hand_built_case_each_month(story: Story) -> None:
    """Each hand-built case's lines come out as its month's plan says: carried on, still open, or fixed."""
    for month, result in story.months():
        frame = result.lines.set_index("line_id")
        for case in month.cases:
            want = {key: value for key, value in {
                "status": case.expected_status, "price_status": case.price_status(story.min_margin),
                "reason": case.expected_reason, "match_method": case.expected_match_method, "kind": case.kind,
                "provider_quantity": case.provider_quantity, "subscription_quantity": case.subscription_quantity,
            }.items() if value is not None}
            want |= {"evidence": sorted(case.evidence), "scheduled": sorted(case.scheduled),
                     "needs_person": case.needs_person_with(story.min_margin)}
            for line_id in case.line_ids:
                line: dict[str, Any] = frame.loc[line_id].to_dict()
                got = {key: sorted(line[key]) if key in ("evidence", "scheduled") else line[key] for key in want}
                assert got == want, (month.period, case.name, line_id, line["explanation"])


def test_every_situation_each_month(story: Story) -> None:
    """Each line of each planted situation (seat changes, new and persisting exceptions) comes out as planned;
    every other bulk line is matched."""
    for month, result in story.months():
        frame = result.lines.set_index("line_id")
        expected = month.situations.expected_lines(story.min_margin)
        for line_id, want in expected.items():
            line: dict[str, Any] = frame.loc[line_id].to_dict()
            got = {key: sorted(line[key]) if key in ("evidence", "scheduled") else line[key] for key in want}
            assert got == want, (month.period, line_id, line["explanation"])
        plain = frame.loc[[i for i in month.bulk_line_ids() if i not in expected]]
        assert set(plain["status"]) <= {"matched"}, month.period
        assert set(plain["price_status"]) <= {"ok", "not_applicable"}, month.period


def test_counts_missing_and_people_each_month(story: Story) -> None:
    """Statuses, price statuses, missing subscriptions, the other currency and the lines needing a person
    are the plan's, month after month."""
    for month, result in story.months():
        lines = result.lines
        assert dict(Counter(lines["status"])) == month.expected_status_counts(story.min_margin), month.period
        assert dict(Counter(lines["price_status"])) == month.expected_price_status_counts(story.min_margin)
        assert {str(s).lower() for s in result.missing["subscription_id"]} == month.expected_missing()
        assert result.summary.not_checked_other_currency == month.expected_not_checked() == 1
        assert set(lines.loc[lines["needs_person"].astype(bool), "line_id"]) == month.expected_needs_person(
            story.min_margin)


def test_new_persisting_and_resolved_are_what_the_engine_finds(story: Story) -> None:
    """The engine's exceptions month by month give exactly the plan's new, still open (with the month each
    began) and resolved subscriptions."""
    open_since: dict[str, str] = {}
    previous: set[str] = set()
    for index, (month, result) in enumerate(story.months()):
        found = engine_exceptions(result)
        assert found == set(month.exceptions(story.min_margin)), month.period
        open_since = {sub: open_since.get(sub, month.period) for sub in found}
        moved = transitions(story.plan.months[index - 1] if index else None, month, story.min_margin)
        assert set(moved.new) == found - previous
        assert moved.persisting == {sub: since for sub, since in open_since.items() if sub in previous}
        assert set(moved.resolved) == previous - found
        previous = found


def test_exceptions_persist_resolve_and_appear(story: Story) -> None:
    """The second month keeps some of the first month's exceptions open and resolves others; the third brings
    new ones. Some stay open two months running, since the first."""
    months = story.plan.months
    second, third = (transitions(months[i - 1], months[i], story.min_margin) for i in (1, 2))
    assert second.persisting and second.resolved and second.new
    assert set(second.persisting.values()) == {months[0].period}
    assert third.new and third.resolved
    assert months[0].period in set(third.persisting.values())
    assert months[1].fixed and all(months[1].fixed[name] for name in months[1].fixed)


def test_the_readme_tells_each_month(story: Story) -> None:
    """README.md has the commands to run each month and a section per month with its exception counts."""
    text = (story.folder / "README.md").read_text(encoding="utf-8")
    months = story.plan.months
    for index, month in enumerate(months):
        moved = transitions(months[index - 1] if index else None, month)
        assert f"## {month.period}: invoices {month.invoice_numbers[0]}" in text
        assert f"--as-of {month.as_of.isoformat()}" in text
        assert (f"**{len(moved.new) + len(moved.persisting):,} exceptions** need a person: {len(moved.new):,} new, "
                f"{len(moved.persisting):,} still open; {len(moved.resolved):,} resolved") in text
    assert "$ recon diff" in text


# ---- seed and size ---------------------------------------------------------------------------------------


def test_the_seed_changes_the_story(tmp_path: Path) -> None:
    """Other seeds fix other exceptions and plant other ones."""
    stories = [generate_sample(tmp_path / str(seed), lines=60, seed=seed, months=3) for seed in (7, 8, 9)]
    resolved = [frozenset(transitions(s.months[0], s.months[1]).resolved.values()) for s in stories]
    planted = [tuple(sorted(s.months[2].situations.counts("planted").items())) for s in stories]
    assert len(set(resolved)) > 1 and len(set(planted)) > 1


def test_later_months_scale_with_size(tmp_path: Path) -> None:
    """Seat changes, new subscriptions and new exceptions each month are a share of the subscriptions."""
    small = generate_sample(tmp_path / "small", lines=5_000, seed=3, months=2).months[1]
    large = generate_sample(tmp_path / "large", lines=20_000, seed=3, months=2).months[1]
    for key in ("new_subscriptions", "cancelled"):
        assert 3 < large.stats[key] / small.stats[key] < 5, key
    changes = ("seats_billed", "seats_after_cycle", "seats_awaiting")
    assert 3 < sum(large.stats[k] for k in changes) / sum(small.stats[k] for k in changes) < 5
    planted = [sum(month.situations.counts("planted").values()) for month in (small, large)]
    assert 3 < planted[1] / planted[0] < 5
    seats = sum(1 for r in read_rows(large.subscriptions) if r["status"] == "active")
    assert 0.02 < sum(large.stats[k] for k in changes) / seats < 0.05


def test_what_recon_sample_says(story: Story, tmp_path: Path) -> None:
    """After writing, one line per month with its exceptions, then the commands to run each month; a single
    month says what it always said."""
    from recon_cli.sample_story import summary_lines

    lines = summary_lines(story.plan)
    assert lines[0].startswith("Wrote 3 months of one reseller") and str(story.plan.readme) in lines[0]
    for month in story.plan.months:
        assert any(line.startswith(f"  {month.invoice.parent}: {month.line_count:,} invoice lines") for line in lines)
        assert any(line.endswith(f"--changes {month.changes} --as-of {month.as_of.isoformat()}") for line in lines)
    one = generate_sample(tmp_path, lines=60, seed=7)
    assert summary_lines(one) == [
        f"Wrote 60 invoice lines for 2026-10 with {len(one.cases)} planted cases:",
        *(f"  {tmp_path / name}" for name in FILES),
        f"Next: recon run {tmp_path / 'invoice.csv'} {tmp_path / 'invoice-eur.csv'} "
        f"{tmp_path / 'subscriptions.csv'} --changes {tmp_path / 'changes.csv'}"]
