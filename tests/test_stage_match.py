"""The match stage on in-memory frames: pairing, the provider's seat count, the period and what is missing.

Partner Center examples come from /work/shared/samples/found/ms-learn-partner-center-docs-2023/
(`nce-worked-examples.derived.csv`, transcribed from `common-billing-scenarios-onetime-recurring.md`).
"""

from __future__ import annotations

import random
from decimal import Decimal
from typing import Any

import pandas as pd
import pytest

import memory
from builders import seat, subscription, usage
from recon_cli import match

D = Decimal
GUID = "9d7d1f3d-c8de-461c-db6d-91debd5129f0"
# The subscription of Microsoft's worked examples C01–F3, and the Office 365 E1 subscription F3 converts into.
MS_SUB = "284b0ff0-0e74-4f65-cb23-f8ad95867994"
E1_SUB = "6759acd5-a8a9-4402-94b7-803baa64a78e"


def lines_of(invoice: list[dict[str, Any]], subs: list[dict[str, Any]]) -> pd.DataFrame:
    return match.match_lines(memory.invoice(invoice), memory.subscriptions(subs))


def counts_of(invoice: list[dict[str, Any]], subs: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """seat_counts() as {group_key: row}."""
    groups = match.seat_counts(lines_of(invoice, subs))
    return {row["group_key"]: row for row in groups.to_dict("records")}


def bs(qty: int, eup: str, subtotal: str, charge_type: str, order: str, end: str, sub: str = MS_SUB,
       product: str = "Microsoft 365 Business Standard", **extra: Any) -> dict[str, Any]:
    """A line of Microsoft's worked examples (EUR, start = order date; Microsoft 365 Business Standard unless said)."""
    return seat(sub, qty, eup, charge_type=charge_type, order=order, start=order, end=end, subtotal=subtotal,
                product=product, currency="EUR", **extra)


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


def test_fallback_never_matches_a_cancelled_export_row() -> None:
    """PRODUCT.md §3 rule 6 (v2): a cancelled export row is never a customer + product fallback; the same row
    active is one."""
    lines = lines_of([seat("inv-x", 5)], [subscription("exp-y", 5, status="cancelled")])
    assert lines["match_method"].tolist() == ["none"]
    assert lines["sub_key"].tolist() == [""]
    assert lines_of([seat("inv-x", 5)], [subscription("exp-y", 5)])["match_method"].tolist() == ["customer_product"]


def test_fallback_refused_by_a_cancelled_row_still_counts_the_active_one() -> None:
    """A cancelled row beside an active one of the same customer and product is no candidate, so the active one
    is unambiguous and pairs."""
    lines = lines_of([seat("inv-x", 5)], [subscription("exp-old", 5, status="cancelled"), subscription("exp-y", 5)])
    assert (lines["match_method"][0], lines["sub_key"][0]) == ("customer_product", "exp-y")


def test_duplicate_export_ids_add_up() -> None:
    """PRODUCT.md §3 rule 4 (v2): two export rows with one id (a subscription split over agreement lines) are one
    subscription whose quantities add up, 3 + 4 = 7, with a note; neither row is rejected."""
    typed = memory.typed_subscriptions([subscription("s1", 3), subscription("s1", 4)])
    assert typed.rejects.empty
    assert any("added up" in note for note in typed.notes)
    row = counts_of([seat("s1", 7)], [subscription("s1", 3), subscription("s1", 4)])["s1"]
    assert (row["subscription_quantity"], row["quantity_delta"]) == (D(7), D(0))


def test_line_of_a_rejected_export_row_carries_where_it_was_rejected() -> None:
    """PRODUCT.md §3 rule 6 (v2): an unmatched line whose id is on a rejected export row (quantity 'abc') carries
    the file, row and column of the reject; a line of an id never in the export carries none."""
    typed = memory.typed_subscriptions([subscription("s1", "abc"), subscription("s2", 5, customer_id="c-2")])
    lines = match.match_lines(memory.invoice([seat("s1", 5), seat("s3", 5, customer="c-3")]), typed.frame,
                              typed.rejects)
    assert lines["sub_key"].tolist() == ["", ""]
    assert lines["match_method"].tolist() == ["none", "none"]
    assert lines["rejected_row"].tolist() == [2, -1]
    assert lines["rejected_file"].tolist() == ["subscriptions.csv", ""]
    assert lines["rejected_column"].tolist() == ["quantity", ""]


def test_line_of_a_rejected_export_row_is_never_paired_by_the_fallback() -> None:
    """s1's export row is rejected; s2 (same customer and product, on no invoice line) is a different subscription,
    so s1's line stays unmatched and carries the reject."""
    typed = memory.typed_subscriptions([subscription("s1", "abc"), subscription("s2", 5)])
    lines = match.match_lines(memory.invoice([seat("s1", 5)]), typed.frame, typed.rejects)
    assert (lines["sub_key"][0], lines["match_method"][0], lines["rejected_row"][0]) == ("", "none", 2)


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


# Partner Center rows C01–C11 (10, +5, +10, −2, −3, +10 in March 2022):
# (qty, effective unit price, subtotal, charge type, order date), as in the article's table.
MARCH_2022 = [
    (10, "12.00", "120", "new", "3/5/2022"), (10, "-11.23", "-112.25", "addQuantity", "3/7/2022"),
    (15, "11.23", "168.38", "addQuantity", "3/7/2022"), (15, "-10.06", "-150.96", "addQuantity", "3/10/2022"),
    (25, "10.06", "251.61", "addQuantity", "3/10/2022"), (25, "-9.29", "-232.25", "removeQuantity", "3/12/2022"),
    (23, "9.29", "213.67", "removeQuantity", "3/12/2022"), (23, "-8.52", "-195.87", "removeQuantity", "3/14/2022"),
    (20, "8.52", "170.32", "removeQuantity", "3/14/2022"), (20, "-4.26", "-85.16", "addQuantity", "3/25/2022"),
    (30, "4.26", "127.74", "addQuantity", "3/25/2022"),
]


def test_march_2022_changes_in_reverse_file_order_end_at_30_seats() -> None:
    """Partner Center rows C01–C11, newest first: 30 seats on 25 March."""
    invoice = [bs(q, eup, total, kind, order, "4/4/2022") for q, eup, total, kind, order in reversed(MARCH_2022)]
    row = counts_of(invoice, [subscription(MS_SUB, 30, product="Microsoft 365 Business Standard")])[MS_SUB]
    # C11 is the first row of the reversed file: spreadsheet row 2.
    assert (row["provider_quantity"], row["deciding_row"]) == (D(30), 2)
    assert row["as_of"] == pd.Timestamp("2022-03-25")


@pytest.mark.parametrize("seed", [1, 7, 2022])
def test_march_2022_changes_in_shuffled_file_order_end_at_30_seats(seed: int) -> None:
    """PRODUCT.md §3 rule 3 (v2): the file's row order carries no event order. C01–C11 in a shuffled order still
    end at 30 seats on 25 March, set by C11 wherever it is."""
    rows = list(MARCH_2022)
    random.Random(seed).shuffle(rows)
    invoice = [bs(q, eup, total, kind, order, "4/4/2022") for q, eup, total, kind, order in rows]
    row = counts_of(invoice, [subscription(MS_SUB, 30, product="Microsoft 365 Business Standard")])[MS_SUB]
    assert (row["provider_quantity"], row["deciding_row"]) == (D(30), 2 + rows.index(MARCH_2022[-1]))
    assert row["as_of"] == pd.Timestamp("2022-03-25")
    assert row["quantity_delta"] == 0


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


CYCLE = seat("s1", 5)
CANCEL = seat("s1", 5, charge_type="cancelImmediate", subtotal="-50.00")


@pytest.mark.parametrize(("invoice", "cancel_row"), [
    pytest.param([CANCEL, CYCLE], 2, id="cancellation-first"),
    pytest.param([CYCLE, CANCEL], 3, id="cancellation-last"),
])
def test_same_day_cancellation_is_the_latest_event_whatever_the_row(invoice: list[dict[str, Any]],
                                                                    cancel_row: int) -> None:
    """PRODUCT.md §3 rule 3 (v2): a cycleCharge and a cancellation on one OrderDate and ChargeStartDate, in either
    row order: cancellations come last on the day, so the cancellation decides, 0 seats."""
    row = counts_of(invoice, [subscription("s1", 5)])["s1"]
    assert (row["provider_quantity"], row["deciding_row"], row["deciding_is_cancel"]) == (D(0), cancel_row, True)
    assert row["quantity_delta"] == D(-5)


ZERO_PAIR = [
    seat("s1", 10, "0", order="10/1/2026", start="10/1/2026"),
    seat("s1", 13, "0", charge_type="addQuantity", order="10/14/2026", start="10/14/2026"),
    seat("s1", 10, "0", charge_type="addQuantity", order="10/14/2026", start="10/14/2026"),
]


@pytest.mark.parametrize("order", [(0, 1, 2), (0, 2, 1), (2, 1, 0), (1, 0, 2)])
def test_zero_priced_add_quantity_pair_uses_the_half_that_changes_the_count(order: tuple[int, int, int]) -> None:
    """PRODUCT.md §3 rule 3 (v2): a free add-on going 10 -> 13 seats. Both halves are 0.00, so the half whose
    Quantity equals the earlier count (10) is the reversal and sets nothing: 13, in any row order."""
    invoice = [ZERO_PAIR[i] for i in order]
    row = counts_of(invoice, [subscription("s1", 13)])["s1"]
    assert (row["provider_quantity"], row["deciding_row"]) == (D(13), 2 + order.index(1))
    assert row["as_of"] == pd.Timestamp("2026-10-14")


# Partner Center rows F1–F3: 300 seats, 100 converted to Office 365 E1 (another subscription) on 25 June 2021.
PARTIAL_UPGRADE = [
    bs(300, "10.08", "3024", "new", "6/18/2021", "7/17/2021"),                                # F1
    bs(100, "-7.72", "-772", "convert", "6/25/2021", "7/17/2021"),                            # F2
    bs(100, "4.92", "492", "convert", "6/25/2021", "7/17/2021", sub=E1_SUB, product="Office 365 E1"),  # F3
]


@pytest.mark.parametrize("reverse", [False, True], ids=["file-order", "reversed"])
def test_partial_upgrade_leaves_the_seats_not_converted(reverse: bool) -> None:
    """PRODUCT.md §3 rule 3 (v2): a negative convert sets the count before it minus its Quantity. F2 leaves the
    source 300 − 100 = 200; the target (F3) has 100. Both agree with the export."""
    invoice = PARTIAL_UPGRADE[::-1] if reverse else PARTIAL_UPGRADE
    got = counts_of(invoice, [subscription(MS_SUB, 200, product="Microsoft 365 Business Standard"),
                              subscription(E1_SUB, 100, product="Office 365 E1")])
    assert {k: (v["provider_quantity"], v["quantity_delta"], v["count_unknown"]) for k, v in got.items()} == {
        MS_SUB: (D(200), D(0), False), E1_SUB: (D(100), D(0), False)}
    # The source's count is set by F2, the convert: row 3 in file order, row 3 reversed too (F3, F2, F1).
    assert got[MS_SUB]["deciding_row"] == 3
    assert got[MS_SUB]["as_of"] == pd.Timestamp("2021-06-25")


# Partner Center rows E1–E3: all 300 seats upgraded to Office 365 E1 on 25 June 2021, on one subscription id.
FULL_UPGRADE = [
    bs(300, "10.08", "3024", "new", "6/18/2021", "7/17/2021"),                        # E1
    bs(300, "-7.72", "-2316", "convert", "6/25/2021", "7/17/2021"),                   # E2: 300 leave
    bs(300, "4.92", "1476", "convert", "6/25/2021", "7/17/2021", product="Office 365 E1"),  # E3: 300 arrive
]


@pytest.mark.parametrize("order", [(0, 1, 2), (2, 1, 0), (2, 0, 1)])
def test_full_upgrade_on_one_subscription_id_keeps_300_seats(order: tuple[int, int, int]) -> None:
    """PRODUCT.md §3 rule 3 (v2): E2 leaves 300 − 300 = 0; on the same day seats leaving come before seats
    arriving, so E3's 300 is the count, whatever the row order."""
    invoice = [FULL_UPGRADE[i] for i in order]
    row = counts_of(invoice, [subscription(MS_SUB, 300, product="Microsoft 365 Business Standard")])[MS_SUB]
    assert (row["provider_quantity"], row["deciding_row"], row["count_unknown"]) == (D(300), 2 + order.index(2),
                                                                                     False)
    assert row["quantity_delta"] == 0


def test_negative_convert_without_an_earlier_count_is_unknown() -> None:
    """PRODUCT.md §3 rule 3 (v2): F2 alone on the invoice (100 seats leave, the count before is not there): the
    provider's count cannot be known, so `count_unknown` and no count or delta, never a guess."""
    sold = subscription(MS_SUB, 200, product="Microsoft 365 Business Standard")
    row = counts_of([PARTIAL_UPGRADE[1]], [sold])[MS_SUB]
    assert (row["provider_quantity"], row["quantity_delta"], row["count_unknown"]) == (None, None, True)
    assert (row["deciding_row"], row["as_of"]) == (2, pd.Timestamp("2021-06-25"))
    assert row["subscription_quantity"] == D(200)


def test_cancelled_subscription_has_zero_seats_in_force() -> None:
    """PRODUCT.md §3 rule 4 (v2): provider bills 5 seats of a subscription the export marks cancelled with
    quantity 5: the quantity in force is 0, so delta +5, not 0."""
    row = counts_of([seat("s1", 5)], [subscription("s1", 5, status="cancelled")])["s1"]
    assert (row["subscription_quantity"], row["quantity_delta"]) == (D(0), D(5))
    assert row["subscription_status"] == "cancelled"


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
    due, not_checked = match.missing_subscriptions(subs, pd.Series(["billed"], dtype="str"), "2026-10", {"USD"},
                                                   "USD")
    assert due["subscription_id"].tolist() == ["monthly", "annual-oct", "late-in-month"]
    assert not_checked == 0
    # No period (an undated invoice): nothing can be called missing.
    nothing, not_checked = match.missing_subscriptions(subs, pd.Series([], dtype="str"), None, {"USD"}, "USD")
    assert (nothing.empty, not_checked) == (True, 0)


def missing_of(subs: list[dict[str, Any]], currencies: set[str] | None = None, default: str = "USD"
               ) -> tuple[list[str], int]:
    """(ids missing in period 2026-10 with nothing on the invoice, how many were not checked)."""
    due, not_checked = match.missing_subscriptions(memory.subscriptions(subs), pd.Series([], dtype="str"), "2026-10",
                                                   currencies or {"USD"}, default)
    return due["subscription_id"].tolist(), not_checked


@pytest.mark.parametrize("sub", [
    pytest.param(subscription("payg", 1, billing_frequency="usage"), id="usage"),
    pytest.param(subscription("tri", 5, billing_frequency="triennial", start_date="2024-10-01"), id="triennial"),
    pytest.param(subscription("tri", 5, billing_frequency="triennial", start_date="2023-03-01"),
                 id="triennial-other-month"),
])
def test_usage_and_off_cycle_triennial_subscriptions_are_not_missing(sub: dict[str, Any]) -> None:
    """PRODUCT.md §3 rule 7 (v2), period 2026-10: a usage subscription is never due; a triennial one started
    2024-10 is next due 2027-10; one started 2023-03 is due in March."""
    assert missing_of([sub]) == ([], 0)


def test_triennial_subscription_is_due_every_36_months_from_its_start() -> None:
    """PRODUCT.md §3 rule 7 (v2): a triennial subscription started 2023-10 is due in 2026-10 (36 months on), and
    one starting in 2026-10 is due in its first month."""
    subs = [subscription("tri-2023", 5, billing_frequency="triennial", start_date="2023-10-01"),
            subscription("tri-2026", 5, billing_frequency="triennial", start_date="2026-10-15")]
    assert missing_of(subs) == (["tri-2023", "tri-2026"], 0)


def test_subscriptions_in_another_currency_are_not_checked() -> None:
    """PRODUCT.md §3 rule 7 (v2): on a USD-only run a missing EUR subscription is not listed but counted as not
    checked; a blank currency is the invoices' (default) one. With EUR invoices too, it is listed."""
    subs = [subscription("usd", 5), subscription("eur", 5, currency="EUR"), subscription("blank", 5, currency="")]
    assert missing_of(subs) == (["usd", "blank"], 1)
    assert missing_of(subs, {"USD", "EUR"}) == (["usd", "eur", "blank"], 0)
    # A EUR-only run whose default currency is EUR: the blank one is EUR, the USD one is not checked.
    assert missing_of(subs, {"EUR"}, "EUR") == (["eur", "blank"], 1)


def test_missing_uses_the_quantity_in_force() -> None:
    """PRODUCT.md §3 rule 4 and 7 (v2): two export rows of one id add up (2 + 3 = 5 seats missing)."""
    due, _ = match.missing_subscriptions(memory.subscriptions([subscription("split", 2), subscription("split", 3)]),
                                         pd.Series([], dtype="str"), "2026-10", {"USD"}, "USD")
    assert (due["subscription_id"].tolist(), due["quantity_in_force"].tolist()) == (["split"], [D(5)])
