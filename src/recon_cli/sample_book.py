"""How the bulk's reseller lives from one month to the next: seat changes, cancellations, new
subscriptions, and planted situations that stay open or get fixed.

Every step is column-wise over the subscriptions (numpy), so a ten-million-line month moves as fast
as it is written. Rates are per month, of the active seat subscriptions: 3% change seats (billed
mid-cycle, after the cycle, or awaiting provisioning), 1% are new, 0.5% are cancelled, and 0.6% (at
least four) get a new exception; an open exception is fixed with probability one half.
"""

from __future__ import annotations

from collections import Counter

import numpy as np

from recon_cli.sample_bulk import (
    ADD,
    AWAITING,
    CYCLE,
    FAILED,
    METER_MAX_QTY,
    NEW,
    PROVISIONED,
    RATE_E9,
    REMOVE,
    RENEW,
    Bulk,
    MonthLines,
    usd_price,
)
from recon_cli.sample_catalog import AUTHORS, PREFIXES, SEATS
from recon_cli.sample_situations import CODES, KINDS, ROUTINE
from recon_cli.sample_text import hexes, month_day

FIX_RATE = 0.5
ROUTINE_RATE, MIN_ROUTINE = 0.03, 3
NEW_RATE, MIN_NEW = 0.006, 4
GROWTH_RATE, MIN_GROWTH = 0.01, 2
CANCEL_RATE = 0.005
# Customers the billing system has never seen, named apart from the others and given no other
# subscription, so that the customer + product fallback (PRODUCT.md §3 rule 6) can never pair their
# lines with another export row.
NEWCOMERS = ("Aurora", "Beacon", "Cobalt", "Driftwood", "Ember", "Falcon", "Glacier", "Horizon", "Indigo",
             "Juniper", "Kestrel", "Lumen", "Mosaic", "Nimbus", "Orchid", "Prairie", "Quartz", "Rampart")
ROUTINE_MIX = {"seats_billed": 5, "seats_after_cycle": 3, "seats_awaiting": 2}
EXCEPTION_MIX = {"failed_provisioning": 2, "partially_explained": 1, "provider_bills_more": 3,
                 "provider_bills_fewer": 2, "unknown_subscription": 2, "not_billed": 2, "cancelled_but_billed": 1,
                 "below_cost": 1, "cost_changed": 2, "low_margin": 1, "currency_mismatch": 1, "no_price": 1,
                 "scheduled_reduction": 1}
# The first month keeps its line count exact: no mid-cycle pairs.
FIRST_MONTH_MIX = {"seats_after_cycle": 3, "seats_awaiting": 2, **EXCEPTION_MIX}
# Kinds that need no existing subscription to host them.
HOSTLESS = ("unknown_subscription",)


def _mix(rng: np.random.Generator, mix: dict[str, int], count: int) -> np.ndarray:
    weights = np.array(list(mix.values()), dtype=float)
    codes = np.array([CODES[name] for name in mix])
    picked: np.ndarray = rng.choice(codes, count, p=weights / weights.sum()) if count else codes[:0]
    return picked


def _hosts(bulk: Bulk, month: int, busy: np.ndarray) -> np.ndarray:
    """Subscriptions that may carry a new situation: active USD seats billed monthly, in both files."""
    hosts: np.ndarray = np.flatnonzero(
        ~bulk.azure & ~bulk.eur & (bulk.plan <= 1) & bulk.billed & bulk.exported & (bulk.xstatus == 0)
        & (bulk.sit == 0) & (bulk.pending == 0) & (bulk.qty >= 2) & (bulk.day <= 26)
        & (bulk.start_month <= month) & ~bulk.origin & ~bulk.scheduled & ~busy[:bulk.n_subs])
    return hosts


def _active_seats(bulk: Bulk) -> int:
    return int((~bulk.azure & bulk.billed & bulk.exported & (bulk.xstatus == 0)).sum())


def _known_customers(bulk: Bulk, rng: np.random.Generator, count: int) -> np.ndarray:
    """`count` customers drawn from those the billing system knows."""
    known = np.flatnonzero(~bulk.newcomer)
    picked: np.ndarray = known[rng.integers(0, len(known), count)]
    return picked


def _other_quantity(rng: np.random.Generator, quantity: np.ndarray) -> np.ndarray:
    """A new seat count for each subscription: up to 3 fewer or 5 more, never 0, never the same."""
    delta = rng.choice(np.array([-3, -2, -1, 1, 2, 3, 4, 5]), len(quantity))
    moved = quantity + delta
    result: np.ndarray = np.where(moved < 1, quantity + np.abs(delta), moved)
    return result


