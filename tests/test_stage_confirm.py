"""The confirm stage on in-memory frames: what needs a person, when a confirmation holds, what it does to
lines, missing subscriptions and the stored summary, and how it is undone.

The result lines come from the pipeline's own stages (match → explain → price → money → needs a person →
assemble, in pipeline.reconcile's order), with no change log: s1 is billed 12 seats at 10.00 and sold 10 at
12.00, so it is unexplained with residual +2 and 2 × 10.00 = 20.00 at risk; s9 is not in the export, so its
3 × 10.00 = 30.00 is at risk.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pandas as pd
import pytest

import memory
from builders import change, seat, subscription, usage
from recon_cli import assemble, confirm, explain, match, pipeline
from recon_cli.models import RunSummary
from recon_cli.records import Confirmation
from recon_cli.summary import RunFacts, summarise

D = Decimal
NOTE = " Confirmed by ana on 2026-11-02: Customer agreed."
LAPSED = " A confirmation by ana on 2026-11-02 no longer applies: "


def confirmation(sub: str, provider: str | None, sold: str | None, cost: str | None = None,
                 sell: str | None = None) -> Confirmation:
    """A confirmation of these provider and subscription quantities, provider unit cost and unit price."""
    return Confirmation(subscription_id=sub, provider_quantity=provider, subscription_quantity=sold,
                        unit_cost=cost, unit_price=sell, note="Customer agreed.", confirmed_by="ana",
                        confirmed_at="2026-11-02T10:00:00Z", run_id="r1")


def s1(provider: str = "12", sold: str = "10.0", cost: str = "10.00", sell: str = "12.00") -> Confirmation:
    """A confirmation of s1, by default of what it shows: 12 vs 10 seats, cost 10.00, price 12.00."""
    return confirmation("s1", provider, sold, cost, sell)


def _series(values: Any, lines: pd.DataFrame) -> pd.Series:
    return values if isinstance(values, pd.Series) else pd.Series(values, index=lines.index)


def result_of(invoice: list[dict[str, Any]], subs: list[dict[str, Any]]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(result lines, keys) as pipeline.reconcile builds them before applying confirmations."""
    lines = match.match_lines(memory.invoice(invoice), memory.subscriptions(subs))
    decisions = explain.decide_differences(match.seat_counts(lines), None, memory.RUN_AS_OF)
    return pipeline.assess(lines, decisions, None), lines[["sub_key", "subscription_id_key"]]


def result() -> tuple[pd.DataFrame, pd.DataFrame]:
    """(result lines, keys) of rows 2–5: s1 seat 12 vs 10, s1 usage, s2 seat 5 vs 5, s9 unmatched seat 3."""
    return result_of([seat("s1", 12), usage("s1", "3.00"), seat("s2", 5), seat("s9", 3)],
                     [subscription("s1", 10), subscription("s2", 5)])


def test_result_lines_before_any_confirmation() -> None:
    """The starting point the other tests rely on: statuses, price statuses, money at risk and who needs a person."""
    lines, _ = result()
    assert lines["status"].tolist() == ["unexplained", "matched", "matched", "unmatched"]
    assert lines["price_status"].tolist() == ["ok", "not_applicable", "ok", "no_price"]
    assert lines["money_at_risk"].tolist() == [D("20.00"), D(0), D(0), D("30.00")]
    assert lines["needs_person"].tolist() == [True, False, False, True]
    assert (lines["unit_cost"][0], lines["unit_price"][0]) == (D("10.00"), D("12.00"))
    assert "original_status" not in lines.columns


# --- findings --------------------------------------------------------------------------------------


