"""The money figures of PRODUCT.md §3 rule 10 and the provider arithmetic of rule 11, each on a tiny month
whose right answer is worked out by hand in the test's docstring."""

from __future__ import annotations

import csv
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from builders import change, month, seat, subscription
from recon_cli.pipeline import RunInputs, reconcile
from recon_cli.result import ReconResult

D = Decimal
WORKED = Path("/work/shared/samples/found/ms-learn-partner-center-docs-2023/nce-worked-examples.derived.csv")


def run(tmp_path: Path, invoice: list[dict[str, Any]], subs: list[dict[str, Any]],
        changes: list[dict[str, Any]] | None = None) -> ReconResult:
    paths = month(tmp_path, invoice, subs, changes)
    return reconcile(RunInputs(invoices=(paths["invoice"],), subscriptions=paths["subscriptions"],
                               changes=paths["changes"]), run_id="money")


def by_sub(result: ReconResult, sub: str, field: str) -> Any:
    return result.lines.loc[result.lines["subscription_id"] == sub, field].tolist()


def test_a_refund_on_an_unknown_subscription_is_never_netted_against_another_cost(tmp_path: Path) -> None:
    """u1 (unknown) costs 72.00; u2 (unknown) is a refund of −274.96. Netted, the old summary showed
    −202.96 unbilled. Per unmatched subscription: u1's net 72.00 > 0 is unbilled cost; u2's net −274.96 is
    an unclaimed credit of 274.96. Money at risk = 72.00."""
    invoice = [seat("u1", 6, "12.00"), seat("u2", 1, "-274.96", charge_type="cancelImmediate")]
    result = run(tmp_path, invoice, [subscription("known", 1)])
    summary = result.summary
    assert (summary.unbilled_cost, summary.unclaimed_credit, summary.money_at_risk) == (
        {"USD": "72.00"}, {"USD": "274.96"}, {"USD": "72.00"})
    assert by_sub(result, "u1", "money_at_risk") == [D("72.00")]
    assert (by_sub(result, "u2", "money_at_risk"), by_sub(result, "u2", "unclaimed_credit")) == (
        [D("0")], [D("274.96")])


def test_over_billed_and_under_billed_subscriptions(tmp_path: Path) -> None:
    """s1: the provider bills 10 seats at 10.00, the customer is billed for 12 at 12.00: 2 seats over-billed =
    2 x 12.00 = 24.00, a refund liability, not at risk. s2: the provider bills 7 at 10.00, the customer 5:
    2 seats under-billed = 2 x 10.00 = 20.00 at risk."""
    invoice = [seat("s1", 10, "10.00"), seat("s2", 7, "10.00")]
    result = run(tmp_path, invoice, [subscription("s1", 12, "12.00"), subscription("s2", 5, "12.00")], [])
    summary = result.summary
    assert (summary.over_billed, summary.under_billed, summary.money_at_risk) == (
        {"USD": "24.00"}, {"USD": "20.00"}, {"USD": "20.00"})
    assert (by_sub(result, "s1", "over_billed"), by_sub(result, "s1", "money_at_risk")) == ([D("24.00")], [D(0)])
    assert by_sub(result, "s2", "under_billed") == [D("20.00")]


def test_a_below_cost_subscription_loses_the_difference_on_every_seat(tmp_path: Path) -> None:
    """The provider charges 38.00 a seat, the customer pays 36.00, on 8 seats: (38.00 − 36.00) x 8 = 16.00
    lost, at risk, 16.00 a month; the line needs a person and says so in money."""
    result = run(tmp_path, [seat("s1", 8, "38.00")], [subscription("s1", 8, "36.00")])
    line = result.lines.iloc[0]
    assert (line["price_status"], line["below_cost_loss"], line["money_at_risk"], line["price_effect"]) == (
        "below_cost", D("16.00"), D("16.00"), D("16.00"))
    assert line["needs_person"] and "16.00 lost on this charge" in line["explanation"]
    assert result.summary.below_cost_loss == {"USD": "16.00"}


def test_a_below_cost_annual_subscription_is_valued_on_the_provider_period(tmp_path: Path) -> None:
    """Billed yearly at 456.00 a seat (38.00 a month), sold monthly at 36.00 (432.00 a year), 2 seats: the loss
    on this year's charge is (456.00 − 432.00) x 2 = 48.00; 4.00 a month."""
    invoice = [seat("s1", 2, "456.00", frequency="Annual", end="10/4/2027")]
    result = run(tmp_path, invoice, [subscription("s1", 2, "36.00")])
    line = result.lines.iloc[0]
    assert (line["price_status"], line["below_cost_loss"], line["price_effect"]) == (
        "below_cost", D("48.00"), D("4.00"))


