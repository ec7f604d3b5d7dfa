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
                        "Microsoft Subscription ID", "PC Subscription ID", "Vendor Subscription ID",
                        "Partner Center Subscription ID", "CSP Subscription ID", "Subscription GUID"),
               meaning="The Partner Center subscription id (GUID)"),
        Column("subscription_name", "subscription_name", TEXT,
               aliases=("Subscription Name", "Subscription", "Name", "Nickname", "Friendly Name",
                        "Subscription Nickname", "Agreement Name", "Contract Name"),
               meaning="The subscription's name: a change log that names subscriptions instead of giving ids is "
                       "resolved through it"),
        Column("customer_id", "customer_id", GUID,
               aliases=("Customer ID", "CustomerId", "Tenant ID", "TenantId", "Microsoft Tenant ID",
                        "Customer Tenant ID"),
               meaning="Customer tenant id"),
        Column("customer_name", "customer_name", TEXT,
               aliases=("Customer", "Customer Name", "Account", "Account Name", "Company", "Company Name",
                        "Client", "Client Name", "Organization", "Organisation", "Tenant Name"),
               meaning="Customer name (also used for the customer + product fallback match)"),
        Column("product", "product", TEXT,
               aliases=("Product", "Product Name", "Offer", "Offer Name", "sku_id", "product_id",
                        "SKU", "Sku Id", "Product ID", "Service", "Product Identifier", "Service Name",
                        "Item", "Item Name", "Microsoft Product", "PSA Service"),
               meaning="Offer or product name, or its product / SKU id"),
        Column("quantity", "quantity", NUMBER, required=True, nonblank=True,
               aliases=("Quantity", "Seats", "Licenses", "Licences", "Qty", "Seat Count", "Units",
                        "License Count", "Licence Count", "Seat Quantity", "Billed Quantity"),
               meaning="Seats in your billing system; `1,200` is fine"),
        Column("unit_price", "unit_price", MONEY,
               aliases=("Selling Price", "Sell Price", "Sale Price", "Sales Price", "Price", "Unit Price",
                        "Selling Price Per Unit", "Price Per Unit", "Unit Sale Price", "Customer Price",
                        "PSA Unit Price", "Retail Price"),
               meaning="Selling price per seat per billing period"),
        Column("unit_cost", "unit_cost", MONEY,
               aliases=("Cost Price", "Cost", "Unit Cost", "Partner Cost", "Cost Price Per Unit", "Cost Per Unit",
                        "Buy Price", "Purchase Price", "PSA Unit Cost", "Distributor Unit Cost"),
               meaning="The cost per seat per billing period you expect to pay"),
        Column("currency", "currency", TEXT, aliases=("Currency", "Currency Code", "Transaction Currency"),
               meaning="ISO code, or a currency name or symbol (`US Dollar`, `Euro`, `€`: mapped, with a note); "
                       "default: the invoice's currency"),
        Column("billing_frequency", "billing_frequency", TEXT,
               aliases=("Billing Frequency", "Billing Cycle", "Billing Period", "Billing Plan", "Frequency",
                        "Billing Interval", "Invoice Frequency", "Recurrence"),
               meaning="`monthly` (default), `annual`, `triennial`, or `usage` (pay-as-you-go, e.g. an Azure plan: "
                       "never missing)"),
        Column("markup_percent", "markup_percent", NUMBER,
               aliases=("Markup", "Markup %", "Markup Percent", "Markup Percentage", "Uplift", "Uplift %"),
               meaning="For usage subscriptions: the markup on the provider's usage cost billed to the customer"),
        # Work 365 exports "Status Reason" (Active, Suspended, Cancelled) beside "Status" (Active,
        # Inactive): the reason says more, so it is read first.
        Column("status", "Status Reason", TEXT,
               aliases=("Subscription Status", "Status", "State", "Agreement Status",
                        "Contract Status", "Service Status"),
               meaning="`active` (default), `suspended` (not due), `cancelled` (0 seats in force); an unknown word is "
                       "read as `active`, with a note"),
        Column("start_date", "start_date", DATE,
               aliases=("Start Date", "Subscription Start", "Subscription Start Date", "Term Start",
                        "Commitment Start Date", "Effective Date", "Start", "Contract Start Date",
                        "Agreement Start Date", "Activation Date"),
               meaning="Its anniversary decides when an annual (every 12 months) or triennial (every 36) bill is due"),
        # ConnectWise additions have no status: a cancelled date marks a cancelled subscription.
        Column("cancelled_date", "cancelled_date", DATE, aliases=("Cancelled Date", "Canceled Date",
                                                                  "Cancellation Date"),
               meaning="A date here marks a subscription without a status as cancelled (ConnectWise additions)"),
    ),
)

