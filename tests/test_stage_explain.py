"""The explain stage on in-memory frames: which change-log records are evidence, each decision and its text.

Most tests use one subscription, s1: the provider bills 10 seats as of 2026-10-05 (the builders' default
OrderDate), the export sells 12, so quantity delta = 10 − 12 = −2 and +2 seats of evidence close it.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pandas as pd
import pytest

import memory
from builders import change, seat, subscription, usage
from recon_cli import explain, match
from recon_cli.explain import Decisions
from recon_cli.options import parse_as_of

D = Decimal
HEAD = "Provider has 10 seats as of 2026-10-05; the subscription has 12 (−2)."
BY_JANE = "Provisioned, by jane@reseller.example, not yet invoiced"


def lines_of(invoice: list[dict[str, Any]], subs: list[dict[str, Any]]) -> pd.DataFrame:
    return match.match_lines(memory.invoice(invoice), memory.subscriptions(subs))


def decide(records: list[dict[str, Any]] | None, sold: int = 12, as_of: str | None = None) -> Decisions:
    """Decisions for s1 (10 seats billed, `sold` sold) with these change-log records (None: no change log)."""
    groups = match.seat_counts(lines_of([seat("s1", 10)], [subscription("s1", sold)]))
    changes = memory.changes(records) if records is not None else None
    return explain.decide_differences(groups, changes, parse_as_of(as_of) if as_of else None)


def only(decisions: Decisions) -> dict[str, Any]:
    """The one decided subscription."""
    assert len(decisions.decided) == 1
    return dict(decisions.decided.iloc[0])


# --- evidence ---------------------------------------------------------------------------------------


def test_change_after_provider_as_of_counts_by_calendar_day() -> None:
    """A record later on the provider's as-of day is not evidence; one on the next day is, and explains −2."""
    decided = only(decide([change("L0", "s1", "2026-10-05 18:00", "2"), change("L1", "s1", "2026-10-06", "2")]))
    assert (decided["status"], decided["reason"], decided["residual"], decided["evidence"]) == (
        "explained", "changed_after_as_of", D(0), ["L1"])
    assert decided["explanation"] == f"{HEAD} Explained by L1: +2 seats effective 2026-10-06, {BY_JANE}."


@pytest.mark.parametrize(("status", "date", "reason"), [
    ("Awaiting Provisioning", "2026-09-01", "awaiting_provisioning"),
    ("Failed Provisioning", "2026-09-01", "failed_provisioning"),
    ("Provisioned", "2026-10-20", "changed_after_as_of"),
])
def test_single_kind_of_evidence_names_the_reason(status: str, date: str, reason: str) -> None:
    """Awaiting or failed provisioning is evidence even before the provider's as-of; the reason says which kind."""
    decided = only(decide([change("L1", "s1", date, "2", status=status)]))
    assert (decided["status"], decided["reason"], decided["evidence"]) == ("explained", reason, ["L1"])


def test_several_kinds_of_evidence_in_date_order() -> None:
    """Awaiting (+1, 1 Sep) and failed (+1, 15 Sep) count, a provisioned record of 20 Sep does not: several_causes."""
    decisions = decide([
        change("L2", "s1", "2026-09-15", "1", status="Failed Provisioning"),
        change("L3", "s1", "2026-09-20", "5"),  # before 2026-10-05 and provisioned: the provider has it already
        change("L1", "s1", "2026-09-01", "1", status="Awaiting Provisioning"),
    ])
    decided = only(decisions)
    assert (decided["status"], decided["reason"], decided["evidence"]) == ("explained", "several_causes", ["L1", "L2"])
    assert decisions.evidence["evidence_kind"].tolist() == ["awaiting_provisioning", "failed_provisioning"]


def test_as_of_limit_excludes_later_records() -> None:
    """--as-of 2026-10-15 (end of day) keeps +1 on 10 Oct and +1 at 18:00 on 15 Oct, drops 16 Oct: residual −1."""
    records = [change("L1", "s1", "2026-10-10", "1"), change("L2", "s1", "2026-10-15 18:00", "1"),
               change("L3", "s1", "2026-10-16", "1")]
    limited = only(decide(records, sold=13, as_of="2026-10-15"))
    # 10 + (1 + 1) − 13 = −1
    assert (limited["status"], limited["residual"], limited["evidence"]) == ("partially_explained", D(-1), ["L1", "L2"])
    unlimited = only(decide(records, sold=13))
    assert (unlimited["status"], unlimited["residual"], unlimited["evidence"]) == (
        "explained", D(0), ["L1", "L2", "L3"])


# --- decisions --------------------------------------------------------------------------------------


def test_partially_explained_shows_the_residual() -> None:
    """10 billed, 15 sold (−5), +2 on record: residual 10 + 2 − 15 = −3, named in the text with the invoiced record."""
    decided = only(decide([change("L1", "s1", "2026-10-12", "2", initiated_by="", customer_invoice="INV-0042")],
                          sold=15))
    assert (decided["status"], decided["reason"], decided["residual"]) == (
        "partially_explained", "changed_after_as_of", D(-3))
    assert decided["explanation"] == (
        "Provider has 10 seats as of 2026-10-05; the subscription has 15 (−5). Change-log records account for +2: "
        "L1: +2 seats effective 2026-10-12, Provisioned, by unknown initiator, INV-0042; −3 seats remain unexplained.")


