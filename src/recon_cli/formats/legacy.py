"""Partner Center legacy licence-based reconciliation CSV (formats/partner-center.md §2.1–2.2).

What differs from new commerce:
- The subscription is `SyndicationPartnerSubscriptionNumber` ("compare the
  Syndication_Partner_Subscription_Number against the Subscription ID from Partner Center");
  the file's `SubscriptionId` is a billing-platform id, kept as `billing_subscription_id`.
- `Subtotal = Amount − TotalOtherDiscount` is already in the file; `Tax`, `TotalForCustomer`.
- Charge types are display strings ("Cycle fee", "Prorate fees when cancel"...); every one
  containing "cancel" ends the subscription.
- No OrderDate (events are ordered by ChargeStartDate), no exchange rate (billing currency
  = pricing currency), no InvoiceNumber (line ids use the file name), `BillingCycleType`
  gives the billing frequency.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING

from recon_cli.formats import DATE, GUID, ID, INVOICE_VITAL, MONEY, NUMBER, TEXT, Column, TableFormat, blank_columns
from recon_cli.formats.nce import NCE

if TYPE_CHECKING:
    import pandas as pd

# Display strings and API codes of §2.2, compared without case, spaces or punctuation.
LEGACY_CHARGE_TYPES = frozenset({
    "activationfee", "cancelfee", "cancelinstanceprorate", "cyclefee", "cycleinstanceprorate",
    "proratefeeswhencancel", "proratefeeswhenconvertawayfromcurrentoffering",
    "proratefeeswhenconverttoanewoffering", "proratefeeswhenpurchaseannualbilling",
    "purchasefeemonthlybilling", "proratefeewhenrenew", "renewfee", "proratefeeswhenactivate",
    "new", "addquantity", "removequantity", "cancel", "convert", "offsetalineitem", "onetimerefund",
    "activationdiscount", "cyclediscount", "renewdiscount", "canceldiscount",
    "purchasefee", "cancelusagefee", "cycleusagefee", "purchaseprorate", "cancelprorate",
    "activationprorate", "renewprorate", "credit", "offsetlineitem", "taxrefund",
})
# Enough digits for a per-seat price derived from a prorated, discounted subtotal.
UNIT_PRICE_PLACES = Decimal("0.000001")

_OWN = (
    Column("partner_id", "PartnerId", GUID),
    Column("customer_id", "CustomerId", GUID),
    Column("customer_name", "CustomerName", TEXT),
    Column("mpn_id", "MpnId", ID),
    Column("reseller_mpn_id", "ResellerMpnId", ID, aliases=("Tier2MpnId",)),
    Column("order_id", "OrderId", ID),
    Column("billing_subscription_id", "SubscriptionId", ID),
    Column("subscription_id", "SyndicationPartnerSubscriptionNumber", GUID, required=True,
           match_name=False, aliases=("Syndication_Partner_Subscription_Number",)),
    Column("offer_id", "OfferId", ID),
    Column("product_id", "DurableOfferId", ID, match_name=False),
    Column("product_name", "OfferName", TEXT, match_name=False),
    Column("subscription_start", "SubscriptionStartDate", DATE),
    Column("subscription_end", "SubscriptionEndDate", DATE),
    Column("charge_start", "ChargeStartDate", DATE),
    Column("charge_end", "ChargeEndDate", DATE),
    Column("charge_type", "ChargeType", TEXT, required=True),
    Column("list_unit_price", "UnitPrice", MONEY, match_name=False),
    Column("quantity", "Quantity", NUMBER, required=True),
    Column("amount", "Amount", MONEY),
    Column("discount", "TotalOtherDiscount", MONEY),
    Column("subtotal", "Subtotal", MONEY, required=True, nonblank=True),
    Column("tax_total", "Tax", MONEY, match_name=False),
    Column("total", "TotalForCustomer", MONEY, match_name=False),
    Column("currency", "Currency", TEXT, required=True),
    Column("customer_domain", "DomainName", TEXT),
    Column("subscription_name", "SubscriptionName", TEXT),
    Column("subscription_description", "SubscriptionDescription", TEXT),
    Column("billing_frequency", "BillingCycleType", TEXT, match_name=False),
    Column("invoice_number", "InvoiceNumber", ID),
)


def derive_legacy(frame: pd.DataFrame) -> pd.DataFrame:
    """The NCE meaning of the columns the legacy file lacks.

    EffectiveUnitPrice in new commerce is the price per seat after discounts for the charged
    days; the legacy equivalent is Subtotal / Quantity (UnitPrice is the undiscounted price of a
    full cycle), so the price check compares like with like.
    """
    import pandas as pd

    out = frame.copy()
    pairs = pd.Series(list(zip(out["subtotal"], out["quantity"], out["list_unit_price"], strict=True)),
                      index=out.index, dtype=object)
    codes, uniques = pd.factorize(pairs, sort=False)
    per_seat = [_per_seat(*pair) for pair in uniques]
    out["effective_unit_price"] = pd.Series([per_seat[c] for c in codes], index=out.index, dtype=object)
    return out


def _per_seat(subtotal: Decimal | None, quantity: Decimal | None, list_price: Decimal | None) -> Decimal | None:
    if subtotal is None or quantity is None or quantity == 0:
        return list_price
    return (subtotal / quantity).quantize(UNIT_PRICE_PLACES, rounding=ROUND_HALF_UP)


# Same-day events in order: the cycle's fees, then the prorates of a change, then cancellations.
LEGACY_EVENT_RANKS = {
    **dict.fromkeys(("activationfee", "cyclefee", "purchasefee", "purchasefeemonthlybilling", "renewfee",
                     "proratefeewhenrenew", "proratefeeswhenpurchaseannualbilling", "proratefeeswhenactivate",
                     "new"), 0),
    **{key: 2 for key in LEGACY_CHARGE_TYPES if "cancel" in key},
}

LEGACY = TableFormat(
    name="legacy",
    title="Partner Center legacy licence-based reconciliation (CSV)",
    columns=_OWN + blank_columns(NCE, _OWN),
    # The column only the legacy licence-based file has.
    signature=("SyndicationPartnerSubscriptionNumber",),
    description="Partner Center → Billing → legacy invoice ('D' invoices) → Reconciliation (.csv), licence-based.",
    known_charge_types=LEGACY_CHARGE_TYPES,
    cancel_contains="cancel",
    event_ranks=LEGACY_EVENT_RANKS,
    vital=INVOICE_VITAL,
    date_order="MDY",
    fallbacks={"order_date": "charge_start", "billable_quantity": "quantity"},
    derive=derive_legacy,
)
