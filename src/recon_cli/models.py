"""Typed things: the run summary (pydantic), plus the light vocabulary re-exported from records.py.

Bulk data (invoice lines) stays in pandas frames; these models describe the frames'
vocabulary and the per-run summary that report, export and store all read.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from recon_cli.records import (
    EVIDENCE_FIELDS,
    LINE_FIELDS,
    MISSING_FIELDS,
    NEEDS_PERSON,
    REJECT_FIELDS,
    Confirmation,
    EvidenceKind,
    EvidenceRecord,
    Explanation,
    Kind,
    MatchMethod,
    PriceStatus,
    Reason,
    Reject,
    Status,
)

__all__ = [
    "EVIDENCE_FIELDS", "LINE_FIELDS", "MISSING_FIELDS", "NEEDS_PERSON", "REJECT_FIELDS", "Confirmation",
    "EvidenceKind", "EvidenceRecord", "Explanation", "Kind", "MatchMethod", "PriceStatus", "Reason", "Reject",
    "RunSummary", "Status",
]


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
    # Seat subscriptions with a selling price and a provider cost, each counted once:
    # selling value per year (price x seats) and the margin weighted by it, per currency.
    annual_revenue: dict[str, str] = Field(default_factory=dict)
    margin_pct: dict[str, str] = Field(default_factory=dict)
    missing_count: int = 0
    missing_value: dict[str, str] = Field(default_factory=dict)
    reject_count: int = 0
    needs_attention: int = 0
    has_change_log: bool = False
    unknown_charge_types: list[str] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)
    # `--usage`: the invoice's usage lines against the daily-rated usage file (recon_cli.usage).
    usage_check: dict[str, Any] | None = None


