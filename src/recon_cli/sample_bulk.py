"""The bulk of `recon sample`: thousands to millions of subscriptions, built and written column-wise.

One row per subscription and one per invoice line, all numpy arrays, formatted as CSV-ready text
in slices (sample_text.py). `Bulk.__init__` draws the first month exactly as it always has (the
same seed writes the same bytes); the arrays after the draws are the reseller's state that
sample_book.py moves from month to month: the provider's seats (`qty`), what the export says
(`x...`), whether Microsoft bills the subscription, the planted situation it carries, and the
licence change log. Money is integer cents (or micro-dollars for meters), truncated as Partner
Center does.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from recon_cli.sample_catalog import (
    ANNUAL_TERM,
    AUTHORS,
    INVOICE_COLUMNS,
    METERS,
    MONTHLY_TERM,
    MPN_ID,
    NOUNS,
    PARTNER_ID,
    PEC,
    PREFIXES,
    PRICE_NOTES,
    SEATS,
    SUFFIXES,
    add_months,
)
from recon_cli.sample_text import (
    NO_DATE,
    cents,
    chars,
    dates,
    day_of,
    guids,
    hexes,
    micro,
    month_day,
    month_of,
    pick,
    quoted,
    signed_cents,
    take,
    text,
)

EUR_RATE_E9 = 1_082_945_671  # PCToBCExchangeRate EUR -> USD, in units of 1e-9
RATE_E9 = 10**9
OCTOBER = np.datetime64("2026-10", "M")
# Per seat plan: 0 = one-year term billed monthly, 1 = one-month term, 2 = one-year term billed annually.
PLAN_TERM, PLAN_FREQUENCY = (ANNUAL_TERM, MONTHLY_TERM, ANNUAL_TERM), ("Monthly", "Monthly", "Annual")
CHARGE_TYPES = ("cycleCharge", "renew", "new", "addQuantity", "removeQuantity")
CYCLE, RENEW, NEW, ADD, REMOVE = range(5)
PROVISIONING = ("Provisioned", "Not Applicable", "Awaiting Provisioning", "Failed Provisioning")
PROVISIONED, NOT_APPLICABLE, AWAITING, FAILED = range(4)
CATALOG = SEATS + METERS
METER_MAX_QTY = np.array((2976, 5000, 2000, 1488, 20))  # hours, GB, GB, hours, disks in a month, per meter
METER_PRICE = np.array([m.price for m in METERS], dtype=np.int64)
# The per-subscription arrays that grow when subscriptions are added (grow()).
PER_SUB = ("azure", "per_sub", "meter0", "customer", "product", "plan", "day", "eur", "rate_e9", "eup", "cost",
           "price", "notes", "export_start", "term_month", "start_month", "qty", "xqty", "exported", "billed",
           "xstatus", "xprice", "xcost", "xcurrency", "sit", "sit_since", "sit_change", "pending", "pending_day",
           "pending_qty", "origin", "scheduled")
PER_RECORD = ("rec_sub", "rec_day", "rec_time", "rec_has_time", "rec_delta", "rec_plus", "rec_prov", "rec_author",
              "rec_invoice", "rec_invoice_day")


@dataclass
class MonthLines:
    """One month's invoice lines of the bulk: the base lines (a seat cycle, or one per Azure meter) in
    subscription order, then the seat-change pairs (`ev_...`, reversal half first).

    `qty`, `charge`, `start`, `end`, `term_start`, `term_end` are per subscription: its cycle charge.
    """

    month: int
    invoice_number: str
    first_day: int
    sub: np.ndarray
    meter: np.ndarray
    usage_qty: np.ndarray
    pec: np.ndarray
    order_hex: np.ndarray
    qty: np.ndarray
    charge: np.ndarray
    start: np.ndarray
    end: np.ndarray
    term_start: np.ndarray
    term_end: np.ndarray
    ev_sub: np.ndarray
    ev_charge: np.ndarray
    ev_qty: np.ndarray
    ev_eup: np.ndarray
    ev_start: np.ndarray
    ev_end: np.ndarray
    ev_order_hex: np.ndarray

    def __len__(self) -> int:
        return len(self.sub) + len(self.ev_sub)


def no_events() -> dict[str, np.ndarray]:
    empty = np.zeros(0, dtype=np.int64)
    return dict(ev_sub=empty, ev_charge=empty, ev_qty=empty, ev_eup=empty, ev_start=empty, ev_end=empty,
                ev_order_hex=np.zeros((0, 12), dtype=np.uint8))


class Bulk:
    """The reconciling bulk and the reseller's evolving state: numpy columns, one row per subscription.

    Seat subscriptions have one line a month (their cycle); Azure plans one per meter. `first` holds
    the first month's lines.
    """

    def __init__(self, rng: np.random.Generator, n_lines: int, first_change: int, shift: int = 0,
                 invoice_number: str = "G000123456") -> None:
        self.base = OCTOBER + np.timedelta64(shift, "M")
        azure = rng.random(n_lines) < 0.08
        per_sub = np.where(azure, rng.integers(1, 6, n_lines), 1)
        ends = np.cumsum(per_sub)
        n = int(np.searchsorted(ends, n_lines) + 1) if n_lines else 0
        per_sub, self.azure = per_sub[:n].copy(), azure[:n]
        if n:
            per_sub[-1] -= int(ends[n - 1]) - n_lines
        self.n_subs, self.per_sub, self.first_change = n, per_sub, first_change
        self.sub_guid = guids(rng, n)
        self.n_customers = n_customers = max(1, n // 5)
        self.customer = np.sort(rng.integers(0, n_customers, n))
        self.customer_guid = guids(rng, n_customers)
        words = [rng.integers(0, len(t), n_customers) for t in (PREFIXES, NOUNS, SUFFIXES)]
        self.customer_name = pc.binary_join_element_wise(
            take(PREFIXES, words[0]), take(NOUNS, words[1]), take(SUFFIXES, words[2]), " ")
        self.customer_domain = pc.binary_join_element_wise(
            pc.utf8_lower(take(PREFIXES, words[0])), pc.utf8_lower(take(NOUNS, words[1])),
            text(np.arange(n_customers)), ".onmicrosoft.com", "")
        # Seats: product, plan, anniversary day, quantity, prices in integer cents.
        self.product = rng.integers(0, len(SEATS), n)
        self.plan = rng.choice(3, n, p=[0.6, 0.25, 0.15])
        self.day = rng.integers(1, 29, n)
        self.quantity = np.where(self.azure, 1, np.minimum(rng.geometric(0.07, n), 2500))
        new = rng.random(n) < np.where(self.plan == 0, 0.0, 0.08)
        self.charge_type = np.where(self.plan == 0, 0, np.where(new, 2, 1))
        usd = usd_price(self.product, self.plan)
        self.eur = (rng.random(n) < 0.03) & ~self.azure
        self.rate_e9 = np.where(self.eur, EUR_RATE_E9, RATE_E9)
        self.eup = np.where(self.eur, usd * RATE_E9 // EUR_RATE_E9, usd)  # pricing-currency cents
        self.cost = self.eup * self.rate_e9 // RATE_E9  # ROUNDDOWN(EUP x rate, 2), billing cents
        margin = rng.integers(15, 26, n)
        self.price = (self.cost * 100 + (100 - margin) - 1) // (100 - margin)
        self.has_cost = rng.random(n) >= 0.1
        self.notes = rng.random(n) < 0.25
        # Dates (days since epoch): charge cycle, current term, and the start date the export shows.
        self.start = self._month_day(np.zeros(n, np.int64), self.day)
        term_months = rng.integers(-11, 0, n)  # a one-year term billed monthly began 1..11 months ago
        self.term_start = np.where(self.plan == 0, self._month_day(term_months, self.day), self.start)
        self.charge_end = self._month_day(np.where(self.plan == 2, 12, 1), self.day) - 1
        self.term_end = np.where(self.plan == 0, self._month_day(term_months + 12, self.day) - 1, self.charge_end)
        first_month = np.where(new, 0, np.where(self.plan == 2, rng.integers(1, 4, n) * -12,
                                                rng.integers(-44, 0, n)))
        self.export_start = np.where(self.plan == 0, self._month_day(term_months - 12 * rng.integers(0, 2, n),
                                                                     self.day), self._month_day(first_month, self.day))
        self.export_start = np.where(self.azure, self._month_day(rng.integers(-40, -1, n), self.day),
                                     self.export_start)
        # Lines: the subscription of each, and for Azure plans a distinct meter per line.
        sub = np.repeat(np.arange(n), per_sub)
        position = np.arange(n_lines) - np.repeat(np.cumsum(per_sub) - per_sub, per_sub)
        self.meter0 = rng.integers(0, len(METERS), n)
        meter = (self.meter0[sub] + position) % len(METERS)
        usage_qty = rng.integers(1000, METER_MAX_QTY[meter] * 10**6)  # micro-units
        pec = rng.random(n_lines) < 0.7
        order_hex = hexes(rng, n_lines, 6)
        self._changes(rng)
        self.first = MonthLines(0, invoice_number, int(self._month_day(np.zeros(1, np.int64), np.ones(1))[0]),
                                sub, meter, usage_qty, pec, order_hex, self.quantity, self.charge_type, self.start,
                                self.charge_end, self.term_start, self.term_end, **no_events())
        self._state(term_months)

    def _month_day(self, months: np.ndarray, day: np.ndarray) -> np.ndarray:
        return month_day(self.base, months, day)

    def _changes(self, rng: np.random.Generator) -> None:
        """Old, harmless change-log records: effective March to mid-September, provisioned, invoiced."""
        picked = np.flatnonzero(~self.azure & (self.charge_type != 2) & (rng.random(self.n_subs) < 0.1))
        self.rec_sub = np.repeat(picked, rng.integers(1, 3, len(picked)))
        k = len(self.rec_sub)
        self.rec_day = (day_of(add_months(date(2026, 3, 1), self.shift)) + rng.integers(0, 200, k))
        self.rec_time = rng.integers(8 * 3600, 19 * 3600, k)
        self.rec_has_time = rng.random(k) < 0.3
        self.rec_delta = rng.choice(np.array([-3, -2, -1, 1, 2, 3, 4]), k)
        self.rec_plus = rng.random(k) < 0.5
        self.rec_prov = np.where(rng.random(k) < 0.05, NOT_APPLICABLE, PROVISIONED)
        self.rec_author = rng.integers(0, len(AUTHORS), k)
        self.rec_invoice = rng.integers(1, 10_000, k)
        self.rec_invoice_day = self.rec_day

    @property
    def shift(self) -> int:
        return int((self.base - OCTOBER).astype(np.int64))

    def _state(self, term_months: np.ndarray) -> None:
        """The reseller's state after the first month's draws: everything agrees."""
        n = self.n_subs
        self.term_month = np.where(self.plan == 0, term_months, 0)
        self.start_month = np.zeros(n, np.int64)
        self.qty, self.xqty = self.quantity.copy(), self.quantity.copy()
        self.exported, self.billed = np.ones(n, bool), np.ones(n, bool)
        self.xstatus, self.xcurrency = np.zeros(n, np.int8), np.zeros(n, np.int8)  # active; USD
        self.xprice = np.where(self.azure, -1, self.price)  # -1: the cell is blank
        self.xcost = np.where(self.azure | ~self.has_cost, -1, self.cost)
        # The planted situation (sample_situations.KINDS), the month it began, its change record (number).
        self.sit, self.sit_since, self.sit_change = np.zeros(n, np.int8), np.zeros(n, np.int64), np.zeros(n, np.int64)
        # A change the provider reflects next month: 1 = billed as a late pair, 2 = provisioned at the cycle.
        self.pending, self.pending_day, self.pending_qty = np.zeros(n, np.int8), np.zeros(n, np.int64), \
            np.zeros(n, np.int64)
        self.origin = np.zeros(n, bool)  # first billed while unknown to the billing system
        self.scheduled = np.zeros(n, bool)  # has a change-log record effective after every as-of
        self.newcomer = np.zeros(self.n_customers, bool)  # per customer: see add_customers
        self.rec_next = np.zeros(0, np.int64)  # records to provision or invoice next month

    def grow(self, rng: np.random.Generator, count: int, values: dict[str, np.ndarray]) -> np.ndarray:
        """Append `count` subscriptions (fresh ids); columns not in `values` start at zero. Returns their indices."""
        first = self.n_subs
        for name in PER_SUB:
            current = getattr(self, name)
            added = values.get(name, np.zeros(count, dtype=current.dtype))
            setattr(self, name, np.concatenate([current, np.asarray(added).astype(current.dtype)]))
        self.sub_guid = pa.concat_arrays([self.sub_guid, guids(rng, count)])
        self.n_subs += count
        return np.arange(first, first + count)

    def add_customers(self, rng: np.random.Generator, count: int, prefixes: tuple[str, ...],
                      newcomer: bool = False) -> np.ndarray:
        """Append `count` customers named from `prefixes` and the usual nouns; returns their indices.

        A newcomer is a customer the billing system has never seen: it gets no other subscription.
        """
        first = self.n_customers
        words = [rng.integers(0, len(t), count) for t in (prefixes, NOUNS, SUFFIXES)]
        names = pc.binary_join_element_wise(take(prefixes, words[0]), take(NOUNS, words[1]),
                                            take(SUFFIXES, words[2]), " ")
        domains = pc.binary_join_element_wise(pc.utf8_lower(take(prefixes, words[0])),
                                              pc.utf8_lower(take(NOUNS, words[1])),
                                              text(np.arange(first, first + count)), ".onmicrosoft.com", "")
        self.customer_guid = pa.concat_arrays([self.customer_guid, guids(rng, count)])
        self.newcomer = np.concatenate([self.newcomer, np.full(count, newcomer)])
        self.customer_name = pa.concat_arrays([self.customer_name, names])
        self.customer_domain = pa.concat_arrays([self.customer_domain, domains])
        self.n_customers += count
        return np.arange(first, first + count)

    def add_records(self, values: dict[str, np.ndarray]) -> np.ndarray:
        """Append change-log records; returns their indices (the change id is LCL-<first_change + index>)."""
        first = len(self.rec_sub)
        count = len(values["rec_sub"])
        for name in PER_RECORD:
            current = getattr(self, name)
            added = values.get(name, np.zeros(count, dtype=current.dtype))
            setattr(self, name, np.concatenate([current, np.asarray(added).astype(current.dtype)]))
        return np.arange(first, first + count)

    # ---- writing -----------------------------------------------------------------------------------

    def invoice_columns(self, m: MonthLines, part: slice) -> list[pa.Array | str]:
        """The 47 invoice columns of base lines `part` of month `m`, as CSV-ready text."""
        s = m.sub[part]
        is_usage = self.azure[s]
        first = np.full(len(s), m.first_day)
        last = month_day(self.base, np.full(len(s), m.month + 1), np.ones(len(s), np.int64)) - 1
        start = np.where(is_usage, first, m.start[s])
        return self._columns(m, s, is_usage, m.meter[part], m.usage_qty[part], m.pec[part], m.order_hex[part],
                             np.where(is_usage, NEW, m.charge[s]), m.qty[s], self.eup[s], start,
                             np.where(is_usage, last, m.end[s]), start)

    def event_columns(self, m: MonthLines, part: slice) -> list[pa.Array | str]:
        """The 47 invoice columns of seat-change lines `part` of month `m`."""
        s = m.ev_sub[part]
        zero = np.zeros(len(s), np.int64)
        return self._columns(m, s, zero.astype(bool), zero, zero, zero.astype(bool), m.ev_order_hex[part],
                             m.ev_charge[part], m.ev_qty[part], m.ev_eup[part], m.ev_start[part], m.ev_end[part],
                             m.ev_start[part])

    def _columns(self, m: MonthLines, s: np.ndarray, is_usage: np.ndarray, meter: np.ndarray,
                 usage_qty: np.ndarray, pec: np.ndarray, order_hex: np.ndarray, charge: np.ndarray,
                 quantity: np.ndarray, eup: np.ndarray, start: np.ndarray, end: np.ndarray,
                 order: np.ndarray) -> list[pa.Array | str]:
        usage = pa.array(is_usage)
        code = np.where(is_usage, 3 + meter, self.plan[s])  # seat plan, or 3 + meter
        cat = np.where(is_usage, len(SEATS) + meter, self.product[s])
        list_micro = METER_PRICE[meter]
        pec = pec & is_usage
        eup_micro = np.where(pec, list_micro * 85 // 100, list_micro)
        # ROUNDDOWN(EUP x rate, 2) per seat, toward zero for the reversal halves.
        seat_cost = np.sign(eup) * (np.abs(eup) * self.rate_e9[s] // RATE_E9)
        subtotal = np.where(is_usage, eup_micro * usage_qty // 10**10, seat_cost * quantity)
        order_id = chars(order_hex)
        subtotal_text = signed_cents(subtotal)
        blanks = ("",) * 3
        customer = pa.array(self.customer[s])
        values: dict[str, pa.Array | str] = dict(
            PartnerId=PARTNER_ID, CustomerId=pc.take(self.customer_guid, customer),
            CustomerName=pc.take(self.customer_name, customer),
            CustomerDomainName=pc.take(self.customer_domain, customer),
            CustomerCountry="US", InvoiceNumber=m.invoice_number, MpnId=MPN_ID, ResellerMpnId="0",
            OrderId=order_id, OrderDate=dates(order),
            ProductId=take([p.product_id for p in CATALOG], cat),
            SkuId=take([p.sku_id for p in CATALOG], cat),
            AvailabilityId=take([p.availability_id for p in CATALOG], cat),
            SkuName=take([p.sku_name for p in CATALOG], cat),
            ProductName=take([p.product_name for p in CATALOG], cat),
            ChargeType=take(CHARGE_TYPES, charge),
            UnitPrice=pc.if_else(usage, micro(list_micro), cents(self.eup[s])),
            Quantity=pc.if_else(usage, "1", text(quantity)), Subtotal=subtotal_text, TaxTotal="0",
            Total=subtotal_text, Currency="USD",
            PriceAdjustmentDescription=take(("", quoted(PEC), quoted(PRICE_NOTES)),
                                            np.where(is_usage, pec * 1, self.notes[s] * 2)),
            PublisherName="Microsoft Corporation", PublisherId="",
            SubscriptionDescription=take([p.product_name for p in SEATS] + ["Azure plan"] * len(METERS), cat),
            SubscriptionId=pc.take(self.sub_guid, pa.array(s)), ChargeStartDate=dates(start),
            ChargeEndDate=dates(end),
            TermAndBillingCycle=take(PLAN_TERM + tuple(m.unit_term for m in METERS), code),
            EffectiveUnitPrice=pc.if_else(usage, micro(eup_micro), signed_cents(eup)),
            UnitType=take(blanks + tuple(m.unit_type for m in METERS), code), AlternateId=order_id,
            BillableQuantity=pc.if_else(usage, micro(usage_qty), text(quantity)),
            BillingFrequency=take(PLAN_FREQUENCY + ("",) * len(METERS), code),
            PricingCurrency=take(("USD", "EUR"), self.eur[s] * 1),
            PCToBCExchangeRate=take(("1", f"{Decimal(EUR_RATE_E9) / RATE_E9}"), self.eur[s] * 1),
            PCToBCExchangeRateDate=dates(np.array([m.first_day]))[0].as_py(),
            MeterDescription=take(blanks + tuple(m.meter for m in METERS), code),
            ReservationOrderId="", CreditReasonCode="",
            SubscriptionStartDate=dates(np.where(is_usage, self.export_start[s], m.term_start[s])),
            SubscriptionEndDate=dates(np.where(is_usage, NO_DATE, m.term_end[s])), ReferenceId="",
            ProductQualifiers="[]", PromotionId="",
            ProductCategory=take(("License", "Azure"), is_usage * 1),
        )
        return [values[column] for column in INVOICE_COLUMNS]

    def subscription_columns(self, part: slice | np.ndarray) -> list[pa.Array | str]:
        """The subscription export rows of subscriptions `part`."""
        azure, customer = self.azure[part], pa.array(self.customer[part])
        price, cost = self.xprice[part], self.xcost[part]
        return [
            pick(self.sub_guid, part), pc.take(self.customer_guid, customer), pc.take(self.customer_name, customer),
            take([p.product_name for p in SEATS] + ["Azure plan"], np.where(azure, len(SEATS), self.product[part])),
            text(self.xqty[part]), pc.if_else(pa.array(price < 0), "", cents(np.maximum(price, 0))),
            pc.if_else(pa.array(cost < 0), "", cents(np.maximum(cost, 0))),
            take(("USD", "EUR"), self.xcurrency[part]),
            take(("monthly", "monthly", "annual"), np.where(azure, 0, self.plan[part])),
            take(("active", "cancelled"), self.xstatus[part]),
            dates(self.export_start[part], iso=True),
        ]

    def change_columns(self, part: slice) -> list[pa.Array | str]:
        """The licence change log rows of records `part`, with their provisioning and billing as of now."""
        day, seconds = self.rec_day[part], self.rec_time[part]
        clock = [pc.utf8_lpad(text(v), 2, "0") for v in (seconds // 3600, seconds // 60 % 60, seconds % 60)]
        iso = dates(day, iso=True)
        invoice_month = month_of(self.rec_invoice_day[part])
        delta, invoice = text(self.rec_delta[part]), self.rec_invoice[part]
        invoiced = pa.array(invoice > 0)
        numbers = np.arange(len(self.rec_sub))[part] + self.first_change
        return [
            pc.binary_join_element_wise("LCL-", text(numbers), ""),
            pc.take(self.sub_guid, pa.array(self.rec_sub[part])),
            pc.if_else(pa.array(self.rec_has_time[part]),
                       pc.binary_join_element_wise(iso, "T", pc.binary_join_element_wise(*clock, ":"), ""),
                       iso),
            pc.if_else(pa.array(self.rec_plus[part] & (self.rec_delta[part] > 0)),
                       pc.binary_join_element_wise("+", delta, ""), delta),
            take(PROVISIONING, self.rec_prov[part]),
            take(AUTHORS, self.rec_author[part]),
            pc.if_else(invoiced, pc.binary_join_element_wise(
                "INV-", text(1970 + invoice_month // 12), "-", pc.utf8_lpad(text(invoice_month % 12 + 1), 2, "0"),
                "-", pc.utf8_lpad(text(invoice), 4, "0"), ""), ""),
            pc.if_else(invoiced, "Archived", "Active"),
        ]


def usd_price(product: np.ndarray, plan: np.ndarray) -> np.ndarray:
    """Microsoft's USD price in cents per billing period: a one-month term costs 20% more, a year billed
    at once is twelve months."""
    monthly = np.array([p.price for p in SEATS], dtype=np.int64)[product]
    price: np.ndarray = np.select([plan == 1, plan == 2], [monthly * 6 // 5, monthly * 12], monthly)
    return price