@pytest.mark.parametrize(("status", "reason", "price_status", "expected"), [
    ("unexplained", "no_evidence", "ok", (True, False)),
    ("unexplained", "seat_count_unknown", "cost_changed", (True, True)),
    ("partially_explained", "several_causes", "no_price", (True, False)),
    ("unmatched", "subscription_rejected", "no_price", (True, False)),
    ("explained", "failed_provisioning", "ok", (True, False)),   # rule 5 (v2): the change must be retried
    ("explained", "changed_after_as_of", "ok", (False, False)),
    ("explained", "awaiting_provisioning", "low_margin", (False, True)),
    ("matched", "quantity_equal", "below_cost", (False, True)),
    ("matched", "quantity_equal", "currency_mismatch", (False, True)),
    ("matched", "quantity_equal", "no_price", (False, False)),
    ("matched", "usage_line", "not_applicable", (False, False)),
    ("matched", "credit_only", "ok", (False, False)),
    ("confirmed", "confirmed", "confirmed", (False, False)),
])
def test_findings_quantity_and_price(status: str, reason: str, price_status: str, expected: tuple[bool, bool]
                                     ) -> None:
    """PRODUCT.md §4 (v2): a line needs a person for a quantity finding (unexplained, partially explained,
    unmatched, or an explanation resting on failed provisioning) or a price finding (currency mismatch, below cost,
    cost changed, low margin); the column-wise masks agree with the one-line answer."""
    assert confirm.findings(status, reason, price_status) == expected
    one = (pd.Series([status]), pd.Series([reason]), pd.Series([price_status]))
    quantity, price_finding = confirm.finding_masks(*one)
    assert (bool(quantity[0]), bool(price_finding[0])) == expected
    assert bool(confirm.needs_person(*one)[0]) is any(expected)


# --- holds -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("provider", "sold", "shown_provider", "shown_sold", "expected"), [
    ("5", "7", D("5.0"), D("7"), True),          # compared as numbers
    ("5", "7", 5, "7.00", True),                 # int and text shown
    ("5", "7", D("6"), D("7"), False),           # provider quantity changed
    ("5", "7", D("5"), D("8"), False),           # subscription quantity changed
    ("3", None, D("3"), None, True),             # unmatched: no subscription quantity either time
    ("3", None, D("3"), "", True),               # blank text is absent
    ("3", None, D("3"), float("nan"), True),     # NaN is absent
    ("3", "3", D("3"), None, False),             # a quantity does not match an absent one...
    (None, "8", D("0"), D("8"), False),          # ...nor absent match 0
    (None, "8", None, D("8"), True),             # a missing subscription's confirmation
])
def test_holds_compares_quantities_as_numbers(provider: str | None, sold: str | None, shown_provider: Any,
                                              shown_sold: Any, expected: bool) -> None:
    """A confirmation holds while both quantities shown equal the confirmed ones as numbers; None matches only None
    (here with no unit cost or price, confirmed or shown)."""
    shown = {"provider_quantity": shown_provider, "subscription_quantity": shown_sold, "unit_cost": None,
             "unit_price": None}
    assert confirm.holds(confirmation("s1", provider, sold), shown) is expected


@pytest.mark.parametrize(("cost", "sell", "shown_cost", "shown_sell", "expected"), [
    ("10.00", "12.00", D("10"), "12.0", True),   # compared as numbers
    ("10.00", "12.00", D("10.50"), D("12"), False),  # the provider's unit cost changed
    ("10.00", "12.00", D("10"), D("11.99"), False),  # the unit price changed
    ("10.00", "12.00", D("10"), None, False),        # a price no longer given
    (None, None, None, None, True),                  # neither known either time
    (None, "12.00", D("10"), D("12"), False),        # a cost now known that was not
])
def test_holds_compares_unit_cost_and_price(cost: str | None, sell: str | None, shown_cost: Any, shown_sell: Any,
                                            expected: bool) -> None:
    """PRODUCT.md §3 rule 9 (v2): a confirmation also needs the same provider unit cost and unit price."""
    shown = {"provider_quantity": D(5), "subscription_quantity": D(5), "unit_cost": shown_cost,
             "unit_price": shown_sell}
    assert confirm.holds(confirmation("s1", "5", "5", cost, sell), shown) is expected


def test_changes_name_what_differs() -> None:
    """changes() names each value that moved, quantities as people write them; none when nothing did."""
    shown = {"provider_quantity": D(12), "subscription_quantity": D(10), "unit_cost": D("10.00"),
             "unit_price": D("12.00")}
    assert confirm.changes(s1(), shown) == []
    moved = confirm.changes(s1(provider="11", sold="9"), shown)
    assert moved == ["the provider quantity was 11 and is now 12", "the subscription quantity was 9 and is now 10"]
    priced = confirm.changes(s1(cost="9.50", sell="11.00"), shown)
    assert [text.split(" was ")[0] for text in priced] == ["the provider unit cost", "the unit price"]


def test_note_text() -> None:
    """The note names who confirmed, the day (not the time) and the note, with one full stop."""
    assert confirm.note_text(s1()) == NOTE


