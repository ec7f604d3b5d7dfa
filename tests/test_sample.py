"""`recon sample`: the generated month is a real NCE export, and every planted case comes out as planned."""

from __future__ import annotations

import csv
import json
import re
from collections import Counter
from dataclasses import dataclass, replace
from decimal import ROUND_DOWN, Decimal
from pathlib import Path
from typing import Any

import pytest

from builders import NCE_COLUMNS
from recon_cli.result import ReconResult
from recon_cli.sample import SamplePlan, generate_sample

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
    """The header is exactly the NCE reconciliation layout, and every row has 47 cells."""
    with small.invoice.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == DOCUMENTED_COLUMNS
    assert {len(row) for row in rows} == {47}
    assert len(rows) - 1 == small.line_count == 60


def test_invoice_is_written_as_the_portal_does(small: SamplePlan) -> None:
    """CRLF line endings, no BOM, one invoice number, USD billing, M/D/YYYY dates."""
    raw = small.invoice.read_bytes()
    assert not raw.startswith(b"\xef\xbb\xbf")
    assert raw.count(b"\r\n") == small.line_count + 1
    rows = read_rows(small.invoice)
    assert {r["InvoiceNumber"] for r in rows} == {"G000123456"}
    assert {r["Currency"] for r in rows} == {"USD"}
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
    """PriceAdjustmentDescription holds JSON arrays on some rows; ProductQualifiers is []."""
    rows = read_rows(medium.invoice)
    notes = [json.loads(r["PriceAdjustmentDescription"]) for r in rows if r["PriceAdjustmentDescription"]]
    assert ["15.0% Partner earned credit for services managed"] in notes
    assert all(isinstance(n, list) for n in notes)
    assert {r["ProductQualifiers"] for r in rows} == {"[]"}


def test_line_kinds_are_all_present(small: SamplePlan) -> None:
    """Seat lines carry a commitment term and a frequency; usage a meter; one-time neither."""
    rows = read_rows(small.invoice)
    seat = [r for r in rows if "commitment" in r["TermAndBillingCycle"]]
    assert {r["BillingFrequency"] for r in seat} == {"Monthly", "Annual"}
    usage = [r for r in rows if r["MeterDescription"]]
    assert usage and all(r["BillingFrequency"] == "" and r["ProductId"].startswith("DZH318Z0") for r in usage)
    assert len(rows) - len(seat) - len(usage) == 1
    assert {"cycleCharge", "renew", "new", "addQuantity", "removeQuantity", "cancelImmediate"} <= {
        r["ChargeType"] for r in rows}


def test_subscription_and_change_log_layouts(small: SamplePlan) -> None:
    """The reseller's files have the PRODUCT.md §2 columns; one quantity is written 1,200."""
    subs = read_rows(small.subscriptions)
    assert list(subs[0]) == ["subscription_id", "customer_id", "customer_name", "product", "quantity",
                             "unit_price", "unit_cost", "currency", "billing_frequency", "status",
                             "start_date"]
    assert '"1,200"' in small.subscriptions.read_text(encoding="utf-8")
    assert {s["billing_frequency"] for s in subs} == {"monthly", "annual"}
    assert {s["status"] for s in subs} == {"active", "suspended", "cancelled"}
    changes = read_rows(small.changes)
    assert list(changes[0]) == ["change_id", "subscription_id", "effective_date", "quantity_delta",
                                "provisioning_status", "initiated_by", "customer_invoice", "status_reason"]
    classic = next(c for c in changes if c["change_id"] == small.case("explained_after_as_of").evidence[0])
    assert classic == {**classic, "effective_date": "2026-10-12", "quantity_delta": "+2",
                       "provisioning_status": "Provisioned", "initiated_by": "jane.doe@reseller.example",
                       "customer_invoice": "", "status_reason": "Active"}


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
    assert small.line_count == small.planted_lines  # fewer lines asked than planted: no bulk
    assert read_rows(small.invoice) == read_rows(large.invoice)[:small.planted_lines]
    assert large.line_count == 500
    assert small.case("explained_after_as_of").line_ids == ["G000123456-3"]
    assert small.case("matched").line_ids == ["G000123456-2"]


def test_generation_is_deterministic_per_seed(tmp_path: Path) -> None:
    """The same seed writes byte-identical files; another seed writes other ids."""
    names = ("invoice.csv", "subscriptions.csv", "changes.csv")
    one, two, other = (generate_sample(tmp_path / d, lines=300, seed=s) for d, s in
                       (("one", 1), ("two", 1), ("other", 2)))
    for name in names:
        assert (tmp_path / "one" / name).read_bytes() == (tmp_path / "two" / name).read_bytes()
        assert (tmp_path / "one" / name).read_bytes() != (tmp_path / "other" / name).read_bytes()
    assert replace(two, invoice=one.invoice, subscriptions=one.subscriptions, changes=one.changes) == one
    assert one.case("matched").subscription_id != other.case("matched").subscription_id


def test_expected_counts_cover_every_line(small: SamplePlan) -> None:
    """The plan's status counts add up to the invoice's line count."""
    counts = small.expected_status_counts()
    assert sum(counts.values()) == small.line_count
    assert counts["unmatched"] == 2 and counts["explained"] == 3
    assert small.expected_missing() == {small.case("missing_monthly").subscription_id,
                                        small.case("missing_annual").subscription_id}
    prices = small.expected_price_status_counts()
    assert prices["ok"] + 4 == sum(prices.values())
    assert small.expected_price_status_counts(Decimal(10))["low_margin"] == 1


