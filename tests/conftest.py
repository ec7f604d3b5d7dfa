"""Shared fixtures: an isolated store, and a tiny hand-built ReconResult."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest

from recon_cli.history import subscription_states
from recon_cli.models import RunSummary
from recon_cli.records import EVIDENCE_FIELDS, LINE_FIELDS, MISSING_FIELDS, REJECT_FIELDS
from recon_cli.result import ReconResult

D = Decimal


@pytest.fixture(autouse=True)
def recon_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own store, never the developer's ./.recon."""
    home = tmp_path / "recon-home"
    monkeypatch.setenv("RECON_HOME", str(home))
    monkeypatch.delenv("NO_COLOR", raising=False)
    return home


def _line(**values: object) -> dict[str, object]:
    base: dict[str, object] = dict.fromkeys(LINE_FIELDS)
    base.update(
        invoice_number="G000123456", customer_id="cust-1", customer_name="Contoso Ltd",
        product="Microsoft 365 Business Premium", product_id="CFQ7TTC0LCHC", sku_id="0002",
        charge_type="cycleCharge", kind="seat", billing_frequency="monthly",
        order_date="2026-10-01", charge_start="2026-10-01", charge_end="2026-10-31",
        currency="USD", tax_total=D("0"), match_method="subscription_id", evidence=[], scheduled=[],
        explanation="", money_at_risk=D("0"), price_status="ok", invoice_file="invoice.csv", needs_person=False,
        unbilled_cost=D("0"), unclaimed_credit=D("0"), under_billed=D("0"), over_billed=D("0"),
        below_cost_loss=D("0"), price_effect=D("0"), provider_arithmetic=False,
    )
    base.update(values)
    return base


@pytest.fixture
def tiny_result() -> ReconResult:
    """Four lines, one per main status, plus one missing subscription, evidence and a reject."""
    lines = [
        _line(line_id="G000123456-2", row=2, subscription_id="aaaa-1", matched_subscription_id="aaaa-1",
              quantity=D("10"), billable_quantity=D("10"), status="matched", reason="quantity_equal",
              provider_quantity=D("10"), subscription_quantity=D("10"), quantity_delta=D("0"),
              as_of="2026-10-01", unit_cost=D("22.00"), unit_price=D("26.40"), margin_pct=D("16.67"),
              subtotal=D("220.00"), total=D("220.00"),
              explanation="Provider and subscription both have 10 seats."),
        _line(line_id="G000123456-3", row=3, subscription_id="bbbb-2", matched_subscription_id="bbbb-2",
              customer_name="Fabrikam Inc", quantity=D("10"), billable_quantity=D("10"),
              status="explained", reason="changed_after_as_of", provider_quantity=D("10"),
              subscription_quantity=D("12"), quantity_delta=D("-2"), as_of="2026-10-05",
              unit_cost=D("12.50"), unit_price=D("15.00"), margin_pct=D("16.67"),
              subtotal=D("125.00"), total=D("125.00"), evidence=["LCL-1001"],
              explanation="Provider has 10 seats as of 2026-10-05, subscription 12 (−2). Explained by "
                          "LCL-1001: +2 on 2026-10-12, Provisioned, by jane@reseller.com, not yet invoiced."),
        _line(line_id="G000123456-4", row=4, subscription_id="cccc-3", matched_subscription_id="cccc-3",
              customer_name="=HYPERLINK(\"http://evil\",\"x\")", quantity=D("5"), billable_quantity=D("5"),
              status="unexplained", reason="no_evidence", provider_quantity=D("5"),
              subscription_quantity=D("4"), quantity_delta=D("1"), as_of="2026-10-01",
              unit_cost=D("30.00"), unit_price=D("25.00"), price_status="below_cost", margin_pct=D("-20.00"),
              needs_person=True,
              subtotal=D("150.00"), total=D("150.00"), money_at_risk=D("30.00"), under_billed=D("30.00"),
              explanation="Provider has 5 seats as of 2026-10-01, subscription 4 (+1); "
                          "no change-log record explains it."),
        _line(line_id="G000123456-5", row=5, subscription_id="dddd-4", customer_name="Northwind",
              quantity=D("3"), billable_quantity=D("3"), status="unmatched", reason="subscription_not_found",
              match_method="none", price_status="no_price", unit_cost=D("-5.00"), needs_person=True,
              subtotal=D("-15.00"), total=D("-15.00"), unclaimed_credit=D("15.00"),
              explanation="Subscription dddd-4 is not in the subscription export: "
                          "this cost is never re-billed."),
    ]
    lines_frame = pd.DataFrame(lines, columns=list(LINE_FIELDS))
    lines_frame["row"] = lines_frame["row"].astype("int64")
    lines_frame["open_since"] = ["2026-10" if needs else "" for needs in lines_frame["needs_person"]]
    missing = pd.DataFrame(
        [dict(subscription_id="eeee-5", row=7, customer_id="cust-9", customer_name="Tailspin",
              product="Exchange Online (Plan 1)", quantity=D("8"), billing_frequency="monthly",
              start_date="2025-03-14", unit_price=D("4.80"), unit_cost=D("4.00"), currency="USD",
              expected_cost=D("32.00"), expected_price=D("38.40"), needs_person=True, reason="not_on_invoice",
              open_since="2026-09",
              explanation="Active monthly subscription with 8 seats is due in 2026-10 "
                          "but has no line on the invoice.")],
        columns=list(MISSING_FIELDS),
    )
    evidence = pd.DataFrame(
        [dict(change_id="LCL-1001", subscription_id="bbbb-2", row=2, effective_date="2026-10-12",
              quantity_delta="2", provisioning_status="Provisioned", initiated_by="jane@reseller.com",
              customer_invoice="", status_reason="Active", evidence_kind="changed_after_as_of")],
        columns=list(EVIDENCE_FIELDS),
    )
    rejects = pd.DataFrame(
        [dict(file="invoice.csv", row=6, column="Quantity", value="abc", code="not_a_number",
              message="expected a number, found 'abc'")],
        columns=list(REJECT_FIELDS),
    )
    summary = RunSummary(
        run_id="20261125T020000Z-abcd", created_at="2026-11-25T02:00:00Z", period="2026-10",
        invoice_file="invoice.csv", subscriptions_file="subscriptions.csv", changes_file="changes.csv",
        invoice_format="nce", invoice_numbers=["G000123456"], line_count=4, subscription_count=5,
        change_count=1,
        status_counts={"matched": 1, "explained": 1, "unexplained": 1, "unmatched": 1},
        price_status_counts={"ok": 2, "below_cost": 1, "no_price": 1},
        kind_counts={"seat": 4},
        subtotal_by_status={"USD": {"matched": "220.00", "explained": "125.00",
                                    "unexplained": "150.00", "unmatched": "-15.00"}},
        subtotal_total={"USD": "480.00"}, unclaimed_credit={"USD": "15.00"}, under_billed={"USD": "30.00"},
        money_at_risk={"USD": "30.00"}, missing_count=1, missing_value={"USD": "38.40"},
        missing_cost={"USD": "32.00"}, reject_count=1, needs_attention=3, price_findings=1, needs_person=3,
        missing_needing_person=1,
        has_change_log=True, invoice_files=["invoice.csv"], as_of="2026-11-25T23:59:59",
    )
    return ReconResult(lines=lines_frame, missing=missing, evidence=evidence, rejects=rejects,
                       summary=summary, invoice_raw=None,
                       subscriptions=subscription_states(lines_frame, missing))
