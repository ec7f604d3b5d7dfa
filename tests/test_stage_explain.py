"""The explain stage on in-memory frames: which change-log records are evidence, each decision and its text.

Most tests use one subscription, s1: the provider bills 10 seats as of 2026-10-05 (the builders' default
OrderDate), the export sells 12, so quantity delta = 10 − 12 = −2 and +2 seats of evidence close it. The run's
as-of is memory.RUN_AS_OF (the end of 2026-11-02) unless a test sets one.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pandas as pd
import pytest

import memory
from builders import change, seat, subscription, usage
from recon_cli import confirm, explain, match
from recon_cli.evidence import is_evidence
from recon_cli.explain import Decisions, Verdicts
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
    return explain.decide_differences(groups, changes, parse_as_of(as_of) if as_of else memory.RUN_AS_OF)


def verdicts_of(lines: pd.DataFrame, records: list[dict[str, Any]] | None = None, as_of: str | None = None
                ) -> Verdicts:
    """explain_lines() of `lines` with these change-log records (None: no change log)."""
    changes = memory.changes(records) if records is not None else None
    decisions = explain.decide_differences(match.seat_counts(lines), changes,
                                           parse_as_of(as_of) if as_of else memory.RUN_AS_OF)
    return explain.explain_lines(lines, decisions)


def roles(decisions: Decisions) -> dict[str, str]:
    """{change id: role} of the records the decisions classified."""
    return dict(zip(decisions.records["change_id"], decisions.records["role"], strict=True))


def only(decisions: Decisions) -> dict[str, Any]:
    """The one decided subscription."""
    assert len(decisions.decided) == 1
    return dict(decisions.decided.iloc[0])


# --- evidence ---------------------------------------------------------------------------------------


def test_change_after_provider_as_of_counts_by_calendar_day() -> None:
    """A record later on the provider's as-of day is not evidence; one on the next day is, and explains −2.

    PRODUCT.md §3 rule 5 (v2): the record of the provider's as-of day is mentioned as not counted."""
    decided = only(decide([change("L0", "s1", "2026-10-05 18:00", "2"), change("L1", "s1", "2026-10-06", "2")]))
    assert (decided["status"], decided["reason"], decided["residual"], decided["evidence"]) == (
        "explained", "changed_after_as_of", D(0), ["L1"])
    assert decided["explanation"] == (
        f"{HEAD} Explained by L1: +2 seats effective 2026-10-06, {BY_JANE}. Effective on the provider's as-of day, "
        f"so taken as already billed and not counted: L0: +2 seats effective 2026-10-05 18:00, {BY_JANE}.")


@pytest.mark.parametrize(("status", "date", "reason"), [
    ("Awaiting Provisioning", "2026-09-01", "awaiting_provisioning"),
    ("Failed Provisioning", "2026-09-01", "failed_provisioning"),
    ("Provisioned", "2026-10-20", "changed_after_as_of"),
])
def test_single_kind_of_evidence_names_the_reason(status: str, date: str, reason: str) -> None:
    """Awaiting or failed provisioning is evidence even before the provider's as-of; the reason says which kind."""
    decisions = decide([change("L1", "s1", date, "2", status=status)])
    decided = only(decisions)
    assert (decided["status"], decided["reason"], decided["evidence"]) == ("explained", reason, ["L1"])
    assert roles(decisions) == {"L1": reason}


def test_several_kinds_of_evidence_in_date_order() -> None:
    """Awaiting (+1, 1 Sep) and failed (+1, 15 Sep) count, a provisioned record of 20 Sep does not.

    PRODUCT.md §3 rule 5 (v2): an explanation that rests on a Failed Provisioning record has reason
    failed_provisioning (v1 said several_causes here): the change must be retried."""
    decisions = decide([
        change("L2", "s1", "2026-09-15", "1", status="Failed Provisioning"),
        change("L3", "s1", "2026-09-20", "5"),  # before 2026-10-05 and provisioned: the provider has it already
        change("L1", "s1", "2026-09-01", "1", status="Awaiting Provisioning"),
    ])
    decided = only(decisions)
    assert (decided["status"], decided["reason"], decided["evidence"]) == (
        "explained", "failed_provisioning", ["L1", "L2"])
    evidence = decisions.records.loc[is_evidence(decisions.records["role"])]
    assert evidence["role"].tolist() == ["awaiting_provisioning", "failed_provisioning"]
    assert roles(decisions)["L3"] == "old"
    assert "L3" not in decided["explanation"]


def test_several_causes_without_failed_provisioning() -> None:
    """Awaiting (+1, 1 Sep) and a change after the provider's as-of (+1, 12 Oct): several_causes, in date order."""
    decided = only(decide([change("L2", "s1", "2026-10-12", "1"),
                           change("L1", "s1", "2026-09-01", "1", status="Awaiting Provisioning")]))
    assert (decided["status"], decided["reason"], decided["evidence"]) == ("explained", "several_causes", ["L1", "L2"])


