"""The makings of `recon sample`'s planted cases: a builder that writes a case's customer,
subscription, invoice lines and change-log records at once, and what each case must come out as.

Amounts follow formats/partner-center.md §1.2 exactly, in Decimal. The builder writes one billing
month of the story (`month`, 0 = the first) on a calendar moved by `shift` months from October
2026: `at()` moves a date of the October story, `day()` is a day of the month being billed.
"""

from __future__ import annotations

import random
import re
import uuid
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_DOWN, Decimal

from recon_cli.formats.nce import seat_subtotal, usage_subtotal
from recon_cli.sample_catalog import (
    ANNUAL_TERM,
    FIRST_PERIOD,
    INVOICE_COLUMNS,
    MPN_ID,
    PARTNER_ID,
    PEC,
    Product,
    add_months,
    invoice_numbers,
    run_as_of,
)

INVOICE_NUMBER, EUR_INVOICE_NUMBER = invoice_numbers(0)
PERIOD = FIRST_PERIOD
# The day the reseller reconciles October (its invoices arrive 6-8 November): `--as-of 2026-11-09`.
# Any later day up to 2028 gives the same results; the scheduled record takes effect in 2028.
RUN_AS_OF = run_as_of(0)
ONE = Decimal(1)
# The low-margin case sells a 3.00 seat at 3.16.
LOW_MARGIN_PCT = (Decimal("3.16") - Decimal("3.00")) / Decimal("3.16") * 100


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
        scheduled: the change ids effective after the run's as-of: shown, never evidence (rule 5).
        needs_person: whether every line of the case needs a person (§4), without --min-margin.
        billing_frequency: the billing plan the lines must be read with (None: not predicted).
        expected_not_checked: due and absent, but in a currency no invoice of the month bills: counted
            as not checked (other currency), never listed as missing (rule 7).
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
    scheduled: list[str] = field(default_factory=list)
    needs_person: bool = False
    billing_frequency: str | None = None
    expected_not_checked: bool = False

    def price_status(self, min_margin: Decimal | None = None) -> str | None:
        """The expected price status under a --min-margin of at most 15 (every other margin is >= 15%)."""
        if self.min_margin_needed:
            return "low_margin" if min_margin is not None and min_margin > LOW_MARGIN_PCT else "ok"
        return self.expected_price_status

    def needs_person_with(self, min_margin: Decimal | None = None) -> bool:
        """Whether the lines need a person: a low margin is a price finding only under --min-margin."""
        return self.needs_person or self.price_status(min_margin) == "low_margin"


@dataclass(frozen=True)
class Customer:
    id: str
    name: str
    domain: str
    country: str = "US"


def mdy(day: date) -> str:
    """Partner Center's CSV date: M/D/YYYY."""
    return f"{day.month}/{day.day}/{day.year}"


def cycle_end(start: date, frequency: str) -> date:
    """Last day of a charge cycle starting on `start`: + 1 month (or year) − 1 day."""
    return add_months(start, 12 if frequency == "Annual" else 1) - timedelta(days=1)


def money(value: Decimal) -> str:
    return format(value, "f")