# --- apply_confirmations ---------------------------------------------------------------------------


def test_apply_confirmations_confirms_lines_that_need_a_person_and_still_show_the_values() -> None:
    """s1 confirmed at 12 vs 10.0 seats, cost 10.00, price 12.00, and s9 (given as ' S9 ') at 3 vs none: both seat
    lines become confirmed (price status too, PRODUCT.md §3 rule 9 v2), need nobody, note appended, originals kept;
    s1's usage line and s2 (needing nobody) stay as they were.

    PRODUCT.md §3 rule 9 (v2): s1's money at risk goes to 0, but the unmatched s9 keeps its 30.00: confirming an
    unmatched cost accepts it, it does not make it billed."""
    lines, keys = result()
    before = lines.copy()
    out = confirm.apply_confirmations(lines, keys, [s1(), confirmation(" S9 ", "3", None)])
    assert out["status"].tolist() == ["confirmed", "matched", "matched", "confirmed"]
    assert out["reason"].tolist() == ["confirmed", "usage_line", "quantity_equal", "confirmed"]
    assert out["price_status"].tolist() == ["confirmed", "not_applicable", "ok", "confirmed"]
    assert out["needs_person"].tolist() == [False, False, False, False]
    assert out["money_at_risk"].tolist() == [D(0), D(0), D(0), D("30.00")]
    assert out["explanation"].tolist() == [before["explanation"][0] + NOTE, *before["explanation"][1:3],
                                           before["explanation"][3] + NOTE]
    assert out["original_status"].tolist() == ["unexplained", None, None, "unmatched"]
    assert out["original_reason"].tolist() == ["no_change_log", None, None, "subscription_not_found"]
    assert out["original_price_status"].tolist() == ["ok", None, None, "no_price"]
    assert out["original_money_at_risk"].tolist() == [D("20.00"), None, None, D("30.00")]
    assert out["original_needs_person"].tolist() == [True, None, None, True]
    assert out["original_explanation"].tolist() == [before["explanation"][0], None, None, before["explanation"][3]]
    # The input frame is not changed.
    pd.testing.assert_frame_equal(lines, before)


@pytest.mark.parametrize(("stale", "lapsed_row", "why"), [
    pytest.param(s1(provider="11"), 0, "the provider quantity was 11 and is now 12", id="provider-quantity-changed"),
    pytest.param(s1(sold="9"), 0, "the subscription quantity was 9 and is now 10", id="subscription-quantity-changed"),
    pytest.param(s1(cost="9.50"), 0, "the provider unit cost was ", id="unit-cost-changed"),
    pytest.param(s1(sell="11.00"), 0, "the unit price was ", id="unit-price-changed"),
    pytest.param(confirmation("s9", "3", "3"), 3, "the subscription quantity was 3 and is now ",
                 id="unmatched-now-shows-no-subscription-quantity"),
    pytest.param(confirmation("s2", "5", "5", "10.00", "12.00"), None, "", id="only-lines-needing-nobody"),
])
def test_confirmation_stops_when_a_value_changes(stale: Confirmation, lapsed_row: int | None, why: str) -> None:
    """A confirmation whose values are no longer shown confirms nothing, and the explanation of the line it named
    says that it no longer applies and why (PRODUCT.md §3 rule 9 v2); one that names only lines needing nobody
    changes nothing at all."""
    lines, keys = result()
    out = confirm.apply_confirmations(lines, keys, [stale])
    assert out["status"].tolist() == ["unexplained", "matched", "matched", "unmatched"]
    assert out["price_status"].tolist() == lines["price_status"].tolist()
    assert out["needs_person"].tolist() == [True, False, False, True]
    assert out["money_at_risk"].tolist() == [D("20.00"), D(0), D(0), D("30.00")]
    assert "original_status" not in out.columns
    for row in range(4):
        if row == lapsed_row:
            assert out["explanation"][row].startswith(lines["explanation"][row] + LAPSED + why)
        else:
            assert out["explanation"][row] == lines["explanation"][row]


def test_confirmed_line_has_price_status_confirmed() -> None:
    """PRODUCT.md §3 rule 9 (v2): s1's confirmed seat line shows price status confirmed."""
    lines, keys = result()
    out = confirm.apply_confirmations(lines, keys, [s1()])
    assert out["price_status"][0] == "confirmed"