@pytest.mark.parametrize(("records", "reason", "tail"), [
    pytest.param([change("L9", "s2", "2026-10-12", "2")], "no_evidence",
                 "No change-log record after 2026-10-05, awaiting or failed provisioning explains it.", id="log"),
    pytest.param(None, "no_change_log", "No change log was given, so the difference cannot be explained.",
                 id="no-log"),
])
def test_unexplained_without_evidence_or_change_log(records: list[dict[str, Any]] | None, reason: str, tail: str
                                                    ) -> None:
    """No record for s1 (only one for s2), or no change log at all: unexplained, the whole −2 is the residual."""
    decisions = decide(records)
    decided = only(decisions)
    assert (decided["status"], decided["reason"], decided["residual"], decided["evidence"]) == (
        "unexplained", reason, D(-2), [])
    assert decided["explanation"] == f"{HEAD} {tail}"
    assert decisions.evidence.empty


def test_only_differences_are_decided() -> None:
    """Equal seats (delta 0) and an unmatched subscription (delta unknown) are not decided at all."""
    groups = match.seat_counts(lines_of([seat("s1", 5), seat("s9", 3)], [subscription("s1", 5)]))
    decisions = explain.decide_differences(groups, memory.changes([change("L1", "s1", "2026-10-12", "2")]), None)
    assert decisions.decided.empty
    assert decisions.evidence.empty


@memory.src_bug("PRODUCT.md §3 rule 5 — evidence must be effective on or before the run's as-of; find_evidence "
                "applies --as-of to changed-after records only, not to awaiting or failed provisioning")
def test_as_of_limit_also_bounds_awaiting_provisioning() -> None:
    """An awaiting record effective 20 Oct is scheduled, not evidence, on a run as of 15 Oct."""
    decided = only(decide([change("L1", "s1", "2026-10-20", "2", status="Awaiting Provisioning")], as_of="2026-10-15"))
    assert (decided["status"], decided["evidence"]) == ("unexplained", [])


@memory.src_bug("PRODUCT.md §3 rule 5 — scheduled records (after --as-of) are shown in the explanation, and a "
                "record effective on the provider's as-of day is mentioned as not counted; neither is mentioned")
@pytest.mark.parametrize(("date", "as_of"), [("2026-10-20", "2026-10-15"), ("2026-10-05", None)],
                         ids=["scheduled", "on-as-of-day"])
def test_records_that_do_not_count_are_still_named(date: str, as_of: str | None) -> None:
    """A record that is not evidence but bears on the difference is named in the explanation."""
    decided = only(decide([change("L1", "s1", date, "2")], as_of=as_of))
    assert decided["evidence"] == []
    assert "L1" in decided["explanation"]


# --- lines -----------------------------------------------------------------------------------------


def test_explain_lines_status_reason_and_quantities_per_kind() -> None:
    """An unexplained seat line, an equal one, usage, one-time and unmatched lines each get their status and text."""
    invoice = [
        seat("s1", 10),                                                                        # row 2: 10 vs 12
        seat("s2", 5),                                                                         # row 3: 5 vs 5
        usage("s1", "3.00"),                                                                   # row 4
        seat("s1", 1, "50.00", frequency="", TermAndBillingCycle="", product="Reservation"),  # row 5: one-time
        seat("s9", 3),                                                                         # row 6: 3 × 10.00
    ]
    lines = lines_of(invoice, [subscription("s1", 12), subscription("s2", 5)])
    assert lines["kind"].tolist() == ["seat", "seat", "usage", "one_time", "seat"]
    verdicts = explain.explain_lines(lines, explain.decide_differences(match.seat_counts(lines), None, None))
    assert list(verdicts.status) == ["unexplained", "matched", "matched", "matched", "unmatched"]
    assert list(verdicts.reason) == ["no_change_log", "quantity_equal", "usage_line", "one_time_line",
                                     "subscription_not_found"]
    assert verdicts.provider_quantity.tolist() == [D(10), D(5), None, None, D(3)]
    assert verdicts.quantity_delta.tolist() == [D(-2), D(0), None, None, None]
    assert verdicts.residual.tolist() == [D(-2), None, None, None, None]
    assert verdicts.as_of.tolist() == ["2026-10-05", "2026-10-05", "", "", "2026-10-05"]
    assert verdicts.evidence.tolist() == [[], [], [], [], []]
    assert list(verdicts.explanation[1:]) == [
        "Provider and subscription both have 5 seats (provider as of 2026-10-05).",
        "Usage on subscription s1; quantity rules do not apply to usage lines.",
        "One-time charge on subscription s1; quantity rules do not apply to one-time lines.",
        "Subscription s9 is not in the subscription export: this cost (30.00 USD) is never re-billed.",
    ]