def test_as_of_limit_excludes_later_records() -> None:
    """--as-of 2026-10-15 (end of day) keeps +1 on 10 Oct and +1 at 18:00 on 15 Oct, drops 16 Oct: residual −1.

    PRODUCT.md §3 rule 5 (v2): the dropped record is scheduled, named in the explanation and never evidence."""
    records = [change("L1", "s1", "2026-10-10", "1"), change("L2", "s1", "2026-10-15 18:00", "1"),
               change("L3", "s1", "2026-10-16", "1")]
    limited_decisions = decide(records, sold=13, as_of="2026-10-15")
    limited = only(limited_decisions)
    # 10 + (1 + 1) − 13 = −1
    assert (limited["status"], limited["residual"], limited["evidence"]) == ("partially_explained", D(-1), ["L1", "L2"])
    assert limited["explanation"].endswith(
        f" Scheduled after the run's as-of, not counted: L3: +1 seat effective 2026-10-16, {BY_JANE}.")
    assert limited_decisions.scheduled["scheduled"].tolist() == [["L3"]]
    # A later run as-of (2 Nov) counts all three.
    later = only(decide(records, sold=13))
    assert (later["status"], later["residual"], later["evidence"]) == ("explained", D(0), ["L1", "L2", "L3"])


@pytest.mark.parametrize("status", ["Awaiting Provisioning", "Failed Provisioning", "Provisioned"])
def test_record_after_the_run_as_of_is_scheduled_never_evidence(status: str) -> None:
    """PRODUCT.md §3 rule 5 (v2): a record effective 20 Oct on a run as of 15 Oct is scheduled whatever its
    provisioning status: listed on the line and named in the explanation, never evidence, so −2 stays unexplained."""
    lines = lines_of([seat("s1", 10)], [subscription("s1", 12)])
    records = [change("L1", "s1", "2026-10-20", "2", status=status)]
    decisions = explain.decide_differences(match.seat_counts(lines), memory.changes(records),
                                           parse_as_of("2026-10-15"))
    decided = only(decisions)
    assert (decided["status"], decided["reason"], decided["residual"], decided["evidence"]) == (
        "unexplained", "no_evidence", D(-2), [])
    assert roles(decisions) == {"L1": "scheduled"}
    assert f"Scheduled after the run's as-of, not counted: L1: +2 seats effective 2026-10-20, {status}" in (
        decided["explanation"])
    verdicts = explain.explain_lines(lines, decisions)
    assert (verdicts.evidence.tolist(), verdicts.scheduled.tolist()) == ([[]], [["L1"]])
    # The Evidence sheet lists it as scheduled, not as evidence.
    assert explain.evidence_records(decisions)["evidence_kind"].tolist() == ["scheduled"]


def test_run_as_of_with_a_time_bounds_records_of_that_day() -> None:
    """PRODUCT.md §3 rule 5: --as-of 2026-10-15T12:00:00 counts 09:00 that day and schedules 18:00."""
    decisions = decide([change("L1", "s1", "2026-10-15 09:00", "1"), change("L2", "s1", "2026-10-15 18:00", "1")],
                       as_of="2026-10-15T12:00:00")
    assert roles(decisions) == {"L1": "changed_after_as_of", "L2": "scheduled"}
    assert only(decisions)["evidence"] == ["L1"]


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
    assert decisions.records.empty


def test_only_differences_are_decided() -> None:
    """Equal seats (delta 0) and an unmatched subscription (delta unknown) are not decided at all, and no line
    lists evidence."""
    lines = lines_of([seat("s1", 5), seat("s9", 3)], [subscription("s1", 5)])
    decisions = explain.decide_differences(match.seat_counts(lines),
                                           memory.changes([change("L1", "s1", "2026-10-12", "2")]), memory.RUN_AS_OF)
    assert decisions.decided.empty
    assert explain.explain_lines(lines, decisions).evidence.tolist() == [[], []]


def test_evidence_sheet_has_no_record_of_a_subscription_without_a_difference() -> None:
    """s1's seats agree (5 vs 5): its +2 record of 12 Oct explains nothing, so the Evidence sheet does not list it."""
    lines = lines_of([seat("s1", 5)], [subscription("s1", 5)])
    decisions = explain.decide_differences(match.seat_counts(lines),
                                           memory.changes([change("L1", "s1", "2026-10-12", "2")]), memory.RUN_AS_OF)
    assert explain.evidence_records(decisions).empty