def test_stale_confirmation_is_mentioned() -> None:
    """PRODUCT.md §3 rule 9 (v2): s1 confirmed at 11 vs 10 now shows 12 vs 10: still unexplained, and its
    explanation says the confirmation no longer applies and why."""
    lines, keys = result()
    out = confirm.apply_confirmations(lines, keys, [s1(provider="11")])
    assert out["status"][0] == "unexplained"
    assert out["explanation"][0] == (lines["explanation"][0] + LAPSED + "the provider quantity was 11 and is now 12.")


def test_confirmation_accepts_a_price_finding() -> None:
    """PRODUCT.md §3 rule 9 (v2): s3 has equal seats but sells at 9.00 below the provider's 10.00 (below_cost, a
    price finding): confirming it at those values makes it confirmed; at another price it lapses."""
    lines, keys = result_of([seat("s3", 5)], [subscription("s3", 5, "9.00")])
    assert (lines["status"][0], lines["price_status"][0], lines["needs_person"][0]) == ("matched", "below_cost", True)
    out = confirm.apply_confirmations(lines, keys, [confirmation("s3", "5", "5", "10.00", "9.00")])
    assert (out["status"][0], out["reason"][0], out["price_status"][0], out["needs_person"][0]) == (
        "confirmed", "confirmed", "confirmed", False)
    assert (out["original_status"][0], out["original_price_status"][0]) == ("matched", "below_cost")
    stale = confirm.apply_confirmations(lines, keys, [confirmation("s3", "5", "5", "10.00", "8.00")])
    assert (stale["status"][0], stale["price_status"][0]) == ("matched", "below_cost")
    assert LAPSED + "the unit price was " in stale["explanation"][0]


def test_confirmation_accepts_failed_provisioning() -> None:
    """PRODUCT.md §3 rules 5 and 9 (v2): an explanation resting on failed provisioning needs a person, and a
    confirmation of it makes the line confirmed."""
    lines = match.match_lines(memory.invoice([seat("s1", 10)]), memory.subscriptions([subscription("s1", 12)]))
    decisions = explain.decide_differences(
        match.seat_counts(lines), memory.changes([change("L1", "s1", "2026-09-01", "2", status="Failed Provisioning")]),
        memory.RUN_AS_OF)
    out = pipeline.assess(lines, decisions, None)
    assert (out["status"][0], out["reason"][0], out["needs_person"][0]) == ("explained", "failed_provisioning", True)
    done = confirm.apply_confirmations(out, lines[["sub_key", "subscription_id_key"]],
                                       [confirmation("s1", "10", "12", "10.00", "12.00")])
    assert (done["status"][0], done["needs_person"][0], done["original_reason"][0]) == (
        "confirmed", False, "failed_provisioning")


def facts() -> RunFacts:
    """What summarise() needs to know about the run of result()."""
    return RunFacts(run_id="r1", period="2026-10", invoice_files=["invoice.csv"],
                    subscriptions_file="subscriptions.csv", changes_file=None, invoice_format="nce", as_of=None,
                    min_margin=None, subscription_count=2, change_count=0, has_change_log=False,
                    unknown_charge_types=[], notes=[])


def test_confirmed_unmatched_line_still_counts_in_unbilled_cost() -> None:
    """The run's summary after s9 (unmatched, 30.00) is confirmed: unbilled_cost and money at risk keep 30.00."""
    lines, keys = result()
    out = confirm.apply_confirmations(lines, keys, [confirmation("s9", "3", None)])
    due, _ = match.missing_subscriptions(memory.subscriptions([]), pd.Series([], dtype="str"), None, {"USD"}, "USD")
    missing = assemble.missing_frame(due, explain.missing_texts(due, "2026-10"), "USD")
    summary = summarise(out, missing, pd.DataFrame(), facts())
    assert summary.money_at_risk == {"USD": "50.00"}
    assert summary.unbilled_cost == {"USD": "30.00"}


# --- missing subscriptions -------------------------------------------------------------------------


def texts(column: pd.Series) -> list[str | None]:
    return [None if pd.isna(value) else value for value in column]


