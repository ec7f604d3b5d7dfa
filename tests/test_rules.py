"""PRODUCT.md §3 rules, one small month at a time."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from builders import change, month, seat, subscription, usage
from recon_cli.pipeline import RunInputs, reconcile
from recon_cli.result import ReconResult

D = Decimal


def run(tmp_path: Path, invoice: list[dict[str, Any]], subs: list[dict[str, Any]],
        changes: list[dict[str, Any]] | None = None, **options: Any) -> ReconResult:
    paths = month(tmp_path, invoice, subs, changes)
    return reconcile(RunInputs(invoices=(paths["invoice"],), subscriptions=paths["subscriptions"],
                               changes=paths["changes"], **options), run_id="test")


def line(result: ReconResult, row: int) -> dict[str, Any]:
    return result.lines.loc[result.lines["row"] == row].iloc[0].to_dict()


def test_line_ids_use_invoice_number_or_file_stem(tmp_path: Path) -> None:
    """A line id is <InvoiceNumber>-<row>, or <file stem>-<row> when the invoice number is blank."""
    result = run(tmp_path, [seat("s1", 5), seat("s1", 5, invoice="")], [subscription("s1", 5)])
    assert result.lines["line_id"].tolist() == ["G000000001-2", "invoice-3"]


def test_equal_quantities_are_matched(tmp_path: Path) -> None:
    """Provider seats equal to subscription seats: matched, with the quantities shown."""
    result = run(tmp_path, [seat("s1", 5)], [subscription("s1", 5)], [])
    first = line(result, 2)
    assert (first["status"], first["reason"]) == ("matched", "quantity_equal")
    assert (first["provider_quantity"], first["subscription_quantity"], first["quantity_delta"]) == (5, 5, 0)
    assert first["as_of"] == "2026-10-05"


def test_guid_matching_ignores_case_and_braces(tmp_path: Path) -> None:
    """Subscription GUIDs compare case-insensitively."""
    guid = "9d7d1f3d-c8de-461c-db6d-91debd5129f0"
    result = run(tmp_path, [seat(guid.upper(), 5)], [subscription("{" + guid + "}", 5)])
    assert line(result, 2)["status"] == "matched"


def test_add_quantity_pair_uses_the_positive_half(tmp_path: Path) -> None:
    """The negative half of an addQuantity pair is a reversal and sets nothing."""
    invoice = [
        seat("s1", 10, order="10/3/2026", start="10/3/2026", end="11/2/2026"),
        seat("s1", 10, charge_type="addQuantity", order="10/14/2026", start="10/14/2026", end="11/2/2026",
             subtotal="-63.30"),
        seat("s1", 13, charge_type="addQuantity", order="10/14/2026", start="10/14/2026", end="11/2/2026"),
    ]
    result = run(tmp_path, invoice, [subscription("s1", 13)])
    assert set(result.lines["status"]) == {"matched"}
    assert line(result, 3)["provider_quantity"] == 13
    assert line(result, 2)["as_of"] == "2026-10-14"


def test_reversal_listed_last_still_sets_nothing(tmp_path: Path) -> None:
    """Order is by OrderDate then ChargeStartDate then row; a later negative line never decides."""
    invoice = [
        seat("s1", 13, charge_type="addQuantity", order="10/14/2026"),
        seat("s1", 10, order="10/3/2026"),
        seat("s1", 10, charge_type="addQuantity", order="10/14/2026", subtotal="-63.30"),
    ]
    result = run(tmp_path, invoice, [subscription("s1", 10)])
    assert line(result, 2)["provider_quantity"] == 13
    assert line(result, 2)["status"] == "unexplained"


def test_cancellation_as_latest_event_means_zero(tmp_path: Path) -> None:
    """A cancellation as the latest event means 0 seats."""
    invoice = [seat("s1", 5, order="10/1/2026"),
               seat("s1", 5, charge_type="cancelImmediate", order="10/4/2026", subtotal="-40.00")]
    result = run(tmp_path, invoice, [subscription("s1", 0, status="cancelled")])
    assert line(result, 2)["provider_quantity"] == 0
    assert set(result.lines["status"]) == {"matched"}


def test_change_after_as_of_explains_the_difference(tmp_path: Path) -> None:
    """A change effective after the provider's as-of, closing the gap: explained, naming the record."""
    result = run(tmp_path, [seat("s1", 10)], [subscription("s1", 12)],
                 [change("LCL-1", "s1", "2026-10-12", "+2"), change("LCL-0", "s1", "2026-09-01", "+10")])
    first = line(result, 2)
    assert (first["status"], first["reason"], first["quantity_delta"]) == ("explained", "changed_after_as_of", -2)
    assert first["evidence"] == ["LCL-1"]
    assert "LCL-1: +2 seats effective 2026-10-12, Provisioned, by jane@reseller.example, not yet invoiced" in \
        first["explanation"]
    assert result.evidence["change_id"].tolist() == ["LCL-1"]


