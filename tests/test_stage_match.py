"""The match stage on in-memory frames: pairing, the provider's seat count, the period and what is missing.

Partner Center examples come from /work/shared/samples/found/ms-learn-partner-center-docs-2023/
(`nce-worked-examples.derived.csv`, transcribed from `common-billing-scenarios-onetime-recurring.md`).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pandas as pd
import pytest

import memory
from builders import seat, subscription, usage
from recon_cli import match

D = Decimal
GUID = "9d7d1f3d-c8de-461c-db6d-91debd5129f0"
# The subscription of Microsoft's worked examples C01–F3.
MS_SUB = "284b0ff0-0e74-4f65-cb23-f8ad95867994"


def lines_of(invoice: list[dict[str, Any]], subs: list[dict[str, Any]]) -> pd.DataFrame:
    return match.match_lines(memory.invoice(invoice), memory.subscriptions(subs))


def counts_of(invoice: list[dict[str, Any]], subs: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """seat_counts() as {group_key: row}."""
    groups = match.seat_counts(lines_of(invoice, subs))
    return {row["group_key"]: row for row in groups.to_dict("records")}


def bs(qty: int, eup: str, subtotal: str, charge_type: str, order: str, end: str, **extra: Any) -> dict[str, Any]:
    """A Microsoft 365 Business Standard line of Microsoft's worked examples (EUR, start = order date)."""
    return seat(MS_SUB, qty, eup, charge_type=charge_type, order=order, start=order, end=end, subtotal=subtotal,
                product="Microsoft 365 Business Standard", currency="EUR", **extra)


# --- pairing ---------------------------------------------------------------------------------------


def test_id_match_ignores_case_braces_and_spaces() -> None:
    """An upper-case invoice GUID matches the export's ' {guid} ' and carries the export's own fields."""
    lines = lines_of([seat(GUID.upper(), 5)], [subscription(" {" + GUID + "} ", 5, "12.00")])
    first = lines.iloc[0]
    assert (first["sub_key"], first["match_method"], first["group_key"]) == (GUID, "subscription_id", GUID)
    # The export's id is kept as written (stripped by normalize); quantity and price come from the export.
    assert first["matched_subscription_id"] == "{" + GUID + "}"
    assert (first["subscription_quantity"], first["unit_price"]) == (D(5), D("12.00"))


def test_fallback_pairs_customer_and_product_when_unambiguous() -> None:
    """An invoice id absent from the export pairs with the one unclaimed export row of its customer and product."""
    lines = lines_of([seat("inv-x", 5)], [subscription("exp-y", 5)])
    first = lines.iloc[0]
    assert (first["sub_key"], first["match_method"], first["matched_subscription_id"]) == (
        "exp-y", "customer_product", "exp-y")
    assert first["group_key"] == "exp-y"


@pytest.mark.parametrize(("invoice", "subs"), [
    pytest.param([seat("inv-x", 5)], [subscription("exp-a", 5), subscription("exp-b", 5)], id="two-export-rows"),
    pytest.param([seat("inv-x", 5), seat("inv-z", 5)], [subscription("exp-a", 5)], id="two-invoice-subscriptions"),
])
def test_fallback_refused_when_ambiguous_either_way(invoice: list[dict[str, Any]], subs: list[dict[str, Any]]
                                                    ) -> None:
    """Customer + product naming two candidates on either side matches nothing."""
    lines = lines_of(invoice, subs)
    assert lines["sub_key"].tolist() == [""] * len(invoice)
    assert set(lines["match_method"]) == {"none"}
    # Unmatched lines group by the invoice's own id.
    assert lines["group_key"].tolist() == ["inv:" + row["SubscriptionId"] for row in invoice]


def test_fallback_never_takes_an_export_row_matched_by_id() -> None:
    """An export row claimed by an id match is not offered to the fallback, so the other invoice id stays unmatched."""
    lines = lines_of([seat("s1", 5), seat("inv-x", 5)], [subscription("s1", 5)])
    assert lines["match_method"].tolist() == ["subscription_id", "none"]
    assert lines["sub_key"].tolist() == ["s1", ""]
    assert lines["group"].tolist() == [0, 1]