def test_confirm_missing_accepts_an_absence_while_the_seats_are_the_same() -> None:
    """m1 confirmed absent at 8 seats stays listed with reason confirmed and needs nobody; m2 (confirmed at 4, now 5)
    stays not_on_invoice and its explanation says the confirmation lapsed (PRODUCT.md §3 rule 9 v2); m3 (a line
    confirmation, with a provider quantity) is untouched."""
    subs = memory.subscriptions([subscription("m1", 8), subscription("m2", 5), subscription("M3", 2)])
    due, _ = match.missing_subscriptions(subs, pd.Series([], dtype="str"), "2026-10", {"USD"}, "USD")
    missing = assemble.missing_frame(due, explain.missing_texts(due, "2026-10"), "USD")
    out = confirm.confirm_missing(missing, [confirmation("M1", None, "8"), confirmation("m2", None, "4"),
                                            confirmation("m3", "2", "2")])
    assert out["reason"].tolist() == ["confirmed", "not_on_invoice", "not_on_invoice"]
    assert out["needs_person"].tolist() == [False, True, True]
    assert out["explanation"].tolist() == [
        missing["explanation"][0] + NOTE,
        missing["explanation"][1] + LAPSED + "the quantity was 4 and is now 5.",
        missing["explanation"][2]]
    # Absent originals are missing values (None or NaN, as the column's dtype holds them).
    assert texts(out["original_reason"]) == ["not_on_invoice", None, None]
    assert texts(out["original_explanation"]) == [missing["explanation"][0], None, None]
    assert missing["reason"].tolist() == ["not_on_invoice"] * 3
    assert missing["needs_person"].tolist() == [True] * 3
    assert confirm.confirm_missing(missing, []) is missing


# --- the stored summary ----------------------------------------------------------------------------


def summary(**values: Any) -> RunSummary:
    base: dict[str, Any] = dict(
        run_id="r1", created_at="2026-11-01T00:00:00Z", period="2026-10", invoice_file="invoice.csv",
        subscriptions_file="subscriptions.csv", changes_file=None, invoice_format="nce",
        status_counts={"matched": 2, "unexplained": 1, "unmatched": 1},
        price_status_counts={"no_price": 1, "ok": 3},
        subtotal_by_status={"EUR": {"matched": "50.00"},
                            "USD": {"matched": "150.00", "unexplained": "120.00", "unmatched": "30.00"}},
        money_at_risk={"USD": "50.00"}, needs_attention=3, price_findings=0, needs_person=3)
    base.update(values)
    return RunSummary(**base)


CONFIRMED = {"status": "confirmed", "reason": "confirmed", "price_status": "confirmed"}


def test_summary_after_moves_counts_amounts_and_needs_attention() -> None:
    """Confirming the unexplained 120.00 line (20.00 at risk) and one missing subscription: unexplained leaves the
    counts and amounts, confirmed gets 120.00, risk 50.00 − 20.00 = 30.00, quantity findings and people needed
    3 − 1 − 1 = 1; its price status moves from ok to confirmed."""
    line = {"currency": "USD", "subtotal": "120.00", "money_at_risk": "20.00", "status": "unexplained",
            "reason": "no_change_log", "price_status": "ok"}
    start = summary()
    after = confirm.summary_after(start, [(line, {**CONFIRMED, "money_at_risk": "0"})], missing_change=-1)
    assert after.status_counts == {"confirmed": 1, "matched": 2, "unmatched": 1}
    assert after.price_status_counts == {"confirmed": 1, "no_price": 1, "ok": 2}
    assert after.subtotal_by_status == {"EUR": {"matched": "50.00"},
                                        "USD": {"confirmed": "120.00", "matched": "150.00", "unmatched": "30.00"}}
    assert after.money_at_risk == {"USD": "30.00"}
    assert (after.needs_attention, after.price_findings, after.needs_person) == (1, 0, 1)
    assert start.status_counts == {"matched": 2, "unexplained": 1, "unmatched": 1}  # a copy, not a change


@pytest.mark.parametrize(("status", "reason", "price_status", "expected"), [
    pytest.param("matched", "quantity_equal", "below_cost", (3, 0, 2), id="price-finding"),
    pytest.param("unexplained", "no_evidence", "cost_changed", (2, 0, 2), id="both-findings"),
    pytest.param("explained", "failed_provisioning", "ok", (2, 1, 2), id="failed-provisioning"),
])
def test_summary_after_counts_quantity_and_price_findings(status: str, reason: str, price_status: str,
                                                          expected: tuple[int, int, int]) -> None:
    """PRODUCT.md §4 (v2): confirming a line takes away its quantity finding (needs_attention), its price finding
    (price_findings), and the line once from needs_person however many findings it had."""
    start = summary(needs_attention=3, price_findings=1, needs_person=3)
    line = {"currency": "USD", "subtotal": "0", "money_at_risk": "0", "status": status, "reason": reason,
            "price_status": price_status}
    after = confirm.summary_after(start, [(line, {**CONFIRMED, "money_at_risk": "0"})])
    assert (after.needs_attention, after.price_findings, after.needs_person) == expected


