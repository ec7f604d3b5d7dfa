"""The confirm stage on in-memory frames: when a confirmation holds, what it does to lines, missing
subscriptions and the stored summary, and how it is undone.

The result lines come from the pipeline's own stages (match → explain → price → money → assemble), with
no change log: s1 is billed 12 seats at 10.00 and sold 10, so it is unexplained with residual +2 and
2 × 10.00 = 20.00 at risk; s9 is not in the export, so its 3 × 10.00 = 30.00 is at risk.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pandas as pd
import pytest

import memory
from builders import seat, subscription, usage
from recon_cli import assemble, confirm, explain, match, money, price
from recon_cli.models import RunSummary
from recon_cli.records import Confirmation

D = Decimal
NOTE = " Confirmed by ana on 2026-11-02: Customer agreed."


def confirmation(sub: str, provider: str | None, sold: str | None) -> Confirmation:
    return Confirmation(subscription_id=sub, provider_quantity=provider, subscription_quantity=sold,
                        note="Customer agreed.", confirmed_by="ana", confirmed_at="2026-11-02T10:00:00Z", run_id="r1")


def result() -> tuple[pd.DataFrame, pd.DataFrame]:
    """(result lines, keys) of rows 2–5: s1 seat 12 vs 10, s1 usage, s2 seat 5 vs 5, s9 unmatched seat 3."""
    lines = match.match_lines(memory.invoice([seat("s1", 12), usage("s1", "3.00"), seat("s2", 5), seat("s9", 3)]),
                              memory.subscriptions([subscription("s1", 10), subscription("s2", 5)]))
    decisions = explain.decide_differences(match.seat_counts(lines), None, None)
    verdicts = explain.explain_lines(lines, decisions)
    prices = price.price_lines(lines, None)
    at_risk = money.money_at_risk(lines, decisions, verdicts, prices)
    return assemble.result_lines(lines, verdicts, prices, at_risk), lines[["sub_key", "subscription_id_key"]]


def test_result_lines_before_any_confirmation() -> None:
    """The starting point the other tests rely on: statuses and money at risk of rows 2–5."""
    lines, _ = result()
    assert lines["status"].tolist() == ["unexplained", "matched", "matched", "unmatched"]
    assert lines["money_at_risk"].tolist() == [D("20.00"), D(0), D(0), D("30.00")]
    assert "original_status" not in lines.columns


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
    """A confirmation holds while both quantities shown equal the confirmed ones as numbers; None matches only None."""
    assert confirm.holds(confirmation("s1", provider, sold), shown_provider, shown_sold) is expected


def test_note_text() -> None:
    """The note names who confirmed, the day (not the time) and the note, with one full stop."""
    assert confirm.note_text(confirmation("s1", "12", "10")) == NOTE


# --- apply_confirmations ---------------------------------------------------------------------------


def test_apply_confirmations_confirms_non_matched_lines_that_still_show_the_quantities() -> None:
    """s1 confirmed at 12 vs 10.0 and s9 (given as ' S9 ') at 3 vs none: both seat lines become confirmed, money at
    risk 0, note appended, originals kept; s1's usage line and s2 stay as they were."""
    lines, keys = result()
    before = lines.copy()
    out = confirm.apply_confirmations(lines, keys, [confirmation("s1", "12", "10.0"), confirmation(" S9 ", "3", None)])
    assert out["status"].tolist() == ["confirmed", "matched", "matched", "confirmed"]
    assert out["reason"].tolist() == ["confirmed", "usage_line", "quantity_equal", "confirmed"]
    assert out["money_at_risk"].tolist() == [D(0), D(0), D(0), D(0)]
    assert out["explanation"].tolist() == [before["explanation"][0] + NOTE, *before["explanation"][1:3],
                                           before["explanation"][3] + NOTE]
    assert out["original_status"].tolist() == ["unexplained", None, None, "unmatched"]
    assert out["original_reason"].tolist() == ["no_change_log", None, None, "subscription_not_found"]
    assert out["original_money_at_risk"].tolist() == [D("20.00"), None, None, D("30.00")]
    assert out["original_explanation"].tolist() == [before["explanation"][0], None, None, before["explanation"][3]]
    # The input frame is not changed.
    pd.testing.assert_frame_equal(lines, before)


