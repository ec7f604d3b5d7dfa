"""The vocabulary of a run, in the standard library only: statuses, reasons, column lists, records.

`recon explain` imports this and nothing heavier, so the records here are dataclasses with
the few pydantic-style methods the code uses (`model_validate`, `model_dump`, `model_dump_json`,
`model_copy`), not pydantic models: importing pydantic alone would cost `explain` ~80 ms.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, ClassVar, Self


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


class Record:
    """pydantic-like conveniences for the plain dataclasses below."""

    model_fields: ClassVar[dict[str, None]]
    _int_fields: ClassVar[frozenset[str]] = frozenset()

    @classmethod
    def model_validate(cls, data: Mapping[str, Any]) -> Self:
        values = {k: v for k, v in data.items() if k in cls.model_fields}
        for name in cls._int_fields & values.keys():
            if values[name] is not None and values[name] != "":
                values[name] = int(values[name])
        return cls(**values)

    def model_dump(self) -> dict[str, Any]:
        return dataclasses.asdict(self)  # type: ignore[call-overload, no-any-return]

    def model_dump_json(self, indent: int | None = None) -> str:
        return json.dumps(self.model_dump(), indent=indent, ensure_ascii=False)

    def model_copy(self, update: Mapping[str, Any] | None = None) -> Self:
        return dataclasses.replace(self, **(update or {}))  # type: ignore[type-var]


def _fields(cls: type[Record]) -> type[Record]:
    cls.model_fields = {f.name: None for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    return cls


@_fields
@dataclass(frozen=True)
class Reject(Record):
    """An input row that could not be used, and why."""

    file: str
    row: int
    column: str
    value: str = ""
    code: str = ""
    message: str = ""
    _int_fields: ClassVar[frozenset[str]] = frozenset({"row"})


@_fields
@dataclass(frozen=True)
class EvidenceRecord(Record):
    """A change-log record used to explain a difference."""

    change_id: str
    subscription_id: str
    row: int | None = None
    effective_date: str = ""
    quantity_delta: str = ""
    provisioning_status: str = ""
    initiated_by: str = ""
    customer_invoice: str = ""
    status_reason: str = ""
    evidence_kind: str = ""
    _int_fields: ClassVar[frozenset[str]] = frozenset({"row"})


@_fields
@dataclass(frozen=True)
class Confirmation(Record):
    """A person's sign-off on a difference (PRODUCT.md §3 rule 9)."""

    subscription_id: str
    provider_quantity: str | None
    subscription_quantity: str | None
    note: str
    confirmed_by: str
    confirmed_at: str
    run_id: str
    line_id: str | None = None


@_fields
@dataclass(frozen=True)
class Explanation(Record):
    """Everything `recon explain ID` shows, read from the store without pandas.

    `lines` holds one dict per invoice line with the fields of LINE_FIELDS (values as
    strings or None); `missing` the missing-subscription entry when the id is one.
    """

    run_id: str
    query: str
    matched_by: str  # "line_id" or "subscription_id"
    period: str | None = None
    invoice_file: str = ""
    lines: list[dict[str, str | int | None]] = field(default_factory=list)
    evidence: list[EvidenceRecord] = field(default_factory=list)
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
