"""The reconciling bulk of `recon sample`: every line matched by construction, built column-wise.

numpy and pyarrow make a million lines in seconds: one row per subscription and one per invoice
line, all as arrays, formatted as CSV-ready text in slices. Money is integer cents (or
micro-dollars for meters), truncated as Partner Center does.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from recon_cli.sample_builder import (
    ANNUAL_TERM,
    INVOICE_COLUMNS,
    INVOICE_NUMBER,
    METERS,
    MONTHLY_TERM,
    MPN_ID,
    PARTNER_ID,
    PEC,
    PRICE_NOTES,
    SEATS,
)

EUR_RATE_E9 = 1_082_945_671  # PCToBCExchangeRate EUR -> USD, in units of 1e-9
RATE_E9 = 10**9
NO_DATE = -(10**6)
EPOCH = date(1970, 1, 1).toordinal()
OCTOBER = np.datetime64("2026-10", "M")
# Per seat plan: 0 = one-year term billed monthly, 1 = one-month term, 2 = one-year term billed annually.
PLAN_TERM, PLAN_FREQUENCY = (ANNUAL_TERM, MONTHLY_TERM, ANNUAL_TERM), ("Monthly", "Monthly", "Annual")
CHARGE_TYPES = ("cycleCharge", "renew", "new")
CATALOG = SEATS + METERS
METER_MAX_QTY = (2976, 5000, 2000, 1488, 20)  # hours, GB, GB, hours, disks in a month, per meter
PREFIXES = ("Northwind", "Contoso", "Fabrikam", "Tailspin", "Woodgrove", "Lakeshore", "Summit", "Bluebird",
            "Granite", "Harbor", "Maple", "Cedar", "Silverline", "Redwood", "Ironbridge", "Riverside",
            "Pinecrest", "Oakmont", "Highland", "Brightwater", "Evergreen", "Stonegate", "Westfield",
            "Eastgate", "Lighthouse", "Clearview", "Copperleaf", "Sunrise", "Meridian", "Keystone")
NOUNS = ("Dental", "Legal", "Logistics", "Accounting", "Engineering", "Health", "Realty", "Marine",
         "Foods", "Design", "Consulting", "Builders", "Pharmacy", "Veterinary", "Insurance", "Motors",
         "Analytics", "Media", "Outfitters", "Clinic", "Partners", "Labs", "Freight", "Studios")
SUFFIXES = ("LLC", "Inc", "Ltd", "Group", "Co", "Associates", "Corp", "PLLC")
AUTHORS = ("jane.doe@reseller.example", "sam.lee@reseller.example", "mark.ortiz@reseller.example",
           "billing-sync@reseller.example", "portal (customer)")



def _text(values: np.ndarray) -> pa.Array:
    return pc.cast(pa.array(values), pa.string())


def _take(table: list[str] | tuple[str, ...], index: np.ndarray) -> pa.Array:
    return pc.take(pa.array(list(table), pa.string()), pa.array(index))


def _quoted(text: str) -> str:
    """A CSV cell for a value that holds quotes or commas (the JSON arrays)."""
    return '"' + text.replace('"', '""') + '"' if text else ""


def _cents(values: np.ndarray) -> pa.Array:
    """Non-negative integer cents as "12.34"."""
    return pc.binary_join_element_wise(_text(values // 100), pc.utf8_lpad(_text(values % 100), 2, "0"), ".")


def _micro(values: np.ndarray) -> pa.Array:
    """Non-negative micro-units as the shortest decimal ("23.200004", "744")."""
    whole, fraction = _text(values // 10**6), pc.utf8_lpad(_text(values % 10**6), 6, "0")
    text = pc.binary_join_element_wise(whole, fraction, ".")
    return pc.utf8_rtrim(pc.utf8_rtrim(text, characters="0"), characters=".")


def _dates(days: np.ndarray, iso: bool = False) -> pa.Array:
    """Days since 1970-01-01 as M/D/YYYY (or YYYY-MM-DD); NO_DATE as an empty cell."""
    unique, inverse = np.unique(days, return_inverse=True)
    texts = []
    for value in unique.tolist():
        day = date.fromordinal(EPOCH + value) if value != NO_DATE else None
        texts.append("" if day is None else day.isoformat() if iso else f"{day.month}/{day.day}/{day.year}")
    return _take(texts, inverse.ravel())


def _month_day(months_after_october: np.ndarray, day: np.ndarray) -> np.ndarray:
    """Days since epoch of (October 2026 + n months, day)."""
    months = (OCTOBER + months_after_october.astype("timedelta64[M]")).astype("datetime64[D]")
    days: np.ndarray = months.astype(np.int64) + day - 1
    return days


_HEX = np.array([f"{i:02x}".encode() for i in range(256)], dtype="S2")
_GUID_POSITIONS = [*range(8), *range(9, 13), *range(14, 18), *range(19, 23), *range(24, 36)]


def _hex(rng: np.random.Generator, n: int, nbytes: int) -> np.ndarray:
    """n random lower-case hex strings of 2 x nbytes characters, as a (n, 2*nbytes) uint8 array."""
    raw = rng.integers(0, 256, size=(n, nbytes), dtype=np.uint8)
    if nbytes == 16:  # a version-4 GUID
        raw[:, 6] = (raw[:, 6] & 0x0F) | 0x40
        raw[:, 8] = (raw[:, 8] & 0x3F) | 0x80
    return np.ascontiguousarray(_HEX[raw]).view(np.uint8).reshape(n, 2 * nbytes)


def _chars(chars: np.ndarray) -> pa.Array:
    width = chars.shape[1]
    array = pa.array(np.ascontiguousarray(chars).view(f"S{width}").ravel(), pa.binary())
    if isinstance(array, pa.ChunkedArray):  # pyarrow splits big conversions
        array = array.combine_chunks()
    return pc.cast(array, pa.string())


def _guids(rng: np.random.Generator, n: int) -> pa.Array:
    out = np.full((n, 36), ord("-"), dtype=np.uint8)
    out[:, _GUID_POSITIONS] = _hex(rng, n, 16)
    return _chars(out)


class Bulk:
    """The reconciling bulk: one row per subscription, one per invoice line, all numpy columns.

    Seat subscriptions have one line (their October cycle); Azure plans one per meter.
    """

    def __init__(self, rng: np.random.Generator, n_lines: int, first_change: int) -> None:
        azure = rng.random(n_lines) < 0.08
        per_sub = np.where(azure, rng.integers(1, 6, n_lines), 1)
        ends = np.cumsum(per_sub)
        n = int(np.searchsorted(ends, n_lines) + 1) if n_lines else 0
        per_sub, self.azure = per_sub[:n].copy(), azure[:n]
        if n:
            per_sub[-1] -= int(ends[n - 1]) - n_lines
        self.n_subs, self.n_lines, self.first_change = n, n_lines, first_change
        self.sub_guid = _guids(rng, n)
        n_customers = max(1, n // 5)
        self.customer = np.sort(rng.integers(0, n_customers, n))
        self.customer_guid = _guids(rng, n_customers)
        words = [rng.integers(0, len(t), n_customers) for t in (PREFIXES, NOUNS, SUFFIXES)]
        self.customer_name = pc.binary_join_element_wise(
            _take(PREFIXES, words[0]), _take(NOUNS, words[1]), _take(SUFFIXES, words[2]), " ")
        self.customer_domain = pc.binary_join_element_wise(
            pc.utf8_lower(_take(PREFIXES, words[0])), pc.utf8_lower(_take(NOUNS, words[1])),
            _text(np.arange(n_customers)), ".onmicrosoft.com", "")
        # Seats: product, plan, anniversary day, quantity, prices in integer cents.
        self.product = rng.integers(0, len(SEATS), n)
        self.plan = rng.choice(3, n, p=[0.6, 0.25, 0.15])
        self.day = rng.integers(1, 29, n)
        self.quantity = np.where(self.azure, 1, np.minimum(rng.geometric(0.07, n), 2500))
        new = rng.random(n) < np.where(self.plan == 0, 0.0, 0.08)
        self.charge_type = np.where(self.plan == 0, 0, np.where(new, 2, 1))
        usd = self._usd_price()
        self.eur = (rng.random(n) < 0.03) & ~self.azure
        self.rate_e9 = np.where(self.eur, EUR_RATE_E9, RATE_E9)
        self.eup = np.where(self.eur, usd * RATE_E9 // EUR_RATE_E9, usd)  # pricing-currency cents
        self.cost = self.eup * self.rate_e9 // RATE_E9  # ROUNDDOWN(EUP x rate, 2), billing cents
        margin = rng.integers(15, 26, n)
        self.price = (self.cost * 100 + (100 - margin) - 1) // (100 - margin)
        self.has_cost = rng.random(n) >= 0.1
        self.notes = rng.random(n) < 0.25
        # Dates (days since epoch): charge cycle, current term, and the start date the export shows.
        self.start = _month_day(np.zeros(n, np.int64), self.day)
        term_months = rng.integers(-11, 0, n)  # a one-year term billed monthly began 1..11 months ago
        self.term_start = np.where(self.plan == 0, _month_day(term_months, self.day), self.start)
        self.charge_end = _month_day(np.where(self.plan == 2, 12, 1), self.day) - 1
        self.term_end = np.where(self.plan == 0, _month_day(term_months + 12, self.day) - 1, self.charge_end)
        first_month = np.where(new, 0, np.where(self.plan == 2, rng.integers(1, 4, n) * -12,
                                                rng.integers(-44, 0, n)))
        self.export_start = np.where(self.plan == 0, _month_day(term_months - 12 * rng.integers(0, 2, n),
                                                                self.day), _month_day(first_month, self.day))
        self.export_start = np.where(self.azure, _month_day(rng.integers(-40, -1, n), self.day),
                                     self.export_start)
        # Lines: the subscription of each, and for Azure plans a distinct meter per line.
        self.sub = np.repeat(np.arange(n), per_sub)
        position = np.arange(n_lines) - np.repeat(np.cumsum(per_sub) - per_sub, per_sub)
        self.usage = self.azure[self.sub]
        self.meter = (rng.integers(0, len(METERS), n)[self.sub] + position) % len(METERS)
        self.usage_qty = rng.integers(1000, np.array(METER_MAX_QTY)[self.meter] * 10**6)  # micro-units
        self.pec = rng.random(n_lines) < 0.7
        self.order_hex = _hex(rng, n_lines, 6)
        self._changes(rng)

    def _usd_price(self) -> np.ndarray:
        monthly = np.array([p.price for p in SEATS], dtype=np.int64)[self.product]
        return np.select([self.plan == 1, self.plan == 2], [monthly * 6 // 5, monthly * 12], monthly)

    def invoice_columns(self, part: slice) -> list[pa.Array | str]:
        """The 47 invoice columns of lines `part`, as CSV-ready text."""
        s, usage, meter = self.sub[part], pa.array(self.usage[part]), self.meter[part]
        is_usage = self.usage[part]
        code = np.where(is_usage, 3 + meter, self.plan[s])  # seat plan, or 3 + meter
        cat = np.where(is_usage, len(SEATS) + meter, self.product[s])
        quantity = self.quantity[s]
        list_micro = np.array([m.price for m in METERS], dtype=np.int64)[meter]
        pec = self.pec[part] & is_usage
        eup_micro = np.where(pec, list_micro * 85 // 100, list_micro)
        usage_qty = self.usage_qty[part]
        subtotal = np.where(is_usage, eup_micro * usage_qty // 10**10, self.cost[s] * quantity)
        start = np.where(is_usage, _month_day(np.zeros(len(s), np.int64), np.ones(len(s), np.int64)),
                         self.start[s])
        end = np.where(is_usage, _month_day(np.ones(len(s), np.int64), np.ones(len(s), np.int64)) - 1,
                       self.charge_end[s])
        order_id = _chars(self.order_hex[part])
        subtotal_text = _cents(subtotal)
        blanks = ("",) * 3
        values: dict[str, pa.Array | str] = dict(
            PartnerId=PARTNER_ID, CustomerId=pc.take(self.customer_guid, pa.array(self.customer[s])),
            CustomerName=pc.take(self.customer_name, pa.array(self.customer[s])),
            CustomerDomainName=pc.take(self.customer_domain, pa.array(self.customer[s])),
            CustomerCountry="US", InvoiceNumber=INVOICE_NUMBER, MpnId=MPN_ID, ResellerMpnId="0",
            OrderId=order_id, OrderDate=_dates(start),
            ProductId=_take([p.product_id for p in CATALOG], cat),
            SkuId=_take([p.sku_id for p in CATALOG], cat),
            AvailabilityId=_take([p.availability_id for p in CATALOG], cat),
            SkuName=_take([p.sku_name for p in CATALOG], cat),
            ProductName=_take([p.product_name for p in CATALOG], cat),
            ChargeType=_take(CHARGE_TYPES, np.where(is_usage, 2, self.charge_type[s])),
            UnitPrice=pc.if_else(usage, _micro(list_micro), _cents(self.eup[s])),
            Quantity=pc.if_else(usage, "1", _text(quantity)), Subtotal=subtotal_text, TaxTotal="0",
            Total=subtotal_text, Currency="USD",
            PriceAdjustmentDescription=_take(("", _quoted(PEC), _quoted(PRICE_NOTES)),
                                             np.where(is_usage, pec * 1, self.notes[s] * 2)),
            PublisherName="Microsoft Corporation", PublisherId="",
            SubscriptionDescription=_take([p.product_name for p in SEATS] + ["Azure plan"] * len(METERS),
                                          cat),
            SubscriptionId=pc.take(self.sub_guid, pa.array(s)), ChargeStartDate=_dates(start),
            ChargeEndDate=_dates(end),
            TermAndBillingCycle=_take(PLAN_TERM + tuple(m.unit_term for m in METERS), code),
            EffectiveUnitPrice=pc.if_else(usage, _micro(eup_micro), _cents(self.eup[s])),
            UnitType=_take(blanks + tuple(m.unit_type for m in METERS), code), AlternateId=order_id,
            BillableQuantity=pc.if_else(usage, _micro(usage_qty), _text(quantity)),
            BillingFrequency=_take(PLAN_FREQUENCY + ("",) * len(METERS), code),
            PricingCurrency=_take(("USD", "EUR"), self.eur[s] * 1),
            PCToBCExchangeRate=_take(("1", f"{Decimal(EUR_RATE_E9) / RATE_E9}"), self.eur[s] * 1),
            PCToBCExchangeRateDate="10/1/2026",
            MeterDescription=_take(blanks + tuple(m.meter for m in METERS), code),
            ReservationOrderId="", CreditReasonCode="",
            SubscriptionStartDate=_dates(np.where(is_usage, self.export_start[s], self.term_start[s])),
            SubscriptionEndDate=_dates(np.where(is_usage, NO_DATE, self.term_end[s])), ReferenceId="",
            ProductQualifiers="[]", PromotionId="",
            ProductCategory=_take(("License", "Azure"), is_usage * 1),
        )
        return [values[column] for column in INVOICE_COLUMNS]

    def subscription_columns(self, part: slice) -> list[pa.Array | str]:
        """The subscription export rows of subscriptions `part`."""
        azure, customer = self.azure[part], pa.array(self.customer[part])
        no_price = pa.array(azure)
        return [
            self.sub_guid[part], pc.take(self.customer_guid, customer), pc.take(self.customer_name, customer),
            _take([p.product_name for p in SEATS] + ["Azure plan"],
                  np.where(azure, len(SEATS), self.product[part])),
            _text(self.quantity[part]), pc.if_else(no_price, "", _cents(self.price[part])),
            pc.if_else(pa.array(azure | ~self.has_cost[part]), "", _cents(self.cost[part])), "USD",
            _take(("monthly", "monthly", "annual"), np.where(azure, 0, self.plan[part])), "active",
            _dates(self.export_start[part], iso=True),
        ]

    def _changes(self, rng: np.random.Generator) -> None:
        """Old, harmless change-log records: effective March to mid-September, provisioned, invoiced."""
        picked = np.flatnonzero(~self.azure & (self.charge_type != 2) & (rng.random(self.n_subs) < 0.1))
        self.change_sub = np.repeat(picked, rng.integers(1, 3, len(picked)))
        k = len(self.change_sub)
        self.change_day = (date(2026, 3, 1).toordinal() - EPOCH) + rng.integers(0, 200, k)
        self.change_time = rng.integers(8 * 3600, 19 * 3600, k)
        self.change_has_time = rng.random(k) < 0.3
        self.change_delta = rng.choice(np.array([-3, -2, -1, 1, 2, 3, 4]), k)
        self.change_plus = rng.random(k) < 0.5
        self.change_na = rng.random(k) < 0.05
        self.change_author = rng.integers(0, len(AUTHORS), k)
        self.change_invoice = rng.integers(1, 10_000, k)

    def change_columns(self) -> list[pa.Array | str]:
        day, seconds = self.change_day, self.change_time
        clock = [pc.utf8_lpad(_text(v), 2, "0") for v in (seconds // 3600, seconds // 60 % 60, seconds % 60)]
        iso = _dates(day, iso=True)
        month = day.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64) % 12 + 1
        delta = _text(self.change_delta)
        return [
            pc.binary_join_element_wise("LCL-", _text(self.first_change + np.arange(len(day))), ""),
            pc.take(self.sub_guid, pa.array(self.change_sub)),
            pc.if_else(pa.array(self.change_has_time),
                       pc.binary_join_element_wise(iso, "T", pc.binary_join_element_wise(*clock, ":"), ""),
                       iso),
            pc.if_else(pa.array(self.change_plus & (self.change_delta > 0)),
                       pc.binary_join_element_wise("+", delta, ""), delta),
            _take(("Provisioned", "Not Applicable"), self.change_na * 1),
            _take(AUTHORS, self.change_author),
            pc.binary_join_element_wise("INV-2026-", pc.utf8_lpad(_text(month), 2, "0"), "-",
                                        pc.utf8_lpad(_text(self.change_invoice), 4, "0"), ""),
            "Archived",
        ]
