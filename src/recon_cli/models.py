"""Small typed things: statuses, reasons, rejects, the run summary.

Bulk data (invoice lines) stays in pandas frames; these models describe the frames'
vocabulary and the per-run summary that report, export and store all read.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field


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
    SUBSCRIPTION_NOT_FOUND = "subscription_not_found"
    USAGE_LINE = "usage_line"
    ONE_TIME_LINE = "one_time_line"
    CONFIRMED = "confirmed"
    NOT_ON_INVOICE = "not_on_invoice"


class EvidenceKind(StrEnum):
    """Why a change-log record counts as evidence (PRODUCT.md §3 rule 5)."""

    CHANGED_AFTER_AS_OF = "changed_after_as_of"
    AWAITING_PROVISIONING = "awaiting_provisioning"
    FAILED_PROVISIONING = "failed_provisioning"


NEEDS_PERSON: frozenset[str] = frozenset(
    {Status.UNEXPLAINED, Status.PARTIALLY_EXPLAINED, Status.UNMATCHED}
)


class Reject(BaseModel):
    """An input row that could not be used, and why."""

    model_config = ConfigDict(frozen=True)

    file: str
    row: int
    column: str
    value: str = ""
    code: str
    message: str


class RunSummary(BaseModel):
    """What a run found, in numbers: small enough to store as JSON and print whole.

    Money amounts are strings of exact decimals, keyed by currency.
    """

    run_id: str
    created_at: str
    period: str | None
    invoice_file: str
    subscriptions_file: str
    changes_file: str | None
    invoice_format: str
    invoice_numbers: list[str] = Field(default_factory=list)
    as_of: str | None = None
    min_margin: str | None = None
    line_count: int = 0
    subscription_count: int = 0
    change_count: int = 0
    status_counts: dict[str, int] = Field(default_factory=dict)
    price_status_counts: dict[str, int] = Field(default_factory=dict)
    kind_counts: dict[str, int] = Field(default_factory=dict)
    # currency -> status -> amount
    subtotal_by_status: dict[str, dict[str, str]] = Field(default_factory=dict)
    subtotal_total: dict[str, str] = Field(default_factory=dict)
    unbilled_cost: dict[str, str] = Field(default_factory=dict)
    money_at_risk: dict[str, str] = Field(default_factory=dict)
    missing_count: int = 0
    missing_value: dict[str, str] = Field(default_factory=dict)
    reject_count: int = 0
    needs_attention: int = 0
    has_change_log: bool = False
    unknown_charge_types: list[str] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)


class EvidenceRecord(BaseModel):
    """A change-log record used to explain a difference."""

    change_id: str
    subscription_id: str
    row: int | None = None
    effective_date: str
    quantity_delta: str
    provisioning_status: str = ""
    initiated_by: str = ""
    customer_invoice: str = ""
    status_reason: str = ""
    evidence_kind: str


class Confirmation(BaseModel):
    """A person's sign-off on a difference (PRODUCT.md §3 rule 9)."""

    subscription_id: str
    provider_quantity: str | None
    subscription_quantity: str | None
    note: str
    confirmed_by: str
    confirmed_at: str
    run_id: str
    line_id: str | None = None


class Explanation(BaseModel):
    """Everything `recon explain ID` shows, read from the store without pandas.

    `lines` holds one dict per invoice line with the fields of LINE_FIELDS (values as
    strings or None); `missing` the missing-subscription entry when the id is one.
    """

    run_id: str
    query: str
    matched_by: str  # "line_id" or "subscription_id"
    period: str | None = None
    invoice_file: str = ""
    lines: list[dict[str, str | int | None]] = Field(default_factory=list)
    evidence: list[EvidenceRecord] = Field(default_factory=list)
    missing: dict[str, str | int | None] | None = None
    confirmation: Confirmation | None = None


# Columns of ReconResult.lines, in order. Money and quantities are Decimal (or None where
# they do not apply), dates are ISO strings ("" when absent), `evidence` is a list of change ids.
LINE_FIELDS: tuple[str, ...] = (
    "line_id", "row", "invoice_number", "subscription_id", "customer_id", "customer_name",
    "product", "product_id", "sku_id", "charge_type", "kind", "billing_frequency",
    "order_date", "charge_start", "charge_end", "quantity", "billable_quantity",
    "status", "price_status", "reason", "match_method", "matched_subscription_id",
    "provider_quantity", "subscription_quantity", "quantity_delta", "residual", "as_of",
    "unit_cost", "unit_price", "margin_pct", "subtotal", "tax_total", "total", "currency",
    "money_at_risk", "explanation", "evidence",
)
# Columns of ReconResult.missing.
MISSING_FIELDS: tuple[str, ...] = (
    "subscription_id", "row", "customer_id", "customer_name", "product", "quantity",
    "billing_frequency", "start_date", "unit_price", "currency", "expected_amount", "reason",
    "explanation",
)
# Columns of ReconResult.evidence: the fields of EvidenceRecord.
EVIDENCE_FIELDS: tuple[str, ...] = tuple(EvidenceRecord.model_fields)
# Columns of ReconResult.rejects: the fields of Reject.
REJECT_FIELDS: tuple[str, ...] = tuple(Reject.model_fields)
