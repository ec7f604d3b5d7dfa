"""Cost against selling price, per subscription, on the same billing period (PRODUCT.md §3 rule 8),
and the margins that follow from them.

The provider's unit cost is what one seat costs for a full billing period in the billing
currency. It comes from the subscription's full-cycle seat line when the invoice has one:
ROUNDDOWN(EffectiveUnitPrice x PCToBCExchangeRate, 2), as the subtotal is computed. Otherwise a
prorated line's EffectiveUnitPrice x rate is scaled to its full cycle (full-cycle days / charged
days, the cycle anchored at the line's ChargeEndDate) before any rounding, then rounded once, and
compared within 0.01 x that scale: a late-month seat add is not a changed cost.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from math import lcm
from typing import TYPE_CHECKING, Any

from recon_cli.events import in_event_order
from recon_cli.formats.nce import CENT, seat_unit_cost
from recon_cli.formats.subscriptions import BILLING_FREQUENCIES
from recon_cli.frames import carry, distinct_rows, group_positions
from recon_cli.records import Kind, PriceStatus, Status

if TYPE_CHECKING:
    import pandas as pd

# `cost_changed` fires when the expected cost is further than this from the provider's.
COST_TOLERANCE = Decimal("0.01")
HUNDRED = Decimal(100)


def full_cycle_scale(lines: pd.DataFrame) -> pd.Series:
    """Full-cycle days / charged days per line: 1 for a full cycle, more for a prorated line."""
    import pandas as pd

    scale = pd.Series(Decimal(1), index=lines.index, dtype=object)
    start, end = lines["charge_start"], lines["charge_end"]
    for frequency, months in BILLING_FREQUENCIES.items():
        rows = (lines["frequency"] == frequency) & start.notna() & end.notna()
        if not rows.any():
            continue
        offset = pd.DateOffset(months=months)
        one_day = pd.Timedelta(days=1)
        full_end = start[rows] + offset - one_day
        full_start = end[rows] + one_day - offset
        # Month ends clip (Jan 29 + 1 month = Feb 28), so a full cycle may match either way round.
        partial = (end[rows] < full_end) & (start[rows] != full_start)
        for index in partial[partial].index:
            charged = (end[index] - start[index]).days + 1
            full = (end[index] - full_start[index]).days + 1
            if charged > 0:
                scale[index] = Decimal(full) / Decimal(charged)
    return scale


def provider_unit_cost(price: Decimal | None, rate: Decimal | None, scale: Decimal) -> Decimal | None:
    """One seat for one full billing period, in the billing currency: a full-cycle line's as the
    provider rounds it, a prorated line's scaled to its full cycle first and rounded once."""
    if price is None or price != price:
        return None
    rate = rate if rate is not None and rate == rate else Decimal(1)
    if scale == 1:
        return seat_unit_cost(price, rate)
    return (price * rate * scale).quantize(CENT, rounding=ROUND_HALF_UP)