def _records(bulk: Bulk, rng: np.random.Generator, subs: np.ndarray, day: np.ndarray, delta: np.ndarray,
             provisioning: int, invoice_day: int | None, invoiced: np.ndarray | None = None) -> np.ndarray:
    """New change-log records; returns their LCL numbers. `invoice_day`: billed to the customer that month."""
    n = len(subs)
    billed = np.zeros(n, bool) if invoice_day is None else (np.ones(n, bool) if invoiced is None else invoiced)
    index = bulk.add_records(dict(
        rec_sub=subs, rec_day=day, rec_time=rng.integers(8 * 3600, 19 * 3600, n), rec_has_time=rng.random(n) < 0.3,
        rec_delta=delta, rec_plus=rng.random(n) < 0.5, rec_prov=np.full(n, provisioning),
        rec_author=rng.integers(0, len(AUTHORS), n), rec_invoice=np.where(billed, rng.integers(1, 10_000, n), 0),
        rec_invoice_day=np.full(n, invoice_day or 0)))
    numbers: np.ndarray = bulk.first_change + index
    return numbers


def _new_subscriptions(bulk: Bulk, rng: np.random.Generator, month: int, customers: np.ndarray, *,
                       exported: bool = True, billed: bool = True, monthly: bool = False) -> np.ndarray:
    """Seat subscriptions bought this month (charge type `new`), for `customers`."""
    n = len(customers)
    product = rng.integers(0, len(SEATS), n)
    plan = np.zeros(n, np.int64) if monthly else rng.choice(3, n, p=[0.6, 0.25, 0.15])
    day, quantity = rng.integers(1, 27, n), np.clip(rng.geometric(0.07, n), 2, 2500)
    cost = usd_price(product, plan)
    margin = rng.integers(15, 26, n)
    price = (cost * 100 + (100 - margin) - 1) // (100 - margin)
    return bulk.grow(rng, n, dict(
        per_sub=np.ones(n), customer=customers, product=product, plan=plan, day=day, rate_e9=np.full(n, RATE_E9),
        eup=cost, cost=cost, price=price, notes=rng.random(n) < 0.25,
        export_start=month_day(bulk.base, np.full(n, month), day), term_month=np.full(n, month),
        start_month=np.full(n, month), qty=quantity, xqty=quantity, exported=np.full(n, exported),
        billed=np.full(n, billed), xprice=price, xcost=np.where(rng.random(n) < 0.1, -1, cost)))


def _plant(bulk: Bulk, rng: np.random.Generator, month: int, code: int, hosts: np.ndarray,
           changes: list[tuple[np.ndarray, ...]]) -> None:
    """Plant situation `code` on `hosts` in `month` (a hostless kind makes its own subscriptions)."""
    name, n = KINDS[code].name, len(hosts)
    first = int(month_day(bulk.base, np.array([month]), np.array([1]))[0])
    if name == "unknown_subscription":
        customers = bulk.add_customers(rng, n, NEWCOMERS, newcomer=True)
        if month == 0:  # the first month keeps its lines: a subscription moves to a customer nobody recorded
            bulk.customer[hosts], bulk.exported[hosts] = customers, False
        else:
            hosts = _new_subscriptions(bulk, rng, month, customers, exported=False, monthly=True)
        bulk.origin[hosts] = True
    elif name == "not_billed" and month == 0:  # recorded in the export, never billed by Microsoft
        hosts = _new_subscriptions(bulk, rng, 0, _known_customers(bulk, rng, n), billed=False, monthly=True)
        bulk.start_month[hosts], bulk.term_month[hosts] = 0, -rng.integers(1, 12, n)
        bulk.export_start[hosts] = month_day(bulk.base, -rng.integers(1, 24, n), bulk.day[hosts])
    elif name == "not_billed":
        bulk.billed[hosts] = False
    else:
        _plant_on(bulk, rng, month, name, hosts, first, changes)
    bulk.sit[hosts], bulk.sit_since[hosts] = code, month