@memory.src_bug("PRODUCT.md §3 rule 6 — the fallback may only match an export "
                 "row that is not cancelled; match._fallback_pairs ignores status")
def test_fallback_never_matches_a_cancelled_export_row() -> None:
    """A cancelled export row is never a customer + product fallback."""
    lines = lines_of([seat("inv-x", 5)], [subscription("exp-y", 5, status="cancelled")])
    assert lines["match_method"].tolist() == ["none"]


# --- provider quantity -----------------------------------------------------------------------------


def test_latest_event_is_ordered_by_order_date_then_charge_start_then_row() -> None:
    """The file's row order carries no event order: OrderDate first, then ChargeStartDate, then row."""
    invoice = [
        # s1: row 2 is the later order (10/20) although it comes first: 7 seats.
        seat("s1", 7, order="10/20/2026", start="10/20/2026"),
        seat("s1", 5, order="10/5/2026", start="10/5/2026"),
        # s2: same OrderDate; the later ChargeStartDate (row 4, 8 seats) beats the later row (row 5, 6 seats).
        seat("s2", 8, order="10/5/2026", start="10/12/2026"),
        seat("s2", 6, order="10/5/2026", start="10/5/2026"),
        # s3: same OrderDate and ChargeStartDate: the later row (row 7, 9 seats) decides.
        seat("s3", 4),
        seat("s3", 9),
    ]
    got = counts_of(invoice, [subscription("s1", 7), subscription("s2", 8), subscription("s3", 9)])
    assert {k: (v["provider_quantity"], v["deciding_row"]) for k, v in got.items()} == {
        "s1": (D(7), 2), "s2": (D(8), 4), "s3": (D(9), 7)}
    assert got["s1"]["as_of"] == pd.Timestamp("2026-10-20")


def test_negative_half_of_add_quantity_pair_sets_nothing() -> None:
    """Partner Center rows B1–B3 (10 seats, +2 on 20 June 2021): the count is 12, from the positive half.

    The negative half (B2: −9.408 × 10 = −94.08) is placed last in the file, where row order alone would pick it.
    """
    invoice = [
        bs(10, "10.08", "100.80", "new", "6/18/2021", "7/17/2021"),          # B1, row 2
        bs(12, "9.408", "112.89", "addQuantity", "6/20/2021", "7/17/2021"),  # B3, row 3
        bs(10, "-9.408", "-94.08", "addQuantity", "6/20/2021", "7/17/2021"),  # B2, row 4
    ]
    got = counts_of(invoice, [subscription(MS_SUB, 12, currency="EUR", product="Microsoft 365 Business Standard")])
    row = got[MS_SUB]
    assert (row["provider_quantity"], row["deciding_row"], row["deciding_is_cancel"]) == (D(12), 3, False)
    assert row["as_of"] == pd.Timestamp("2021-06-20")
    assert row["quantity_delta"] == 0


def test_march_2022_changes_in_reverse_file_order_end_at_30_seats() -> None:
    """Partner Center rows C01–C11 (10, +5, +10, −2, −3, +10 in March 2022), newest first: 30 seats on 25 March."""
    march = [  # (qty, effective unit price, subtotal, charge type, order date), as in the article's table
        (10, "12.00", "120", "new", "3/5/2022"), (10, "-11.23", "-112.25", "addQuantity", "3/7/2022"),
        (15, "11.23", "168.38", "addQuantity", "3/7/2022"), (15, "-10.06", "-150.96", "addQuantity", "3/10/2022"),
        (25, "10.06", "251.61", "addQuantity", "3/10/2022"), (25, "-9.29", "-232.25", "removeQuantity", "3/12/2022"),
        (23, "9.29", "213.67", "removeQuantity", "3/12/2022"), (23, "-8.52", "-195.87", "removeQuantity", "3/14/2022"),
        (20, "8.52", "170.32", "removeQuantity", "3/14/2022"), (20, "-4.26", "-85.16", "addQuantity", "3/25/2022"),
        (30, "4.26", "127.74", "addQuantity", "3/25/2022"),
    ]
    invoice = [bs(q, eup, total, kind, order, "4/4/2022") for q, eup, total, kind, order in reversed(march)]
    row = counts_of(invoice, [subscription(MS_SUB, 30, product="Microsoft 365 Business Standard")])[MS_SUB]
    # C11 is the first row of the reversed file: spreadsheet row 2.
    assert (row["provider_quantity"], row["deciding_row"]) == (D(30), 2)
    assert row["as_of"] == pd.Timestamp("2022-03-25")