def test_as_of_limit_also_bounds_awaiting_provisioning() -> None:
    """PRODUCT.md §3 rule 5 (v2): an awaiting record effective 20 Oct is scheduled, not evidence, on a run as of
    15 Oct (v1 counted awaiting records whatever their date)."""
    decided = only(decide([change("L1", "s1", "2026-10-20", "2", status="Awaiting Provisioning")], as_of="2026-10-15"))
    assert (decided["status"], decided["evidence"]) == ("unexplained", [])


@pytest.mark.parametrize(("date", "as_of"), [("2026-10-20", "2026-10-15"), ("2026-10-05", None)],
                         ids=["scheduled", "on-as-of-day"])
def test_records_that_do_not_count_are_still_named(date: str, as_of: str | None) -> None:
    """PRODUCT.md §3 rule 5 (v2): a record that is not evidence but bears on the difference (scheduled after the
    run's as-of, or effective on the provider's as-of day) is named in the explanation."""
    decided = only(decide([change("L1", "s1", date, "2")], as_of=as_of))
    assert decided["evidence"] == []
    assert "L1" in decided["explanation"]


def test_explanation_resting_on_failed_provisioning_still_needs_a_person() -> None:
    """PRODUCT.md §3 rule 5 (v2): a failed record that closes the gap explains it (status explained) with reason
    failed_provisioning and a retry sentence, and confirm.findings counts it as a quantity finding."""
    decided = only(decide([change("L1", "s1", "2026-09-01", "2", status="Failed Provisioning")]))
    assert (decided["status"], decided["reason"], decided["residual"]) == ("explained", "failed_provisioning", D(0))
    assert "never reached the provider" in decided["explanation"]
    assert confirm.findings(decided["status"], decided["reason"], "ok") == (True, False)
    # The same difference explained by a provisioned change after the as-of needs nobody.
    other = only(decide([change("L1", "s1", "2026-10-12", "2")]))
    assert confirm.findings(other["status"], other["reason"], "ok") == (False, False)


def test_cancelled_subscription_billed_by_the_provider_is_a_difference() -> None:
    """PRODUCT.md §3 rule 4 (v2): the provider bills 5 seats of a subscription the export marks cancelled (quantity
    5): its quantity in force is 0, so +5 is decided, and the explanation says the subscription is cancelled."""
    decided = only(explain.decide_differences(
        match.seat_counts(lines_of([seat("s1", 5)], [subscription("s1", 5, status="cancelled")])), None,
        memory.RUN_AS_OF))
    assert (decided["status"], decided["reason"], decided["residual"]) == ("unexplained", "no_change_log", D(5))
    assert decided["explanation"].startswith(
        "Provider has 5 seats as of 2026-10-05; the subscription has 0 (cancelled) (+5).")


def test_decide_takes_each_record_by_its_role() -> None:
    """explain.decide on one subscription: a record's `role` (evidence.classify_records) is its evidence kind; the
    same record passed as scheduled is named but does not count."""
    record = {"change_id": "L1", "quantity_delta": D(2), "effective_date": pd.Timestamp("2026-10-12"),
              "provisioning_status": "Provisioned", "initiated_by": "", "customer_invoice": "",
              "role": "changed_after_as_of"}
    status, reason, residual, text = explain.decide(D(10), D(12), [record], "2026-10-05", True)
    assert (status, reason, residual) == ("explained", "changed_after_as_of", D(0))
    assert text == (f"{HEAD} Explained by L1: +2 seats effective 2026-10-12, Provisioned, by unknown initiator, "
                    "not yet invoiced.")
    status, reason, residual, text = explain.decide(D(10), D(12), [], "2026-10-05", True,
                                                    scheduled=[{**record, "role": "scheduled"}])
    assert (status, reason, residual) == ("unexplained", "no_evidence", D(-2))
    assert text.endswith(" Scheduled after the run's as-of, not counted: L1: +2 seats effective 2026-10-12, "
                         "Provisioned, by unknown initiator, not yet invoiced.")


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
    verdicts = verdicts_of(lines)
    assert list(verdicts.status) == ["unexplained", "matched", "matched", "matched", "unmatched"]
    assert list(verdicts.reason) == ["no_change_log", "quantity_equal", "usage_line", "one_time_line",
                                     "subscription_not_found"]
    assert verdicts.provider_quantity.tolist() == [D(10), D(5), None, None, D(3)]
    assert verdicts.quantity_delta.tolist() == [D(-2), D(0), None, None, None]
    assert verdicts.residual.tolist() == [D(-2), None, None, None, None]
    assert verdicts.as_of.tolist() == ["2026-10-05", "2026-10-05", "", "", "2026-10-05"]
    assert verdicts.evidence.tolist() == [[], [], [], [], []]
    assert verdicts.scheduled.tolist() == [[], [], [], [], []]
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
    verdicts = verdicts_of(lines, [change("L1", "s1", "2026-10-12", "2")])
    assert list(verdicts.status) == ["explained", "explained", "matched"]
    assert list(verdicts.reason) == ["changed_after_as_of", "changed_after_as_of", "usage_line"]
    assert verdicts.evidence.tolist()[:2] == [["L1"], ["L1"]]
    assert verdicts.residual.tolist() == [D(0), D(0), None]