CHANGE_LOG = TableFormat(
    name="change_log",
    title="Licence change log (billing-system export)",
    vital=frozenset({"quantity_delta", "old_quantity", "new_quantity"}),
    columns=(
        Column("change_id", "change_id", ID, required=True, nonblank=True,
               aliases=("Change ID", "ChangeId", "Name", "ID", "License Change Log", "LCL", "Record ID",
                        "Adjustment ID", "License Change Log ID"),
               meaning="The record's id"),
        # An id, or (Work 365's "Subscription" lookup) the subscription's name: exports.py resolves it.
        Column("subscription_id", "subscription_id", GUID, required=True, nonblank=True,
               aliases=("Subscription ID", "SubscriptionId", "Subscription", "Subscription Name",
                        "Vendor Subscription ID", "Contract Service ID"),
               meaning="The subscription it changed: its id, or a name the subscriptions export holds once (resolved, "
                       "with a note)"),
        Column("customer_name", "customer_name", TEXT,
               aliases=("Customer", "Customer Name", "Account", "Account Name", "Company", "Client"),
               meaning="The customer, which helps resolve a record that names its subscription by product"),
        Column("effective_date", "effective_date", DATE, required=True, nonblank=True,
               aliases=("Effective Date", "Effective", "Date", "Change Date", "Adjustment Date"),
               meaning="When the change took effect (date or date-time)"),
        Column("quantity_delta", "quantity_delta", NUMBER,
               aliases=("Quantity Delta", "Quantity Change", "Delta", "Change", "Quantity", "Unit Change",
                        "Units Change", "Units", "Seats Change", "Seat Change"),
               meaning="Seats added (+) or removed (−); *or* `old_quantity` and `new_quantity`"),
        Column("old_quantity", "old_quantity", NUMBER,
               aliases=("Old Quantity", "Previous Quantity", "Quantity Before", "From Quantity"),
               meaning="Seats before the change (with `new_quantity`, in place of `quantity_delta`)"),
        Column("new_quantity", "new_quantity", NUMBER,
               aliases=("New Quantity", "Quantity After", "To Quantity"),
               meaning="Seats after the change"),
        Column("provisioning_status", "provisioning_status", TEXT,
               aliases=("Provisioning Status", "Provisioning", "Provisioning State"),
               meaning="`Provisioned`, `Awaiting Provisioning`, `Failed Provisioning`, `Not Applicable`"),
        Column("initiated_by", "initiated_by", TEXT,
               aliases=("Initiated By", "Created By", "Changed By", "Modified By", "User",
                        "Order and Change Source", "Source"),
               meaning="Who made the change"),
        Column("customer_invoice", "customer_invoice", ID,
               aliases=("Customer Invoice", "Invoice", "Invoice Number", "Invoice ID"),
               meaning="The customer invoice that billed it; blank = not yet invoiced"),
        Column("status_reason", "status_reason", TEXT, aliases=("Status Reason", "Billing Status"),
               meaning="`Active` (not yet billed) or `Archived` (billed)"),
    ),
)

# Months per billing period of each billing plan; `usage` (pay-as-you-go) has none.
BILLING_FREQUENCIES = {"monthly": 1, "annual": 12, "triennial": 36}