@pytest.mark.parametrize("stale", [
    pytest.param(confirmation("s1", "11", "10"), id="provider-quantity-changed"),
    pytest.param(confirmation("s1", "12", "9"), id="subscription-quantity-changed"),
    pytest.param(confirmation("s9", "3", "3"), id="unmatched-now-shows-no-subscription-quantity"),
    pytest.param(confirmation("s2", "5", "5"), id="only-matched-lines"),
])
def test_confirmation_stops_when_the_quantities_change(stale: Confirmation) -> None:
    """A confirmation whose quantities are no longer shown, or that names only matched lines, changes nothing."""
    lines, keys = result()
    out = confirm.apply_confirmations(lines, keys, [stale])
    assert out["status"].tolist() == ["unexplained", "matched", "matched", "unmatched"]
    assert out["money_at_risk"].tolist() == [D("20.00"), D(0), D(0), D("30.00")]
    assert "original_status" not in out.columns


@memory.src_bug("PRODUCT.md §3 rule 9 — a confirmed line's price status becomes `confirmed`; apply_confirmations "
                "leaves price_status as it was")
def test_confirmed_line_has_price_status_confirmed() -> None:
    """s1's confirmed seat line shows price status confirmed."""
    lines, keys = result()
    out = confirm.apply_confirmations(lines, keys, [confirmation("s1", "12", "10")])
    assert out["price_status"][0] == "confirmed"


@memory.src_bug("PRODUCT.md §3 rule 9 — when a confirmed quantity changes the confirmation stops applying 'and the "
                "explanation says so'; apply_confirmations says nothing")
def test_stale_confirmation_is_mentioned() -> None:
    """s1 confirmed at 11 vs 10 now shows 12 vs 10: still unexplained, and its explanation mentions the confirmation."""
    lines, keys = result()
    out = confirm.apply_confirmations(lines, keys, [confirmation("s1", "11", "10")])
    assert out["status"][0] == "unexplained"
    assert "confirm" in out["explanation"][0].lower()


# --- missing subscriptions -------------------------------------------------------------------------


def test_confirm_missing_accepts_an_absence_while_the_seats_are_the_same() -> None:
    """m1 confirmed absent at 8 seats stays listed with reason confirmed; m2 (confirmed at 4, now 5) and m3 (a line
    confirmation, with a provider quantity) are untouched."""
    subs = memory.subscriptions([subscription("m1", 8), subscription("m2", 5), subscription("M3", 2)])
    due = match.missing_subscriptions(subs, pd.Series([], dtype="str"), "2026-10")
    missing = assemble.missing_frame(due, explain.missing_texts(due, "2026-10"), "USD")
    out = confirm.confirm_missing(missing, [confirmation("M1", None, "8"), confirmation("m2", None, "4"),
                                            confirmation("m3", "2", "2")])
    assert out["reason"].tolist() == ["confirmed", "not_on_invoice", "not_on_invoice"]
    assert out["explanation"].tolist() == [missing["explanation"][0] + NOTE, *missing["explanation"][1:]]
    assert missing["reason"].tolist() == ["not_on_invoice"] * 3
    assert confirm.confirm_missing(missing, []) is missing


# --- the stored summary ----------------------------------------------------------------------------


