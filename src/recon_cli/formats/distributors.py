"""Built-in profiles for distributors' invoice exports (formats/partner-center.md §5).

Each maps the columns its source documents; where a source gives only some names, the others
are common spellings and say so in the description. A distributor's "subscription id" is often
its own, not Partner Center's: the subscriptions export must then hold that id (a Work 365 or
PSA field such as "Vendor Subscription ID") for lines to match.
"""

from __future__ import annotations

from recon_cli.formats import TableFormat
from recon_cli.formats.profiles import Profile

BUILT_IN: tuple[dict[str, object], ...] = (
    {
        "name": "msphub",
        "title": "MSP Hub invoice (CSV)",
        "description": "Indirect provider re-export of the NCE file with Partner* amounts; columns from "
                       "lukebarhoumeh/Reconciliation test data (msphub_raw.csv, sixdotone.csv).",
        "detect": ["PartnerSubTotal", "PartnerEffectiveUnitPrice"],
        "columns": {
            "invoice_number": "PartnerInvoiceNumber",
            "order_id": "OrderNumber",
            "order_date": ["OrderDate", "PurchaseDate"],
            "sku_id": ["SkuId", "PartNumber"],
            "list_unit_price": "PartnerUnitPrice",
            "subtotal": ["PartnerSubTotal", "PartnerTotal"],
            "tax_total": "PartnerTaxTotal",
            "total": "PartnerTotal",
            "currency": ["Currency", "PricingCurrency"],
            "charge_start": ["ChargeStartDate", "ValidFrom"],
            "charge_end": ["ChargeEndDate", "ValidTo"],
            "term": "Term",
            "billing_frequency": ["BillingCycle", "BillingFrequency"],
            "effective_unit_price": "PartnerEffectiveUnitPrice",
        },
    },
    {
        "name": "ingram",
        "title": "Ingram Micro Cloud Marketplace rated data export (CSV)",
        "description": "Rated Data Export, short view (kb.cloud.im): customer, subscription and plan columns as "
                       "documented; the amount columns (Net Price...) are the invoice template's names. The "
                       "Subscription ID is the marketplace's own.",
        "detect": ["Customer Account ID", "End Customer Name", "Plan ID"],
        "required": ["subscription_id", "subtotal"],
        "columns": {
            "customer_id": "Customer Account ID",
            "customer_name": "End Customer Name",
            "subscription_id": "Subscription ID",
            "subscription_description": "Subscription Name",
            "subscription_end": "Subscription Expiration Date",
            "product_id": "Plan ID",
            "product_name": ["Plan Name", "Resource Name"],
            "sku_id": ["Resource MPN", "MPN"],
            "quantity": ["Quantity", "Qty"],
            "effective_unit_price": ["Unit Price", "Price"],
            "subtotal": ["Net Price", "Net Amount", "Total Net Price"],
            "charge_type": ["Charge Type", "Transaction Type"],
            "charge_start": ["Period Start", "Start Date", "Charge Start Date"],
            "charge_end": ["Period End", "End Date", "Charge End Date"],
            "billing_frequency": ["Billing Period", "Billing Period Type"],
            "invoice_number": ["Invoice Number", "Document Number"],
        },
    },
    {
        "name": "pax8",
        "title": "Pax8 invoice items (CSV or API export)",
        "description": "Invoice item fields as the Pax8 API names them (companyName, costTotal... seen in "
                       "community clients, not checked against a portal CSV). subscriptionId is Pax8's own.",
        "detect": ["companyName", "costTotal"],
        "columns": {
            "invoice_number": ["invoiceId", "Invoice Number"],
            "customer_id": ["companyId", "Company ID"],
            "customer_name": ["companyName", "Company"],
            "product_id": ["productId", "Product ID"],
            "product_name": ["productName", "Product"],
            "sku_id": ["sku", "SKU"],
            "subscription_id": ["subscriptionId", "Subscription ID"],
            "quantity": ["quantity", "Qty"],
            "effective_unit_price": ["cost", "Unit Cost"],
            "list_unit_price": ["price", "unitPrice"],
            "subtotal": ["costTotal", "Total Cost"],
            "total": ["total"],
            "charge_type": ["type", "chargeType", "Charge Type"],
            "order_date": ["transactionDate", "Transaction Date"],
            "charge_start": ["billingPeriodStart", "startPeriod", "Period Start"],
            "charge_end": ["billingPeriodEnd", "endPeriod", "Period End"],
            "currency": ["currencyCode", "Currency"],
            "billing_frequency": ["billingTerm", "Billing Term"],
            "term": ["commitmentTerm", "Term"],
        },
    },
    {
        "name": "td-synnex",
        "title": "TD SYNNEX StreamOne Ion billing report (CSV)",
        "description": "Reports → Billing, per vendor: seller cost (what you pay), customer cost, margin, "
                       "quantity and seat count are documented; the other names are common spellings.",
        "detect": ["Seller Cost", "Customer Cost"],
        "columns": {
            "customer_name": ["Customer Name", "End Customer", "Customer"],
            "customer_id": ["Customer ID", "Tenant ID"],
            "subscription_id": ["Vendor Subscription ID", "Subscription ID"],
            "product_name": ["Product Name", "Product"],
            "sku_id": ["SKU", "Vendor SKU"],
            "quantity": ["Seat Count", "Quantity"],
            "subtotal": "Seller Cost",
            "effective_unit_price": ["Seller Unit Cost", "Unit Cost"],
            "charge_type": ["Charge Type", "Transaction Type"],
            "charge_start": ["Billing Period Start", "Start Date", "Period Start"],
            "charge_end": ["Billing Period End", "End Date", "Period End"],
            "currency": ["Currency", "Currency Code"],
            "billing_frequency": ["Billing Frequency", "Billing Cycle"],
            "term": ["Term", "Commitment Term"],
            "invoice_number": ["Statement Number", "Invoice Number"],
        },
    },
)


def built_in_profiles() -> dict[str, TableFormat]:
    """The built-in distributor formats by name (`--invoice-format pax8`)."""
    return {str(table["name"]): Profile.model_validate(table).table_format() for table in BUILT_IN}
