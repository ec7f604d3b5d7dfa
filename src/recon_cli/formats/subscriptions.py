"""The reseller's subscription export and licence change log (PRODUCT.md §2).

Aliases cover the billing systems of formats/partner-center.md §6: Work 365 display
names ("Subscription ID", "Selling Price", "Provisioning Status"...), ConnectWise PSA agreement
additions (product, quantity, unitPrice, unitCost, effectiveDate, cancelledDate), Autotask
contract services and their adjustments (units, unitChange), and common PSA words. A PSA export
needs the Microsoft subscription id in a column (often a custom field such as "Vendor
Subscription ID"): its own record ids never match the invoice.
"""

from __future__ import annotations

from recon_cli.formats import DATE, GUID, ID, MONEY, NUMBER, TEXT, Column, TableFormat

SUBSCRIPTIONS = TableFormat(
    name="subscriptions",
    title="Subscriptions (billing-system export)",
    columns=(
        Column("subscription_id", "subscription_id", GUID, required=True, nonblank=True,
               aliases=("Subscription ID", "SubscriptionId", "Provider Subscription ID",
                        "Microsoft Subscription ID", "PC Subscription ID", "Vendor Subscription ID")),
        Column("customer_id", "customer_id", GUID,
               aliases=("Customer ID", "CustomerId", "Tenant ID", "TenantId", "Microsoft Tenant ID")),
        Column("customer_name", "customer_name", TEXT,
               aliases=("Customer", "Customer Name", "Account", "Account Name", "Company", "Company Name")),
        Column("product", "product", TEXT,
               aliases=("Product", "Product Name", "Offer", "Offer Name", "sku_id", "product_id",
                        "SKU", "Sku Id", "Product ID", "Service", "Product Identifier", "Service Name")),
        Column("quantity", "quantity", NUMBER, required=True, nonblank=True,
               aliases=("Quantity", "Seats", "Licenses", "Licences", "Qty", "Seat Count", "Units")),
        Column("unit_price", "unit_price", MONEY,
               aliases=("Selling Price", "Sell Price", "Price", "Unit Price", "Selling Price Per Unit",
                        "Price Per Unit")),
        Column("unit_cost", "unit_cost", MONEY,
               aliases=("Cost Price", "Cost", "Unit Cost", "Cost Price Per Unit", "Cost Per Unit")),
        Column("currency", "currency", TEXT, aliases=("Currency",)),
        Column("billing_frequency", "billing_frequency", TEXT,
               aliases=("Billing Frequency", "Billing Cycle", "Billing Period", "Billing Plan")),
        Column("markup_percent", "markup_percent", NUMBER,
               aliases=("Markup", "Markup %", "Markup Percent", "Markup Percentage", "Uplift", "Uplift %")),
        Column("status", "status", TEXT, aliases=("Status", "State", "Subscription Status")),
        Column("start_date", "start_date", DATE,
               aliases=("Start Date", "Subscription Start", "Subscription Start Date", "Term Start",
                        "Commitment Start Date", "Effective Date")),
        # ConnectWise additions have no status: a cancelled date marks a cancelled subscription.
        Column("cancelled_date", "cancelled_date", DATE, aliases=("Cancelled Date", "Canceled Date",
                                                                  "Cancellation Date")),
    ),
)

CHANGE_LOG = TableFormat(
    name="change_log",
    title="Licence change log (billing-system export)",
    columns=(
        Column("change_id", "change_id", ID, required=True, nonblank=True,
               aliases=("Change ID", "ChangeId", "Name", "ID", "License Change Log", "LCL", "Record ID")),
        Column("subscription_id", "subscription_id", GUID, required=True, nonblank=True,
               aliases=("Subscription ID", "SubscriptionId", "Subscription")),
        Column("effective_date", "effective_date", DATE, required=True, nonblank=True,
               aliases=("Effective Date", "Effective", "Date", "Change Date")),
        Column("quantity_delta", "quantity_delta", NUMBER,
               aliases=("Quantity Delta", "Quantity Change", "Delta", "Change", "Quantity", "Unit Change",
                        "Units Change")),
        Column("old_quantity", "old_quantity", NUMBER,
               aliases=("Old Quantity", "Previous Quantity", "Quantity Before", "From Quantity")),
        Column("new_quantity", "new_quantity", NUMBER,
               aliases=("New Quantity", "Quantity After", "To Quantity")),
        Column("provisioning_status", "provisioning_status", TEXT, aliases=("Provisioning Status",)),
        Column("initiated_by", "initiated_by", TEXT,
               aliases=("Initiated By", "Created By", "Changed By", "Modified By", "User",
                        "Order and Change Source", "Source")),
        Column("customer_invoice", "customer_invoice", ID,
               aliases=("Customer Invoice", "Invoice", "Invoice Number", "Invoice ID")),
        Column("status_reason", "status_reason", TEXT, aliases=("Status Reason",)),
    ),
)

# Months per billing period of each billing plan; `usage` (pay-as-you-go) has none.
BILLING_FREQUENCIES = {"monthly": 1, "annual": 12, "triennial": 36}
USAGE = "usage"
# How billing plans are written, on invoices (BillingFrequency) and in billing exports, lower-cased.
FREQUENCY_WORDS = {
    **dict.fromkeys(("monthly", "month", "p1m", "1 month", "one month"), "monthly"),
    **dict.fromkeys(("annual", "annually", "yearly", "year", "p1y", "1 year", "one year"), "annual"),
    **dict.fromkeys(("triennial", "p3y", "3 years", "three years", "3 year", "three year"), "triennial"),
    **dict.fromkeys(("usage", "pay-as-you-go", "pay as you go", "payg", "consumption", "metered"), USAGE),
}
STATUS_CANCELLED = "cancelled"
STATUS_WORDS = {"canceled": STATUS_CANCELLED, "cancelled": STATUS_CANCELLED}
PROVISIONING_FAILED = "failed provisioning"
PROVISIONING_AWAITING = "awaiting provisioning"
