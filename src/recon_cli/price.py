"""Cost against selling price, per subscription, on the same billing period (PRODUCT.md §3 rule 8).

The provider's unit cost is what one seat costs for a full billing period in the billing
currency: ROUNDDOWN(EffectiveUnitPrice x PCToBCExchangeRate, 2), and for a prorated line
scaled by full-cycle days / charged days (the cycle anchored at the line's ChargeEndDate).
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from math import lcm
from typing import TYPE_CHECKING, Any

from recon_cli.formats.nce import CENT, seat_unit_cost
from recon_cli.formats.subscriptions import BILLING_FREQUENCIES
from recon_cli.models import Kind, PriceStatus

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


def provider_unit_cost(line: dict[str, Any], scale: Decimal) -> Decimal | None:
    """One seat for one full billing period, in the billing currency."""
    price, rate = line["effective_unit_price"], line["exchange_rate"]
    if price is None:
        return None
    cost = seat_unit_cost(price, rate if rate is not None else Decimal(1))
    if scale != 1:
        cost = (cost * scale).quantize(CENT, rounding=ROUND_HALF_UP)
    return cost


def price_status(cost: Decimal | None, price: Decimal | None, expected: Decimal | None,
                 provider_months: int, subscription_months: int, currency_differs: bool,
                 min_margin: Decimal | None) -> tuple[str, Decimal | None]:
    """The most severe price finding for one subscription, and its margin in percent."""
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
        if abs(expected_common - cost_common) > COST_TOLERANCE:
            return PriceStatus.COST_CHANGED, margin
    if min_margin is not None and margin is not None and margin < min_margin:
        return PriceStatus.LOW_MARGIN, margin
    if price is None:
        return PriceStatus.NO_PRICE, margin
    return PriceStatus.OK, margin


def check_prices(lines: pd.DataFrame, min_margin: Decimal | None) -> pd.DataFrame:
    """Price findings per matched subscription with seat lines, from its latest charged seat line.

    Returns:
        one row per `group_key`: unit_cost, price_status, margin_pct.
    """
    import pandas as pd

    seats = lines.loc[(lines["kind"] == Kind.SEAT.value) & (lines["sub_key"] != "") & ~lines["is_cancel"]]
    charged = seats["subtotal"].map(lambda amount: amount >= 0, na_action="ignore").fillna(False)
    seats = seats.loc[charged.astype(bool)]
    seats = seats.assign(event_date=seats["order_date"].fillna(seats["charge_start"]))
    latest = seats.sort_values(["group_key", "event_date", "charge_start", "row"], na_position="first",
                               kind="stable").drop_duplicates("group_key", keep="last")
    scales = full_cycle_scale(latest)
    memo: dict[tuple[Any, ...], tuple[str, Decimal | None]] = {}
    rows = []
    columns = ["group_key", "effective_unit_price", "exchange_rate", "unit_price", "expected_unit_cost",
               "currency", "subscription_currency", "frequency", "subscription_frequency"]
    for record, scale in zip(latest[columns].to_dict("records"), scales, strict=True):
        cost = provider_unit_cost(record, scale)
        key = (cost, record["unit_price"], record["expected_unit_cost"],
               record["currency"] != record["subscription_currency"], record["frequency"],
               record["subscription_frequency"])
        if key not in memo:
            memo[key] = price_status(cost, record["unit_price"], record["expected_unit_cost"],
                                     BILLING_FREQUENCIES.get(record["frequency"], 1),
                                     BILLING_FREQUENCIES.get(record["subscription_frequency"], 1),
                                     key[3], min_margin)
        status, margin = memo[key]
        rows.append((record["group_key"], cost, str(status), margin))
    return pd.DataFrame(rows, columns=["group_key", "unit_cost", "price_status", "margin_pct"])


def line_price_status(lines: pd.DataFrame) -> pd.Series:
    """Price status of lines without a seat cost: currency, then whether a price exists."""
    import numpy as np
    import pandas as pd

    matched = lines["sub_key"] != ""
    differs = matched & (lines["currency"] != lines["subscription_currency"])
    has_price = lines["unit_price"].notna() & matched
    return pd.Series(np.where(differs, PriceStatus.CURRENCY_MISMATCH.value,
                              np.where(has_price, PriceStatus.OK.value, PriceStatus.NO_PRICE.value)),
                     index=lines.index)