def test_a_late_month_seat_add_is_not_a_changed_cost(tmp_path: Path) -> None:
    """12.00 a month; one seat added on the cycle's last day (1 of 31 days) is billed at ROUNDDOWN(12/31, 2)
    = 0.38. Rounded first and then scaled, 0.38 x 31 = 11.78 looked like a changed cost. Scaled from the
    printed price and rounded once, within 0.01 x 31 = 0.31 of the expected 12.00: ok."""
    invoice = [seat("s1", 10, "-0.38", charge_type="addQuantity", order="11/4/2026", start="11/4/2026",
                    end="11/4/2026", subtotal="-3.80"),
               seat("s1", 11, "0.38", charge_type="addQuantity", order="11/4/2026", start="11/4/2026",
                    end="11/4/2026")]
    result = run(tmp_path, invoice, [subscription("s1", 11, "14.40", unit_cost="12.00")])
    line = result.lines.iloc[1]
    assert (line["price_status"], line["unit_cost"]) == ("ok", D("11.78"))


def test_to_bill_lists_explained_records_not_yet_invoiced(tmp_path: Path) -> None:
    """The provider bills 10 seats as of 5 October; LCL-1 (+2 on 12 October, not invoiced) explains the 12.
    To bill: 2 x 12.00 = 24.00. LCL-0 (+1 on 10 August, not invoiced) explains the other subscription's gap
    from a record old enough to be forgotten billing (more than a period before 31 October)."""
    invoice = [seat("s1", 10, "10.00"), seat("s2", 4, "10.00", order="8/5/2026", start="8/5/2026", end="9/4/2026")]
    changes = [change("LCL-1", "s1", "2026-10-12", "+2"), change("LCL-0", "s2", "2026-08-10", "+1",
                                                                   status="Awaiting Provisioning")]
    paths = month(tmp_path, invoice, [subscription("s1", 12), subscription("s2", 5)], changes)
    result = reconcile(RunInputs(invoices=(paths["invoice"],), subscriptions=paths["subscriptions"],
                                 changes=paths["changes"], period="2026-10"), run_id="money")
    bill = {row["change_id"]: row for row in result.to_bill.to_dict("records")}
    assert (bill["LCL-1"]["amount"], bill["LCL-1"]["forgotten"]) == (D("24.00"), False)
    assert (bill["LCL-0"]["amount"], bill["LCL-0"]["forgotten"]) == (D("12.00"), True)
    assert (result.summary.to_bill, result.summary.to_bill_forgotten) == ({"USD": "36.00"}, {"USD": "12.00"})


def test_margin_per_customer_is_selling_value_against_provider_cost(tmp_path: Path) -> None:
    """Customer c-1: 5 seats at 10.00 cost 50.00, sold at 12.00: selling value 60.00, margin 10.00 (16.67%)."""
    result = run(tmp_path, [seat("s1", 5, "10.00")], [subscription("s1", 5, "12.00")])
    row = result.margin.iloc[0]
    assert (row["revenue"], row["cost"], row["margin"], row["margin_pct"]) == (
        D("60.00"), D("50.00"), D("10.00"), D("16.67"))
    assert result.summary.margin == {"USD": {"revenue": "60.00", "cost": "50.00", "margin": "10.00",
                                             "margin_pct": "16.67"}}


def test_usage_is_rebilled_at_its_markup(tmp_path: Path) -> None:
    """An Azure plan with a 15% markup: 3.00 + 7.00 of usage = 10.00 cost, to bill 11.50."""
    from builders import usage

    subs = [subscription("az1", 1, "", billing_frequency="usage", markup_percent="15")]
    paths = month(tmp_path, [usage("az1", "3.00"), usage("az1", "7.00", SkuId="0002")], [])
    header = list(subs[0]) if subs else []
    with (tmp_path / "subscriptions.csv").open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=header)
        writer.writeheader()
        writer.writerows(subs)
    result = reconcile(RunInputs(invoices=(paths["invoice"],), subscriptions=tmp_path / "subscriptions.csv"),
                       run_id="usage")
    row = result.usage_billing.iloc[0]
    assert (row["lines"], row["usage_cost"], row["markup_percent"], row["to_bill"]) == (2, D("10.00"), D(15),
                                                                                     D("11.50"))
    assert (result.summary.usage_cost, result.summary.usage_to_bill) == ({"USD": "10.00"}, {"USD": "11.50"})


# --- provider arithmetic (rule 11) -----------------------------------------------------------------


def worked_rows() -> list[dict[str, str]]:
    with WORKED.open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


needs_worked = pytest.mark.skipif(not WORKED.exists(), reason="Microsoft's worked examples are not on this machine")


