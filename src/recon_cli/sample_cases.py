"""The planted cases of `recon sample`: one small story per rule of PRODUCT.md §3.

Each case is a hand-built customer, subscription, invoice line(s) and change-log records,
with the status the rules must give it. They come first in the invoice, in a fixed order,
so their line ids do not depend on the size of the bulk that follows (sample.py).
Amounts follow formats/partner-center.md §1.2 exactly, in Decimal.
"""

from __future__ import annotations

import json
import random
import re
import uuid
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_DOWN, Decimal

from recon_cli.formats.nce import seat_subtotal, usage_subtotal

INVOICE_NUMBER = "G000123456"
PERIOD = "2026-10"
PARTNER_ID = "6f1c3a52-8d0e-4b7a-9c21-5e4d3b2a1f09"
MPN_ID = "6034453"
ONE = Decimal(1)
# The low-margin case sells a 3.00 seat at 3.16.
LOW_MARGIN_PCT = (Decimal("3.16") - Decimal("3.00")) / Decimal("3.16") * 100

# The 47 columns of the NCE invoice reconciliation file, in documented order (formats §1.1).
INVOICE_COLUMNS: tuple[str, ...] = (
    "PartnerId", "CustomerId", "CustomerName", "CustomerDomainName", "CustomerCountry",
    "InvoiceNumber", "MpnId", "ResellerMpnId", "OrderId", "OrderDate", "ProductId", "SkuId",
    "AvailabilityId", "SkuName", "ProductName", "ChargeType", "UnitPrice", "Quantity", "Subtotal",
    "TaxTotal", "Total", "Currency", "PriceAdjustmentDescription", "PublisherName", "PublisherId",
    "SubscriptionDescription", "SubscriptionId", "ChargeStartDate", "ChargeEndDate",
    "TermAndBillingCycle", "EffectiveUnitPrice", "UnitType", "AlternateId", "BillableQuantity",
    "BillingFrequency", "PricingCurrency", "PCToBCExchangeRate", "PCToBCExchangeRateDate",
    "MeterDescription", "ReservationOrderId", "CreditReasonCode", "SubscriptionStartDate",
    "SubscriptionEndDate", "ReferenceId", "ProductQualifiers", "PromotionId", "ProductCategory",
)
SUBSCRIPTION_COLUMNS: tuple[str, ...] = (
    "subscription_id", "customer_id", "customer_name", "product", "quantity", "unit_price",
    "unit_cost", "currency", "billing_frequency", "status", "start_date",
)
CHANGE_COLUMNS: tuple[str, ...] = (
    "change_id", "subscription_id", "effective_date", "quantity_delta", "provisioning_status",
    "initiated_by", "customer_invoice", "status_reason",
)

ANNUAL_TERM = "One-Year commitment for monthly/yearly billing"
MONTHLY_TERM = "One-Month commitment for monthly billing"
PEC = json.dumps(["15.0% Partner earned credit for services managed"], separators=(",", ":"))
PRICE_NOTES = json.dumps(["Price for given billing period",
                          "You are getting a price guarantee for your price.", "Price for given term"],
                         separators=(",", ":"))


@dataclass(frozen=True)
class Product:
    """A catalog item: seats (price in cents per month on a one-year term) or an Azure meter."""

    product_id: str
    sku_id: str
    availability_id: str
    sku_name: str
    product_name: str
    price: int = 0  # seats: USD cents per seat-month, one-year term; meters: USD micro-dollars per unit
    meter: str = ""
    unit_type: str = ""
    unit_term: str = ""  # what TermAndBillingCycle holds on a usage row