def _plant_on(bulk: Bulk, rng: np.random.Generator, month: int, name: str, hosts: np.ndarray, first: int,
              changes: list[tuple[np.ndarray, ...]]) -> None:
    """The situations planted on an existing subscription's seats, prices or change log."""
    n, q, d = len(hosts), bulk.qty[hosts], bulk.day[hosts]
    after = month_day(bulk.base, np.full(n, month), d + rng.integers(1, 29 - d))  # after the cycle, by the 28th
    if name in ("seats_billed", "seats_after_cycle", "seats_awaiting", "failed_provisioning"):
        new = _other_quantity(rng, q)
        bulk.xqty[hosts] = new
        if name == "seats_billed":  # the pair is on this invoice; the record is billed to the customer, or not yet
            invoiced = rng.random(n) < 0.6
            numbers = _records(bulk, rng, hosts, after, new - q, PROVISIONED, first, invoiced)
            bulk.rec_next = np.concatenate([bulk.rec_next, numbers[~invoiced] - bulk.first_change])
            changes.append((hosts, after, q, new))
        elif name == "seats_after_cycle":
            numbers = _records(bulk, rng, hosts, after, new - q, PROVISIONED, None)
            bulk.pending[hosts], bulk.pending_day[hosts], bulk.pending_qty[hosts] = 1, after, new
            bulk.rec_next = np.concatenate([bulk.rec_next, numbers - bulk.first_change])
        elif name == "seats_awaiting":
            numbers = _records(bulk, rng, hosts, first + rng.integers(0, 28, n), new - q, AWAITING, None)
            bulk.pending[hosts], bulk.pending_qty[hosts] = 2, new
            bulk.rec_next = np.concatenate([bulk.rec_next, numbers - bulk.first_change])
        else:  # the customer was invoiced for the change; Microsoft never got it
            numbers = _records(bulk, rng, hosts, first + rng.integers(0, 28, n), new - q, FAILED, first)
        bulk.sit_change[hosts] = numbers
    elif name == "partially_explained":
        new = _other_quantity(rng, q)
        off = rng.integers(1, 3, n) * np.where(new > q, 1, -1)  # away from the provider's count
        export = np.where(new + off < 1, new - off, new + off)
        bulk.xqty[hosts] = np.where(export == q, export + 1, export)  # never back to the provider's
        numbers = _records(bulk, rng, hosts, after, new - q, PROVISIONED, None)
        bulk.pending[hosts], bulk.pending_day[hosts], bulk.pending_qty[hosts] = 1, after, new
        bulk.rec_next = np.concatenate([bulk.rec_next, numbers - bulk.first_change])
        bulk.sit_change[hosts] = numbers
    elif name in ("provider_bills_more", "provider_bills_fewer"):
        gap = np.minimum(rng.integers(1, 4, n), q - 1)
        bulk.xqty[hosts] = q - gap if name == "provider_bills_more" else q + gap
    elif name == "cancelled_but_billed":
        bulk.xstatus[hosts] = 1
    elif name == "below_cost":
        bulk.xprice[hosts] = bulk.cost[hosts] * 95 // 100
    elif name == "cost_changed":
        bulk.xcost[hosts] = bulk.cost[hosts] * 94 // 100
    elif name == "low_margin":
        bulk.xprice[hosts] = (bulk.cost[hosts] * 100 + 94) // 95
    elif name == "currency_mismatch":
        bulk.xcurrency[hosts] = 1
    elif name == "no_price":
        bulk.xprice[hosts] = -1
    elif name == "scheduled_reduction":  # effective 14 months on: after the as-of of every month the sample writes
        cut = np.minimum(rng.integers(1, 6, n), q - 1)
        day = month_day(bulk.base, np.full(n, month + 14), d)
        bulk.sit_change[hosts] = _records(bulk, rng, hosts, day, -cut, AWAITING, None)
        bulk.xqty[hosts], bulk.scheduled[hosts] = q - cut, True


def plant(bulk: Bulk, rng: np.random.Generator, month: int, codes: np.ndarray, hosts: np.ndarray,
          changes: list[tuple[np.ndarray, ...]]) -> Counter[str]:
    """Plant one situation per code on consecutive `hosts`; kinds that make their own subscriptions
    take none. Returns how many of each kind were planted (fewer when hosts run out)."""
    taken = 0
    planted: Counter[str] = Counter()
    for code in sorted(set(codes.tolist())):
        name, count = KINDS[code].name, int((codes == code).sum())
        if (name in HOSTLESS and month) or (name == "not_billed" and not month):
            mine = np.zeros(count, np.int64)  # placeholders: _plant makes the subscriptions
        else:
            mine = hosts[taken:taken + count]
            taken += len(mine)
        if len(mine):
            _plant(bulk, rng, month, code, mine, changes)
            planted[name] += len(mine)
    return planted