def test_a_hundred_thousand_lines(tmp_path: Path) -> None:
    """A 100k-line month generates (in about a second; speed itself is measured in bench/)."""
    plan = generate_sample(tmp_path, lines=100_000, seed=1)
    assert plan.line_count == 100_000
    with plan.invoice.open("rb") as handle:
        assert sum(1 for _ in handle) == 100_001


# ---- through the pipeline ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Run:
    plan: SamplePlan
    result: ReconResult
    min_margin: Decimal | None

    def lines(self, ids: list[str]) -> list[dict[str, Any]]:
        frame = self.result.lines.set_index("line_id")
        return [frame.loc[i].to_dict() for i in ids]


RUNS = [(60, 7, None), (60, 7, Decimal(10)), (2000, 3, None), (2000, 11, Decimal(10))]


@pytest.fixture(scope="module", params=RUNS, ids=lambda p: f"lines{p[0]}-seed{p[1]}-margin{p[2]}")
def run(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Run:
    from recon_cli.pipeline import RunInputs, reconcile

    lines, seed, min_margin = request.param
    plan = generate_sample(tmp_path_factory.mktemp("run"), lines=lines, seed=seed)
    result = reconcile(RunInputs(invoice=plan.invoice, subscriptions=plan.subscriptions, changes=plan.changes,
                                 period=None, as_of=None, min_margin=min_margin))
    return Run(plan, result, min_margin)


def test_sample_is_read_without_rejects(run: Run) -> None:
    """Every generated row is valid: no rejects, one output line per invoice line, in order."""
    assert run.result.rejects.empty
    rows = range(2, run.plan.line_count + 2)
    assert run.result.lines["line_id"].tolist() == [run.plan.line_id(r) for r in rows]
    assert run.result.summary.period == run.plan.period


@pytest.mark.parametrize("name", [
    "matched", "explained_after_as_of", "explained_awaiting_provisioning", "explained_failed_provisioning",
    "partially_explained", "unexplained_old_change", "unexplained_no_changes", "add_quantity",
    "remove_quantity", "cancelled", "unmatched_seat", "unmatched_usage", "usage", "one_time",
    "annual_anniversary", "below_cost", "currency_mismatch", "cost_changed", "low_margin", "no_price",
    "fallback_customer_product", "uppercase_guid", "thousands_separator",
])
def test_planted_case(run: Run, name: str) -> None:
    """Each planted line gets its planned status, price status, reason, kind and quantities."""
    case = run.plan.case(name)
    want = {key: value for key, value in {
        "status": case.expected_status, "kind": case.kind, "price_status": case.price_status(run.min_margin),
        "reason": case.expected_reason, "match_method": case.expected_match_method,
        "provider_quantity": case.provider_quantity, "subscription_quantity": case.subscription_quantity,
        "evidence": sorted(case.evidence) or None,
    }.items() if value is not None}
    assert case.line_ids
    for line in run.lines(case.line_ids):
        got = {key: sorted(line[key]) if key == "evidence" else line[key] for key in want}
        assert got == want, line["line_id"]


def test_partially_explained_shows_the_residual(run: Run) -> None:
    """Provider 15 + 3 evidenced = 18 against 20 recorded: 2 seats stay unexplained."""
    (line,) = run.lines(run.plan.case("partially_explained").line_ids)
    assert abs(Decimal(str(line["residual"]))) == 2


def test_missing_subscriptions(run: Run) -> None:
    """Exactly the active monthly and the October-anniversary annual subscriptions are missing."""
    missing = {str(s).lower() for s in run.result.missing["subscription_id"]}
    assert missing == run.plan.expected_missing()
    for case in run.plan.cases:
        assert (case.subscription_id in missing) == case.expected_missing, case.name


def test_bulk_lines_are_all_matched(run: Run) -> None:
    """Every line after the planted ones matches its subscription by id; bulk seats price ok."""
    bulk = run.result.lines.iloc[run.plan.planted_lines:]
    assert bulk["line_id"].tolist() == run.plan.bulk_line_ids()
    assert set(bulk["status"]) <= {"matched"}
    assert set(bulk["match_method"]) <= {"subscription_id"}
    seats = bulk.loc[bulk["kind"] == "seat"]
    assert len(seats) == run.plan.bulk_seat_lines
    assert set(seats["price_status"]) <= {"ok"}


def test_status_counts_are_exact(run: Run) -> None:
    """Counts per status, and per price status on priced seat lines, are the plan's."""
    lines = run.result.lines
    assert dict(Counter(lines["status"])) == run.plan.expected_status_counts(run.min_margin)
    assert run.result.summary.status_counts == run.plan.expected_status_counts(run.min_margin)
    unpriced = {i for c in run.plan.cases for i in c.line_ids if c.price_status(run.min_margin) is None}
    priced = lines.loc[(lines["kind"] == "seat") & ~lines["line_id"].isin(unpriced)]
    assert dict(Counter(priced["price_status"])) == run.plan.expected_price_status_counts(run.min_margin)


def test_subtotals_add_up_to_the_invoice_to_the_cent(run: Run) -> None:
    """Σ subtotal over the result lines equals Σ Subtotal of the CSV, exactly."""
    invoice_total = sum((Decimal(r["Subtotal"]) for r in read_rows(run.plan.invoice)), Decimal(0))
    result_total = sum((Decimal(str(s)) for s in run.result.lines["subtotal"]), Decimal(0))
    assert result_total == invoice_total
    assert Decimal(run.result.summary.subtotal_total["USD"]) == invoice_total