def price_status(cost: Decimal | None, price: Decimal | None, expected: Decimal | None,
                 provider_months: int, subscription_months: int, currency_differs: bool,
                 min_margin: Decimal | None, scale: Decimal = Decimal(1)) -> tuple[str, Decimal | None]:
    """The most severe price finding for one subscription, and its margin in percent.

    `scale` is the full-cycle days / charged days of the line the cost came from: the cost is
    compared with the expected one within COST_TOLERANCE x scale.
    """
    if currency_differs:
        return PriceStatus.CURRENCY_MISMATCH, None
    common = lcm(provider_months, subscription_months)
    cost_common = cost * (common // provider_months) if cost is not None else None
    price_common = price * (common // subscription_months) if price is not None else None
    margin = None
    if cost_common is not None and price_common is not None and price_common != 0:
        margin = ((price_common - cost_common) / price_common * HUNDRED).quantize(CENT, ROUND_HALF_UP)
    if cost_common is not None and price_common is not None and price_common < cost_common:
        return PriceStatus.BELOW_COST, margin
    if expected is not None and cost_common is not None:
        expected_common = expected * (common // subscription_months)
        if abs(expected_common - cost_common) > COST_TOLERANCE * scale * (common // provider_months):
            return PriceStatus.COST_CHANGED, margin
    if min_margin is not None and margin is not None and margin < min_margin:
        return PriceStatus.LOW_MARGIN, margin
    if price is None:
        return PriceStatus.NO_PRICE, margin
    return PriceStatus.OK, margin


def check_prices(lines: pd.DataFrame, min_margin: Decimal | None) -> pd.DataFrame:
    """Price findings per matched subscription with seat lines, from its latest full-cycle charged
    seat line, else its latest prorated one; of the product it is billed for now (after an upgrade
    on the same subscription, the old product's lines do not price the new one).

    Returns:
        one row per `group`: unit_cost, price_status, margin_pct.
    """
    import numpy as np
    import pandas as pd

    charged = (lines["kind"] == Kind.SEAT.value) & (lines["sub_key"] != "") & ~lines["is_cancel"] & \
        ~lines["negative"] & lines["effective_unit_price"].notna()
    columns = ["group", "order_date", "charge_start", "charge_end", "row", "negative", "event_rank",
               "effective_unit_price", "exchange_rate", "unit_price", "expected_unit_cost", "currency",
               "subscription_currency", "frequency", "subscription_frequency", "product_id", "sku_id"]
    candidates = lines.loc[charged, columns]
    product = candidates["product_id"] + "\x1f" + candidates["sku_id"]
    current = in_event_order(candidates.assign(product=product)).drop_duplicates("group", keep="last")
    candidates = candidates.loc[product == candidates["group"].map(current.set_index("group")["product"])]
    candidates = candidates.assign(scale=full_cycle_scale(candidates))
    candidates = candidates.assign(full_cycle=candidates["scale"] == 1)
    # The latest full-cycle line when there is one: sorted so that it comes last in its group.
    ordered = in_event_order(candidates).sort_values(["group", "full_cycle"], kind="stable")
    latest = ordered.drop_duplicates("group", keep="last")
    scales = latest["scale"]
    # Thousands of subscriptions share a handful of price combinations: decide each combination once.
    currency_differs = (latest["subscription_currency"] != "") & (latest["currency"] != latest["subscription_currency"])
    combination = [latest["effective_unit_price"], latest["exchange_rate"], latest["unit_price"],
                   latest["expected_unit_cost"], currency_differs, latest["frequency"],
                   latest["subscription_frequency"], scales]
    first, codes = distinct_rows(combination) if len(latest) else (np.zeros(0, np.int64), np.zeros(0, np.int64))
    distinct = zip(*(column.to_numpy(dtype=object)[first] for column in combination), strict=True)
    decided = [_decide_price(values, min_margin) for values in distinct]

    def figure(j: int) -> list[Any]:
        values: list[Any] = np.array([d[j] for d in decided] + [None], dtype=object)[codes].tolist()
        return values

    return pd.DataFrame({"group": latest["group"].to_numpy(), "unit_cost": figure(0),
                         "price_status": figure(1), "margin_pct": figure(2)})


def _decide_price(combination: tuple[Any, ...], min_margin: Decimal | None
                  ) -> tuple[Decimal | None, str, Decimal | None]:
    effective_price, rate, price, expected, currency_differs, frequency, sub_frequency, scale = combination
    cost = provider_unit_cost(effective_price, rate, scale)
    status, margin = price_status(cost, price, expected, BILLING_FREQUENCIES.get(frequency, 1),
                                  BILLING_FREQUENCIES.get(sub_frequency, 1), bool(currency_differs), min_margin,
                                  scale)
    return cost, str(status), margin


def line_price_status(lines: pd.DataFrame) -> pd.Series:
    """Price status of lines without a seat cost: usage and one-time lines have no per-seat price
    (`not_applicable`); a seat line is checked for its currency, then whether a price exists."""
    import numpy as np
    import pandas as pd

    matched = lines["sub_key"] != ""
    sub_currency = lines["subscription_currency"].fillna("")
    differs = matched & (sub_currency != "") & (lines["currency"] != sub_currency)
    has_price = lines["unit_price"].notna() & matched
    status = np.where(differs, PriceStatus.CURRENCY_MISMATCH.value,
                      np.where(has_price, PriceStatus.OK.value, PriceStatus.NO_PRICE.value))
    return pd.Series(np.where(lines["kind"] == Kind.SEAT.value, status, PriceStatus.NOT_APPLICABLE.value),
                     index=lines.index)


@dataclass(frozen=True)
class LinePrices:
    """Per invoice line (aligned with the lines): the columns the price stage owns."""

    price_status: Any
    unit_cost: pd.Series
    margin_pct: pd.Series


def price_lines(lines: pd.DataFrame, min_margin: Decimal | None) -> LinePrices:
    """Each line's price status, provider unit cost and margin: a seat line of a matched subscription
    takes its subscription's price check; any other line only its currency and whether a price exists."""
    import numpy as np

    prices = check_prices(lines, min_margin)
    at_price = group_positions(prices["group"], lines["group"])
    priced = (lines["kind"] == Kind.SEAT.value).to_numpy() & (at_price >= 0)
    index = lines.index
    return LinePrices(
        price_status=np.where(priced, carry(prices["price_status"], at_price, index, ""), line_price_status(lines)),
        unit_cost=carry(prices["unit_cost"], at_price, index).where(priced, None),
        margin_pct=carry(prices["margin_pct"], at_price, index).where(priced, None))


def seat_margins(lines: pd.DataFrame) -> tuple[dict[str, str], dict[str, str]]:
    """Annual selling value and revenue-weighted margin % per currency, one row per priced seat subscription.

    Each subscription's margin (price vs the provider's full-cycle cost, on the same period) is
    weighted by what it sells for in a year, so monthly and annual subscriptions add up fairly.
    """
    import numpy as np

    wanted = ((lines["kind"] == Kind.SEAT.value) & (lines["status"] != Status.UNMATCHED.value)
              & lines["margin_pct"].notna() & lines["unit_price"].notna() & lines["subscription_quantity"].notna())
    # Only the columns used: a copy of the whole result frame would set the run's memory peak.
    priced = lines.loc[wanted, ["matched_subscription_id", "billing_frequency", "unit_price",
                                "subscription_quantity", "margin_pct", "currency"]]
    priced = priced.drop_duplicates("matched_subscription_id")
    if priced.empty:
        return {}, {}
    # The line's billing plan sets how often the price is billed in a year (the subscription's
    # plan is the same in all but a mid-term plan change).
    # Computed once per distinct (plan, price, seats, margin %), then taken for each subscription.
    columns = [priced[name] for name in ("billing_frequency", "unit_price", "subscription_quantity", "margin_pct")]
    first, codes = distinct_rows(columns)
    frequency, price, quantity, pct = (column.to_numpy(dtype=object)[first] for column in columns)
    per_year = np.array([Decimal(12) / BILLING_FREQUENCIES.get(f, 1) for f in frequency], dtype=object)
    distinct_revenue = price * quantity * per_year
    revenue = distinct_revenue[codes]
    margin = (distinct_revenue * pct / Decimal(100))[codes]
    revenue_by, margin_by = {}, {}
    for currency in sorted(set(priced["currency"].unique().tolist())):
        mask = (priced["currency"] == currency).to_numpy()
        total = np.sum(revenue[mask]) if mask.any() else Decimal(0)
        if total:
            revenue_by[currency] = str(Decimal(total).quantize(CENT))
            margin_by[currency] = str((np.sum(margin[mask]) / total * 100).quantize(CENT))
    return revenue_by, margin_by
