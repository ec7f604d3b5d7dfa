"""The field catalogue: each output field declared once (name, header, kind, outputs that carry it).

The store, JSON, CSV and workbook writers derive their column lists and types from these tuples,
so adding a field is one entry here plus the code that computes it. Standard library only.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum


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

# One row per invoice line (ReconResult.lines), in the order every output shows them: what finance
# reads first (line, customer, product, status, needs a person, money) leads. Money and quantities
# are Decimal (or None where they do not apply), dates ISO text ("" when absent).
LINES: tuple[Field, ...] = _catalogue(
    "line_id:Line, customer_name:Customer, product:Product, status:Status:status, needs_person:Needs a person:bool,"
    "money_at_risk:At risk:money, over_billed:Over-billed:money, price_status:Price status, reason:Reason,"
    "open_since:Open since, row:Row:int, invoice_number:Invoice, invoice_file:Invoice file, customer_id:Customer ID,"
    "subscription_id:Subscription ID, product_id:Product ID, sku_id:SKU, charge_type:Charge type, kind:Kind,"
    "billing_frequency:Billing, order_date:Order date:date, charge_start:Charge start:date,"
    "charge_end:Charge end:date, match_method:Match method, matched_subscription_id:Matched subscription,"
    "quantity:Quantity:number, billable_quantity:Billable qty:number, provider_quantity:Provider qty:number,"
    "subscription_quantity:Subscription qty:number, quantity_delta:Delta:number, residual:Residual:number,"
    "as_of:Provider as of:date, unit_cost:Unit cost:money, unit_price:Unit price:money, margin_pct:Margin:pct,"
    "subtotal:Subtotal:money, tax_total:Tax:money, total:Total:money, currency:Currency,"
    "unbilled_cost:Unbilled cost:money, unclaimed_credit:Unclaimed credit:money, under_billed:Under-billed:money,"
    "below_cost_loss:Below-cost loss:money, price_effect:Price effect a month:money,"
    "recomputed_subtotal:Recomputed subtotal:money, recomputed_subtotal_alt:Recomputed (worked examples):money,"
    "provider_arithmetic:Provider arithmetic off:bool, explanation:Explanation, evidence:Evidence:ids,"
    "scheduled:Scheduled:ids",
    {"line_id": _EC, "customer_name": _E, "product": _E, "status": _EC, "needs_person": _EC, "money_at_risk": _EC,
     "over_billed": _EC, "price_status": _EC, "reason": _EC, "open_since": _EC, "subscription_id": _E,
     "charge_type": _E, "kind": _C,
     "match_method": _C, "provider_quantity": _EC, "subscription_quantity": _EC, "quantity_delta": _EC,
     "residual": _E, "as_of": _E, "unit_cost": _EC, "unit_price": _EC, "subtotal": _E, "currency": _E,
     "price_effect": _EC, "provider_arithmetic": _EC, "explanation": _EC, "evidence": _EC, "scheduled": _EC},
)
# What a confirmed line (or missing entry) was before `recon confirm`, so `recon unconfirm` can put
# it back: kept by the store only.
ORIGINALS: tuple[Field, ...] = tuple(
    Field(f"original_{name}", "", kind, frozenset({Output.STORE}))
    for name, kind in (("status", FieldKind.TEXT), ("reason", FieldKind.TEXT), ("price_status", FieldKind.TEXT),
                       ("explanation", FieldKind.TEXT), ("money_at_risk", FieldKind.MONEY),
                       ("under_billed", FieldKind.MONEY), ("over_billed", FieldKind.MONEY),
                       ("below_cost_loss", FieldKind.MONEY), ("price_effect", FieldKind.MONEY),
                       ("needs_person", FieldKind.BOOL)))
MISSING_ORIGINALS: tuple[Field, ...] = tuple(f for f in ORIGINALS if f.name in ("original_reason",
                                                                                 "original_explanation"))
# Subscriptions due this period and absent from the invoice (ReconResult.missing).
MISSING: tuple[Field, ...] = _catalogue(
    "subscription_id:Subscription ID, customer_name:Customer, product:Product, needs_person:Needs a person:bool,"
    "open_since:Open since, expected_cost:Expected cost:money, expected_price:Expected price:money,"
    "reason:Reason, row:Row:int,"
    "customer_id:Customer ID, quantity:Quantity:number, billing_frequency:Billing, start_date:Start date:date,"
    "unit_price:Unit price:money, unit_cost:Unit cost:money, currency:Currency, explanation:Explanation")
# Change-log records used by any explanation (ReconResult.evidence): the fields of EvidenceRecord,
# as text (the delta signed: "+2").
EVIDENCE: tuple[Field, ...] = _catalogue(
    "change_id:Change ID, subscription_id:Subscription ID, row:Row:int, effective_date:Effective date:date,"
    "quantity_delta:Delta, provisioning_status:Provisioning status, initiated_by:Initiated by,"
    "customer_invoice:Customer invoice, status_reason:Status reason, evidence_kind:Evidence kind")
# Input rows that could not be used (ReconResult.rejects): the fields of Reject.
REJECTS: tuple[Field, ...] = _catalogue(
    "file:File, row:Row:int, column:Column, value:Value, code:Code, message:Message")
# Explained change-log records not yet invoiced to the customer (ReconResult.to_bill, rule 10).
TO_BILL: tuple[Field, ...] = _catalogue(
    "customer_name:Customer, subscription_id:Subscription ID, product:Product, change_id:Change ID,"
    "effective_date:Effective date:date, quantity_delta:Seats:number, unit_price:Unit price:money,"
    "amount:To bill:money, currency:Currency, forgotten:Forgotten billing:bool, explanation:Explanation")
# Margin per customer and currency, on the period's matched seat subscriptions (ReconResult.margin, rule 10).
MARGIN: tuple[Field, ...] = _catalogue(
    "customer_name:Customer, customer_id:Customer ID, currency:Currency, subscriptions:Subscriptions:int,"
    "revenue:Selling value:money, cost:Provider cost:money, margin:Margin:money, margin_pct:Margin %:pct,"
    "money_at_risk:At risk:money, over_billed:Over-billed:money, needs_person:Lines needing a person:int")
# Usage re-billed at a markup, per subscription (ReconResult.usage_billing).
USAGE_BILLING: tuple[Field, ...] = _catalogue(
    "customer_name:Customer, customer_id:Customer ID, subscription_id:Subscription ID, currency:Currency,"
    "lines:Lines:int, usage_cost:Usage cost:money, markup_percent:Markup %:pct, to_bill:To bill:money")
# One row per subscription of a run, lines and missing alike (ReconResult.subscriptions): what `recon
# diff`, the history in `recon explain` and `recon explain CUSTOMER` read from the store. The status,
# reason and quantities are those of the subscription's most urgent line; money is summed.
SUBSCRIPTION_STATES: tuple[Field, ...] = _catalogue(
    "subscription_key:Key, subscription_id:Subscription ID, customer_id:Customer ID, customer_name:Customer,"
    "product:Product, currency:Currency, kind:Kind, status:Status:status, reason:Reason,"
    "price_status:Price status, needs_person:Needs a person:bool, open_since:Open since,"
    "provider_quantity:Provider qty:number, subscription_quantity:Subscription qty:number,"
    "quantity_delta:Delta:number, money_at_risk:At risk:money, over_billed:Over-billed:money,"
    "price_effect:Price effect a month:money, line_count:Lines:int, line_id:Line")
# `recon diff`: one row per subscription whose exception is new, resolved, still open or changed.
DIFF: tuple[Field, ...] = _catalogue(
    "change:Change, customer_name:Customer, product:Product, subscription_id:Subscription ID, currency:Currency,"
    "status_before:Before, status_now:Now, price_status:Price status, delta_before:Delta before:number,"
    "delta_now:Delta now:number,"
    "money_before:At risk before:money, money_now:At risk now:money, open_since:Open since,"
    "months_open:Months open:int, kind:Kind, line_id:Line")

# Work 365's "License Change Log Mismatch": subscriptions whose change-log deltas do not add up to
# their quantity, when the change log holds the whole history (ReconResult.change_log_mismatch).
CHANGE_LOG_MISMATCH: tuple[Field, ...] = _catalogue(
    "subscription_id:Subscription ID, customer_name:Customer, product:Product, quantity:Subscription seats:number,"
    "change_log_total:Change-log total:number, difference:Difference:number, records:Records:int,"
    "last_change:Last change:date")


def names(fields: tuple[Field, ...], output: Output = Output.JSON) -> tuple[str, ...]:
    """The names of the fields an output carries, in order."""
    return tuple(f.name for f in fields if output in f.outputs)


def carried(fields: tuple[Field, ...], output: Output) -> tuple[Field, ...]:
    return tuple(f for f in fields if output in f.outputs)


LINE_FIELDS = names(LINES)
TO_BILL_FIELDS = names(TO_BILL)
MARGIN_FIELDS = names(MARGIN)
USAGE_BILLING_FIELDS = names(USAGE_BILLING)
CHANGE_LOG_MISMATCH_FIELDS = names(CHANGE_LOG_MISMATCH)
SUBSCRIPTION_STATE_FIELDS = names(SUBSCRIPTION_STATES)
DIFF_FIELDS = names(DIFF)
MISSING_FIELDS = names(MISSING)
EVIDENCE_FIELDS = names(EVIDENCE)
REJECT_FIELDS = names(REJECTS)


# The money figures of PRODUCT.md §3 rule 10, each with its one-line definition: the README and the
# workbook's legend print these words.
MONEY_FIGURES: dict[str, tuple[str, str]] = {
    "unbilled_cost": ("Unbilled cost", "Invoice lines of a subscription not in your export, when they net to a cost: "
                      "a cost never re-billed."),
    "unclaimed_credit": ("Unclaimed credit", "Lines of a subscription not in your export that net to a credit: a "
                         "refund nobody passes on. Never netted against another subscription's cost."),
    "under_billed": ("Under-billed", "Seats the provider bills and the customer is not billed for (unexplained "
                     "residual > 0) × the provider's unit cost per full period."),
    "below_cost_loss": ("Below-cost loss", "(Provider unit cost − your unit price) × provider seats, on the "
                        "provider's period, for a subscription sold below cost."),
    "money_at_risk": ("Money at risk", "Unbilled cost + under-billed + below-cost loss: what is lost if nobody acts."),
    "over_billed": ("Over-billed", "Seats the customer is billed for and the provider does not bill (residual < 0) × "
                    "your unit price: a refund you may owe, shown beside the risk, never added to it."),
    "to_bill": ("To bill", "Explained change-log records not yet invoiced to the customer: seats × unit price each."),
    "to_bill_forgotten": ("Forgotten billing", "The part of To bill older than one period at the end of the "
                          "run's period."),
    "usage_to_bill": ("Usage to bill", "Usage cost of subscriptions with a markup_percent, billed at that markup."),
    "margin": ("Margin", "Per customer and in total, for matched seat subscriptions: selling value (subscription "
               "seats × unit price for the provider's charge) − the provider's cost (the invoice's subtotals), "
               "and margin %."),
}