SEATS: tuple[Product, ...] = (
    Product("CFQ7TTC0LH18", "0001", "CFQ7TTC0J1FV", "Microsoft 365 Business Basic",
            "Microsoft 365 Business Basic", 600),
    Product("CFQ7TTC0LDPB", "0001", "CFQ7TTC0KDGB", "Microsoft 365 Business Standard",
            "Microsoft 365 Business Standard", 1250),
    Product("CFQ7TTC0LCHC", "0002", "CFQ7TTC0J7KN", "Microsoft 365 Business Premium",
            "Microsoft 365 Business Premium", 2200),
    Product("CFQ7TTC0LF8Q", "0001", "CFQ7TTC0K3QT", "Office 365 E3", "Office 365 E3", 2300),
    Product("CFQ7TTC0LF8S", "0002", "CFQ7TTC0K4N2", "Office 365 E5", "Office 365 E5", 3800),
    Product("CFQ7TTC0LH16", "0001", "CFQ7TTC0J3BX", "Exchange Online (Plan 1)",
            "Exchange Online (Plan 1)", 400),
    Product("CFQ7TTC0RQ4T", "0001", "CFQ7TTC0RQ4W", "Microsoft Teams Essentials",
            "Microsoft Teams Essentials", 400),
    Product("CFQ7TTC0L3PB", "0001", "CFQ7TTC0KBG8", "Power BI Pro", "Power BI Pro", 1400),
    Product("CFQ7TTC0LFLX", "0002", "CFQ7TTC0K1XC", "Microsoft 365 E3", "Microsoft 365 E3", 3600),
    Product("CFQ7TTC0LCHX", "0001", "CFQ7TTC0K5CJ", "Microsoft Defender for Business",
            "Microsoft Defender for Business", 300),
    Product("CFQ7TTC0HD33", "000P", "CFQ7TTC0K8R1", "Visio Plan 2", "Visio Plan 2", 1500),
    Product("CFQ7TTC0HDB1", "000P", "CFQ7TTC0KF5M", "Project Plan 3", "Project Plan 3", 3000),
)
METERS: tuple[Product, ...] = (
    Product("DZH318Z0BQ3Q", "0015", "DZH318Z0BP9D", "D2 v3", "Virtual Machines Dv3 Series", 96000,
            "Virtual Machines Dv3 Series - D2 v3 - US East", "1 Hour", "1 Hour"),
    Product("DZH318Z0BNVX", "0041", "DZH318Z0B8V7", "Hot LRS", "Blob Storage", 18400,
            "Blob Storage - Hot LRS Data Stored", "1 GB/Month", "Stored data (GB/month)"),
    Product("DZH318Z0BNZ5", "0001", "DZH318Z08B80",
            "Bandwidth Inter-Region - Intra Continent - North America", "Bandwidth Inter-Region", 20000,
            "Bandwidth - Data Transfer Out (GB) - Zone 1", "1 GB", ""),
    Product("DZH318Z0BP55", "002R", "DZH318Z0BZ3L", "General Purpose - Compute Gen5 - 2 vCore",
            "SQL Database Single/Elastic Pool General Purpose - Compute Gen5", 252100,
            "SQL Database General Purpose - Compute Gen5 - vCore", "1 Hour", ""),
    Product("DZH318Z0BQ4X", "0008", "DZH318Z0BQ4Z", "Standard SSD E10", "Managed Disks", 9600000,
            "Managed Disks - Standard SSD E10 - Disks", "1/Month", "1/Month"),
)
WINDOWS_SERVER = Product("DG7GMGF0D5RK", "0002", "DG7GMGF0D7VP",
                         "Windows Server 2022 Standard - 16 Core License Pack",
                         "Windows Server 2022 Standard - 16 Core License Pack")


