"""The vocabulary of a run, in the standard library only: statuses, reasons, records, and the field catalogue.

`recon explain` imports this and nothing heavier, so the records here are dataclasses with
the few pydantic-style methods the code uses (`model_validate`, `model_dump`, `model_dump_json`,
`model_copy`), not pydantic models: importing pydantic alone would cost `explain` ~80 ms.

The field catalogue (`LINES`, `MISSING`, `EVIDENCE`, `REJECTS`) declares each output field once:
its name, kind, header and the outputs that carry it. The store, JSON, CSV and workbook writers
derive their column lists and types from it, so adding a field is one entry here plus the code
that computes it.
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


# --- the field catalogue ----------------------------------------------------------------------


class FieldKind(StrEnum):
    """How a field's values are held and shown.

    TEXT, STATUS (text with a fill per value), DATE (ISO text) are text; INT is a Python int;
    NUMBER, MONEY and PCT are exact Decimals (money shown in its currency, PCT already in percent);
    IDS is a list of change ids.
    """

    TEXT = "text"
    STATUS = "status"
    DATE = "date"
    INT = "int"
    NUMBER = "number"
    MONEY = "money"
    PCT = "pct"
    IDS = "ids"
    BOOL = "bool"


DECIMAL_KINDS = frozenset({FieldKind.NUMBER, FieldKind.MONEY, FieldKind.PCT})
NUMBER_KINDS = DECIMAL_KINDS | {FieldKind.INT}


class Output(StrEnum):
    """Where a field appears."""

    JSON = "json"  # --json, and `recon export --csv` of a stored run
    CSV = "csv"  # appended to the invoice's own columns by --csv, as `recon_<name>`
    LINES = "lines"  # the workbook's data sheet (Lines, Missing, Evidence, Rejects)
    EXCEPTIONS = "exceptions"  # the workbook's Exceptions sheet
    STORE = "store"  # the run store


ALL_OUTPUTS = frozenset({Output.JSON, Output.LINES, Output.STORE})


@dataclass(frozen=True)
class Field:
    """One output field, declared once."""

    name: str
    header: str
    kind: FieldKind = FieldKind.TEXT
    outputs: frozenset[Output] = ALL_OUTPUTS

    @property
    def is_decimal(self) -> bool:
        return self.kind in DECIMAL_KINDS

    @property
    def is_number(self) -> bool:
        return self.kind in NUMBER_KINDS

    @property
    def csv_name(self) -> str:
        """Its column in --csv, beside the provider's own columns."""
        return f"recon_{self.name}"


def _catalogue(spec: str, extra: Mapping[str, frozenset[Output]] | None = None) -> tuple[Field, ...]:
    """Fields from "name:Header:kind, ..." (kind defaults to text), in output order.

    `extra` adds outputs to the named fields (every field is in JSON, the data sheet and the store).
    """
    out = []
    for item in spec.split(","):
        name, header, *kind = item.strip().split(":")
        outputs = ALL_OUTPUTS | (extra or {}).get(name, frozenset())
        out.append(Field(name, header, FieldKind(kind[0]) if kind else FieldKind.TEXT, outputs))
    return tuple(out)


_E, _C = frozenset({Output.EXCEPTIONS}), frozenset({Output.CSV})
_EC = _E | _C

