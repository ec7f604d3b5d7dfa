"""The vocabulary of a run, in the standard library only: statuses, reasons, codes, the field
catalogue (records/fields.py: each output field declared once) and the small records
(records/entities.py). `recon explain` imports this package and nothing heavier.
"""

from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    """A line's reconciliation status (PRODUCT.md §3)."""

    MATCHED = "matched"
    EXPLAINED = "explained"
    PARTIALLY_EXPLAINED = "partially_explained"
    UNEXPLAINED = "unexplained"
    UNMATCHED = "unmatched"
    CONFIRMED = "confirmed"


class PriceStatus(StrEnum):
    """Price check result, most severe first (PRODUCT.md §3 rule 8)."""

    CURRENCY_MISMATCH = "currency_mismatch"
    BELOW_COST = "below_cost"
    COST_CHANGED = "cost_changed"
    LOW_MARGIN = "low_margin"
    NO_PRICE = "no_price"
    OK = "ok"
    NOT_APPLICABLE = "not_applicable"  # usage and one-time lines: no per-seat price
    CONFIRMED = "confirmed"  # a person accepted the line's findings (rule 9)


class Kind(StrEnum):
    """What an invoice line bills: quantity rules apply to seat lines only."""

    SEAT = "seat"
    USAGE = "usage"
    ONE_TIME = "one_time"


class MatchMethod(StrEnum):
    SUBSCRIPTION_ID = "subscription_id"
    CUSTOMER_PRODUCT = "customer_product"
    NONE = "none"


class Reason(StrEnum):
    """Why a line has its status; each code has one message template in explain.py."""

    QUANTITY_EQUAL = "quantity_equal"
    CHANGED_AFTER_AS_OF = "changed_after_as_of"
    AWAITING_PROVISIONING = "awaiting_provisioning"
    FAILED_PROVISIONING = "failed_provisioning"
    SEVERAL_CAUSES = "several_causes"
    NO_EVIDENCE = "no_evidence"
    NO_CHANGE_LOG = "no_change_log"
    SEAT_COUNT_UNKNOWN = "seat_count_unknown"
    CREDIT_ONLY = "credit_only"
    SUBSCRIPTION_NOT_FOUND = "subscription_not_found"
    SUBSCRIPTION_REJECTED = "subscription_rejected"
    USAGE_LINE = "usage_line"
    ONE_TIME_LINE = "one_time_line"
    CONFIRMED = "confirmed"
    NOT_ON_INVOICE = "not_on_invoice"


class EvidenceKind(StrEnum):
    """Why a change-log record counts as evidence (PRODUCT.md §3 rule 5)."""

    CHANGED_AFTER_AS_OF = "changed_after_as_of"
    AWAITING_PROVISIONING = "awaiting_provisioning"
    FAILED_PROVISIONING = "failed_provisioning"


class RejectCode(StrEnum):
    """Why an input row could not be used (the `code` of a reject)."""

    NOT_A_NUMBER = "not_a_number"
    NOT_A_DATE = "not_a_date"
    REQUIRED_VALUE = "required_value"
    DUPLICATE_SUBSCRIPTION = "duplicate_subscription"
    TOO_MANY_CELLS = "too_many_cells"
    NOT_A_RECORD = "not_a_record"


# How many invoice files one run takes (PRODUCT.md §1: one invoice per billing currency).
MAX_INVOICES = 10


class FailOn(StrEnum):
    """What makes `recon run` exit 1 (PRODUCT.md §4, `--fail-on`)."""

    UNEXPLAINED = "unexplained"
    ANY = "any"
    NEVER = "never"


# A line needs a person (§4) for a quantity finding: one of these statuses, or an explanation that
# rests on failed provisioning; or for a price finding. A confirmation accepts both.
QUANTITY_FINDINGS: frozenset[str] = frozenset({Status.UNEXPLAINED, Status.PARTIALLY_EXPLAINED, Status.UNMATCHED})
PRICE_FINDINGS: frozenset[str] = frozenset(
    {PriceStatus.CURRENCY_MISMATCH, PriceStatus.BELOW_COST, PriceStatus.COST_CHANGED, PriceStatus.LOW_MARGIN})
NEEDS_PERSON = QUANTITY_FINDINGS


from recon_cli.records.entities import Confirmation, EvidenceRecord, Explanation, Record, Reject  # noqa: E402
from recon_cli.records.fields import (  # noqa: E402
    ALL_OUTPUTS,
    CHANGE_LOG_MISMATCH,
    CHANGE_LOG_MISMATCH_FIELDS,
    DECIMAL_KINDS,
    DIFF,
    DIFF_FIELDS,
    EVIDENCE,
    EVIDENCE_FIELDS,
    LINE_FIELDS,
    LINES,
    MARGIN,
    MARGIN_FIELDS,
    MISSING,
    MISSING_FIELDS,
    MISSING_ORIGINALS,
    MONEY_FIGURES,
    NUMBER_KINDS,
    ORIGINALS,
    REJECT_FIELDS,
    REJECTS,
    SUBSCRIPTION_STATE_FIELDS,
    SUBSCRIPTION_STATES,
    TO_BILL,
    TO_BILL_FIELDS,
    USAGE_BILLING,
    USAGE_BILLING_FIELDS,
    Field,
    FieldKind,
    Output,
    carried,
    names,
)

__all__ = [
    "ALL_OUTPUTS",
    "CHANGE_LOG_MISMATCH",
    "CHANGE_LOG_MISMATCH_FIELDS",
    "DECIMAL_KINDS",
    "DIFF",
    "DIFF_FIELDS",
    "EVIDENCE",
    "EVIDENCE_FIELDS",
    "LINES",
    "LINE_FIELDS",
    "MARGIN",
    "MARGIN_FIELDS",
    "MAX_INVOICES",
    "MISSING",
    "MISSING_FIELDS",
    "MISSING_ORIGINALS",
    "MONEY_FIGURES",
    "NEEDS_PERSON",
    "NUMBER_KINDS",
    "ORIGINALS",
    "PRICE_FINDINGS",
    "QUANTITY_FINDINGS",
    "REJECTS",
    "REJECT_FIELDS",
    "SUBSCRIPTION_STATES",
    "SUBSCRIPTION_STATE_FIELDS",
    "TO_BILL",
    "TO_BILL_FIELDS",
    "USAGE_BILLING",
    "USAGE_BILLING_FIELDS",
    "Confirmation",
    "EvidenceKind",
    "EvidenceRecord",
    "Explanation",
    "FailOn",
    "Field",
    "FieldKind",
    "Kind",
    "MatchMethod",
    "Output",
    "PriceStatus",
    "Reason",
    "Record",
    "Reject",
    "RejectCode",
    "Status",
    "carried",
    "names",
]
