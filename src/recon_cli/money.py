"""What each line is worth to the reseller (PRODUCT.md §3 rule 10): every money figure as each line's share.

A subscription's figure sits on one line (the line that set its seat count), or is spread over its
lines (an unmatched subscription's net cost), so that the lines of a filtered workbook add up to the
summary. Figures per line:

- `unbilled_cost`: the lines of an unmatched subscription whose net is a cost: never re-billed.
- `unclaimed_credit`: the lines of an unmatched subscription whose net is a credit (as a positive
  amount): a refund nobody passes on. Never netted against another subscription's cost.
- `under_billed`: seats the provider bills and the customer is not billed for (residual > 0) x the
  provider's unit cost per full period.
- `over_billed`: seats the customer is billed for and the provider does not bill (residual < 0) x
  unit price: a refund liability, shown beside the risk, never added to it.
- `below_cost_loss`: (provider unit cost − unit price) x provider quantity, on the provider's period,
  for a subscription sold below cost.
- `money_at_risk` = unbilled_cost + under_billed + below_cost_loss.
- `price_effect`: a price finding's money per month (below cost: the loss; cost changed: the provider
  cost over the expected one), so exceptions can be ranked by it.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any

from recon_cli.decimals import decimal_sums
from recon_cli.formats.nce import CENT
from recon_cli.formats.subscriptions import BILLING_FREQUENCIES
from recon_cli.frames import carry, group_positions, picked, picked_values
from recon_cli.records import PriceStatus, Status

if TYPE_CHECKING:
    import pandas as pd

    from recon_cli.explain import Decisions, Verdicts
    from recon_cli.price import LinePrices

ZERO = Decimal(0)
FIGURES = ("unbilled_cost", "unclaimed_credit", "under_billed", "over_billed", "below_cost_loss", "money_at_risk",
           "price_effect")


@dataclass(frozen=True)
class LineMoney:
    """Per invoice line (aligned with the lines): each money figure's share, Decimal (0 when none)."""

    unbilled_cost: pd.Series
    unclaimed_credit: pd.Series
    under_billed: pd.Series
    over_billed: pd.Series
    below_cost_loss: pd.Series
    money_at_risk: pd.Series
    price_effect: pd.Series


def _months(frequency: Any) -> int:
    return BILLING_FREQUENCIES.get(str(frequency), 1)


def _cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def line_money(lines: pd.DataFrame, decisions: Decisions, verdicts: Verdicts, prices: LinePrices) -> LineMoney:
    """Every money figure of rule 10, as each line's share."""
    import numpy as np
    import pandas as pd

    index = lines.index
    zeros = pd.Series(np.full(len(lines), ZERO, dtype=object), index=index)
    status: Any = np.asarray(verdicts.status)
    unbilled, unclaimed = _unmatched_nets(lines, status, zeros)
    groups = decisions.groups
    deciding_row = carry(groups["deciding_row"], group_positions(groups["group"], lines["group"]), index, -1)
    deciding = (deciding_row.to_numpy() == lines["row"].to_numpy()) & (lines["sub_key"] != "").to_numpy()
    under, over, below, effect = (np.full(len(lines), ZERO, dtype=object) for _ in range(4))
    price_status: Any = np.asarray(prices.price_status)
    open_difference = np.isin(status, [Status.UNEXPLAINED.value, Status.PARTIALLY_EXPLAINED.value])
    looked_at = np.flatnonzero(deciding & (open_difference | np.isin(price_status, [
        PriceStatus.BELOW_COST.value, PriceStatus.COST_CHANGED.value])))
    # The looked-at lines' values, column by column, not a frame lookup per cell.
    row = picked(lines, looked_at, ("unit_price", "frequency", "subscription_frequency", "expected_unit_cost"))
    labels = index[looked_at]
    unit_cost, residuals, quantities = (picked_values(values, labels) for values in (
        prices.unit_cost, verdicts.residual, verdicts.provider_quantity))
    for n, position in enumerate(looked_at.tolist()):
        cost, price = _number(unit_cost[n]), _number(row["unit_price"][n])
        provider_months = _months(row["frequency"][n])
        sold_months = _months(row["subscription_frequency"][n])
        residual = _number(residuals[n]) if open_difference[position] else None
        if residual is not None and residual > 0 and cost is not None:
            under[position] = _cents(residual * cost)
        if residual is not None and residual < 0 and price is not None:
            over[position] = _cents(-residual * price)
        quantity = _number(quantities[n]) or ZERO
        if price_status[position] == PriceStatus.BELOW_COST.value and cost is not None and price is not None:
            price_on_provider_period = price * provider_months / sold_months
            below[position] = _cents((cost - price_on_provider_period) * quantity)
            effect[position] = _cents(below[position] / provider_months)
        elif price_status[position] == PriceStatus.COST_CHANGED.value and cost is not None:
            expected = _number(row["expected_unit_cost"][n])
            if expected is not None:
                effect[position] = _cents((cost / provider_months - expected / sold_months) * quantity)
    # A line with no share of any figure keeps the one ZERO (0 + 0 + 0 is 0, digits too): a million
    # fresh zeros would be 100 MB.
    at_risk = np.full(len(lines), ZERO, dtype=object)
    touched = status == Status.UNMATCHED.value
    touched[looked_at] = True
    nets = unbilled.to_numpy()
    at_risk[touched] = [nets[i] + under[i] + below[i] for i in np.flatnonzero(touched).tolist()]
    return LineMoney(unbilled_cost=unbilled, unclaimed_credit=unclaimed, under_billed=pd.Series(under, index=index),
                     over_billed=pd.Series(over, index=index), below_cost_loss=pd.Series(below, index=index),
                     money_at_risk=pd.Series(at_risk, index=index), price_effect=pd.Series(effect, index=index))


def _unmatched_nets(lines: pd.DataFrame, status: Any, zeros: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Each unmatched line's share of its subscription's net: unbilled cost when the net is a cost,
    unclaimed credit (positive) when it is a credit."""
    unmatched = status == Status.UNMATCHED.value
    unbilled, unclaimed = zeros.copy(), zeros.copy()
    if not unmatched.any():
        return unbilled, unclaimed
    keys = lines.loc[unmatched, "group"].astype("str")
    nets = decimal_sums(lines.loc[unmatched, "subtotal"], keys)
    cost = keys.map(lambda key: nets.get(key, ZERO) > 0).to_numpy(dtype=bool)
    subtotal = lines.loc[unmatched, "subtotal"]
    at = keys.index
    unbilled[at[cost]] = subtotal[cost].to_numpy()
    unclaimed[at[~cost]] = (-subtotal[~cost]).to_numpy()
    return unbilled, unclaimed


def _number(value: Any) -> Decimal | None:
    if value is None or (isinstance(value, float | Decimal) and value != value):
        return None
    return value if isinstance(value, Decimal) else Decimal(str(value))
