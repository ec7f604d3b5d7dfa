"""`recon sample`: the generated month is a real pair of NCE exports, and every planted case comes out as planned.

One month at a time (months=1); tests/test_sample_months.py walks several."""

from __future__ import annotations

import csv
import hashlib
import json
import re
from collections import Counter
from dataclasses import dataclass, replace
from datetime import date, datetime, time
from decimal import ROUND_DOWN, Decimal
from pathlib import Path
from typing import Any

import pytest

from builders import NCE_COLUMNS
from recon_cli.result import ReconResult
from recon_cli.sample import SamplePlan, generate_sample
from recon_cli.sample_catalog import add_months, period_offset

CENT = Decimal("0.01")
# formats/partner-center.md §1.1, in documented order (one list, kept in tests/builders.py).
DOCUMENTED_COLUMNS = NCE_COLUMNS
DATE_COLUMNS = ("OrderDate", "ChargeStartDate", "ChargeEndDate", "PCToBCExchangeRateDate",
                "SubscriptionStartDate", "SubscriptionEndDate")
MDY = re.compile(r"^(1[0-2]|[1-9])/(3[01]|[12][0-9]|[1-9])/\d{4}$")
GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def read_rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def invoice_subtotal(row: dict[str, str]) -> Decimal:
    """The subtotal the provider's formula gives (formats §1.2), seat or usage."""
    price, rate = Decimal(row["EffectiveUnitPrice"]), Decimal(row["PCToBCExchangeRate"])
    quantity = Decimal(row["BillableQuantity"])
    if row["MeterDescription"]:
        return ((price * quantity).quantize(CENT, ROUND_DOWN) * rate).quantize(CENT, ROUND_DOWN)
    return (price * rate).quantize(CENT, ROUND_DOWN) * quantity


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> SamplePlan:
    return generate_sample(tmp_path_factory.mktemp("small"), lines=60, seed=7)


@pytest.fixture(scope="module")
def medium(tmp_path_factory: pytest.TempPathFactory) -> SamplePlan:
    return generate_sample(tmp_path_factory.mktemp("medium"), lines=2000, seed=3)


# ---- the files alone -------------------------------------------------------------------------------


def test_invoice_has_the_47_documented_columns_in_order(small: SamplePlan) -> None:
    """Both invoices have exactly the NCE reconciliation layout, every row 47 cells, 60 lines in all."""
    assert [p.name for p in small.invoices] == ["invoice.csv", "invoice-eur.csv"]
    for path, count in zip(small.invoices, small.line_counts, strict=True):
        with path.open(newline="", encoding="utf-8") as handle:
            rows = list(csv.reader(handle))
        assert rows[0] == DOCUMENTED_COLUMNS
        assert {len(row) for row in rows} == {47}
        assert len(rows) - 1 == count
    assert small.line_count == sum(small.line_counts) == 60


def test_invoice_is_written_as_the_portal_does(small: SamplePlan) -> None:
    """CRLF line endings, no BOM, one invoice number and one billing currency per file, M/D/YYYY dates."""
    for path, count, number, currency in zip(small.invoices, small.line_counts, ("G000123456", "G000123457"),
                                             ("USD", "EUR"), strict=True):
        raw = path.read_bytes()
        assert not raw.startswith(b"\xef\xbb\xbf")
        assert raw.count(b"\r\n") == count + 1
        rows = read_rows(path)
        assert {r["InvoiceNumber"] for r in rows} == {number}
        assert {r["Currency"] for r in rows} == {currency}
        for row in rows:
            for column in DATE_COLUMNS:
                assert row[column] == "" or MDY.match(row[column]), (column, row[column])


def test_sku_ids_keep_their_leading_zeros(medium: SamplePlan) -> None:
    """SkuId stays four characters, "0001" and "000P" included."""
    skus = {r["SkuId"] for r in read_rows(medium.invoice)}
    assert {"0001", "0002", "000P"} <= skus
    assert all(len(s) == 4 for s in skus)


