"""The provider's seat count of each subscription, from its charge events (PRODUCT.md §3 rule 3).

Seat lines are put in event order: OrderDate (with its time when the file has one); on the same
day by charge type (what starts a cycle, then seat changes, then cancellations); then
ChargeStartDate; then seats leaving before seats arriving; then row. The file's row order carries
no event order, so a shuffled file gives the same counts.

The count is the Quantity of the latest line that sets one. Negative lines set nothing (the
reversal half of an addQuantity/removeQuantity pair, credits, refunds), except a cancellation
(0 seats) and a negative convert or moveQuantity (seats leaving for another subscription: the
count before, minus its Quantity). In a pair whose halves are both 0.00 (a free add-on), the half
that restates the earlier count is the reversal.

Most subscriptions have one seat line, or a plain pair: their count is found column-wise. Only a
subscription with seats leaving, or with a same-day pair that amounts cannot tell apart, is
walked event by event.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from recon_cli.formats.nce import LEAVING_CHARGE_TYPES, PAIRED_CHARGE_TYPES
from recon_cli.records import Kind

if TYPE_CHECKING:
    import pandas as pd

EVENT_COLUMNS = ["group", "group_key", "order_date", "charge_start", "row", "quantity", "subtotal", "is_cancel",
                 "negative", "charge_type_key", "event_rank"]
# The sort that puts lines in event order (rule 3); `arriving` is False for seats leaving.
EVENT_ORDER = ["group", "event_date", "event_rank", "charge_start", "arriving", "row"]


def in_event_order(lines: pd.DataFrame) -> pd.DataFrame:
    """`lines` with `event_date` (OrderDate, else ChargeStartDate), sorted by subscription, then event order."""
    events = lines.assign(event_date=lines["order_date"].fillna(lines["charge_start"]), arriving=~lines["negative"])
    ordered: pd.DataFrame = events.sort_values(EVENT_ORDER, na_position="first", kind="stable")
    return ordered


@dataclass(frozen=True)
class _Event:
    """One seat line, as the event walk sees it."""

    day: Any
    key: str
    quantity: Decimal
    subtotal: Any
    negative: bool
    cancel: bool
    row: int
    position: int  # in the sorted frame


def provider_quantities(lines: pd.DataFrame) -> pd.DataFrame:
    """The seats in force after the last billing event, per subscription.

    Returns:
        one row per subscription with a seat count or seats leaving it (`group`, `group_key`):
        `provider_quantity` (None when seats left but the count before them is not on the
        invoice), `as_of` (the deciding event's day), `deciding_row`, `deciding_is_cancel`
        and `count_unknown`.
    """
    import numpy as np
    import pandas as pd

    events = in_event_order(lines.loc[lines["kind"] == Kind.SEAT.value, EVENT_COLUMNS])
    key = events["charge_type_key"]
    leaving = key.isin(list(LEAVING_CHARGE_TYPES)) & events["negative"] & ~events["is_cancel"]
    paired = key.isin(list(PAIRED_CHARGE_TYPES)) & ~events["negative"] & ~events["is_cancel"]
    # Same-day pairs whose non-negative halves are more than one (a 0.00 add-on, several changes in a day).
    pairs = events.loc[paired]
    crowded = pairs.loc[pd.DataFrame({"group": pairs["group"], "day": pairs["event_date"].dt.normalize(),
                                      "key": pairs["charge_type_key"]}).duplicated(keep=False), "group"]
    walked = events["group"].isin(set(events.loc[leaving, "group"]) | set(crowded))

    # Column-wise: the latest line that sets a count (any non-negative line, or a cancellation).
    setters = events.loc[~walked & (~events["negative"] | events["is_cancel"])]
    last = setters.drop_duplicates("group", keep="last")
    simple = pd.DataFrame({
        "group": last["group"].to_numpy(), "group_key": last["group_key"].to_numpy(),
        "provider_quantity": last["quantity"].where(~last["is_cancel"], Decimal(0)).to_numpy(),
        "as_of": last["event_date"].dt.normalize().to_numpy(), "deciding_row": last["row"].to_numpy(),
        "deciding_is_cancel": last["is_cancel"].to_numpy(), "count_unknown": np.zeros(len(last), dtype=bool)})
    if not walked.any():
        return simple
    walks = [_walk(group) for _, group in events.loc[walked].groupby("group", sort=False)]
    rows = [w for w in walks if w is not None]
    return pd.concat([simple, pd.DataFrame(rows, columns=list(simple.columns))], ignore_index=True)


def _walk(group: pd.DataFrame) -> dict[str, Any] | None:
    """The count of one subscription, event by event (for seats leaving, and same-day pairs)."""
    events = [_Event(day, key, quantity, subtotal, bool(negative), bool(cancel), int(row), position)
              for position, (day, key, quantity, subtotal, negative, cancel, row) in enumerate(zip(
                  group["event_date"].dt.normalize(), group["charge_type_key"], group["quantity"], group["subtotal"],
                  group["negative"], group["is_cancel"], group["row"], strict=True))]
    count: Decimal | None = None
    deciding: _Event | None = None
    unknown = False
    done: set[int] = set()
    for event in events:
        if event.position in done:
            continue
        if event.cancel:
            count, deciding, unknown = Decimal(0), event, False
        elif event.key in PAIRED_CHARGE_TYPES:
            members = [e for e in events if e.day == event.day and e.key == event.key and not e.cancel]
            done.update(e.position for e in members)
            chosen = _pair_setter(members, count, event.key)
            if chosen is not None:
                count, deciding, unknown = chosen.quantity, chosen, False
        elif event.negative:
            if event.key in LEAVING_CHARGE_TYPES:
                # Seats leaving: the count before, minus those that left; unknown without a count before.
                count = None if count is None else count - event.quantity
                deciding, unknown = event, count is None
        else:
            count, deciding, unknown = event.quantity, event, False
    if deciding is None:
        return None
    first = group.iloc[deciding.position]
    return {"group": first["group"], "group_key": first["group_key"], "provider_quantity": count,
            "as_of": deciding.day, "deciding_row": deciding.row, "deciding_is_cancel": deciding.cancel,
            "count_unknown": unknown}


def _pair_setter(members: list[_Event], before: Decimal | None, key: str) -> _Event | None:
    """The half of a same-day addQuantity/removeQuantity pair (or pairs) that sets the new count.

    Negative halves restate earlier counts. When both halves are equal (a 0.00 add-on), the half
    whose Quantity equals the count before is the reversal. Several events on one day chain: each
    reversal restates the count the event before it set, so the new count is the one no reversal
    restates.
    """
    pool = [e for e in members if not e.negative]
    if len(pool) <= 1:
        return pool[0] if pool else None
    restated = [e.quantity for e in members if e.negative]
    if before is not None:
        if before in restated:
            restated.remove(before)
        elif len({e.subtotal for e in pool}) == 1:
            pool = _without(pool, before)
    for quantity in restated:
        if len(pool) > 1:
            pool = _without(pool, quantity)
    if len(pool) == 1:
        return pool[0]
    # Still open: an added count is the larger one, a removed count the smaller.
    return max(pool, key=lambda e: e.quantity) if key == "addquantity" else min(pool, key=lambda e: e.quantity)


def _without(pool: list[_Event], quantity: Decimal) -> list[_Event]:
    """The pool less one event of that quantity (the earliest in event order), when there is one."""
    for index, event in enumerate(pool):
        if event.quantity == quantity:
            return pool[:index] + pool[index + 1:]
    return pool
