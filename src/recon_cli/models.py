"""The run summary (pydantic): small enough to store as JSON and print whole.

Bulk data (invoice lines) stays in pandas frames; their vocabulary is in records.py.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from recon_cli.errors import ExitCode
from recon_cli.records import FailOn


class RunSummary(BaseModel):
    """What a run found, in numbers: small enough to store as JSON and print whole.

    Money amounts are strings of exact decimals, keyed by currency.
    """

    run_id: str
    created_at: str
    period: str | None
    invoice_file: str  # the first invoice; `invoice_files` has them all
    subscriptions_file: str
    changes_file: str | None
    invoice_format: str
    invoice_numbers: list[str] = Field(default_factory=list)
    invoice_files: list[str] = Field(default_factory=list)
    # The run's as-of (rule 5): change-log records effective after it are scheduled, not evidence.
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
    # The money figures of rule 10, per currency (each the sum of the lines' shares of it).
    unbilled_cost: dict[str, str] = Field(default_factory=dict)
    unclaimed_credit: dict[str, str] = Field(default_factory=dict)
    under_billed: dict[str, str] = Field(default_factory=dict)
    over_billed: dict[str, str] = Field(default_factory=dict)
    below_cost_loss: dict[str, str] = Field(default_factory=dict)
    money_at_risk: dict[str, str] = Field(default_factory=dict)
    to_bill: dict[str, str] = Field(default_factory=dict)
    to_bill_forgotten: dict[str, str] = Field(default_factory=dict)
    # Margin on the period's matched seat subscriptions: selling value, provider cost, margin, margin %.
    margin: dict[str, dict[str, str]] = Field(default_factory=dict)
    # Usage of subscriptions with a markup: its cost on the invoice, and what to bill at the markup.
    usage_cost: dict[str, str] = Field(default_factory=dict)
    usage_to_bill: dict[str, str] = Field(default_factory=dict)
    # Seat subscriptions with a selling price and a provider cost, each counted once:
    # selling value per year (price x seats) and the margin weighted by it, per currency.
    annual_revenue: dict[str, str] = Field(default_factory=dict)
    margin_pct: dict[str, str] = Field(default_factory=dict)
    missing_count: int = 0
    # Σ expected_price and Σ expected_cost of the missing subscriptions, per currency.
    missing_value: dict[str, str] = Field(default_factory=dict)
    missing_cost: dict[str, str] = Field(default_factory=dict)
    # Subscriptions due and absent in a currency none of the invoices is in: not checked (rule 7).
    not_checked_other_currency: int = 0
    reject_count: int = 0
    # A name the user gave the run (`recon run --label final`), shown by `recon runs` and `recon diff`.
    label: str | None = None
    # Cells of optional columns that could not be read: the row kept, the field left blank (§2).
    warning_count: int = 0
    # What needs a person (§4): quantity findings (lines and missing subscriptions: what
    # --fail-on unexplained counts), price findings (lines), and all of them together.
    needs_attention: int = 0
    price_findings: int = 0
    arithmetic_findings: int = 0
    needs_person: int = 0
    missing_needing_person: int = 0

    def needs_person_text(self) -> str:
        """The one wording of what needs a person, used by the terminal, `recon runs` and the workbook."""
        lines = self.needs_person - self.missing_needing_person
        if not self.needs_person:
            return "Nothing needs a person"
        parts = [f"{lines:,} line{'s' if lines != 1 else ''}"] if lines else []
        if self.missing_needing_person:
            parts.append(f"{self.missing_needing_person:,} missing subscription"
                         f"{'s' if self.missing_needing_person != 1 else ''}")
        return f"Needs a person: {self.needs_person:,} ({' and '.join(parts)})"
    has_change_log: bool = False
    unknown_charge_types: list[str] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)
    # `--usage`: the invoice's usage lines against the daily-rated usage file (recon_cli.usage).
    usage_check: dict[str, Any] | None = None

    def exit_code(self, fail_on: FailOn) -> ExitCode:
        """0 when nothing needs a person; 1 when something does, per --fail-on (PRODUCT.md §4)."""
        if fail_on == FailOn.NEVER:
            return ExitCode.OK
        needs = self.needs_attention > 0
        if fail_on == FailOn.ANY:
            needs = needs or self.price_findings > 0 or self.arithmetic_findings > 0 or self.reject_count > 0
        return ExitCode.NEEDS_ATTENTION if needs else ExitCode.OK