def test_amounts_follow_the_rounddown_formulas(medium: SamplePlan) -> None:
    """Seat and usage subtotals are the provider's truncated formulas; Total = Subtotal + TaxTotal."""
    rows = read_rows(medium.invoice)
    for row in rows:
        assert Decimal(row["Subtotal"]) == invoice_subtotal(row), row
        assert Decimal(row["Total"]) == Decimal(row["Subtotal"]) + Decimal(row["TaxTotal"])
    assert any(r["PricingCurrency"] == "EUR" and r["PCToBCExchangeRate"] != "1" for r in rows)
    assert any(Decimal(r["Subtotal"]) < 0 for r in rows)  # reversals and refunds


def test_guids_are_lower_case_but_one(small: SamplePlan) -> None:
    """Every GUID is lower-case, except the planted upper-case subscription id."""
    rows = read_rows(small.invoice)
    upper = small.case("uppercase_guid").invoice_subscription_id
    assert upper is not None and upper == upper.upper()
    for row in rows:
        for column in ("PartnerId", "CustomerId", "SubscriptionId"):
            assert GUID.match(row[column]) or row[column] == upper, (column, row[column])
    assert sum(r["SubscriptionId"] == upper for r in rows) == 1


def test_json_cells_are_quoted_arrays(medium: SamplePlan) -> None:
    """PriceAdjustmentDescription holds JSON arrays on some rows; ProductQualifiers is [] but on the add-on."""
    rows = read_rows(medium.invoice)
    notes = [json.loads(r["PriceAdjustmentDescription"]) for r in rows if r["PriceAdjustmentDescription"]]
    assert ["15.0% Partner earned credit for services managed"] in notes
    assert all(isinstance(n, list) for n in notes)
    assert {r["ProductQualifiers"] for r in rows} == {"[]", '["AddOn"]'}
    addon = {r["SubscriptionId"] for r in rows if r["ProductQualifiers"] != "[]"}
    assert addon == {medium.case("free_addon_pair").subscription_id}


def test_line_kinds_are_all_present(small: SamplePlan) -> None:
    """Seat lines carry a commitment term (one with a blank frequency); usage a meter; one-time neither,
    or a reservation id."""
    rows = read_rows(small.invoice)
    seat = [r for r in rows if "commitment" in r["TermAndBillingCycle"] and not r["ReservationOrderId"]]
    assert {r["BillingFrequency"] for r in seat} == {"Monthly", "Annual", ""}
    (blank,) = [r for r in seat if r["BillingFrequency"] == ""]
    assert (blank["ChargeStartDate"], blank["ChargeEndDate"]) == ("10/28/2026", "10/27/2027")
    usage = [r for r in rows if r["MeterDescription"]]
    assert usage and all(r["BillingFrequency"] == "" and r["ProductId"].startswith("DZH318Z0") for r in usage)
    (reservation,) = [r for r in rows if r["ReservationOrderId"]]
    assert reservation["ProductId"].startswith("DZH318Z0") and not reservation["MeterDescription"]
    assert len(rows) - len(seat) - len(usage) == 2  # the software purchase and the reservation
    assert {"cycleCharge", "renew", "new", "addQuantity", "removeQuantity", "cancelImmediate", "convert"} <= {
        r["ChargeType"] for r in rows}


def test_same_day_pair_comes_before_its_new_line(small: SamplePlan) -> None:
    """The out-of-order case writes the addQuantity pair first, all three on one OrderDate (Microsoft B1–B3)."""
    rows = read_rows(small.invoice)
    ids = small.case("same_day_out_of_order").line_ids
    lines = [rows[int(i.rsplit("-", 1)[1]) - 2] for i in ids]
    assert [(r["ChargeType"], r["Quantity"]) for r in lines] == [("addQuantity", "10"), ("addQuantity", "12"),
                                                                 ("new", "10")]
    assert len({r["OrderDate"] for r in lines}) == 1