def test_every_seat_line_of_a_decided_subscription_takes_its_decision() -> None:
    """Both seat lines of s1 are explained by L1 with residual 0; its usage line stays matched without evidence."""
    lines = lines_of([seat("s1", 10), seat("s1", 10, order="10/1/2026"), usage("s1", "3.00")],
                     [subscription("s1", 12)])
    decisions = explain.decide_differences(match.seat_counts(lines),
                                           memory.changes([change("L1", "s1", "2026-10-12", "2")]), None)
    verdicts = explain.explain_lines(lines, decisions)
    assert list(verdicts.status) == ["explained", "explained", "matched"]
    assert list(verdicts.reason) == ["changed_after_as_of", "changed_after_as_of", "usage_line"]
    assert verdicts.evidence.tolist()[:2] == [["L1"], ["L1"]]
    assert verdicts.residual.tolist() == [D(0), D(0), None]


@memory.src_bug("explain_lines masks residual to the decided seat lines but not evidence, so a matched usage line "
                "of a decided subscription lists the seat decision's change ids")
def test_usage_line_of_a_decided_subscription_has_no_evidence() -> None:
    """The usage line of s1 (explained by L1) is matched with reason usage_line and lists no evidence."""
    lines = lines_of([seat("s1", 10), usage("s1", "3.00")], [subscription("s1", 12)])
    decisions = explain.decide_differences(match.seat_counts(lines),
                                           memory.changes([change("L1", "s1", "2026-10-12", "2")]), None)
    assert explain.explain_lines(lines, decisions).evidence.tolist() == [["L1"], []]


def test_fallback_match_says_so() -> None:
    """A customer + product match appends which export subscription it paired with."""
    lines = lines_of([seat("inv-x", 5)], [subscription("exp-y", 5)])
    verdicts = explain.explain_lines(lines, explain.decide_differences(match.seat_counts(lines), None, None))
    assert (verdicts.status[0], verdicts.reason[0]) == ("matched", "quantity_equal")
    assert verdicts.explanation[0] == ("Provider and subscription both have 5 seats (provider as of 2026-10-05). "
                                       "Matched on customer and product: the export has this subscription as exp-y.")


def test_credits_only_subscription_has_no_count_to_compare() -> None:
    """A matched subscription with only a credit on the invoice (−5.00) gets no seat count and says why."""
    lines = lines_of([seat("s1", 1, "-5.00", charge_type="customerCredit")], [subscription("s1", 4)])
    verdicts = explain.explain_lines(lines, explain.decide_differences(match.seat_counts(lines), None, None))
    assert verdicts.status[0] == "matched"
    assert verdicts.provider_quantity.tolist() == [None]
    assert verdicts.explanation[0] == ("Only credits or reversals for this subscription on the invoice: "
                                       "no seat count to compare.")


# --- texts -----------------------------------------------------------------------------------------


def test_record_text_names_date_delta_status_initiator_and_invoice() -> None:
    """A record reads 'id: delta seats effective date[ time], status, by who, invoice', with fallbacks for blanks."""
    invoiced = {"change_id": "L7", "quantity_delta": D("-3"), "effective_date": pd.Timestamp("2026-10-12 14:30"),
                "provisioning_status": "", "initiated_by": "", "customer_invoice": "INV-9"}
    assert explain.record_text(invoiced) == (
        "L7: −3 seats effective 2026-10-12 14:30, provisioning status not given, by unknown initiator, INV-9")
    pending = {**invoiced, "quantity_delta": D("2"), "effective_date": pd.Timestamp("2026-10-12"),
               "provisioning_status": "Awaiting Provisioning", "initiated_by": "ana", "customer_invoice": ""}
    assert explain.record_text(pending) == (
        "L7: +2 seats effective 2026-10-12, Awaiting Provisioning, by ana, not yet invoiced")


@pytest.mark.parametrize(("value", "text", "sign"), [
    (D("12.00"), "12", "+12"), (D("1.2E+1"), "12", "+12"), (D("1.50"), "1.5", "+1.5"),
    (D("-2"), "-2", "−2"), (D("0"), "0", "0"),
])
def test_quantity_text_and_signed(value: Decimal, text: str, sign: str) -> None:
    """Seats read as people write them; signed() uses a typographic minus (U+2212) and no sign for zero."""
    assert (explain.quantity_text(value), explain.signed(value)) == (text, sign)


def test_missing_and_confirmed_texts() -> None:
    """A missing subscription's sentence names frequency, seats and period; a confirmation adds one sentence."""
    missing = pd.DataFrame({"frequency": ["monthly", "annual"], "quantity": [D("8"), D("2.0")]})
    assert explain.missing_texts(missing, "2026-10").tolist() == [
        "Active monthly subscription with 8 seats is due in 2026-10 but has no line on the invoice.",
        "Active annual subscription with 2 seats is due in 2026-10 but has no line on the invoice.",
    ]
    assert explain.quantity_text(None) == "?"
    assert explain.confirmed_text("ana", "2026-11-02T10:00:00Z", "Customer agreed.") == (
        " Confirmed by ana on 2026-11-02: Customer agreed.")