def test_cancellation_as_latest_event_means_zero_seats() -> None:
    """Partner Center rows D1–D2: 10 seats bought 15 July 2021, cancelImmediate on 17 July (−94.20): 0 seats."""
    invoice = [
        bs(10, "10.08", "100.80", "new", "7/15/2021", "8/14/2021"),
        bs(10, "-9.42", "-94.20", "cancelImmediate", "7/17/2021", "8/14/2021"),
    ]
    row = counts_of(invoice, [subscription(MS_SUB, 10, product="Microsoft 365 Business Standard")])[MS_SUB]
    assert (row["provider_quantity"], row["deciding_row"], row["deciding_is_cancel"]) == (D(0), 3, True)
    assert row["as_of"] == pd.Timestamp("2021-07-17")
    # The export still has 10: quantity delta = 0 − 10.
    assert row["quantity_delta"] == D(-10)


def test_quantity_delta_is_provider_minus_subscription() -> None:
    """12 billed vs 10 sold is +2, 3 vs 5 is −2; an unmatched subscription has no subscription quantity or delta."""
    got = counts_of([seat("s1", 12), seat("s2", 3), seat("s9", 4)], [subscription("s1", 10), subscription("s2", 5)])
    assert {k: (v["provider_quantity"], v["subscription_quantity"], v["quantity_delta"]) for k, v in got.items()} == {
        "s1": (D(12), D(10), D(2)), "s2": (D(3), D(5), D(-2)), "inv:s9": (D(4), None, None)}


@memory.src_bug("PRODUCT.md §3 rule 3 — on one OrderDate cancellations come after "
                 "cycleCharge whatever the row; match.latest_events has no charge-type order")
def test_same_day_cancellation_is_the_latest_event_whatever_the_row() -> None:
    """A cycleCharge and a cancellation on one OrderDate and ChargeStartDate: the cancellation is latest, 0 seats."""
    invoice = [seat("s1", 5, charge_type="cancelImmediate", subtotal="-50.00"), seat("s1", 5)]
    assert counts_of(invoice, [subscription("s1", 5)])["s1"]["provider_quantity"] == D(0)


@memory.src_bug("PRODUCT.md §3 rule 3 — in a 0.00 add-on pair the half whose "
                 "Quantity equals the earlier count is a reversal; the code takes the last row")
def test_zero_priced_add_quantity_pair_uses_the_half_that_changes_the_count() -> None:
    """A free add-on going 10 -> 13 seats: both halves are 0.00, the half restating 10 sets nothing, so 13."""
    invoice = [
        seat("s1", 10, "0", order="10/1/2026", start="10/1/2026"),
        seat("s1", 13, "0", charge_type="addQuantity", order="10/14/2026", start="10/14/2026"),
        seat("s1", 10, "0", charge_type="addQuantity", order="10/14/2026", start="10/14/2026"),
    ]
    assert counts_of(invoice, [subscription("s1", 13)])["s1"]["provider_quantity"] == D(13)


@memory.src_bug("PRODUCT.md §3 rule 3 — a negative convert sets the count before "
                 "it minus its Quantity; the code skips negative lines")