def test_upgrades_follow_microsofts_pattern(small: SamplePlan) -> None:
    """Convert lines share a ReferenceId; the whole upgrade stays on one id, the partial one moves to a new id."""
    rows = {small.line_id(i): r for i, r in enumerate(read_rows(small.invoice), 2)}
    whole = [rows[i] for i in small.case("whole_upgrade").line_ids]
    assert [r["ChargeType"] for r in whole] == ["new", "convert", "convert"]
    assert len({r["SubscriptionId"] for r in whole}) == 1 and whole[1]["ReferenceId"] == whole[2]["ReferenceId"]
    assert whole[1]["ProductName"] != whole[2]["ProductName"] and Decimal(whole[1]["Subtotal"]) < 0
    source = [rows[i] for i in small.case("partial_upgrade_source").line_ids]
    (target,) = [rows[i] for i in small.case("partial_upgrade_target").line_ids]
    assert target["SubscriptionId"] != source[0]["SubscriptionId"]
    assert source[1]["ReferenceId"] == target["ReferenceId"] and source[1]["Quantity"] == target["Quantity"]


def test_free_addon_pair_has_two_zero_halves(small: SamplePlan) -> None:
    """Both halves of the free add-on's pair are 0.00; the half with 10 restates the earlier count."""
    rows = {small.line_id(i): r for i, r in enumerate(read_rows(small.invoice), 2)}
    pair = [rows[i] for i in small.case("free_addon_pair").line_ids if rows[i]["ChargeType"] == "addQuantity"]
    assert sorted(r["Quantity"] for r in pair) == ["10", "13"]
    assert {r["Subtotal"] for r in pair} == {"0.00"}


def test_subscription_and_change_log_layouts(small: SamplePlan) -> None:
    """The reseller's files have the PRODUCT.md §2 columns; one quantity is written 1,200."""
    subs = read_rows(small.subscriptions)
    assert list(subs[0]) == ["subscription_id", "customer_id", "customer_name", "product", "quantity",
                             "unit_price", "unit_cost", "currency", "billing_frequency", "status",
                             "start_date"]
    assert '"1,200"' in small.subscriptions.read_text(encoding="utf-8")
    assert {s["billing_frequency"] for s in subs} == {"monthly", "annual", "triennial", "usage"}
    assert {s["status"] for s in subs} == {"active", "suspended", "cancelled"}
    assert {s["currency"] for s in subs} == {"USD", "EUR", "GBP"}
    split = small.case("split_export_rows").subscription_id
    assert sorted(s["quantity"] for s in subs if s["subscription_id"] == split) == ["4", "6"]
    changes = read_rows(small.changes)
    assert list(changes[0]) == ["change_id", "subscription_id", "effective_date", "quantity_delta",
                                "provisioning_status", "initiated_by", "customer_invoice", "status_reason"]
    classic = next(c for c in changes if c["change_id"] == small.case("explained_after_as_of").evidence[0])
    assert classic == {**classic, "effective_date": "2026-10-12", "quantity_delta": "+2",
                       "provisioning_status": "Provisioned", "initiated_by": "jane.doe@reseller.example",
                       "customer_invoice": "", "status_reason": "Active"}
    (scheduled,) = small.case("scheduled_reduction").scheduled
    later = next(c for c in changes if c["change_id"] == scheduled)
    assert later["effective_date"] > "2028" and later["quantity_delta"] == "-5"