def plant_first_month(bulk: Bulk, rng: np.random.Generator, count: int) -> Counter[str]:
    """The first month's own situations, on top of the hand-built cases (lines stay as they are)."""
    codes = _mix(rng, FIRST_MONTH_MIX, count)
    return plant(bulk, rng, 0, codes, rng.permutation(_hosts(bulk, 0, np.zeros(bulk.n_subs, bool))), [])


def _fix(bulk: Bulk, fixed: np.ndarray) -> None:
    """The reseller fixes these subscriptions' exceptions (or Microsoft catches up)."""
    kind = bulk.sit[fixed]

    def of(*names: str) -> np.ndarray:
        chosen: np.ndarray = fixed[np.isin(kind, [CODES[name] for name in names])]
        return chosen

    failed = of("failed_provisioning")
    bulk.rec_prov[bulk.sit_change[failed] - bulk.first_change] = PROVISIONED  # retried, and it went through
    bulk.qty[failed] = bulk.xqty[failed]
    gap = of("partially_explained", "provider_bills_more", "provider_bills_fewer", "scheduled_reduction")
    bulk.xqty[gap] = bulk.qty[gap]
    bulk.exported[of("unknown_subscription")] = True
    bulk.xstatus[of("not_billed")] = 1  # the export catches up with the cancellation
    bulk.billed[of("cancelled_but_billed")] = False
    price = of("below_cost", "low_margin", "no_price")
    bulk.xprice[price] = bulk.price[price]
    cost = of("cost_changed")
    bulk.xcost[cost] = bulk.cost[cost]
    bulk.xcurrency[of("currency_mismatch")] = 0
    bulk.sit[fixed], bulk.sit_change[fixed] = 0, 0


def advance(bulk: Bulk, rng: np.random.Generator, month: int, invoice_number: str) -> tuple[MonthLines, Counter[str]]:
    """Move the reseller into `month` (1 = the second) and return that month's bulk lines and what happened."""
    stats: Counter[str] = Counter()
    first = int(month_day(bulk.base, np.array([month]), np.array([1]))[0])
    # Last month's seat changes reach Microsoft: a late pair for the ones after the cycle.
    bulk.sit[np.isin(bulk.sit, ROUTINE)] = 0
    pending = np.flatnonzero(bulk.pending)
    pair = pending[bulk.pending[pending] == 1]
    late = (pair, bulk.pending_day[pair], bulk.qty[pair].copy(), bulk.pending_qty[pair])
    bulk.qty[pending], bulk.pending[pending] = bulk.pending_qty[pending], 0
    records = bulk.rec_next
    bulk.rec_prov[records] = np.where(bulk.rec_prov[records] == AWAITING, PROVISIONED, bulk.rec_prov[records])
    invoice = records[(bulk.rec_invoice[records] == 0) & (rng.random(len(records)) < 0.8)]
    bulk.rec_invoice[invoice], bulk.rec_invoice_day[invoice] = rng.integers(1, 10_000, len(invoice)), first
    bulk.rec_next = np.zeros(0, np.int64)
    busy = np.zeros(bulk.n_subs, bool)
    busy[pending] = True
    # Open exceptions: fixed, or still open.
    open_ = np.flatnonzero(bulk.sit)
    fixed = open_[rng.random(len(open_)) < FIX_RATE]
    stats["fixed"] = len(fixed)
    _fix(bulk, fixed)
    busy[fixed] = True
    active = _active_seats(bulk)
    # Cancellations, at both ends.
    pool = _hosts(bulk, month - 1, busy)
    cancel = rng.choice(pool, min(len(pool), max(1, round(CANCEL_RATE * active))), replace=False)
    bulk.billed[cancel], bulk.xstatus[cancel] = False, 1
    busy[cancel] = True
    stats["cancelled"] = len(cancel)
    # New subscriptions, and enough monthly ones to host this month's changes when the bulk is small.
    routine = max(MIN_ROUTINE, round(ROUTINE_RATE * active))
    exceptions = _mix(rng, EXCEPTION_MIX, max(MIN_NEW, round(NEW_RATE * active)))
    if np.isin(exceptions, [CODES["low_margin"], CODES["no_price"]]).all():  # at least one needs a person
        exceptions[0] = CODES["provider_bills_more"]
    hosted = routine + int((~np.isin(exceptions, [CODES[n] for n in HOSTLESS])).sum())
    short = max(0, hosted - len(_hosts(bulk, month, busy)))
    for count, monthly in ((short, True), (max(MIN_GROWTH, round(GROWTH_RATE * active)), False)):
        new_customer = rng.random(count) < 0.2
        customers = _known_customers(bulk, rng, count)
        customers[new_customer] = bulk.add_customers(rng, int(new_customer.sum()), PREFIXES)
        _new_subscriptions(bulk, rng, month, customers, monthly=monthly)
        stats["new_subscriptions"] += count
    busy = np.concatenate([busy, np.zeros(bulk.n_subs - len(busy), bool)])
    hosts = rng.permutation(_hosts(bulk, month, busy))
    changes: list[tuple[np.ndarray, ...]] = []
    stats.update(plant(bulk, rng, month, _mix(rng, ROUTINE_MIX, routine), hosts[:routine], changes))
    stats.update(plant(bulk, rng, month, exceptions, hosts[routine:], changes))
    lines = _lines(bulk, rng, month, invoice_number, late, changes)
    for subs, _day, _old, new in changes:
        bulk.qty[subs] = new
    return lines, stats


