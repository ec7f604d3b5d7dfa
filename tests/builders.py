"""Tiny NCE invoices, subscription exports and change logs written as real CSV files."""

from __future__ import annotations

import csv
import dataclasses
from pathlib import Path
from typing import Any

from recon_cli.formats.nce import NCE_HEADERS
from recon_cli.result import ReconResult

NCE_COLUMNS = list(NCE_HEADERS)
SUBSCRIPTION_COLUMNS = ["subscription_id", "customer_id", "customer_name", "product", "quantity",
                        "unit_price", "unit_cost", "currency", "billing_frequency", "status", "start_date"]
CHANGE_COLUMNS = ["change_id", "subscription_id", "effective_date", "quantity_delta", "provisioning_status",
                  "initiated_by", "customer_invoice", "status_reason"]


def seat(sub: str, qty: int, price: str = "10.00", *, charge_type: str = "cycleCharge",
         order: str = "10/5/2026", start: str = "10/5/2026", end: str = "11/4/2026", subtotal: str | None = None,
         frequency: str = "Monthly", customer: str = "c-1", product: str = "Microsoft 365 Business Basic",
         invoice: str = "G000000001", currency: str = "USD", rate: str = "1", **extra: Any) -> dict[str, Any]:
    """A licence line; the subtotal follows the provider's formula unless given."""
    from decimal import ROUND_DOWN, Decimal

    amount = subtotal if subtotal is not None else str(
        (Decimal(price) * Decimal(rate)).quantize(Decimal("0.01"), ROUND_DOWN) * qty)
    row = {
        "CustomerId": customer, "CustomerName": f"Customer {customer}", "InvoiceNumber": invoice,
        "OrderDate": order, "ProductId": "CFQ7TTC0LH18", "SkuId": "0001", "SkuName": product,
        "ProductName": product, "ChargeType": charge_type, "UnitPrice": price, "Quantity": str(qty),
        "Subtotal": amount, "TaxTotal": "0", "Total": amount, "Currency": currency, "SubscriptionId": sub,
        "ChargeStartDate": start, "ChargeEndDate": end,
        "TermAndBillingCycle": "One-Year commitment for monthly/yearly billing", "EffectiveUnitPrice": price,
        "BillableQuantity": str(qty), "BillingFrequency": frequency, "PricingCurrency": currency,
        "PCToBCExchangeRate": rate, "ProductQualifiers": "[]",
    }
    row.update(extra)
    return row


def usage(sub: str, amount: str, **extra: Any) -> dict[str, Any]:
    """An Azure plan meter line of `amount`, its arithmetic right (EffectiveUnitPrice x 1 GB = amount)."""
    row = seat(sub, 1, "0.045", subtotal=amount, frequency="", product="Azure plan",
               TermAndBillingCycle="", MeterDescription="Tables - LRS Data Stored (GB/month)",
               UnitType="1 GB/Month", BillableQuantity="1", EffectiveUnitPrice=amount, ProductId="DZH318Z0BPS6")
    row.update(extra)
    return row


def write_csv(path: Path, columns: list[str], rows: list[dict[str, Any]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, extrasaction="raise")
        writer.writeheader()
        for row in rows:
            writer.writerow({c: row.get(c, "") for c in columns})
    return path


def subscription(sub: str, qty: int | str, price: str = "12.00", **extra: Any) -> dict[str, Any]:
    row = {"subscription_id": sub, "customer_id": "c-1", "customer_name": "Customer c-1",
           "product": "Microsoft 365 Business Basic", "quantity": str(qty), "unit_price": price,
           "unit_cost": "", "currency": "USD", "billing_frequency": "monthly", "status": "active",
           "start_date": "2025-10-05"}
    row.update(extra)
    return row


def change(change_id: str, sub: str, date: str, delta: str, status: str = "Provisioned", **extra: Any
           ) -> dict[str, Any]:
    row = {"change_id": change_id, "subscription_id": sub, "effective_date": date, "quantity_delta": delta,
           "provisioning_status": status, "initiated_by": "jane@reseller.example", "customer_invoice": "",
           "status_reason": "Active"}
    row.update(extra)
    return row


def month(tmp: Path, invoice: list[dict[str, Any]], subs: list[dict[str, Any]],
          changes: list[dict[str, Any]] | None = None) -> dict[str, Path | None]:
    """Write the three inputs into tmp and return their paths."""
    paths: dict[str, Path | None] = {
        "invoice": write_csv(tmp / "invoice.csv", NCE_COLUMNS, invoice),
        "subscriptions": write_csv(tmp / "subscriptions.csv", SUBSCRIPTION_COLUMNS, subs),
        "changes": None,
    }
    if changes is not None:
        paths["changes"] = write_csv(tmp / "changes.csv", CHANGE_COLUMNS, changes)
    return paths


def with_lines(result: ReconResult, **changes: dict[int, object]) -> ReconResult:
    """A copy of `result` whose lines have some cells replaced: field -> {position: value}."""
    lines = result.lines.copy()
    for field, cells in changes.items():
        lines[field] = lines[field].astype("object")
        for position, value in cells.items():
            lines.loc[position, field] = value
    return dataclasses.replace(result, lines=lines)