def test_bulk_reconciles_by_construction(medium: SamplePlan) -> None:
    """Bulk seats equal their subscription, sell at 15% margin or more, and old changes predate October."""
    subs = {s["subscription_id"]: s for s in read_rows(medium.subscriptions)}
    bulk = read_rows(medium.invoice)[medium.planted_lines:]
    assert len(bulk) == medium.bulk_seat_lines + medium.bulk_usage_lines
    bulk_subs = set()
    for row in bulk:
        sub = subs[row["SubscriptionId"]]
        bulk_subs.add(row["SubscriptionId"])
        if row["MeterDescription"]:
            continue
        rate = Decimal(row["PCToBCExchangeRate"])
        cost = (Decimal(row["EffectiveUnitPrice"]) * rate).quantize(CENT, ROUND_DOWN)
        price = Decimal(sub["unit_price"])
        assert sub["quantity"] == row["Quantity"] and (price - cost) / price >= Decimal("0.15")
        assert sub["unit_cost"] in ("", str(cost))
        assert row["ChargeStartDate"].startswith("10/") and row["OrderDate"] == row["ChargeStartDate"]
        assert int(sub["start_date"][8:]) == int(row["ChargeStartDate"].split("/")[1])
        if row["BillingFrequency"] == "Annual":
            assert sub["billing_frequency"] == "annual" and sub["start_date"][5:7] == "10"
    old = [c for c in read_rows(medium.changes) if c["subscription_id"] in bulk_subs]
    assert old
    assert all(c["effective_date"] < "2026-10" and c["status_reason"] == "Archived" and c["customer_invoice"]
               and c["provisioning_status"] in ("Provisioned", "Not Applicable") for c in old)


def test_planted_rows_do_not_depend_on_size(tmp_path: Path) -> None:
    """The planted cases keep their rows and content whatever the bulk size."""
    small = generate_sample(tmp_path / "a", lines=10, seed=5)
    large = generate_sample(tmp_path / "b", lines=500, seed=5)
    assert small.cases == large.cases
    assert small.line_counts[0] == small.planted_lines  # fewer lines asked than planted: no bulk
    assert read_rows(small.invoice) == read_rows(large.invoice)[:small.planted_lines]
    assert read_rows(small.invoices[1]) == read_rows(large.invoices[1])
    assert large.line_count == 500
    assert small.case("explained_after_as_of").line_ids == ["G000123456-3"]
    assert small.case("matched").line_ids == ["G000123456-2"]
    assert small.case("eur_matched").line_ids == ["G000123457-2"]
    assert small.case("eur_unexplained").line_ids == ["G000123457-3"]


def test_generation_is_deterministic_per_seed(tmp_path: Path) -> None:
    """The same seed writes byte-identical files; another seed writes other ids."""
    names = ("invoice.csv", "invoice-eur.csv", "subscriptions.csv", "changes.csv")
    one, two, other = (generate_sample(tmp_path / d, lines=300, seed=s) for d, s in
                       (("one", 1), ("two", 1), ("other", 2)))
    for name in names:
        assert (tmp_path / "one" / name).read_bytes() == (tmp_path / "two" / name).read_bytes()
        assert (tmp_path / "one" / name).read_bytes() != (tmp_path / "other" / name).read_bytes()
    assert replace(two, invoices=one.invoices, subscriptions=one.subscriptions, changes=one.changes) == one
    assert one.case("matched").subscription_id != other.case("matched").subscription_id


def test_expected_counts_cover_every_line(small: SamplePlan) -> None:
    """The plan's status and price status counts add up to both invoices' line count."""
    counts = small.expected_status_counts()
    assert sum(counts.values()) == small.line_count
    assert counts["unmatched"] == 2 and counts["explained"] == 3 and counts["unexplained"] == 6
    assert small.expected_missing() == {small.case(name).subscription_id
                                        for name in ("missing_monthly", "missing_annual", "triennial_due")}
    assert small.expected_not_checked() == 1
    prices = small.expected_price_status_counts()
    assert sum(prices.values()) == small.line_count
    assert prices["ok"] + prices["not_applicable"] + prices["no_price"] + 3 == small.line_count
    assert small.expected_price_status_counts(Decimal(10))["low_margin"] == 1
    assert small.expected_needs_person(Decimal(10)) - small.expected_needs_person() == set(
        small.case("low_margin").line_ids)


