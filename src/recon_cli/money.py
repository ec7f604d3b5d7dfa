"""Money each line puts at risk (PRODUCT.md §3 rule 10), counted once per subscription.

A line carries its own share, so that the lines of a filtered workbook add up to the summary.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from recon_cli.frames import carry, group_positions
from recon_cli.records import Status

if TYPE_CHECKING:
    import pandas as pd

    from recon_cli.explain import Decisions, Verdicts
    from recon_cli.price import LinePrices


def money_at_risk(lines: pd.DataFrame, decisions: Decisions, verdicts: Verdicts, prices: LinePrices) -> pd.Series:
    """Cost never re-billed (an unmatched line's subtotal), and unexplained seats x provider unit cost on
    the line that set the subscription's seat count."""
    import numpy as np
    import pandas as pd

    groups = decisions.groups
    deciding_row = carry(groups["deciding_row"], group_positions(groups["group"], lines["group"]), lines.index, -1)
    deciding = deciding_row.to_numpy() == lines["row"].to_numpy()
    status: Any = verdicts.status
    at_risk = pd.Series(np.full(len(lines), Decimal(0), dtype=object), index=lines.index)
    unmatched = status == Status.UNMATCHED.value
    at_risk[unmatched] = lines.loc[unmatched, "subtotal"]
    open_difference = (status == Status.UNEXPLAINED.value) | (status == Status.PARTIALLY_EXPLAINED.value)
    residual, cost = verdicts.residual, prices.unit_cost
    for index in lines.index[open_difference & deciding]:
        left, unit_cost = residual[index], cost[index]
        if left is not None and unit_cost is not None and unit_cost == unit_cost:
            at_risk[index] = abs(left) * unit_cost
    return at_risk