@dataclass(frozen=True)
class PlantedCase:
    """One planted difference and what the rules must say about it.

    Attributes:
        name: a short key (`explained_after_as_of`...).
        description: the story in one sentence.
        subscription_id: the subscription id as the export writes it (for unmatched lines, as the
            invoice writes it), lower-case.
        line_ids: the invoice lines of the case (none for the missing/not-missing cases).
        expected_status: the status of every line of the case (None: no invoice line).
        expected_price_status: the price status of every line of the case, without --min-margin
            (None: not predicted, e.g. unmatched, usage and one-time lines).
        expected_missing: the subscription must be listed in missing_subscriptions.
        min_margin_needed: the price status is `low_margin` only when --min-margin (10) is given.
        expected_reason: the reason code of the lines (None: not predicted).
        expected_match_method: `subscription_id`, `customer_product` or `none` (None: no line).
        provider_quantity, subscription_quantity: the seats on each side, for seat cases.
        invoice_subscription_id: the id the invoice writes, when it differs from subscription_id.
        kind: seat, usage or one_time (None: no invoice line).
        evidence: the change ids that must explain the difference.
    """

    name: str
    description: str
    subscription_id: str
    line_ids: list[str] = field(default_factory=list)
    expected_status: str | None = None
    expected_price_status: str | None = None
    expected_missing: bool = False
    min_margin_needed: bool = False
    expected_reason: str | None = None
    expected_match_method: str | None = None
    provider_quantity: int | None = None
    subscription_quantity: int | None = None
    invoice_subscription_id: str | None = None
    kind: str | None = None
    evidence: list[str] = field(default_factory=list)

    def price_status(self, min_margin: Decimal | None = None) -> str | None:
        """The expected price status under a --min-margin of at most 15 (every other margin is >= 15%)."""
        if self.min_margin_needed:
            return "low_margin" if min_margin is not None and min_margin > LOW_MARGIN_PCT else "ok"
        return self.expected_price_status


@dataclass(frozen=True)
class Customer:
    id: str
    name: str
    domain: str


def mdy(day: date) -> str:
    """Partner Center's CSV date: M/D/YYYY."""
    return f"{day.month}/{day.day}/{day.year}"


def add_months(day: date, months: int) -> date:
    """Same day-of-month, `months` later (days above 28 are not used by the sample)."""
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, day.day)


def cycle_end(start: date, frequency: str) -> date:
    """Last day of a charge cycle starting on `start`: + 1 month (or year) − 1 day."""
    return add_months(start, 12 if frequency == "Annual" else 1) - timedelta(days=1)


def money(value: Decimal) -> str:
    return format(value, "f")