def test_every_planted_line_has_its_expectations(small: SamplePlan) -> None:
    """Each planted line has a status, reason, price status and kind; each case with lines cites or tells a story."""
    for case in small.cases:
        if case.line_ids:
            assert None not in (case.expected_status, case.expected_reason, case.price_status(), case.kind), case.name
        assert case.description.endswith((".", ")")), case.name
    cited = [c.name for c in small.cases if "Microsoft " in c.description and any(ch.isdigit() for ch in
                                                                                   c.description)]
    assert {"same_day_out_of_order", "whole_upgrade", "partial_upgrade_source", "partial_upgrade_target",
            "blank_frequency_seat", "add_quantity", "remove_quantity", "cancelled"} <= set(cited)


def test_a_hundred_thousand_lines(tmp_path: Path) -> None:
    """A 100k-line month generates (in about a second; speed itself is measured in bench/), with exactly
    the lines asked for and about 2% of its subscriptions carrying a planted situation."""
    plan = generate_sample(tmp_path, lines=100_000, seed=1)
    assert plan.line_count == 100_000
    with plan.invoice.open("rb") as handle:
        assert sum(1 for _ in handle) == plan.line_counts[0] + 1
    planted = len(plan.cases) + len(plan.situations)
    subscriptions = sum(1 for _ in plan.subscriptions.open("rb")) - 1
    assert 0.015 * subscriptions < planted < 0.03 * subscriptions


# The sha256 of the four files `recon sample` wrote before it learned to write several months: one month
# is still byte for byte what it was (sample_data/ is (60, 7)).
BEFORE_MONTHS = {
    (60, 7): ("fcf8eeb41bceb0ff5fafaf258ee05aca686524208b52395655d72defdc167df4",
              "56ab86b4998dd4a534ad9083bb494428c5269a70a564adc847d83062aa71a9f4",
              "e263a1ebbd68ebb148bead69098869b2d0d95449d0fda085a4f9b76e12baee53",
              "6d65ce1bae1ea2ef0a06f9d6a46ff2fd3c8ee5dc873824cc6103cdc523bbb106"),
    (300, 1): ("09b4904048d56b3d845e9b90406251a60b1fd4584e5e6a0e0d9bdaffc8ef61ee",
               "0ec23612ef2ddac3300638a83a35a9ead4846ee1f0a9557ef908048038f0beb5",
               "806a8f9c3f12228d73ee14533c87e2d4a936ec2a6d7dd27b237d70367e68e0e9",
               "c3a2cc9a2c018b1463560e05f170a9857571e6472160791f680e36842547ad98"),
    (2000, 3): ("5809940f887e994b69f3ccfca7053777d90508f0c3613a8e3d9dc78edd670c9f",
                "f41462a46a1bef0a06baac6ca3085d25ae08b1101a8b70f3cd3dbd414375e2f8",
                "7e4c1c7d62ade54758ac05cb7e2d3f2f457e4b664362de6d5596acbe0396d06f",
                "fa5227248f9b7257781e177753fd099d226438dd5863c06805cf8ad0a5e6b051"),
}


@pytest.mark.parametrize(("lines", "seed"), sorted(BEFORE_MONTHS))
def test_one_month_is_byte_identical_to_before(tmp_path: Path, lines: int, seed: int) -> None:
    """months=1 at the default period writes the same bytes as before, up to about 2,400 lines (past that,
    planted situations scale with the size)."""
    plan = generate_sample(tmp_path, lines=lines, seed=seed, months=1)
    files = (*plan.invoices, plan.subscriptions, plan.changes)
    assert [f.name for f in files] == ["invoice.csv", "invoice-eur.csv", "subscriptions.csv", "changes.csv"]
    assert {f.parent for f in files} == {tmp_path} and plan.readme is None and plan.later == ()
    assert tuple(hashlib.sha256(f.read_bytes()).hexdigest() for f in files) == BEFORE_MONTHS[lines, seed]
    assert len(plan.situations) == 0