@needs_worked
@pytest.mark.parametrize("example", ["B2", "B3", "D2", "E2", "F3", "H4", "C02", "C08"])
def test_microsoft_worked_examples_follow_one_rounding_or_are_flagged(tmp_path: Path, example: str) -> None:
    """nce-worked-examples.derived.csv (transcribed from common-billing-scenarios-onetime-recurring.md) says which
    rounding each printed total follows: 'after' (ROUNDDOWN(EUP x quantity, 2)), 'before' (ROUNDDOWN(EUP, 2) x
    quantity), 'both', or 'neither' (H4, prorated by months). With the exact effective price (UnitPrice /
    cycle days x billing days), every total Microsoft printed matches one of the two, except H4: flagged."""
    row = next(r for r in worked_rows() if r["ExampleId"] == example)
    exact = D(row["UnitPrice"]) / D(row["cycle_days"]) * D(row["billing_days"])
    exact = -exact if row["Total_as_printed"].startswith("-") else exact
    line = seat("ms", int(row["BillableQuantity"]), str(exact), subtotal=row["Total_as_printed"],
                charge_type=row["ChargeType"])
    result = run(tmp_path, [line], [subscription("ms", row["BillableQuantity"])])
    found = result.lines.iloc[0]
    assert bool(found["provider_arithmetic"]) == (row["printed_total_matches"] == "neither"), row
    if row["printed_total_matches"] in ("after", "both"):
        assert found["recomputed_subtotal_alt"] == D(row["recalc_ROUNDDOWN(EUPexact*BQ)"])
    if row["printed_total_matches"] in ("before", "both"):
        assert found["recomputed_subtotal"] == D(row["recalc_ROUNDDOWN(EUPexact)*BQ"])
    if found["provider_arithmetic"]:
        assert found["needs_person"] and "provider arithmetic" in found["explanation"]
        assert result.summary.arithmetic_findings == 1


def test_a_usage_line_is_checked_with_the_usage_formula(tmp_path: Path) -> None:
    """Usage: ROUNDDOWN(ROUNDDOWN(0.045 x 3.1618, 2) x 1, 2) = ROUNDDOWN(0.142281, 2) = 0.14. A printed 0.14 is
    right; a printed 0.20 is off by more than a cent: flagged, with both figures."""
    from builders import usage

    right = usage("az", "0.14", EffectiveUnitPrice="0.045", BillableQuantity="3.1618")
    wrong = usage("az", "0.20", EffectiveUnitPrice="0.045", BillableQuantity="3.1618", SkuId="0002")
    result = run(tmp_path, [right, wrong], [subscription("az", 1, "", billing_frequency="usage")])
    assert result.lines["provider_arithmetic"].tolist() == [False, True]
    assert result.lines["recomputed_subtotal"].tolist() == [D("0.14"), D("0.14")]


# --- properties -------------------------------------------------------------------------------------


@st.composite
def priced_months(draw: st.DrawFn) -> dict[str, Any]:
    subs, lines = [], []
    for index in range(draw(st.integers(1, 5))):
        sub = f"s{index}"
        provider = draw(st.integers(0, 12))
        price = draw(st.sampled_from(["4.00", "10.00", "12.50"]))
        lines.append(seat(sub, provider, price))
        if draw(st.booleans()):
            subs.append(subscription(sub, draw(st.integers(0, 12)), draw(st.sampled_from(["", "5.00", "12.00"]))))
    return {"lines": lines, "subs": subs or [subscription("none", 1)]}


MONEY_SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                                  HealthCheck.function_scoped_fixture])


@MONEY_SETTINGS
@given(priced_months(), st.integers(0, 4), st.sampled_from(["0.50", "5.00"]))
def test_money_at_risk_never_goes_down_when_a_cost_goes_up(tmp_path_factory: pytest.TempPathFactory,
                                                           data: dict[str, Any], pick: int, more: str) -> None:
    """Raising one line's provider price (and its subtotal with it) never lowers the money at risk, and the
    lines' shares always add up to the summary's figure."""
    folder = tmp_path_factory.mktemp("money")
    before = run(folder, data["lines"], data["subs"])
    lines = [dict(line) for line in data["lines"]]
    target = lines[pick % len(lines)]
    price = D(target["EffectiveUnitPrice"]) + D(more)
    target.update(seat(target["SubscriptionId"], int(target["Quantity"]), str(price)))
    after = run(tmp_path_factory.mktemp("money"), lines, data["subs"])
    for result in (before, after):
        shares = sum(result.lines["money_at_risk"], D(0))
        assert shares == D(result.summary.money_at_risk.get("USD", "0"))
    assert D(after.summary.money_at_risk.get("USD", "0")) >= D(before.summary.money_at_risk.get("USD", "0"))