def test_partial_upgrade_leaves_the_seats_not_converted() -> None:
    """Partner Center rows F1–F2: 300 seats, 100 converted to Office 365 E1 on 25 June 2021: 200 remain."""
    invoice = [
        bs(300, "10.08", "3024", "new", "6/18/2021", "7/17/2021"),
        bs(100, "-7.72", "-772", "convert", "6/25/2021", "7/17/2021"),
    ]
    row = counts_of(invoice, [subscription(MS_SUB, 200, product="Microsoft 365 Business Standard")])[MS_SUB]
    assert row["provider_quantity"] == D(200)


@memory.src_bug("PRODUCT.md §3 rule 4 — the quantity in force of a cancelled "
                 "subscription is 0; match_lines carries the export's quantity")
def test_cancelled_subscription_has_zero_seats_in_force() -> None:
    """Provider bills 5 seats of a subscription the export marks cancelled with quantity 5: delta +5, not 0."""
    row = counts_of([seat("s1", 5)], [subscription("s1", 5, status="cancelled")])["s1"]
    assert (row["subscription_quantity"], row["quantity_delta"]) == (D(0), D(5))


# --- period and missing subscriptions --------------------------------------------------------------


def test_invoice_period_is_the_month_with_most_seat_charge_starts() -> None:
    """Two seat charges start in October and one in September; three usage lines starting in November do not count."""
    invoice = [seat("s1", 1, start="10/5/2026"), seat("s2", 1, start="10/20/2026"), seat("s3", 1, start="9/28/2026"),
               *(usage("u1", "1.00", ChargeStartDate="11/1/2026") for _ in range(3))]
    assert match.invoice_period(memory.invoice(invoice)) == "2026-10"


def test_invoice_period_tie_goes_to_the_later_month() -> None:
    """One seat charge starts in September and one in October: a tie, so the later month, 2026-10."""
    assert match.invoice_period(memory.invoice([seat("s1", 1, start="10/5/2026"),
                                                seat("s2", 1, start="9/5/2026")])) == "2026-10"


def test_missing_subscriptions_are_the_active_due_unmatched_ones() -> None:
    """Period 2026-10: monthly subscriptions are due, annual ones only in their anniversary month; suspended, zero-seat,
    not-yet-started and matched ones never are."""
    subs = memory.subscriptions([
        subscription("monthly", 5),                                                         # due
        subscription("annual-oct", 2, billing_frequency="annual", start_date="2025-10-20"),  # anniversary: due
        subscription("annual-mar", 2, billing_frequency="annual", start_date="2025-03-01"),  # not its month
        subscription("suspended", 5, status="suspended"),
        subscription("cancelled", 5, status="cancelled"),
        subscription("zero", 0),
        subscription("future", 5, start_date="2026-11-01"),                                 # starts after October
        subscription("late-in-month", 5, start_date="2026-10-31"),                          # started by month end
        subscription("billed", 5),                                                          # on the invoice
    ])
    due = match.missing_subscriptions(subs, pd.Series(["billed"], dtype="str"), "2026-10")
    assert due["subscription_id"].tolist() == ["monthly", "annual-oct", "late-in-month"]
    # No period (an undated invoice): nothing can be called missing.
    assert match.missing_subscriptions(subs, pd.Series([], dtype="str"), None).empty


@memory.src_bug("PRODUCT.md §3 rule 7 — usage subscriptions "
                 "are never due and triennial ones every 36 months from their start; normalize maps 'usage' to "
                 "monthly and missing_subscriptions treats triennial as annual")
@pytest.mark.parametrize("sub", [
    pytest.param(subscription("payg", 1, billing_frequency="usage"), id="usage"),
    pytest.param(subscription("tri", 5, billing_frequency="triennial", start_date="2024-10-01"), id="triennial"),
])
def test_usage_and_off_cycle_triennial_subscriptions_are_not_missing(sub: dict[str, Any]) -> None:
    """Period 2026-10: a usage subscription is never due; a triennial one started 2024-10 is next due 2027-10."""
    due = match.missing_subscriptions(memory.subscriptions([sub]), pd.Series([], dtype="str"), "2026-10")
    assert due["subscription_id"].tolist() == []