def test_usage_line_of_a_decided_subscription_has_no_evidence() -> None:
    """The usage line of s1 (explained by L1) is matched with reason usage_line and lists no evidence, nor the
    scheduled L2 (PRODUCT.md §3 rule 2: quantity rules do not apply to usage lines)."""
    lines = lines_of([seat("s1", 10), usage("s1", "3.00")], [subscription("s1", 12)])
    verdicts = verdicts_of(lines, [change("L1", "s1", "2026-10-12", "2"), change("L2", "s1", "2026-12-01", "1")])
    assert verdicts.evidence.tolist() == [["L1"], []]
    assert verdicts.scheduled.tolist() == [["L2"], []]


def test_line_of_a_rejected_export_row_is_subscription_rejected() -> None:
    """PRODUCT.md §3 rule 6 (v2): s1's export row was rejected (quantity 'abc'): its line is unmatched with reason
    subscription_rejected, and the explanation names the file, row and column instead of "never re-billed"."""
    typed = memory.typed_subscriptions([subscription("s1", "abc"), subscription("s2", 5, customer_id="c-2")])
    lines = match.match_lines(memory.invoice([seat("s1", 5), seat("s9", 3, customer="c-3")]), typed.frame,
                              typed.rejects)
    verdicts = verdicts_of(lines)
    assert list(verdicts.status) == ["unmatched", "unmatched"]
    assert list(verdicts.reason) == ["subscription_rejected", "subscription_not_found"]
    text = verdicts.explanation[0]
    assert "subscriptions.csv row 2, column 'quantity'" in text
    assert "never re-billed" not in text
    assert "never re-billed" in verdicts.explanation[1]


def test_seats_leaving_without_an_earlier_count_need_a_person() -> None:
    """PRODUCT.md §3 rule 3 (v2): a negative convert (100 seats leave) with no earlier count on the invoice: the
    provider's count is unknown (match's count_unknown), so the line is unexplained with reason seat_count_unknown,
    no quantities, and a text saying to check Partner Center; never matched or a guessed delta."""
    lines = lines_of([seat("s1", 100, "-7.72", charge_type="convert", subtotal="-772.00")], [subscription("s1", 200)])
    verdicts = verdicts_of(lines, [change("L1", "s1", "2026-10-12", "2")])
    assert (verdicts.status[0], verdicts.reason[0]) == ("unexplained", "seat_count_unknown")
    assert (verdicts.provider_quantity[0], verdicts.quantity_delta[0], verdicts.residual[0]) == (None, None, None)
    assert verdicts.evidence.tolist() == [[]]
    assert "count is unknown" in verdicts.explanation[0]
    assert confirm.findings(verdicts.status[0], verdicts.reason[0], "ok") == (True, False)


def test_fallback_match_says_so() -> None:
    """A customer + product match appends which export subscription it paired with."""
    lines = lines_of([seat("inv-x", 5)], [subscription("exp-y", 5)])
    verdicts = verdicts_of(lines)
    assert (verdicts.status[0], verdicts.reason[0]) == ("matched", "quantity_equal")
    assert verdicts.explanation[0] == ("Provider and subscription both have 5 seats (provider as of 2026-10-05). "
                                       "Matched on customer and product: the export has this subscription as exp-y.")


def test_credits_only_subscription_has_no_count_to_compare() -> None:
    """A matched subscription with only a credit on the invoice (−5.00) gets no seat count and says why."""
    lines = lines_of([seat("s1", 1, "-5.00", charge_type="customerCredit")], [subscription("s1", 4)])
    verdicts = verdicts_of(lines)
    assert (verdicts.status[0], verdicts.reason[0]) == ("matched", "credit_only")
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
    missing = pd.DataFrame({"frequency": ["monthly", "annual"], "quantity_in_force": [D("8"), D("2.0")]})
    assert explain.missing_texts(missing, "2026-10").tolist() == [
        "Active monthly subscription with 8 seats is due in 2026-10 but has no line on the invoice.",
        "Active annual subscription with 2 seats is due in 2026-10 but has no line on the invoice.",
    ]
    assert explain.quantity_text(None) == "?"
    assert [explain.seats_text(D(n)) for n in ("1", "1.0", "2", "0")] == ["1 seat", "1 seat", "2 seats", "0 seats"]
    assert explain.confirmed_text("ana", "2026-11-02T10:00:00Z", "Customer agreed.") == (
        " Confirmed by ana on 2026-11-02: Customer agreed.")