def _lines(bulk: Bulk, rng: np.random.Generator, month: int, invoice_number: str,
           late: tuple[np.ndarray, ...], changes: list[tuple[np.ndarray, ...]]) -> MonthLines:
    """The month's bulk lines: each due subscription's cycle charge (or meters), then the seat-change pairs."""
    k, base, day = month, bulk.base, bulk.day
    annual_due = (bulk.plan == 2) & ((k - bulk.start_month) % 12 == 0)
    due = bulk.billed & (bulk.start_month <= k) & (bulk.azure | (bulk.plan <= 1) | annual_due)
    index = np.flatnonzero(due)
    counts = np.where(bulk.azure[index], bulk.per_sub[index], 1)
    sub = np.repeat(index, counts)
    position = np.arange(len(sub)) - np.repeat(np.cumsum(counts) - counts, counts)
    meter = (bulk.meter0[sub] + position) % len(METER_MAX_QTY)
    usage_qty = rng.integers(1000, METER_MAX_QTY[meter] * 10**6)
    pec = rng.random(len(sub)) < 0.7
    months = np.full(bulk.n_subs, k)
    start = month_day(base, months, day)
    end = month_day(base, months + np.where(bulk.plan == 2, 12, 1), day) - 1
    term = bulk.term_month + 12 * ((k - bulk.term_month) // 12)  # the one-year term now running
    renewing = (bulk.plan == 0) & (term == k)
    charge = np.where(bulk.start_month == k, NEW, np.where((bulk.plan == 0) & ~renewing, CYCLE, RENEW))
    term_start = np.where(bulk.plan == 0, month_day(base, term, day), start)
    term_end = np.where(bulk.plan == 0, month_day(base, term + 12, day) - 1, end)
    # Seat-change pairs: last month's late ones (their cycle ended yesterday) and this month's.
    subs, when, old, new = late
    keep = subs[due[subs]]
    parts = [(keep, when[due[subs]], old[due[subs]], new[due[subs]],
              month_day(base, np.full(len(keep), k - 1), day[keep]), start[keep] - 1)]
    parts += [(subs, when, old, new, start[subs], end[subs]) for subs, when, old, new in changes]
    subs, when, old, new, cycle_start, cycle_end = (np.concatenate([p[i] for p in parts]).astype(np.int64)
                                                    for i in range(6))
    prorated = bulk.eup[subs] * (cycle_end - when + 1) // (cycle_end - cycle_start + 1)
    return MonthLines(
        k, invoice_number, int(month_day(base, np.array([k]), np.array([1]))[0]), sub, meter, usage_qty, pec,
        hexes(rng, len(sub), 6), bulk.qty.copy(), charge, start, end, term_start, term_end,
        ev_sub=np.repeat(subs, 2), ev_charge=np.repeat(np.where(new > old, ADD, REMOVE), 2),
        ev_qty=np.column_stack([old, new]).ravel(), ev_eup=np.column_stack([-prorated, prorated]).ravel(),
        ev_start=np.repeat(when, 2), ev_end=np.repeat(cycle_end, 2), ev_order_hex=hexes(rng, 2 * len(subs), 6))
