"""`recon run --usage`: the invoice's usage lines against the NCE daily-rated usage (DRU) file."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from builders import month, seat, subscription, usage, write_csv
from recon_cli.cli import cli
from recon_cli.pipeline import RunInputs, reconcile
from recon_cli.usage import load_usage

SAMPLE_DRU = Path("/work/shared/samples/partner-center/daily-rated-usage.from-ms-docs.csv")
DRU_COLUMNS = [
    "PartnerId", "PartnerName", "CustomerId", "CustomerName", "CustomerDomainName", "CustomerCountry", "MpnId",
    "Tier2MpnId", "InvoiceNumber", "ProductId", "SkuId", "AvailabilityId", "SkuName", "ProductName",
    "PublisherName", "PublisherId", "SubscriptionDescription", "SubscriptionId", "ChargeStartDate",
    "ChargeEndDate", "UsageDate", "MeterType", "MeterCategory", "MeterId", "MeterSubCategory", "MeterName",
    "MeterRegion", "Unit", "ResourceLocation", "ConsumedService", "ResourceGroup", "ResourceURI", "ChargeType",
    "UnitPrice", "Quantity", "UnitType", "BillingPreTaxTotal", "BillingCurrency", "PricingPreTaxTotal",
    "PricingCurrency", "ServiceInfo1", "ServiceInfo2", "Tags", "AdditionalInfo", "EffectiveUnitPrice",
    "PCToBCExchangeRate", "PCToBCExchangeRateDate", "EntitlementId", "EntitlementDescription",
    "PartnerEarnedCreditPercentage", "CreditPercentage", "CreditType", "BenefitOrderId", "BenefitId",
    "BenefitType",
]
SUB_A = "AAAAAAAA-0000-4000-8000-000000000001"
SUB_B = "bbbbbbbb-0000-4000-8000-000000000002"
SUB_C = "cccccccc-0000-4000-8000-000000000003"


def dru_row(sub: str, day: int, amount: str, **extra: Any) -> dict[str, Any]:
    row = {
        "CustomerId": "c-1", "InvoiceNumber": "G000000001", "ProductId": "DZH318Z0BPS6", "SkuId": "0001",
        "SkuName": "Azure plan", "SubscriptionId": sub, "ChargeStartDate": "10/1/2026",
        "ChargeEndDate": "10/31/2026", "UsageDate": f"2026-10-{day:02d}T00:00:00Z", "MeterId": "m-1",
        "ChargeType": "new", "UnitPrice": "0.05", "Quantity": "1", "BillingPreTaxTotal": amount,
        "BillingCurrency": "USD", "EffectiveUnitPrice": "0.045", "PCToBCExchangeRate": "1",
    }
    row.update(extra)
    return row


def write_dru(tmp_path: Path, rows: list[dict[str, Any]]) -> Path:
    return write_csv(tmp_path / "dru.csv", DRU_COLUMNS, rows)


def run_month(tmp_path: Path, invoice: list[dict[str, Any]], dru: list[dict[str, Any]]) -> Any:
    paths = month(tmp_path, invoice, [subscription(SUB_A, 10), subscription(SUB_B, 1)])
    assert paths["invoice"] is not None and paths["subscriptions"] is not None
    return reconcile(RunInputs(invoices=(paths["invoice"],), subscriptions=paths["subscriptions"],
                               usage=write_dru(tmp_path, dru)))


def test_matching_sums_have_no_difference(tmp_path: Path) -> None:
    """Three days summing to the invoice subtotal, in another GUID case and without SkuId's leading zeros."""
    result = run_month(tmp_path, [seat(SUB_A, 10), usage(SUB_B, "1.50")],
                       [dru_row(SUB_B.upper(), d, "0.50", SkuId="1") for d in (1, 2, 3)])
    check = result.summary.usage_check
    assert check["rows"] == 3 and check["lines_checked"] == 1
    assert check["lines_differing"] == 0 and check["differences"] == []
    assert check["unmatched_usage"] == {}
    assert not any(note.startswith("usage:") for note in result.summary.notes)


def test_rounding_within_a_cent_per_row_is_no_difference(tmp_path: Path) -> None:
    """The invoice rounds once, the DRU each day: up to 0.01 per row apart is the same usage."""
    result = run_month(tmp_path, [usage(SUB_B, "1.52")], [dru_row(SUB_B, d, "0.50") for d in (1, 2, 3)])
    assert result.summary.usage_check["lines_differing"] == 0


