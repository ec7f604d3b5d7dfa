"""Partner Center new-commerce invoice reconciliation CSV (formats/partner-center.md §1).

47 columns in documented order. Rounding (§1.2): licence subtotals are
ROUNDDOWN(EffectiveUnitPrice x PCToBCExchangeRate, 2) x BillableQuantity, usage subtotals
ROUNDDOWN(ROUNDDOWN(EffectiveUnitPrice x BillableQuantity, 2) x rate, 2); ROUNDDOWN
truncates toward zero, credits included.
"""

from __future__ import annotations

from decimal import ROUND_DOWN, Decimal

from recon_cli.formats import DATE, GUID, ID, INVOICE_VITAL, MONEY, NUMBER, TEXT, Column, TableFormat

CENT = Decimal("0.01")

# ChargeType values (case-insensitive) that end a subscription: the latest such event means 0 seats.
CANCEL_CHARGE_TYPES = frozenset({"cancelimmediate", "cancelimmediately", "cancel", "refund"})
# ChargeType values documented or observed (formats §1.4); anything else is kept and reported.
KNOWN_CHARGE_TYPES = frozenset({
    "new", "purchase", "renew", "cyclecharge", "addquantity", "removequantity", "movequantity",
    "cancelimmediate", "cancelimmediately", "cancel", "refund", "convert", "changebillingplan",
    "customercredit", "extendterm", "usage",
})

# Same-day events in order (rule 3): what starts a cycle, then seat changes, then cancellations.
EVENT_RANKS = {
    **dict.fromkeys(("new", "purchase", "renew", "cyclecharge", "changebillingplan", "extendterm"), 0),
    **dict.fromkeys(("addquantity", "removequantity", "convert", "movequantity"), 1),
    **dict.fromkeys(CANCEL_CHARGE_TYPES, 2),
}
# Seats that leave a subscription for another (an upgrade, a move): a negative line of these types.
LEAVING_CHARGE_TYPES = frozenset({"convert", "movequantity"})
# The two halves of a seat change: a reversal of the earlier count and a charge for the new one.
PAIRED_CHARGE_TYPES = frozenset({"addquantity", "removequantity"})

NCE = TableFormat(
    name="nce",
    title="Partner Center new-commerce invoice reconciliation (CSV)",
    signature=("SubscriptionId", "ChargeType", "EffectiveUnitPrice", "BillableQuantity"),
    description="Partner Center → Billing → invoice → Download report (new commerce, 'G' invoices).",
    known_charge_types=KNOWN_CHARGE_TYPES,
    cancel_charge_types=CANCEL_CHARGE_TYPES,
    event_ranks=EVENT_RANKS,
    vital=INVOICE_VITAL,
    date_order="MDY",
    columns=(
        Column("partner_id", "PartnerId", GUID),
        Column("customer_id", "CustomerId", GUID),
        Column("customer_name", "CustomerName", TEXT),
        Column("customer_domain", "CustomerDomainName", TEXT),
        Column("customer_country", "CustomerCountry", TEXT),
        Column("invoice_number", "InvoiceNumber", ID),
        Column("mpn_id", "MpnId", ID),
        Column("reseller_mpn_id", "ResellerMpnId", ID, aliases=("Tier2MpnId",)),
        Column("order_id", "OrderId", ID),
        Column("order_date", "OrderDate", DATE),
        Column("product_id", "ProductId", ID),
        Column("sku_id", "SkuId", ID),
        Column("availability_id", "AvailabilityId", ID),
        Column("sku_name", "SkuName", TEXT),
        Column("product_name", "ProductName", TEXT),
        Column("charge_type", "ChargeType", TEXT, required=True),
        Column("list_unit_price", "UnitPrice", MONEY),
        Column("quantity", "Quantity", NUMBER, required=True),
        Column("subtotal", "Subtotal", MONEY, required=True, nonblank=True),
        Column("tax_total", "TaxTotal", MONEY),
        Column("total", "Total", MONEY, aliases=("TotalForCustomer",)),
        Column("currency", "Currency", TEXT, required=True),
        Column("price_adjustment", "PriceAdjustmentDescription", TEXT),
        Column("publisher_name", "PublisherName", TEXT),
        Column("publisher_id", "PublisherId", ID),
        Column("subscription_description", "SubscriptionDescription", TEXT),
        Column("subscription_id", "SubscriptionId", GUID, required=True),
        Column("charge_start", "ChargeStartDate", DATE),
        Column("charge_end", "ChargeEndDate", DATE),
        Column("term", "TermAndBillingCycle", TEXT),
        Column("effective_unit_price", "EffectiveUnitPrice", MONEY),
        Column("unit_type", "UnitType", TEXT),
        Column("alternate_id", "AlternateId", ID),
        Column("billable_quantity", "BillableQuantity", NUMBER),
        Column("billing_frequency", "BillingFrequency", TEXT),
        Column("pricing_currency", "PricingCurrency", TEXT),
        Column("exchange_rate", "PCToBCExchangeRate", NUMBER),
        Column("exchange_rate_date", "PCToBCExchangeRateDate", DATE),
        Column("meter_description", "MeterDescription", TEXT),
        Column("reservation_order_id", "ReservationOrderId", ID),
        Column("credit_reason_code", "CreditReasonCode", TEXT),
        Column("subscription_start", "SubscriptionStartDate", DATE),
        Column("subscription_end", "SubscriptionEndDate", DATE),
        Column("reference_id", "ReferenceId", GUID),
        Column("product_qualifiers", "ProductQualifiers", TEXT),
        Column("promotion_id", "PromotionId", GUID),
        Column("product_category", "ProductCategory", TEXT),
    ),
)
# The 47 headers in documented order: what `recon sample` writes and the tests build from.
NCE_HEADERS: tuple[str, ...] = tuple(column.source for column in NCE.columns)


def seat_subtotal(effective_unit_price: Decimal, rate: Decimal, quantity: Decimal) -> Decimal:
    """Partner Center licence subtotal: ROUNDDOWN(price x rate, 2) x quantity."""
    return (effective_unit_price * rate).quantize(CENT, rounding=ROUND_DOWN) * quantity


def usage_subtotal(effective_unit_price: Decimal, rate: Decimal, quantity: Decimal) -> Decimal:
    """Partner Center usage subtotal: ROUNDDOWN(ROUNDDOWN(price x quantity, 2) x rate, 2)."""
    pricing = (effective_unit_price * quantity).quantize(CENT, rounding=ROUND_DOWN)
    return (pricing * rate).quantize(CENT, rounding=ROUND_DOWN)


def seat_unit_cost(effective_unit_price: Decimal, rate: Decimal) -> Decimal:
    """What one seat costs on a licence line, in the billing currency: ROUNDDOWN(price x rate, 2)."""
    return (effective_unit_price * rate).quantize(CENT, rounding=ROUND_DOWN)