def test_planted_situations_scale_with_size(tmp_path: Path) -> None:
    """Past the hand-built cases, about 2% of the subscriptions carry a situation: four times the lines,
    about four times the situations; a small month has none beyond the documented cases."""
    planted = {}
    for lines in (1000, 6000, 24000):
        plan = generate_sample(tmp_path / str(lines), lines=lines, seed=4)
        planted[lines] = len(plan.cases) + len(plan.situations)
        subscriptions = sum(1 for _ in plan.subscriptions.open("rb")) - 1
        assert planted[lines] >= 0.015 * subscriptions
        assert (len(plan.situations) == 0) == (lines == 1000)
    assert 3.5 < planted[24000] / planted[6000] < 4.5


def test_planted_situations_vary_with_the_seed(tmp_path: Path) -> None:
    """Two seeds plant different mixes of situations on different subscriptions; one seed, the same."""
    one, two, again = (generate_sample(tmp_path / d, lines=8000, seed=s) for d, s in
                       (("one", 1), ("two", 2), ("again", 1)))
    assert one.situations.counts() != two.situations.counts()
    assert set(one.situations.ids.tolist()).isdisjoint(two.situations.ids.tolist())
    assert one.situations == again.situations and len(one.situations.counts()) >= 8


def test_period_moves_every_date(tmp_path: Path) -> None:
    """--period 2027-03 writes the same story five months later: dates move, ids and amounts stay."""
    october = generate_sample(tmp_path / "a", lines=60, seed=7)
    march = generate_sample(tmp_path / "b", lines=60, seed=7, period="2027-03")
    assert march.period == "2027-03" and str(march.as_of) == "2027-04-09"
    before, after = read_rows(october.invoice), read_rows(march.invoice)
    assert [r["SubscriptionId"] for r in before] == [r["SubscriptionId"] for r in after]
    assert {r["ChargeStartDate"] for r in after if r["ChargeType"] == "cycleCharge"} <= {
        f"3/{day}/2027" for day in range(1, 29)}
    (scheduled,) = march.case("scheduled_reduction").scheduled
    change = next(c for c in read_rows(march.changes) if c["change_id"] == scheduled)
    assert change["effective_date"] == "2028-06-26"
    with pytest.raises(ValueError, match="YYYY-MM"):
        generate_sample(tmp_path / "c", period="2027-13")


# ---- through the pipeline ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Run:
    plan: SamplePlan
    result: ReconResult
    min_margin: Decimal | None

    def lines(self, ids: list[str]) -> list[dict[str, Any]]:
        frame = self.result.lines.set_index("line_id")
        return [frame.loc[i].to_dict() for i in ids]


RUNS = [(60, 7, None, "2026-10"), (60, 7, Decimal(10), "2026-10"), (2000, 3, None, "2026-10"),
        (2000, 11, Decimal(10), "2026-10"), (60, 7, Decimal(10), "2027-03"), (5000, 5, Decimal(10), "2026-10")]


