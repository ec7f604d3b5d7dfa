"""Microsoft's own arithmetic, checked (PRODUCT.md §3 rule 11).

Each line's Subtotal is recomputed with the documented formulas (formats/partner-center.md §1.2):
a seat or one-time line as ROUNDDOWN(EffectiveUnitPrice x PCToBCExchangeRate, 2) x BillableQuantity,
also accepting ROUNDDOWN(EffectiveUnitPrice x PCToBCExchangeRate x BillableQuantity, 2), which
Microsoft's own worked examples follow; a usage line as ROUNDDOWN(ROUNDDOWN(EffectiveUnitPrice x
BillableQuantity, 2) x PCToBCExchangeRate, 2). A line that matches neither by more than a cent is
flagged `provider_arithmetic`, with both figures. Lines without an effective price, and formats that
derive it from the subtotal (legacy), are not checked.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal
from typing import TYPE_CHECKING, Any

from recon_cli.formats.nce import CENT, seat_subtotal, usage_subtotal
from recon_cli.frames import distinct_rows
from recon_cli.records import Kind

if TYPE_CHECKING:
    import pandas as pd

TOLERANCE = CENT


@dataclass(frozen=True)
class Arithmetic:
    """Per invoice line: the recomputed subtotal (the documented formula), the worked examples' one,
    and whether the printed Subtotal matches neither."""

    recomputed: pd.Series
    recomputed_alt: pd.Series
    flagged: pd.Series


def check_arithmetic(lines: pd.DataFrame) -> Arithmetic:
    """Recompute every line's Subtotal, once per distinct (kind, price, rate, quantity, subtotal); lines of a
    format whose effective price is derived from its subtotal (`price_derived`) are not checked."""
    import numpy as np
    import pandas as pd

    index = lines.index
    if lines.empty:
        nothing = pd.Series([None] * len(lines), index=index, dtype=object)
        return Arithmetic(nothing, nothing.copy(), pd.Series(False, index=index))
    quantity = lines["billable_quantity"].where(lines["billable_quantity"].notna(), lines["quantity"])
    columns = [lines["kind"], lines["effective_unit_price"], lines["exchange_rate"], quantity, lines["subtotal"]]
    first, codes = distinct_rows(columns)
    values = [column.to_numpy(dtype=object)[first] for column in columns]
    decided = [_recompute(*combination) for combination in zip(*values, strict=True)]
    checked = ~lines["price_derived"].to_numpy(dtype=bool) if "price_derived" in lines.columns \
        else np.ones(len(lines), dtype=bool)

    def part(j: int, blank: object) -> np.ndarray:
        """Figure `j` of every line, from its distinct row; `blank` where the format is not checked."""
        figures: np.ndarray = np.array([d[j] for d in decided], dtype=object)[codes]
        figures[~checked] = blank
        return figures

    return Arithmetic(recomputed=pd.Series(part(0, None), index=index, dtype=object),
                      recomputed_alt=pd.Series(part(1, None), index=index, dtype=object),
                      flagged=pd.Series(part(2, False).astype(bool), index=index))


def _recompute(kind: str, price: Any, rate: Any, quantity: Any, subtotal: Any
               ) -> tuple[Decimal | None, Decimal | None, bool]:
    if not _given(price) or not _given(quantity) or not _given(subtotal):
        return None, None, False
    rate = rate if _given(rate) else Decimal(1)
    if kind == Kind.USAGE.value:
        documented = usage_subtotal(price, rate, quantity)
        alternative = (price * quantity * rate).quantize(CENT, rounding=ROUND_DOWN)
    else:
        documented = seat_subtotal(price, rate, quantity)
        alternative = (price * rate * quantity).quantize(CENT, rounding=ROUND_DOWN)
    off = min(abs(subtotal - documented), abs(subtotal - alternative)) > TOLERANCE
    return documented, alternative, off


def _given(value: Any) -> bool:
    return value is not None and value == value
