"""A run as one row per subscription, and how long each exception has been open (PRODUCT.md §1, §4).

Reconciliation is a process over months: `recon diff`, the history in `recon explain` and
`recon explain CUSTOMER` compare subscriptions across runs, never line ids (those change with
each invoice). `subscription_states` is that one row per subscription; `open_since` is the first
period of the current unbroken run of months in which the subscription needed a person.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from recon_cli.decimals import decimal_sums, decimal_totals
from recon_cli.frames import whole
from recon_cli.records import SUBSCRIPTION_STATE_FIELDS, Status

if TYPE_CHECKING:
    import pandas as pd

# The line that speaks for its subscription: one needing a person first, then the most severe status.
STATUS_URGENCY = {Status.UNMATCHED.value: 0, Status.UNEXPLAINED.value: 1, Status.PARTIALLY_EXPLAINED.value: 2,
                  Status.EXPLAINED.value: 3, Status.CONFIRMED.value: 4, Status.MATCHED.value: 5}
MISSING_KIND = "missing"
SUMMED = ("money_at_risk", "over_billed", "price_effect")


def subscription_keys(lines: pd.DataFrame) -> pd.Series:
    """The subscription a line belongs to, lower-cased: the one it matched, else the id it names."""
    own = lines["subscription_id"].fillna("").astype("str").str.strip().str.lower()
    matched = lines["matched_subscription_id"].fillna("").astype("str").str.strip().str.lower()
    return matched.where(matched != "", own)


def attach_open_since(lines: pd.DataFrame, missing: pd.DataFrame, period: str | None,
                      earlier: Mapping[str, str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """`open_since` on every line and missing subscription that needs a person.

    Args:
        earlier: the subscriptions that needed a person in the previous month's run, with their own
            `open_since`: the exception continues, so it keeps that start. Any other starts now.
    """
    import pandas as pd

    if period is None:
        return lines.assign(open_since=""), missing.assign(open_since="")

    def since(keys: pd.Series, needs: pd.Series) -> pd.Series:
        started = [earlier.get(key, period) for key in keys.tolist()] if earlier else [period] * len(keys)
        known = pd.Series(started, index=keys.index, dtype="str")
        return known.where(needs.astype(bool).to_numpy(), "")

    lines = lines.assign(open_since=since(subscription_keys(lines), lines["needs_person"]))
    missing_keys = missing["subscription_id"].fillna("").astype("str").str.strip().str.lower()
    missing = missing.assign(open_since=since(missing_keys, missing["needs_person"]))
    return lines, missing


def subscription_states(lines: pd.DataFrame, missing: pd.DataFrame) -> pd.DataFrame:
    """One row per subscription of the run (SUBSCRIPTION_STATE_FIELDS): its lines, or its missing entry.

    Status, reason, quantities and the first line id are those of its most urgent line; money is
    summed over its lines (exactly, per currency of its first line: one subscription bills in one).
    """
    import numpy as np
    import pandas as pd
    import pyarrow as pa
    import pyarrow.compute as pc

    # Subscriptions as integer codes in key order; each one's most urgent line is the least of a rank
    # packing, from the highest bits down: needs no person, STATUS_URGENCY, the line's position.
    keys = subscription_keys(lines)
    codes, found = pd.factorize(keys, sort=True)
    count = len(found)
    statuses = pa.array(list(STATUS_URGENCY), type=pa.large_string())
    at = pc.index_in(pa.array(lines["status"], type=pa.large_string(), from_pandas=True), value_set=statuses)
    urgency = np.array([*STATUS_URGENCY.values(), 9], dtype=np.int64)[at.fill_null(len(statuses)).to_numpy()]
    needs = lines["needs_person"].astype(bool).to_numpy()
    rank = ((~needs).astype(np.int64) << 62) | (urgency << 56) | np.arange(len(lines), dtype=np.int64)
    least = np.full(count, np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(least, codes, rank)
    first = least & ((1 << 56) - 1)

    def at_first(name: str) -> Any:
        """The column's value on each subscription's first line; text stays in Arrow (no Python strings)."""
        return lines[name].array.take(first)

    sums = {}
    for name in SUMMED:
        totals = decimal_totals(lines[name], codes, count)
        if totals is None:  # too fine or too large for integers: summed one by one
            by_key = decimal_sums(lines[name], keys)
            totals = [by_key.get(key, Decimal(0)) for key in found]
        sums[name] = totals
    matched = whole(pa.array(at_first("matched_subscription_id"), type=pa.large_string()))
    own = whole(pa.array(at_first("subscription_id"), type=pa.large_string()))
    subscription_id: Any = pc.if_else(pc.fill_null(pc.not_equal(matched, ""), False), matched, own)
    states = pd.DataFrame({
        "subscription_key": found.array,
        "subscription_id": pd.array(subscription_id, dtype="str"),  # the matched id, else the invoice's own
        **{name: at_first(name) for name in ("customer_id", "customer_name", "product", "currency", "kind",
                                             "status", "reason", "price_status")},
        "needs_person": needs[first],  # any line needing a person is the first
        **{name: at_first(name) for name in ("open_since", "provider_quantity", "subscription_quantity",
                                             "quantity_delta")},
        **sums,
        "line_count": np.bincount(codes, minlength=count).astype("int64"),
        "line_id": at_first("line_id"),
    })
    absent = missing.assign(subscription_key=missing["subscription_id"].fillna("").astype("str").str.strip()
                            .str.lower())
    missed = pd.DataFrame({
        "subscription_key": absent["subscription_key"], "subscription_id": absent["subscription_id"],
        "customer_id": absent["customer_id"], "customer_name": absent["customer_name"],
        "product": absent["product"], "currency": absent["currency"], "kind": MISSING_KIND,
        "status": MISSING_KIND, "reason": absent["reason"], "price_status": "",
        "needs_person": absent["needs_person"].astype(bool), "open_since": absent["open_since"],
        "provider_quantity": None, "subscription_quantity": absent["quantity"], "quantity_delta": None,
        "money_at_risk": Decimal(0), "over_billed": Decimal(0), "price_effect": Decimal(0), "line_count": 0,
        "line_id": "",
    })
    parts = [frame for frame in (states, missed) if len(frame)]
    if not parts:
        return pd.DataFrame({name: pd.Series(dtype="object") for name in SUBSCRIPTION_STATE_FIELDS})
    return pd.concat(parts, ignore_index=True)[list(SUBSCRIPTION_STATE_FIELDS)]


def state_rows(states: pd.DataFrame, keys: set[str]) -> dict[str, dict[str, object]]:
    """The run's subscriptions needing a person, and those of `keys`, as the store gives them back
    (key -> row, amounts as text): the later side of a comparison made before the run is saved."""
    wanted = states.loc[states["needs_person"].astype(bool).to_numpy() | states["subscription_key"].isin(list(keys))]
    out: dict[str, dict[str, object]] = {}
    for row in wanted.to_dict("records"):
        out[str(row["subscription_key"])] = {
            str(name): (None if value is None or value != value else int(value) if isinstance(value, bool)
                        else str(value) if isinstance(value, Decimal) else value) for name, value in row.items()}
    return out


def since_last(states: pd.DataFrame, earlier: dict[str, dict[str, object]], period: str) -> pd.DataFrame:
    """The "Since last month" rows (DIFF_FIELDS): this run's exceptions against the month before's."""
    import pandas as pd

    from recon_cli.comparison import compare
    from recon_cli.records import DIFF_FIELDS

    rows = compare(earlier, state_rows(states, set(earlier)), period)
    return pd.DataFrame(rows, columns=list(DIFF_FIELDS))