def test_as_of_flag_excludes_later_changes(tmp_path: Path) -> None:
    """--as-of: a change effective after it does not count as evidence."""
    result = run(tmp_path, [seat("s1", 10)], [subscription("s1", 12)],
                 [change("LCL-1", "s1", "2026-10-12", "+2")], as_of=datetime(2026, 10, 10, 23, 59))
    assert line(result, 2)["status"] == "unexplained"


@pytest.mark.parametrize("status, reason", [("Awaiting Provisioning", "awaiting_provisioning"),
                                            ("Failed Provisioning", "failed_provisioning")])
def test_unprovisioned_changes_count_whenever_effective(tmp_path: Path, status: str, reason: str) -> None:
    """A change that never reached the provider explains the gap even when dated before the as-of."""
    result = run(tmp_path, [seat("s1", 10)], [subscription("s1", 8)],
                 [change("LCL-9", "s1", "2026-09-20", "-2", status=status)])
    assert (line(result, 2)["status"], line(result, 2)["reason"]) == ("explained", reason)


def test_partial_evidence_shows_the_residual(tmp_path: Path) -> None:
    """Evidence that does not close the gap: partially_explained with the residual."""
    result = run(tmp_path, [seat("s1", 15)], [subscription("s1", 20)],
                 [change("LCL-1", "s1", "2026-10-20", "+3")])
    first = line(result, 2)
    assert first["status"] == "partially_explained"
    assert first["residual"] == -2
    assert "−2 seats remain unexplained" in first["explanation"]
    # v2 rule 10: 2 seats billed to the customer that the provider does not bill are over-billed (a refund
    # liability at the 12.00 unit price), not money at risk.
    assert (first["money_at_risk"], first["over_billed"]) == (D("0"), D("24.00"))


def test_no_change_log_says_so(tmp_path: Path) -> None:
    """Without any change log the run works and says no difference could be explained."""
    result = run(tmp_path, [seat("s1", 9)], [subscription("s1", 7)])
    assert (line(result, 2)["status"], line(result, 2)["reason"]) == ("unexplained", "no_change_log")


def test_unmatched_line_is_unbilled_cost(tmp_path: Path) -> None:
    """A line whose subscription is not in the export is unmatched, and its cost is never re-billed."""
    result = run(tmp_path, [seat("s1", 5), seat("zz", 2, customer="c-9", product="Visio Plan 2")],
                 [subscription("s1", 5)])
    assert line(result, 3)["status"] == "unmatched"
    assert line(result, 3)["match_method"] == "none"
    assert line(result, 3)["explanation"].startswith("Subscription zz is not in the subscription export")
    assert result.summary.unbilled_cost == {"USD": "20.00"}


def test_customer_product_fallback_says_so(tmp_path: Path) -> None:
    """No id match, but one subscription with the same customer and product: matched, and said so."""
    result = run(tmp_path, [seat("new-id", 5, customer="c-7", product="Visio Plan 2")],
                 [subscription("old-id", 5, customer_id="c-7", product="visio plan 2")])
    first = line(result, 2)
    assert (first["status"], first["match_method"]) == ("matched", "customer_product")
    assert "old-id" in first["explanation"]
    assert result.missing.empty


