"""Work 365's "License Change Log Mismatch": change-log deltas that do not add up to the subscription.

In Work 365 the licence change log is the whole history of a subscription: its deltas, from the
first order, add up to the seats the subscription has (formats/partner-center.md §6.1). When they
do not, a change was made without a record (or a record without a change), and no explanation
built on that log can be trusted for that subscription.

A change log exported for one month holds only that month's records, and adding those up proves
nothing. So the check runs only where the log starts at zero: a subscription whose first record
goes from 0 seats (`old_quantity`), or, when the log has no old quantities, a log in which most
subscriptions (SHARE_ADDING_UP) add up exactly. Records scheduled after the run's as-of and
records whose provisioning failed are left out of the sum: they did not change the seats.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from recon_cli.decimals import group_totals
from recon_cli.formats.vocabularies import FAILED
from recon_cli.frames import is_in
from recon_cli.records import CHANGE_LOG_MISMATCH_FIELDS

if TYPE_CHECKING:
    import pandas as pd

# The share of subscriptions whose records add up exactly from which a log without old quantities
# is taken to hold the whole history; and the fewest subscriptions that share is judged on.
SHARE_ADDING_UP = Decimal("0.8")
FEWEST_JUDGED = 3


def change_log_mismatch(subscriptions: pd.DataFrame, changes: pd.DataFrame, as_of: datetime, where: str
                        ) -> tuple[pd.DataFrame, str | None]:
    """The subscriptions whose change-log records do not add up to their seats, and a note naming them.

    Args:
        subscriptions: typed, one row per subscription (`quantity_in_force`).
        changes: typed change-log records, each resolved to its subscription.
        where: the change log's file (and sheet), for the note.

    Returns:
        one row per mismatching subscription (CHANGE_LOG_MISMATCH_FIELDS), and the note (None when
        nothing mismatches or the log does not start at zero).
    """
    import pandas as pd

    empty = pd.DataFrame({name: pd.Series(dtype="object") for name in CHANGE_LOG_MISMATCH_FIELDS})
    counted = changes.loc[(changes["effective_date"] <= as_of) & (changes["provisioning_key"] != FAILED)]
    if counted.empty:
        return empty, None
    # Only the columns used: sorting or deduplicating whole frames copies every column.
    ordered = counted[["subscription_id_key", "effective_date", "row", "quantity_delta", "old_quantity"]].sort_values(
        ["subscription_id_key", "effective_date", "row"], kind="stable")
    per_sub = ordered.groupby("subscription_id_key", sort=False).agg(
        records=("quantity_delta", "size"), first_old=("old_quantity", "first"),
        last_change=("effective_date", "max"))
    # Exact sums by integer codes; groupby(sort=False) lists the keys in the order they first appear.
    codes, keys = pd.factorize(ordered["subscription_id_key"], sort=False)
    totals = dict(zip(keys.tolist(), group_totals(ordered["quantity_delta"], codes, len(keys),
                                                                    as_summed=True), strict=True))
    per_sub.insert(0, "change_log_total", [totals[key] for key in per_sub.index.tolist()])
    # Only the subscriptions the log names, before deduplicating and joining: a join over every
    # subscription's id took seconds at a million subscriptions (the rows kept, and their first, are the same).
    logged = is_in(subscriptions["subscription_id_key"], pd.Series(keys, dtype="str")).to_numpy()
    subs = subscriptions.loc[logged, ["subscription_id_key", "subscription_id", "customer_name", "product",
                                      "quantity_in_force"]]
    per_sub = per_sub.join(subs.drop_duplicates("subscription_id_key").set_index("subscription_id_key"), how="inner")
    if per_sub.empty:
        return empty, None
    adds_up = [total == seats for total, seats in zip(per_sub["change_log_total"], per_sub["quantity_in_force"],
                                                      strict=True)]
    from_zero = [old is not None and old == old and old == 0 for old in per_sub["first_old"]]
    if not any(from_zero):
        judged = len(per_sub) >= FEWEST_JUDGED and Decimal(sum(adds_up)) >= SHARE_ADDING_UP * len(per_sub)
        from_zero = [judged] * len(per_sub)
    wrong = per_sub.loc[[start and not equal for start, equal in zip(from_zero, adds_up, strict=True)]]
    if wrong.empty:
        return empty, None
    frame = pd.DataFrame({
        "subscription_id": wrong["subscription_id"].to_numpy(), "customer_name": wrong["customer_name"].to_numpy(),
        "product": wrong["product"].to_numpy(), "quantity": wrong["quantity_in_force"].to_numpy(),
        "change_log_total": wrong["change_log_total"].to_numpy(),
        "difference": [total - seats for total, seats in zip(wrong["change_log_total"], wrong["quantity_in_force"],
                                                             strict=True)],
        "records": wrong["records"].astype("int64").to_numpy(),
        "last_change": wrong["last_change"].dt.strftime("%Y-%m-%d").to_numpy(),
    })[list(CHANGE_LOG_MISMATCH_FIELDS)]
    first = frame.iloc[0]
    note = (f"{where}: License Change Log Mismatch: on {len(frame)} subscription(s) the change-log records do not "
            f"add up to the seats (e.g. {first['subscription_id']}: records add up to {first['change_log_total']}, "
            f"the subscription has {first['quantity']}). A change was made without a record, or recorded without "
            "being made: explanations of these subscriptions rest on an incomplete log.")
    return frame.reset_index(drop=True), note