class CaseBuilder:
    """Accumulates the rows of the three files; every GUID comes from the seeded `rng`."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.invoice: list[dict[str, str]] = []
        self.subscriptions: list[dict[str, str]] = []
        self.changes: list[dict[str, str]] = []
        self.cases: list[PlantedCase] = []

    def guid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def customer(self, name: str) -> Customer:
        slug = re.sub(r"[^a-z0-9]", "", name.lower())[:20]
        return Customer(self.guid(), name, f"{slug}.onmicrosoft.com")

    def subscription(self, customer: Customer, product: str, quantity: int | str, unit_price: str,
                     unit_cost: str, start: date, *, frequency: str = "monthly", status: str = "active",
                     currency: str = "USD", sub_id: str | None = None) -> str:
        sub_id = sub_id or self.guid()
        self.subscriptions.append(dict(
            subscription_id=sub_id, customer_id=customer.id, customer_name=customer.name, product=product,
            quantity=str(quantity), unit_price=unit_price, unit_cost=unit_cost, currency=currency,
            billing_frequency=frequency, status=status, start_date=start.isoformat()))
        return sub_id

    def change(self, sub_id: str, effective: str, delta: str, provisioning: str, by: str,
               invoice: str = "", reason: str = "Active") -> str:
        change_id = f"LCL-{1001 + len(self.changes)}"
        self.changes.append(dict(
            change_id=change_id, subscription_id=sub_id, effective_date=effective, quantity_delta=delta,
            provisioning_status=provisioning, initiated_by=by, customer_invoice=invoice,
            status_reason=reason))
        return change_id

    def _line(self, customer: Customer, sub_id: str, product: Product, values: dict[str, str]) -> str:
        row = dict.fromkeys(INVOICE_COLUMNS, "")
        row.update(
            PartnerId=PARTNER_ID, CustomerId=customer.id, CustomerName=customer.name,
            CustomerDomainName=customer.domain, CustomerCountry="US", InvoiceNumber=INVOICE_NUMBER,
            MpnId=MPN_ID, ResellerMpnId="0", OrderId=f"{self.rng.getrandbits(48):012x}",
            ProductId=product.product_id, SkuId=product.sku_id, AvailabilityId=product.availability_id,
            SkuName=product.sku_name, ProductName=product.product_name, TaxTotal="0", Currency="USD",
            PublisherName="Microsoft Corporation", SubscriptionId=sub_id, PricingCurrency="USD",
            PCToBCExchangeRate="1", PCToBCExchangeRateDate="10/1/2026", ProductQualifiers="[]")
        row["AlternateId"] = row["OrderId"]
        row.update(values)
        row["Total"] = money(Decimal(row["Subtotal"]) + Decimal(row["TaxTotal"]))
        self.invoice.append(row)
        return f"{INVOICE_NUMBER}-{len(self.invoice) + 1}"

    def seat(self, customer: Customer, sub_id: str, product: Product, quantity: int, price: str,
             start: date, *, charge_type: str = "cycleCharge", eup: str | None = None,
             order: date | None = None, end: date | None = None, term: str = ANNUAL_TERM,
             frequency: str = "Monthly", term_start: date | None = None, reference: str = "") -> str:
        """A licence line; `price` is the full-cycle price, `eup` the (prorated, signed) one charged."""
        effective = Decimal(eup if eup is not None else price)
        subtotal = seat_subtotal(effective, ONE, Decimal(quantity))
        end = end or cycle_end(start, frequency)
        term_start = term_start or start
        term_end = cycle_end(term_start, "Annual" if term == ANNUAL_TERM else "Monthly")
        return self._line(customer, sub_id, product, dict(
            OrderDate=mdy(order or start), ChargeType=charge_type, UnitPrice=price, Quantity=str(quantity),
            Subtotal=money(subtotal), SubscriptionDescription=product.product_name,
            ChargeStartDate=mdy(start), ChargeEndDate=mdy(end), TermAndBillingCycle=term,
            EffectiveUnitPrice=money(effective), BillableQuantity=str(quantity), BillingFrequency=frequency,
            SubscriptionStartDate=mdy(term_start), SubscriptionEndDate=mdy(term_end), ReferenceId=reference,
            ProductCategory="License"))

    def usage(self, customer: Customer, sub_id: str, meter: Product, quantity: str, *, pec: bool) -> str:
        """An Azure plan meter line for October 2026; with PEC the effective price is 85% of list."""
        list_price = Decimal(meter.price) / 1_000_000
        effective = (list_price * Decimal("0.85")).quantize(Decimal("0.000001")) if pec else list_price
        subtotal = usage_subtotal(effective, ONE, Decimal(quantity))
        return self._line(customer, sub_id, meter, dict(
            OrderDate="10/1/2026", ChargeType="new", UnitPrice=money(list_price.normalize()), Quantity="1",
            Subtotal=money(subtotal), PriceAdjustmentDescription=PEC if pec else "",
            SubscriptionDescription="Azure plan", ChargeStartDate="10/1/2026", ChargeEndDate="10/31/2026",
            TermAndBillingCycle=meter.unit_term, EffectiveUnitPrice=money(effective.normalize()),
            UnitType=meter.unit_type, BillableQuantity=quantity, MeterDescription=meter.meter,
            SubscriptionStartDate="3/14/2025", ProductCategory="Azure"))

    def one_time(self, customer: Customer, sub_id: str, product: Product, quantity: int, price: str,
                 day: date) -> str:
        """A one-time purchase (perpetual software): no term, no billing frequency, no meter."""
        subtotal = seat_subtotal(Decimal(price), ONE, Decimal(quantity))
        return self._line(customer, sub_id, product, dict(
            OrderDate=mdy(day), ChargeType="new", UnitPrice=price, Quantity=str(quantity),
            Subtotal=money(subtotal), SubscriptionDescription=product.product_name,
            ChargeStartDate=mdy(day), ChargeEndDate=mdy(day), TermAndBillingCycle="One-Time",
            EffectiveUnitPrice=price, BillableQuantity=str(quantity), BillingFrequency="OneTime",
            SubscriptionStartDate=mdy(day), ProductCategory="Software"))

    def case(self, name: str, description: str, sub_id: str, line_ids: list[str], status: str | None,
             price: str | None = "ok", **more: object) -> None:
        matched = status not in (None, "unmatched")
        defaults: dict[str, object] = dict(
            expected_reason={"matched": "quantity_equal", "unmatched": "subscription_not_found",
                             "unexplained": "no_evidence"}.get(status or ""),
            expected_match_method=None if not line_ids else ("subscription_id" if matched else "none"),
            kind="seat" if line_ids else None)
        defaults.update(more)
        self.cases.append(PlantedCase(name, description, sub_id.lower(), line_ids, status, price,
                                      **defaults))  # type: ignore[arg-type]




def prorate(price: str, start: date, end: date, frequency: str = "Monthly") -> str:
    """Prorated unit price of a mid-cycle change: ROUNDDOWN(full x charged / full-cycle days, 2).

    The full cycle is anchored at `end`, so scaling the result back lands within a cent.
    """
    cycle_start = add_months(end + timedelta(days=1), -12 if frequency == "Annual" else -1)
    charged, full = (end - start).days + 1, (end - cycle_start).days + 1
    return money((Decimal(price) * charged / full).quantize(Decimal("0.01"), rounding=ROUND_DOWN))


def _seat(name: str) -> Product:
    return next(p for p in SEATS if p.product_name == name)


def _oct(day: int) -> date:
    return date(2026, 10, day)


def build_cases(rng: random.Random) -> CaseBuilder:
    """Plant every case, in invoice order: row 2 plain matched, row 3 the classic explained one."""
    b = CaseBuilder(rng)
    basic, standard = _seat("Microsoft 365 Business Basic"), _seat("Microsoft 365 Business Standard")
    premium, e3, e5 = _seat("Microsoft 365 Business Premium"), _seat("Office 365 E3"), _seat("Office 365 E5")
    m365e3, exo = _seat("Microsoft 365 E3"), _seat("Exchange Online (Plan 1)")
    teams, pbi = _seat("Microsoft Teams Essentials"), _seat("Power BI Pro")

    contoso = b.customer("Contoso Dental Group")
    sub = b.subscription(contoso, standard.product_name, 14, "15.00", "12.50", date(2025, 3, 1))
    line = b.seat(contoso, sub, standard, 14, "12.50", _oct(1), term_start=date(2026, 3, 1))
    b.case("matched", "Contoso Dental Group's 14 Business Standard seats are billed exactly as recorded.",
           sub, [line], "matched", provider_quantity=14, subscription_quantity=14)

    c = b.customer("Fabrikam, Inc.")
    sub = b.subscription(c, premium.product_name, 12, "26.40", "22.00", date(2025, 5, 5))
    line = b.seat(c, sub, premium, 10, "22.00", _oct(5), term_start=date(2026, 5, 5))
    ch = b.change(sub, "2026-10-12", "+2", "Provisioned", "jane.doe@reseller.example")
    b.case("explained_after_as_of", "Microsoft billed Fabrikam's 10 seats on its 5 October cycle; the 2 "
           "seats added on 12 October come on the next invoice.", sub, [line], "explained",
           expected_reason="changed_after_as_of", provider_quantity=10, subscription_quantity=12,
           evidence=[ch])

    c = b.customer("Northwind Traders")
    sub = b.subscription(c, e3.product_name, 11, "27.60", "23.00", date(2024, 7, 7))
    line = b.seat(c, sub, e3, 10, "23.00", _oct(7), term_start=date(2026, 7, 7))
    ch = b.change(sub, "2026-10-06T09:15:00", "+1", "Awaiting Provisioning", "it@northwindtraders.example")
    b.case("explained_awaiting_provisioning", "Northwind added a seat on 6 October that is still awaiting "
           "provisioning, so Microsoft bills 10 while the billing system has 11.", sub, [line], "explained",
           expected_reason="awaiting_provisioning", provider_quantity=10, subscription_quantity=11,
           evidence=[ch])

    c = b.customer("Tailspin Toys")
    sub = b.subscription(c, m365e3.product_name, 8, "43.20", "36.00", date(2025, 1, 9))
    line = b.seat(c, sub, m365e3, 10, "36.00", _oct(9), term_start=date(2026, 1, 9))
    ch = b.change(sub, "2026-10-02", "-2", "Failed Provisioning", "sam.lee@reseller.example",
                  "INV-2026-10-0042", "Archived")
    b.case("explained_failed_provisioning", "Tailspin's removal of 2 seats failed to provision, so Microsoft "
           "still bills 10 while the customer is invoiced for 8.", sub, [line], "explained",
           expected_reason="failed_provisioning", provider_quantity=10, subscription_quantity=8,
           evidence=[ch])

    c = b.customer("Wide World Importers")
    sub = b.subscription(c, pbi.product_name, 20, "16.80", "14.00", date(2025, 8, 4))
    line = b.seat(c, sub, pbi, 15, "14.00", _oct(4), term_start=date(2026, 8, 4))
    ch = b.change(sub, "2026-10-15", "+3", "Provisioned", "jane.doe@reseller.example")
    b.case("partially_explained", "Wide World has 20 Power BI seats recorded, Microsoft bills 15; a +3 on "
           "15 October explains 3 of the 5, 2 remain.", sub, [line], "partially_explained",
           provider_quantity=15, subscription_quantity=20, evidence=[ch])

    c = b.customer("Adventure Works Cycles")
    sub = b.subscription(c, exo.product_name, 7, "4.80", "4.00", date(2024, 2, 11))
    line = b.seat(c, sub, exo, 9, "4.00", _oct(11), term_start=date(2026, 2, 11))
    b.change(sub, "2026-08-20T14:03:00", "-2", "Provisioned", "mark.ortiz@reseller.example",
             "INV-2026-08-0117", "Archived")
    b.case("unexplained_old_change", "Adventure Works dropped to 7 mailboxes in August, yet Microsoft still "
           "bills 9; the only change record is old and already invoiced.", sub, [line], "unexplained",
           provider_quantity=9, subscription_quantity=7)

    c = b.customer("Litware Inc")
    sub = b.subscription(c, teams.product_name, 5, "4.80", "4.00", date(2025, 4, 16))
    line = b.seat(c, sub, teams, 6, "4.00", _oct(16), term_start=date(2026, 4, 16))
    b.case("unexplained_no_changes", "Microsoft bills Litware for 6 Teams Essentials seats, the billing "
           "system has 5, and no change was ever logged.", sub, [line], "unexplained", expected_reason=None,
           provider_quantity=6, subscription_quantity=5)

    c = b.customer("Alpine Ski House")
    sub = b.subscription(c, premium.product_name, 13, "26.04", "21.70", date(2025, 6, 3))
    ref, end = b.guid(), date(2026, 11, 2)
    eup = prorate("21.70", _oct(14), end)
    lines = [b.seat(c, sub, premium, 10, "21.70", _oct(3), term_start=date(2026, 6, 3)),
             b.seat(c, sub, premium, 10, "21.70", _oct(14), charge_type="addQuantity", eup=f"-{eup}", end=end,
                    term_start=date(2026, 6, 3), reference=ref),
             b.seat(c, sub, premium, 13, "21.70", _oct(14), charge_type="addQuantity", eup=eup, end=end,
                    term_start=date(2026, 6, 3), reference=ref)]
    b.case("add_quantity", "Alpine Ski House went from 10 to 13 seats on 14 October: a prorated reversal of "
           "the 10 and a prorated charge for the 13.", sub, lines, "matched",
           provider_quantity=13, subscription_quantity=13)

    c = b.customer("Coho Winery")
    sub = b.subscription(c, standard.product_name, 9, "18.60", "15.50", _oct(8))
    ref, end = b.guid(), date(2026, 11, 7)
    eup = prorate("15.50", _oct(10), end)
    lines = [b.seat(c, sub, standard, 12, "15.50", _oct(8), charge_type="new", term=MONTHLY_TERM),
             b.seat(c, sub, standard, 12, "15.50", _oct(10), charge_type="removeQuantity", eup=f"-{eup}",
                    end=end, term=MONTHLY_TERM, term_start=_oct(8), reference=ref),
             b.seat(c, sub, standard, 9, "15.50", _oct(10), charge_type="removeQuantity", eup=eup, end=end,
                    term=MONTHLY_TERM, term_start=_oct(8), reference=ref)]
    b.case("remove_quantity", "Coho Winery bought 12 seats on 8 October and cut them to 9 two days later, "
           "inside the 7-day window.", sub, lines, "matched", provider_quantity=9, subscription_quantity=9)

    c = b.customer("Proseware Ltd")
    sub = b.subscription(c, teams.product_name, 0, "5.95", "4.96", date(2026, 2, 2), status="cancelled")
    eup = prorate("4.96", _oct(6), date(2026, 11, 1))
    lines = [b.seat(c, sub, teams, 5, "4.96", _oct(2), charge_type="renew", term=MONTHLY_TERM),
             b.seat(c, sub, teams, 5, "4.96", _oct(6), charge_type="cancelImmediate", eup=f"-{eup}",
                    end=date(2026, 11, 1), term=MONTHLY_TERM, term_start=_oct(2))]
    b.case("cancelled", "Proseware renewed 5 seats on 2 October and cancelled them on the 6th with a "
           "prorated refund; the subscription is cancelled with 0 seats.", sub, lines, "matched",
           provider_quantity=0, subscription_quantity=0)

    c = b.customer("Blue Yonder Airlines")
    sub = b.guid()
    line = b.seat(c, sub, basic, 25, "6.00", _oct(20), term_start=date(2026, 4, 20))
    b.case("unmatched_seat", "Microsoft bills 25 Business Basic seats for Blue Yonder, a customer the "
           "billing system does not know: a cost never re-billed.", sub, [line], "unmatched", None)

    sub = b.guid()
    line = b.usage(contoso, sub, METERS[0], "23.200004", pec=False)
    b.case("unmatched_usage", "Contoso Dental Group has a second Azure plan nobody recorded; its VM hours "
           "are billed but never re-billed.", sub, [line], "unmatched", None, kind="usage")

    c = b.customer("Graphic Design Institute")
    sub = b.subscription(c, "Azure plan", 1, "", "", date(2025, 3, 14))
    lines = [b.usage(c, sub, METERS[0], "744", pec=True), b.usage(c, sub, METERS[1], "1532.418817", pec=True),
             b.usage(c, sub, METERS[2], "87.334", pec=False)]
    b.case("usage", "Graphic Design Institute's Azure plan bills three meters; usage has no seat count to "
           "compare.", sub, lines, "matched", None, expected_reason="usage_line", kind="usage")

    c = b.customer("Trey Research")
    sub = b.subscription(c, WINDOWS_SERVER.product_name, 2, "1282.80", "1069.00", _oct(20),
                         frequency="annual")
    line = b.one_time(c, sub, WINDOWS_SERVER, 2, "1069.00", _oct(20))
    b.case("one_time", "Trey Research bought two Windows Server 2022 core packs outright on 20 October.",
           sub, [line], "matched", None, expected_reason="one_time_line", kind="one_time")

    c = b.customer("Woodgrove Bank")
    sub = b.subscription(c, m365e3.product_name, 25, "518.40", "432.00", date(2024, 10, 9),
                         frequency="annual")
    line = b.seat(c, sub, m365e3, 25, "432.00", _oct(9), charge_type="renew", frequency="Annual")
    b.case("annual_anniversary", "Woodgrove Bank's annual-billed Microsoft 365 E3 renews on its 9 October "
           "anniversary: one charge for the year.", sub, [line], "matched",
           provider_quantity=25, subscription_quantity=25)

    price_cases = (
        ("below_cost", "Lucerne Publishing", e5, 8, "36.00", "34.00", "38.00", 12, "USD",
         "Lucerne Publishing is sold Office 365 E5 at 36.00 while Microsoft now charges 38.00."),
        ("currency_mismatch", "Margie's Travel", _seat("Project Plan 3"), 4, "33.00", "27.70", "30.00", 18,
         "EUR", "Margie's Travel is priced in EUR while Microsoft bills this subscription in USD."),
        ("cost_changed", "Humongous Insurance", m365e3, 40, "43.20", "34.00", "36.00", 21, "USD",
         "Humongous Insurance's expected cost is 34.00 but Microsoft charges 36.00 a seat."),
        ("low_margin", "School of Fine Art", _seat("Microsoft Defender for Business"), 30, "3.16", "3.00",
         "3.00", 19, "USD", "School of Fine Art is sold a 3.00 seat at 3.16: a 5% margin."),
        ("no_price", "Consolidated Messenger", pbi, 12, "", "14.00", "14.00", 22, "USD",
         "Consolidated Messenger's Power BI subscription has no selling price."),
    )
    for name, customer, product, qty, price, cost, provider, day, currency, story in price_cases:
        c = b.customer(customer)
        sub = b.subscription(c, product.product_name, qty, price, cost, date(2025, 11, day),
                             currency=currency)
        line = b.seat(c, sub, product, qty, provider, _oct(day), term_start=date(2025, 11, day))
        b.case(name, story, sub, [line], "matched", "ok" if name == "low_margin" else name,
               min_margin_needed=name == "low_margin", provider_quantity=qty, subscription_quantity=qty)

    c = b.customer("Fourth Coffee")
    stale = b.subscription(c, "Visio Plan 2", 3, "18.00", "15.00", date(2025, 7, 13))
    sub = b.guid()
    line = b.seat(c, sub, _seat("Visio Plan 2"), 3, "15.00", _oct(13), term_start=date(2026, 7, 13))
    b.case("fallback_customer_product", "Fourth Coffee's export still holds an old subscription id; the "
           "invoice line matches it by customer and product.", stale, [line], "matched",
           expected_match_method="customer_product", invoice_subscription_id=sub,
           provider_quantity=3, subscription_quantity=3)

    c = b.customer("VanArsdel Ltd")
    sub = b.subscription(c, basic.product_name, 18, "7.20", "6.00", date(2024, 12, 17))
    line = b.seat(c, sub.upper(), basic, 18, "6.00", _oct(17), term_start=date(2025, 12, 17))
    b.case("uppercase_guid", "The invoice writes VanArsdel's subscription id in upper case; ids compare "
           "case-insensitively.", sub, [line], "matched", invoice_subscription_id=sub.upper(),
           provider_quantity=18, subscription_quantity=18)

    c = b.customer("Relecloud")
    sub = b.subscription(c, exo.product_name, "1,200", "4.80", "4.00", date(2024, 4, 25))
    line = b.seat(c, sub, exo, 1200, "4.00", _oct(25), term_start=date(2026, 4, 25))
    b.case("thousands_separator", "Relecloud's 1,200 mailboxes are written with a thousands separator in the "
           "export.", sub, [line], "matched", provider_quantity=1200, subscription_quantity=1200)

    not_billed = (
        ("missing_monthly", "A. Datum Corporation", standard, 9, "15.00", "12.50", date(2025, 6, 14),
         "monthly", "active", True,
         "A. Datum's active monthly Business Standard has no line on the invoice."),
        ("missing_annual", "Bellows College", e3, 20, "331.20", "276.00", date(2025, 10, 21), "annual",
         "active", True, "Bellows College's annual Office 365 E3 is due on its October anniversary but "
         "was not billed."),
        ("annual_not_due", "Best For You Organics", premium, 6, "316.80", "264.00", date(2026, 3, 17),
         "annual", "active", False,
         "Best For You Organics pays annually in March, so no October line is due."),
        ("suspended", "City Power & Light", e3, 15, "27.60", "23.00", date(2025, 2, 8), "monthly",
         "suspended", False, "City Power & Light's subscription is suspended: nothing is due."),
        ("zero_seats", "Nod Publishers", pbi, 0, "16.80", "14.00", date(2025, 9, 26), "monthly", "active",
         False, "Nod Publishers' subscription has 0 seats: nothing is due."),
    )
    for name, customer, product, qty, price, cost, start, frequency, status, missing, story in not_billed:
        c = b.customer(customer)
        sub = b.subscription(c, product.product_name, qty, price, cost, start, frequency=frequency,
                             status=status)
        b.case(name, story, sub, [], None, None, expected_missing=missing,
               expected_reason="not_on_invoice" if missing else None, subscription_quantity=qty)
    return b