def summary(**values: Any) -> RunSummary:
    base: dict[str, Any] = dict(
        run_id="r1", created_at="2026-11-01T00:00:00Z", period="2026-10", invoice_file="invoice.csv",
        subscriptions_file="subscriptions.csv", changes_file=None, invoice_format="nce",
        status_counts={"matched": 2, "unexplained": 1, "unmatched": 1},
        subtotal_by_status={"EUR": {"matched": "50.00"},
                            "USD": {"matched": "150.00", "unexplained": "120.00", "unmatched": "30.00"}},
        money_at_risk={"USD": "50.00"}, needs_attention=3)
    base.update(values)
    return RunSummary(**base)


def test_summary_after_moves_counts_amounts_and_needs_attention() -> None:
    """Confirming the unexplained 120.00 line (20.00 at risk) and one missing subscription: unexplained leaves the
    counts and amounts, confirmed gets 120.00, risk 50.00 − 20.00 = 30.00, needs a person 3 − 1 − 1 = 1."""
    line = {"currency": "USD", "subtotal": "120.00", "money_at_risk": "20.00"}
    start = summary()
    after = confirm.summary_after(start, [(line, "unexplained", "confirmed", "0")], missing_change=-1)
    assert after.status_counts == {"confirmed": 1, "matched": 2, "unmatched": 1}
    assert after.subtotal_by_status == {"EUR": {"matched": "50.00"},
                                        "USD": {"confirmed": "120.00", "matched": "150.00", "unmatched": "30.00"}}
    assert after.money_at_risk == {"USD": "30.00"}
    assert after.needs_attention == 1
    assert start.status_counts == {"matched": 2, "unexplained": 1, "unmatched": 1}  # a copy, not a change


def test_summary_after_round_trip_through_unconfirm() -> None:
    """Confirming the unmatched 30.00 line takes the last risk (USD dropped from money_at_risk); unconfirming it
    with unconfirmed()'s values restores the original figures exactly."""
    start = summary(status_counts={"matched": 2, "unmatched": 1},
                    subtotal_by_status={"USD": {"matched": "150.00", "unmatched": "30.00"}},
                    money_at_risk={"USD": "30.00"}, needs_attention=1)
    line = {"currency": "USD", "subtotal": "30.00", "money_at_risk": "30.00", "match_method": "none"}
    confirmed = confirm.summary_after(start, [(line, "unmatched", "confirmed", "0")])
    assert (confirmed.status_counts, confirmed.money_at_risk, confirmed.needs_attention) == (
        {"confirmed": 1, "matched": 2}, {}, 0)
    stored = {**line, "status": "confirmed", "money_at_risk": "0", "original_status": "unmatched",
              "original_reason": "subscription_not_found", "original_money_at_risk": "30.00"}
    status, reason, at_risk = confirm.unconfirmed(stored)
    assert (status, reason, at_risk) == ("unmatched", "subscription_not_found", "30.00")
    back = confirm.summary_after(confirmed, [(stored, "confirmed", status, at_risk)])
    assert (back.status_counts, back.subtotal_by_status, back.money_at_risk, back.needs_attention) == (
        start.status_counts, start.subtotal_by_status, start.money_at_risk, start.needs_attention)


@pytest.mark.parametrize(("line", "expected"), [
    pytest.param({"match_method": "subscription_id", "money_at_risk": "0", "original_status": "partially_explained",
                  "original_reason": "several_causes", "original_money_at_risk": "12.50"},
                 ("partially_explained", "several_causes", "12.50"), id="originals-kept"),
    pytest.param({"match_method": "none", "money_at_risk": "0"}, ("unmatched", "subscription_not_found", "0"),
                 id="unmatched-without-originals"),
    pytest.param({"match_method": "customer_product", "money_at_risk": "0", "original_status": None,
                  "original_reason": None, "original_money_at_risk": None},
                 ("unexplained", "no_evidence", "0"), id="matched-without-originals"),
])
def test_unconfirmed_falls_back_when_originals_are_absent(line: dict[str, Any], expected: tuple[str, str, str]
                                                          ) -> None:
    """A line stored before original_* existed goes back to needing a person: unmatched or unexplained by its match."""
    assert confirm.unconfirmed(line) == expected