class CaseBuilder:
    """Accumulates the rows of the three files; every GUID comes from the seeded `rng`.

    Args:
        shift: months from October 2026 to the story's first month (`--period`).
        month: the month being billed, 0 for the first; it names the invoices.
    """

    def __init__(self, rng: random.Random, shift: int = 0, month: int = 0) -> None:
        self.rng, self.shift, self.month = rng, shift, month
        self.usd_invoice, self.eur_invoice = invoice_numbers(month)
        # Invoice number -> its rows; the first is invoice.csv. `bill_in` picks where lines go.
        self.invoices: dict[str, list[dict[str, str]]] = {self.usd_invoice: [], self.eur_invoice: []}
        self.invoice_number, self.currency = self.usd_invoice, "USD"
        self.subscriptions: list[dict[str, str]] = []
        self.changes: list[dict[str, str]] = []
        self.cases: list[PlantedCase] = []
        self.customers: dict[str, Customer] = {}

    @property
    def invoice(self) -> list[dict[str, str]]:
        """The rows of invoice.csv (the USD invoice)."""
        return self.invoices[self.usd_invoice]

    @property
    def first_day(self) -> date:
        """The first day of the month being billed."""
        return add_months(date(2026, 10, 1), self.shift + self.month)

    def at(self, year: int, month: int, day: int) -> date:
        """A date of the October 2026 story, moved to the story's calendar."""
        return add_months(date(year, month, day), self.shift)

    def day(self, day: int) -> date:
        """Day `day` of the month being billed."""
        return add_months(date(2026, 10, day), self.shift + self.month)

    def moved(self, text: str) -> str:
        """An ISO date (or date-time) or an `INV-YYYY-MM-...` reference of the October story, moved."""
        if not self.shift or not text:
            return text
        if text.startswith("INV-"):
            moved = add_months(date(int(text[4:8]), int(text[9:11]), 1), self.shift)
            return f"INV-{moved.year:04d}-{moved.month:02d}{text[11:]}"
        return add_months(date.fromisoformat(text[:10]), self.shift).isoformat() + text[10:]

    def bill_in(self, invoice_number: str, currency: str) -> None:
        """Put the lines that follow on another invoice, billed (and priced) in `currency`."""
        self.invoice_number, self.currency = invoice_number, currency

    def guid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def customer(self, name: str, country: str = "US") -> Customer:
        slug = re.sub(r"[^a-z0-9]", "", name.lower())[:20]
        found = self.customers[name] = Customer(self.guid(), name, f"{slug}.onmicrosoft.com", country)
        return found

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
            change_id=change_id, subscription_id=sub_id, effective_date=self.moved(effective),
            quantity_delta=delta, provisioning_status=provisioning, initiated_by=by,
            customer_invoice=self.moved(invoice),
            status_reason=reason))
        return change_id

    def _line(self, customer: Customer, sub_id: str, product: Product, values: dict[str, str]) -> str:
        row = dict.fromkeys(INVOICE_COLUMNS, "")
        row.update(
            PartnerId=PARTNER_ID, CustomerId=customer.id, CustomerName=customer.name,
            CustomerDomainName=customer.domain, CustomerCountry=customer.country, InvoiceNumber=self.invoice_number,
            MpnId=MPN_ID, ResellerMpnId="0", OrderId=f"{self.rng.getrandbits(48):012x}",
            ProductId=product.product_id, SkuId=product.sku_id, AvailabilityId=product.availability_id,
            SkuName=product.sku_name, ProductName=product.product_name, TaxTotal="0", Currency=self.currency,
            PublisherName="Microsoft Corporation", SubscriptionId=sub_id, PricingCurrency=self.currency,
            PCToBCExchangeRate="1", PCToBCExchangeRateDate=mdy(self.first_day), ProductQualifiers="[]")
        row["AlternateId"] = row["OrderId"]
        row.update(values)
        row["Total"] = money(Decimal(row["Subtotal"]) + Decimal(row["TaxTotal"]))
        rows = self.invoices[self.invoice_number]
        rows.append(row)
        return f"{self.invoice_number}-{len(rows) + 1}"

    def seat(self, customer: Customer, sub_id: str, product: Product, quantity: int, price: str,
             start: date, *, charge_type: str = "cycleCharge", eup: str | None = None,
             order: date | None = None, end: date | None = None, term: str = ANNUAL_TERM,
             frequency: str = "Monthly", term_start: date | None = None, reference: str = "",
             qualifiers: str = "[]") -> str:
        """A licence line; `price` is the full-cycle price, `eup` the (prorated, signed) one charged.

        A blank `frequency` writes BillingFrequency empty (prepaid annual, Microsoft's A4): give `end`.
        """
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
            ProductQualifiers=qualifiers, ProductCategory="License"))

    def usage(self, customer: Customer, sub_id: str, meter: Product, quantity: str, *, pec: bool) -> str:
        """An Azure plan meter line for the whole month; with PEC the effective price is 85% of list."""
        list_price = Decimal(meter.price) / 1_000_000
        effective = (list_price * Decimal("0.85")).quantize(Decimal("0.000001")) if pec else list_price
        subtotal = usage_subtotal(effective, ONE, Decimal(quantity))
        first, last = self.first_day, add_months(self.first_day, 1) - timedelta(days=1)
        return self._line(customer, sub_id, meter, dict(
            OrderDate=mdy(first), ChargeType="new", UnitPrice=money(list_price.normalize()), Quantity="1",
            Subtotal=money(subtotal), PriceAdjustmentDescription=PEC if pec else "",
            SubscriptionDescription="Azure plan", ChargeStartDate=mdy(first), ChargeEndDate=mdy(last),
            TermAndBillingCycle=meter.unit_term, EffectiveUnitPrice=money(effective.normalize()),
            UnitType=meter.unit_type, BillableQuantity=quantity, MeterDescription=meter.meter,
            SubscriptionStartDate=mdy(self.at(2025, 3, 14)), ProductCategory="Azure"))

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

    def reservation(self, customer: Customer, sub_id: str, product: Product, price: str, day: date) -> str:
        """An Azure reservation bought for a year: a commitment term, but a ReservationOrderId and no meter."""
        return self._line(customer, sub_id, product, dict(
            OrderDate=mdy(day), ChargeType="new", UnitPrice=price, Quantity="1", Subtotal=price,
            SubscriptionDescription=product.sku_name, ChargeStartDate=mdy(day),
            ChargeEndDate=mdy(cycle_end(day, "Annual")), TermAndBillingCycle="One-Year commitment for yearly billing",
            EffectiveUnitPrice=price, BillableQuantity="1", ReservationOrderId=self.guid(),
            SubscriptionStartDate=mdy(day), SubscriptionEndDate=mdy(cycle_end(day, "Annual")),
            ProductCategory="Azure"))

    def case(self, name: str, description: str, sub_id: str, line_ids: list[str], status: str | None,
             price: str | None = "ok", **more: object) -> None:
        """Record a planted case; what a person must look at follows PRODUCT.md §4 unless given."""
        matched = status not in (None, "unmatched")
        reason = more.get("expected_reason", {
            "matched": "quantity_equal", "unmatched": "subscription_not_found", "unexplained": "no_evidence",
        }.get(status or ""))
        kind = more.get("kind", "seat" if line_ids else None)
        defaults: dict[str, object] = dict(
            expected_reason=reason,
            expected_match_method=None if not line_ids else ("subscription_id" if matched else "none"),
            kind=kind, needs_person=bool(line_ids) and (
                status in QUANTITY_FINDINGS or reason == "failed_provisioning" or price in PRICE_FINDINGS))
        defaults.update(more)
        self.cases.append(PlantedCase(name, description, sub_id.lower(), line_ids, status, price,
                                      **defaults))  # type: ignore[arg-type]


# PRODUCT.md §4: what needs a person (quantity findings, and price findings).
QUANTITY_FINDINGS = ("unexplained", "partially_explained", "unmatched")
PRICE_FINDINGS = ("currency_mismatch", "below_cost", "cost_changed", "low_margin")


def prorate(price: str, start: date, end: date, frequency: str = "Monthly") -> str:
    """Prorated unit price of a mid-cycle change: ROUNDDOWN(full x charged / full-cycle days, 2).

    The full cycle is anchored at `end`, so scaling the result back lands within a cent.
    """
    cycle_start = add_months(end + timedelta(days=1), -12 if frequency == "Annual" else -1)
    charged, full = (end - start).days + 1, (end - cycle_start).days + 1
    return money((Decimal(price) * charged / full).quantize(Decimal("0.01"), rounding=ROUND_DOWN))