@pytest.fixture(scope="module", params=RUNS, ids=lambda p: f"lines{p[0]}-seed{p[1]}-margin{p[2]}-{p[3]}")
def run(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Run:
    from recon_cli.pipeline import RunInputs, reconcile

    lines, seed, min_margin, period = request.param
    plan = generate_sample(tmp_path_factory.mktemp("run"), lines=lines, seed=seed, period=period)
    result = reconcile(RunInputs(invoices=plan.invoices, subscriptions=plan.subscriptions, changes=plan.changes,
                                 period=None, as_of=datetime.combine(plan.as_of, time.max), min_margin=min_margin))
    return Run(plan, result, min_margin)


def test_sample_is_read_without_rejects(run: Run) -> None:
    """Every generated row is valid: no rejects, one output line per invoice line, in order, ids per invoice."""
    assert run.result.rejects.empty
    assert run.result.lines["line_id"].tolist() == run.plan.line_ids()
    assert run.result.summary.period == run.plan.period
    assert run.result.summary.invoice_numbers == ["G000123456", "G000123457"]


PLANTED_WITH_LINES = [
    "matched", "explained_after_as_of", "explained_awaiting_provisioning", "explained_failed_provisioning",
    "partially_explained", "unexplained_old_change", "unexplained_no_changes", "add_quantity",
    "remove_quantity", "cancelled", "unmatched_seat", "unmatched_usage", "usage", "one_time",
    "annual_anniversary", "below_cost", "currency_mismatch", "cost_changed", "low_margin", "no_price",
    "fallback_customer_product", "uppercase_guid", "thousands_separator",
    # v2
    "same_day_out_of_order", "free_addon_pair", "whole_upgrade", "partial_upgrade_source",
    "partial_upgrade_target", "cancelled_but_billed", "split_export_rows", "scheduled_reduction",
    "blank_frequency_seat", "reservation", "eur_matched", "eur_unexplained",
]


def test_every_case_with_lines_is_checked(small: SamplePlan) -> None:
    """The parametrised check below names every planted case that has invoice lines."""
    assert sorted(PLANTED_WITH_LINES) == sorted(c.name for c in small.cases if c.line_ids)


@pytest.mark.parametrize("name", PLANTED_WITH_LINES)
def test_planted_case(run: Run, name: str) -> None:
    """Each planted line gets its planned status, price status, reason, kind, quantities, billing plan,
    evidence, scheduled records and need for a person."""
    case = run.plan.case(name)
    want = {key: value for key, value in {
        "status": case.expected_status, "kind": case.kind, "price_status": case.price_status(run.min_margin),
        "reason": case.expected_reason, "match_method": case.expected_match_method,
        "provider_quantity": case.provider_quantity, "subscription_quantity": case.subscription_quantity,
        "billing_frequency": case.billing_frequency,
    }.items() if value is not None}
    want |= {"evidence": sorted(case.evidence), "scheduled": sorted(case.scheduled),
             "needs_person": case.needs_person_with(run.min_margin)}
    assert case.line_ids
    for line in run.lines(case.line_ids):
        got = {key: sorted(line[key]) if key in ("evidence", "scheduled") else line[key] for key in want}
        assert got == want, line["line_id"]


def test_needs_person_is_exactly_the_planted_findings(run: Run) -> None:
    """The lines that need a person are the planted findings (failed provisioning included), and no other."""
    lines = run.result.lines
    assert set(lines.loc[lines["needs_person"].astype(bool), "line_id"]) == run.plan.expected_needs_person(
        run.min_margin)
    assert run.result.summary.needs_person == len(run.plan.expected_needs_person(run.min_margin)) + len(
        run.plan.expected_missing())


def test_failed_provisioning_is_explained_but_needs_a_person(run: Run) -> None:
    """Rule 5: an explanation resting on Failed Provisioning keeps its reason and still needs a person."""
    (line,) = run.lines(run.plan.case("explained_failed_provisioning").line_ids)
    assert (line["status"], line["reason"], line["needs_person"]) == ("explained", "failed_provisioning", True)


def test_scheduled_record_is_named_never_counted(run: Run) -> None:
    """Rule 5: the 2028 record is listed as scheduled, is no evidence, and the explanation names it."""
    case = run.plan.case("scheduled_reduction")
    (line,) = run.lines(case.line_ids)
    (change_id,) = case.scheduled
    assert line["evidence"] == [] and line["scheduled"] == [change_id]
    effective = add_months(date(2028, 1, 26), period_offset(run.plan.period)).isoformat()
    assert change_id in line["explanation"] and effective in line["explanation"]
    assert Decimal(str(line["quantity_delta"])) == 5


def test_split_export_rows_are_added_with_a_note(run: Run) -> None:
    """Rule 4: two export rows with one subscription id add up (6 + 4), and the summary notes say so."""
    sub = run.plan.case("split_export_rows").subscription_id
    assert any(sub in note and "added up" in note for note in run.result.summary.notes)


def test_partially_explained_shows_the_residual(run: Run) -> None:
    """Provider 15 + 3 evidenced = 18 against 20 recorded: 2 seats stay unexplained."""
    (line,) = run.lines(run.plan.case("partially_explained").line_ids)
    assert abs(Decimal(str(line["residual"]))) == 2


def test_missing_subscriptions(run: Run) -> None:
    """Exactly the active monthly, the October-anniversary annual and the 36-month triennial subscriptions
    are missing; the GBP one is counted as not checked; usage plans and a triennial not due never are."""
    missing = {str(s).lower() for s in run.result.missing["subscription_id"]}
    assert missing == run.plan.expected_missing()
    for case in run.plan.cases:
        assert (case.subscription_id in missing) == case.expected_missing, case.name
    assert run.result.summary.not_checked_other_currency == run.plan.expected_not_checked() == 1
    assert run.plan.case("gbp_not_checked").subscription_id not in missing
    assert {run.plan.case(n).subscription_id for n in ("triennial_not_due", "usage_plan")}.isdisjoint(missing)


def test_bulk_lines_are_all_matched(run: Run) -> None:
    """Every line after the hand-built ones, but the planted situations', matches its subscription by id;
    bulk seats price ok."""
    bulk = run.result.lines.iloc[run.plan.planted_lines:run.plan.line_counts[0]]
    assert bulk["line_id"].tolist() == run.plan.bulk_line_ids()
    assert len(bulk.loc[bulk["kind"] == "seat"]) == run.plan.bulk_seat_lines
    plain = bulk.loc[~bulk["line_id"].isin(run.plan.situations.line_ids())]
    assert set(plain["status"]) <= {"matched"}
    assert set(plain["match_method"]) <= {"subscription_id"}
    assert set(plain.loc[plain["kind"] == "seat", "price_status"]) <= {"ok"}


def test_planted_situations(run: Run) -> None:
    """Each line of a planted situation in the bulk gets its planned status, reason, price status, evidence,
    scheduled records and need for a person; each missing one is listed."""
    expected = run.plan.situations.expected_lines(run.min_margin)
    assert (len(expected) > 0) == (run.plan.line_count > 2500)
    for line_id, line in zip(expected, run.lines(list(expected)), strict=True):
        want = expected[line_id]
        got = {key: sorted(line[key]) if key in ("evidence", "scheduled") else line[key] for key in want}
        assert got == want, (line_id, line["explanation"])
    missing = {str(s).lower() for s in run.result.missing["subscription_id"]}
    assert run.plan.situations.missing() <= missing


def test_status_counts_are_exact(run: Run) -> None:
    """Counts per status and per price status, over both invoices, are the plan's."""
    lines = run.result.lines
    assert dict(Counter(lines["status"])) == run.plan.expected_status_counts(run.min_margin)
    assert run.result.summary.status_counts == run.plan.expected_status_counts(run.min_margin)
    assert dict(Counter(lines["price_status"])) == run.plan.expected_price_status_counts(run.min_margin)


def test_subtotals_add_up_to_the_invoice_to_the_cent(run: Run) -> None:
    """Σ subtotal over the result lines equals Σ Subtotal of each invoice, exactly, per currency."""
    for path, currency in zip(run.plan.invoices, ("USD", "EUR"), strict=True):
        invoice_total = sum((Decimal(r["Subtotal"]) for r in read_rows(path)), Decimal(0))
        lines = run.result.lines.loc[run.result.lines["currency"] == currency]
        assert sum((Decimal(str(s)) for s in lines["subtotal"]), Decimal(0)) == invoice_total
        assert Decimal(run.result.summary.subtotal_total[currency]) == invoice_total