def test_ambiguous_fallback_does_not_match(tmp_path: Path) -> None:
    """Two candidate subscriptions for one customer and product: no guess, the line stays unmatched."""
    subs = [subscription("a", 5, customer_id="c-7", product="Visio Plan 2"),
            subscription("b", 5, customer_id="c-7", product="Visio Plan 2")]
    result = run(tmp_path, [seat("new-id", 5, customer="c-7", product="Visio Plan 2")], subs)
    assert line(result, 2)["status"] == "unmatched"


def test_usage_and_one_time_lines_skip_quantity_rules(tmp_path: Path) -> None:
    """Usage and one-time lines are matched and reported, with no quantity comparison."""
    one_time = seat("s1", 1, frequency="", TermAndBillingCycle="One-Time", product="Reservation")
    result = run(tmp_path, [usage("s1", "0.14"), one_time], [subscription("s1", 1)])
    assert result.lines["kind"].tolist() == ["usage", "one_time"]
    assert result.lines["status"].tolist() == ["matched", "matched"]
    assert result.lines["reason"].tolist() == ["usage_line", "one_time_line"]
    assert result.lines["provider_quantity"].tolist() == [None, None]


def test_missing_subscriptions_follow_billing_frequency(tmp_path: Path) -> None:
    """Monthly is due every period, annual on its anniversary month; inactive or empty ones never."""
    subs = [
        subscription("s1", 5),
        subscription("monthly", 3),
        subscription("annual-due", 3, billing_frequency="annual", start_date="2024-10-20"),
        subscription("annual-not-due", 3, billing_frequency="annual", start_date="2024-03-20"),
        subscription("suspended", 3, status="suspended"),
        subscription("empty", 0),
        subscription("future", 3, start_date="2026-11-15"),
    ]
    result = run(tmp_path, [seat("s1", 5)], subs)
    assert result.summary.period == "2026-10"
    assert sorted(result.missing["subscription_id"]) == ["annual-due", "monthly"]
    assert set(result.missing["reason"]) == {"not_on_invoice"}


@pytest.mark.parametrize("sub_extra, options, expected", [
    ({"currency": "EUR"}, {}, "currency_mismatch"),
    ({"unit_price": "9.00"}, {}, "below_cost"),
    ({"unit_cost": "8.00"}, {}, "cost_changed"),
    ({"unit_cost": "10.01"}, {}, "ok"),
    ({"unit_price": "10.50"}, {"min_margin": D("10")}, "low_margin"),
    ({"unit_price": "10.50"}, {}, "ok"),
    ({"unit_price": ""}, {}, "no_price"),
    ({"unit_price": "144.00", "billing_frequency": "annual"}, {}, "ok"),
    ({"unit_price": "100.00", "billing_frequency": "annual"}, {}, "below_cost"),
])
def test_price_status(tmp_path: Path, sub_extra: dict[str, str], options: dict[str, Any], expected: str) -> None:
    """Price status follows rule 8's order, on the same billing period."""
    result = run(tmp_path, [seat("s1", 5, "10.00")], [subscription("s1", 5, **sub_extra)], **options)
    assert line(result, 2)["price_status"] == expected


def test_prorated_line_is_scaled_to_its_full_cycle(tmp_path: Path) -> None:
    """A prorated seat line's unit cost is scaled to the full charge cycle before comparing."""
    # Cycle 10/3–11/2 (31 days); seats added 10/14 are charged 20 days at 20/31 of 31.00 = 20.00.
    invoice = [seat("s1", 3, "20.00", order="10/14/2026", start="10/14/2026", end="11/2/2026",
                    charge_type="addQuantity")]
    result = run(tmp_path, invoice, [subscription("s1", 3, "33.00", unit_cost="31.00")])
    first = line(result, 2)
    assert first["unit_cost"] == D("31.00")
    assert first["price_status"] == "ok"


