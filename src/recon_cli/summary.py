"""The run's summary: counts and exact money figures per status and currency (PRODUCT.md §3 rule 10)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, cast

from recon_cli.confirm import finding_masks
from recon_cli.decimals import sum_by, sums_by
from recon_cli.models import RunSummary
from recon_cli.price import seat_margins
from recon_cli.records import Status

if TYPE_CHECKING:
    import pandas as pd

# The money figures of the lines, each summed per currency (PRODUCT.md §3 rule 10).
FIGURES = ("unbilled_cost", "unclaimed_credit", "under_billed", "over_billed", "below_cost_loss", "money_at_risk")


@dataclass(frozen=True)
class RunFacts:
    """What the summary records about the run itself, beside what its frames hold."""

    run_id: str
    period: str | None
    invoice_files: list[str]
    subscriptions_file: str
    changes_file: str | None
    invoice_format: str
    as_of: str | None
    min_margin: str | None
    subscription_count: int
    change_count: int
    has_change_log: bool
    unknown_charge_types: list[str]
    notes: list[str]
    not_checked_other_currency: int = 0
    usage_check: dict[str, Any] | None = None
    warning_count: int = 0


def _amounts(totals: dict[str, Any], keep_zero: bool = True) -> dict[str, str]:
    return {key: str(value) for key, value in sorted(totals.items()) if keep_zero or value != 0}


def _counts(values: pd.Series) -> dict[str, int]:
    return {str(k): int(v) for k, v in values.value_counts().sort_index().items()}


def summarise(lines: pd.DataFrame, missing: pd.DataFrame, rejects: pd.DataFrame, facts: RunFacts,
              to_bill: pd.DataFrame | None = None, usage_billing: pd.DataFrame | None = None,
              margin: pd.DataFrame | None = None) -> RunSummary:
    """Counts and exact totals per status and currency, the money figures, margins, what needs a person."""
    subtotal_by_status: dict[str, dict[str, str]] = {}
    for key, amount in sorted(sum_by(lines, ["currency", "status"], "subtotal").items()):
        currency, status = key.split("|", 1)
        subtotal_by_status.setdefault(currency, {})[status] = str(amount)
    quantity, price = finding_masks(lines["status"], lines["reason"], lines["price_status"])
    arithmetic = lines["provider_arithmetic"].astype(bool) & (lines["status"] != Status.CONFIRMED.value)
    missing_people = int(missing["needs_person"].sum()) if len(missing) else 0
    annual_revenue, margin_pct = seat_margins(lines)
    by_currency = sums_by(lines, ["currency"], ["subtotal", *FIGURES])
    figures: dict[str, Any] = {name: _amounts(by_currency[name], keep_zero=False) for name in FIGURES}
    return RunSummary(
        run_id=facts.run_id, created_at=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        period=facts.period, invoice_file=facts.invoice_files[0] if facts.invoice_files else "",
        invoice_files=facts.invoice_files, subscriptions_file=facts.subscriptions_file,
        changes_file=facts.changes_file, invoice_format=facts.invoice_format,
        invoice_numbers=sorted(n for n in lines["invoice_number"].unique().tolist() if n),
        as_of=facts.as_of, min_margin=facts.min_margin,
        line_count=len(lines), subscription_count=facts.subscription_count, change_count=facts.change_count,
        status_counts=_counts(lines["status"]), price_status_counts=_counts(lines["price_status"]),
        kind_counts=_counts(lines["kind"]),
        subtotal_by_status=subtotal_by_status,
        subtotal_total=_amounts(by_currency["subtotal"]),
        **figures, **cast(dict[str, Any], _billing(to_bill, usage_billing)), margin=_margin_totals(margin),
        annual_revenue=annual_revenue, margin_pct=margin_pct, missing_count=len(missing),
        missing_value=_amounts(sum_by(missing, ["currency"], "expected_price")),
        missing_cost=_amounts(sum_by(missing, ["currency"], "expected_cost")),
        not_checked_other_currency=facts.not_checked_other_currency,
        reject_count=len(rejects), warning_count=facts.warning_count, has_change_log=facts.has_change_log,
        needs_attention=int(quantity.sum()) + missing_people, price_findings=int(price.sum()),
        arithmetic_findings=int(arithmetic.sum()),
        needs_person=int(lines["needs_person"].sum()) + missing_people, missing_needing_person=missing_people,
        unknown_charge_types=facts.unknown_charge_types, notes=facts.notes, usage_check=facts.usage_check,
    )


def _billing(to_bill: pd.DataFrame | None, usage: pd.DataFrame | None) -> dict[str, dict[str, str]]:
    """to_bill (and the forgotten part of it), usage cost and usage to bill, per currency."""
    out: dict[str, dict[str, str]] = {}
    if to_bill is not None and len(to_bill):
        priced = to_bill.loc[to_bill["amount"].notna()]
        out["to_bill"] = _amounts(sum_by(priced, ["currency"], "amount"), keep_zero=False)
        late = priced.loc[priced["forgotten"].astype(bool)]
        out["to_bill_forgotten"] = _amounts(sum_by(late, ["currency"], "amount"), keep_zero=False)
    if usage is not None and len(usage):
        out["usage_cost"] = _amounts(sum_by(usage, ["currency"], "usage_cost"))
        out["usage_to_bill"] = _amounts(sum_by(usage, ["currency"], "to_bill"))
    return out


def _margin_totals(margin: pd.DataFrame | None) -> dict[str, dict[str, str]]:
    """Selling value, provider cost, margin and margin % of the period, per currency (rule 10)."""
    if margin is None or margin.empty:
        return {}
    priced = margin.loc[margin["revenue"].notna()]
    revenue, cost = sum_by(priced, ["currency"], "revenue"), sum_by(priced, ["currency"], "cost")
    out = {}
    for currency, sold in sorted(revenue.items()):
        earned = sold - cost.get(currency, Decimal(0))
        pct = (earned / sold * 100).quantize(Decimal("0.01")) if sold else None
        out[currency] = {"revenue": str(sold), "cost": str(cost.get(currency, Decimal(0))), "margin": str(earned),
                         "margin_pct": str(pct) if pct is not None else ""}
    return out