# One row per invoice line (ReconResult.lines), in the order every output shows them. Money and
# quantities are Decimal (or None where they do not apply), dates ISO text ("" when absent).
LINES: tuple[Field, ...] = _catalogue(
    "line_id:Line, row:Row:int, invoice_number:Invoice, invoice_file:Invoice file, customer_name:Customer,"
    "customer_id:Customer ID,"
    "subscription_id:Subscription ID, product:Product, product_id:Product ID, sku_id:SKU,"
    "charge_type:Charge type, kind:Kind, billing_frequency:Billing, order_date:Order date:date,"
    "charge_start:Charge start:date, charge_end:Charge end:date, status:Status:status,"
    "needs_person:Needs a person:bool, reason:Reason,"
    "price_status:Price status, match_method:Match method, matched_subscription_id:Matched subscription,"
    "quantity:Quantity:number, billable_quantity:Billable qty:number, provider_quantity:Provider qty:number,"
    "subscription_quantity:Subscription qty:number, quantity_delta:Delta:number, residual:Residual:number,"
    "as_of:Provider as of:date, unit_cost:Unit cost:money, unit_price:Unit price:money, margin_pct:Margin:pct,"
    "subtotal:Subtotal:money, tax_total:Tax:money, total:Total:money, currency:Currency,"
    "money_at_risk:At risk:money, explanation:Explanation, evidence:Evidence:ids, scheduled:Scheduled:ids",
    {"line_id": _EC, "customer_name": _E, "subscription_id": _E, "product": _E, "charge_type": _E,
     "kind": _C, "status": _EC, "needs_person": _EC, "reason": _EC, "price_status": _EC, "match_method": _C,
     "provider_quantity": _EC, "subscription_quantity": _EC, "quantity_delta": _EC, "residual": _E,
     "as_of": _E, "unit_cost": _EC, "unit_price": _EC, "subtotal": _E, "currency": _E, "money_at_risk": _E,
     "explanation": _EC, "evidence": _EC, "scheduled": _EC},
)
# What a confirmed line (or missing entry) was before `recon confirm`, so `recon unconfirm` can put
# it back: kept by the store only.
ORIGINALS: tuple[Field, ...] = tuple(
    Field(f"original_{name}", "", kind, frozenset({Output.STORE}))
    for name, kind in (("status", FieldKind.TEXT), ("reason", FieldKind.TEXT), ("price_status", FieldKind.TEXT),
                       ("explanation", FieldKind.TEXT), ("money_at_risk", FieldKind.MONEY),
                       ("needs_person", FieldKind.BOOL)))
MISSING_ORIGINALS: tuple[Field, ...] = tuple(f for f in ORIGINALS if f.name in ("original_reason",
                                                                                 "original_explanation"))
# Subscriptions due this period and absent from the invoice (ReconResult.missing).
MISSING: tuple[Field, ...] = _catalogue(
    "subscription_id:Subscription ID, row:Row:int, customer_id:Customer ID, customer_name:Customer,"
    "product:Product, quantity:Quantity:number, billing_frequency:Billing, start_date:Start date:date,"
    "unit_price:Unit price:money, unit_cost:Unit cost:money, currency:Currency, expected_cost:Expected cost:money,"
    "expected_price:Expected price:money, needs_person:Needs a person:bool, reason:Reason, explanation:Explanation")
# Change-log records used by any explanation (ReconResult.evidence): the fields of EvidenceRecord,
# as text (the delta signed: "+2").
EVIDENCE: tuple[Field, ...] = _catalogue(
    "change_id:Change ID, subscription_id:Subscription ID, row:Row:int, effective_date:Effective date:date,"
    "quantity_delta:Delta, provisioning_status:Provisioning status, initiated_by:Initiated by,"
    "customer_invoice:Customer invoice, status_reason:Status reason, evidence_kind:Evidence kind")
# Input rows that could not be used (ReconResult.rejects): the fields of Reject.
REJECTS: tuple[Field, ...] = _catalogue(
    "file:File, row:Row:int, column:Column, value:Value, code:Code, message:Message")


def names(fields: tuple[Field, ...], output: Output = Output.JSON) -> tuple[str, ...]:
    """The names of the fields an output carries, in order."""
    return tuple(f.name for f in fields if output in f.outputs)


def carried(fields: tuple[Field, ...], output: Output) -> tuple[Field, ...]:
    return tuple(f for f in fields if output in f.outputs)


LINE_FIELDS = names(LINES)
MISSING_FIELDS = names(MISSING)
EVIDENCE_FIELDS = names(EVIDENCE)
REJECT_FIELDS = names(REJECTS)


# --- records ----------------------------------------------------------------------------------


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
    """A person's sign-off on a subscription's findings (PRODUCT.md §3 rule 9): it holds while the
    subscription shows the same quantities, provider unit cost and unit price."""

    subscription_id: str
    provider_quantity: str | None
    subscription_quantity: str | None
    note: str
    confirmed_by: str
    confirmed_at: str
    run_id: str
    line_id: str | None = None
    unit_cost: str | None = None
    unit_price: str | None = None


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