def test_summary_after_round_trip_through_unconfirm() -> None:
    """Confirming the unmatched 30.00 line takes the last quantity finding but keeps its 30.00 at risk (PRODUCT.md
    §3 rule 9 v2: accepting an unmatched cost does not bill it); unconfirming it with unconfirmed()'s values
    restores the original figures exactly."""
    start = summary(status_counts={"matched": 2, "unmatched": 1}, price_status_counts={"no_price": 1, "ok": 2},
                    subtotal_by_status={"USD": {"matched": "150.00", "unmatched": "30.00"}},
                    money_at_risk={"USD": "30.00"}, needs_attention=1, needs_person=1)
    line = {"currency": "USD", "subtotal": "30.00", "money_at_risk": "30.00", "match_method": "none",
            "status": "unmatched", "reason": "subscription_not_found", "price_status": "no_price",
            "explanation": "Subscription s9 is not in the subscription export.", "needs_person": True,
            "under_billed": "0", "over_billed": "0", "below_cost_loss": "0", "price_effect": "0"}
    confirmed = confirm.summary_after(start, [(line, {**CONFIRMED, "money_at_risk": "30.00"})])
    assert (confirmed.status_counts, confirmed.money_at_risk, confirmed.needs_attention, confirmed.needs_person) == (
        {"confirmed": 1, "matched": 2}, {"USD": "30.00"}, 0, 0)
    assert confirmed.price_status_counts == {"confirmed": 1, "ok": 2}
    stored = {**line, **CONFIRMED, "needs_person": False, "explanation": line["explanation"] + NOTE,
              **{f"original_{name}": line[name] for name in confirm.RESTORED}}
    restored = confirm.unconfirmed(stored)
    assert restored == {name: line[name] for name in confirm.RESTORED}
    back = confirm.summary_after(confirmed, [(stored, restored)])
    assert (back.status_counts, back.price_status_counts, back.subtotal_by_status, back.money_at_risk,
            back.needs_attention, back.price_findings, back.needs_person) == (
        start.status_counts, start.price_status_counts, start.subtotal_by_status, start.money_at_risk,
        start.needs_attention, start.price_findings, start.needs_person)


@pytest.mark.parametrize(("line", "expected"), [
    pytest.param({"match_method": "subscription_id", "money_at_risk": "0", "price_status": "confirmed",
                  "explanation": "E. Confirmed.", "original_status": "partially_explained",
                  "original_reason": "several_causes", "original_price_status": "below_cost",
                  "original_explanation": "E.", "original_money_at_risk": "12.50", "original_needs_person": True},
                 ("partially_explained", "several_causes", "below_cost", "E.", "12.50"), id="originals-kept"),
    pytest.param({"match_method": "none", "money_at_risk": "0", "price_status": "ok", "explanation": "X."},
                 ("unmatched", "subscription_not_found", "ok", "X.", "0"), id="unmatched-without-originals"),
    pytest.param({"match_method": "customer_product", "money_at_risk": "0", "price_status": "ok",
                  "explanation": "Y.", "original_status": None, "original_reason": None,
                  "original_money_at_risk": None},
                 ("unexplained", "no_evidence", "ok", "Y.", "0"), id="matched-without-originals"),
])
def test_unconfirmed_falls_back_when_originals_are_absent(line: dict[str, Any],
                                                          expected: tuple[str, str, str, str, str]) -> None:
    """A line goes back to what its original_* fields kept; a line stored before those existed goes back to needing
    a person: unmatched or unexplained by its match. Either way it needs a person again."""
    status, reason, price_status, explanation, at_risk = expected
    assert confirm.unconfirmed(line) == {"status": status, "reason": reason, "price_status": price_status,
                                         "explanation": explanation, "money_at_risk": at_risk, "needs_person": True,
                                         "under_billed": None, "over_billed": None, "below_cost_loss": None,
                                         "price_effect": None}