def test_exchange_rate_applies_to_the_cost(tmp_path: Path) -> None:
    """Unit cost is ROUNDDOWN(EffectiveUnitPrice x PCToBCExchangeRate, 2) in the billing currency."""
    invoice = [seat("s1", 2, "10.00", rate="0.923456789", currency="EUR")]
    result = run(tmp_path, invoice, [subscription("s1", 2, "9.50", currency="EUR")])
    assert line(result, 2)["unit_cost"] == D("9.23")
    assert line(result, 2)["subtotal"] == D("18.46")


def test_blank_subscription_currency_follows_each_line(tmp_path: Path) -> None:
    """A subscription without a currency is compared in its invoice line's currency, whatever the invoice's mix."""
    invoice = [seat("s1", 1, currency="EUR"), seat("s2", 1), seat("s3", 1)]
    subs = [subscription("s1", 1, currency=""), subscription("s2", 1, currency=""), subscription("s3", 1)]
    assert run(tmp_path, invoice, subs).lines["price_status"].tolist() == ["ok", "ok", "ok"]


def test_billing_plan_without_term_text_is_a_seat_line(tmp_path: Path) -> None:
    """A line with a billing frequency, no meter and a blank term is still a licence line."""
    result = run(tmp_path, [seat("s1", 4, TermAndBillingCycle="")], [subscription("s1", 5)])
    assert (line(result, 2)["kind"], line(result, 2)["status"]) == ("seat", "unexplained")


def test_totals_are_exact_per_currency(tmp_path: Path) -> None:
    """The summary's subtotal per currency equals the sum of the input to the cent."""
    invoice = [seat("s1", 3, "0.10"), seat("s2", 1, "0.20", currency="EUR"), usage("s1", "0.01")]
    result = run(tmp_path, invoice, [subscription("s1", 3), subscription("s2", 1, currency="EUR")])
    assert result.summary.subtotal_total == {"EUR": "0.20", "USD": "0.31"}


def test_confirmation_applies_while_quantities_hold(tmp_path: Path) -> None:
    """A confirmation turns the same difference into confirmed, and lapses when it changes."""
    from recon_cli.pipeline import RunInputs, reconcile
    from recon_cli.records import Confirmation

    paths = month(tmp_path, [seat("s1", 9)], [subscription("s1", 7)])
    # v2 rule 9: a confirmation also records the provider unit cost and the unit price it accepted.
    held = Confirmation(subscription_id="S1", provider_quantity="9", subscription_quantity="7", note="agreed",
                        confirmed_by="ana", confirmed_at="2026-11-02T10:00:00Z", run_id="r1", unit_cost="10.00",
                        unit_price="12.00")
    inputs = RunInputs(invoices=(paths["invoice"],), subscriptions=paths["subscriptions"])
    assert reconcile(inputs, [held], run_id="x").lines["status"].tolist() == ["confirmed"]
    lapsed = held.model_copy(update={"subscription_quantity": "8"})
    assert reconcile(inputs, [lapsed], run_id="x").lines["status"].tolist() == ["unexplained"]
    repriced = reconcile(inputs, [held.model_copy(update={"unit_price": "11.00"})], run_id="x").lines.iloc[0]
    assert repriced["status"] == "unexplained"
    assert "no longer applies: the unit price was 11.00 and is now 12.00" in repriced["explanation"]


def test_seat_margin_is_weighted_by_yearly_sales(tmp_path: Path) -> None:
    """The summary's seat margin weights each priced subscription by its sales in a year."""
    invoice = [seat("s1", 5, "10.00"), seat("s2", 1, "10.00")]
    result = run(tmp_path, invoice, [subscription("s1", 5, "12.00"), subscription("s2", 1, "20.00")])
    assert result.summary.annual_revenue == {"USD": "960.00"}
    # (720 x 16.67% + 240 x 50%) / 960 = 25.00%
    assert result.summary.margin_pct == {"USD": "25.00"}