def test_planted_difference_is_listed_with_its_amounts(tmp_path: Path) -> None:
    result = run_month(tmp_path, [usage(SUB_B, "9.99"), usage(SUB_A, "0.30")],
                       [*(dru_row(SUB_B, d, "1.25") for d in (1, 2, 3, 4)),
                        *(dru_row(SUB_A, d, "0.10") for d in (1, 2, 3))])
    check = result.summary.usage_check
    assert check["lines_checked"] == 2 and check["lines_differing"] == 1
    [difference] = check["differences"]
    assert difference["subscription_id"] == SUB_B
    assert difference["line_id"] == "G000000001-2"
    assert difference["product"] == "Azure plan"
    assert Decimal(difference["invoice_subtotal"]) == Decimal("9.99")
    assert Decimal(difference["daily_rated_total"]) == Decimal("5.00")
    assert Decimal(difference["difference"]) == Decimal("4.99")
    assert difference["days"] == 4
    assert ("usage: 1 invoice usage line differs from the daily-rated file; see summary.usage_check"
            in result.summary.notes)


def test_other_invoice_number_is_not_summed(tmp_path: Path) -> None:
    """DRU rows of another invoice stay out of the line's sum, and count as unmatched usage."""
    result = run_month(tmp_path, [usage(SUB_B, "1.00")],
                       [dru_row(SUB_B, 1, "1.00"), dru_row(SUB_B, 2, "7.00", InvoiceNumber="G000000002")])
    check = result.summary.usage_check
    assert check["lines_differing"] == 0
    assert check["unmatched_usage"] == {"USD": "7.00"}


def test_usage_without_an_invoice_line_is_unmatched(tmp_path: Path) -> None:
    result = run_month(tmp_path, [usage(SUB_B, "1.00")],
                       [dru_row(SUB_B, 1, "1.00"), dru_row(SUB_C, 1, "2.25"), dru_row(SUB_C, 2, "0.75"),
                        dru_row(SUB_C, 3, "3.00", BillingCurrency="eur")])
    check = result.summary.usage_check
    assert check["lines_differing"] == 0
    assert check["unmatched_usage"] == {"EUR": "3.00", "USD": "3.00"}


def test_bad_amount_is_a_reject_with_file_row_and_column(tmp_path: Path) -> None:
    result = run_month(tmp_path, [usage(SUB_B, "1.00")],
                       [dru_row(SUB_B, 1, "1.00"), dru_row(SUB_B, 2, "n/a")])
    rejects = result.rejects
    bad = rejects.loc[rejects["file"] == "dru.csv"]
    assert len(bad) == 1
    assert bad.iloc[0]["row"] == 3 and bad.iloc[0]["column"] == "BillingPreTaxTotal"
    assert "n/a" in bad.iloc[0]["message"]
    assert result.summary.reject_count == len(rejects)
    check = result.summary.usage_check
    assert check["rows"] == 1 and check["lines_differing"] == 0


def test_microsoft_sample_loads() -> None:
    loaded = load_usage(SAMPLE_DRU)
    frame, rejects = loaded.frame, loaded.rejects
    assert len(frame) == 3 and rejects.empty
    assert frame["billing_pre_tax_total"].tolist() == [
        Decimal("0.486031696515249"), Decimal("0.490235765325545"), Decimal("0.486031696515249")]
    assert set(frame["subscription_id_key"]) == {"12345678-9d62-4a85-8fd0-91a87c261bc4"}


def test_cli_usage_option_writes_usage_check(tmp_path: Path) -> None:
    paths = month(tmp_path, [seat(SUB_A, 10), usage(SUB_B, "2.00")], [subscription(SUB_A, 10)])
    dru = write_dru(tmp_path, [dru_row(SUB_B, 1, "1.00")])
    out = tmp_path / "run.json"
    result = CliRunner().invoke(cli, [
        "run", str(paths["invoice"]), str(paths["subscriptions"]), "--usage", str(dru), "--json", str(out),
        "--store", str(tmp_path / "runs.db"), "--fail-on", "never"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "Usage check: 1 usage line checked against dru.csv; 1 differs" in result.stdout
    check = json.loads(out.read_text())["summary"]["usage_check"]
    assert check["lines_differing"] == 1
    assert check["differences"][0]["difference"] == "1.00"
