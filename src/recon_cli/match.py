"""Pair invoice lines with subscriptions, derive the provider's seat count, find what is missing.

Cardinality: many invoice lines to one subscription (validate="many_to_one"); subscription
ids are unique after normalize. The customer + product fallback pairs one unmatched invoice
subscription with one unmatched export row, and only when neither side is ambiguous.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from recon_cli.models import Kind, MatchMethod

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

# Subscription columns carried onto each matched line, renamed.
SUBSCRIPTION_FIELDS = {
    "subscription_id": "matched_subscription_id",
    "row": "subscription_row",
    "quantity": "subscription_quantity",
    "unit_price": "unit_price",
    "unit_cost": "expected_unit_cost",
    "currency": "subscription_currency",
    "frequency": "subscription_frequency",
}


def positions(table_keys: pd.Series, wanted: pd.Series) -> np.ndarray:
    """Position of each wanted key in table_keys (unique), -1 when absent: a join without a merge."""
    import pandas as pd

    return pd.Index(table_keys).get_indexer(wanted)


def carry(column: pd.Series, at: np.ndarray, index: pd.Index, fill: object = None) -> pd.Series:
    """column's values at positions `at`, `fill` where a position is -1, on `index`.

    Joining by positions copies only the columns asked for, where a merge would copy all.
    """
    import numpy as np
    import pandas as pd

    found = at >= 0
    if len(column) == 0:
        if pd.api.types.is_datetime64_any_dtype(column.dtype):
            return pd.Series(pd.NaT, index=index, dtype=column.dtype)
        return pd.Series([fill] * len(at), index=index, dtype=object if not isinstance(fill, str) else "str")
    taken = column.take(np.where(found, at, 0))
    taken.index = index
    if found.all():
        return taken
    if pd.api.types.is_datetime64_any_dtype(column.dtype) or pd.api.types.is_bool_dtype(column.dtype):
        return taken.where(found, fill)
    return taken.astype(object).where(found, fill) if not isinstance(fill, str) else taken.where(found, fill)


def group_positions(table_groups: pd.Series, line_groups: pd.Series) -> np.ndarray:
    """Row of the per-subscription table for each line's group code, -1 when it has none.

    Group codes are small integers (pd.factorize of the subscription key), so this join is
    plain array indexing: no hashing of a million strings.
    """
    import numpy as np

    wanted = line_groups.to_numpy(dtype=np.int64)
    groups = table_groups.to_numpy(dtype=np.int64)
    size = int(max(wanted.max(initial=-1), groups.max(initial=-1))) + 1
    slot = np.full(size, -1, dtype=np.int64)
    slot[groups] = np.arange(len(groups))
    return slot[wanted]


def match_lines(invoice: pd.DataFrame, subscriptions: pd.DataFrame) -> pd.DataFrame:
    """Attach each invoice line's subscription, by id first, then by customer + product.

    Returns:
        the invoice lines with `sub_key` (the matched subscription's key, "" when none),
        `match_method` and the SUBSCRIPTION_FIELDS columns.
    """
    import numpy as np

    sub_keys = subscriptions["subscription_id_key"]
    at = positions(sub_keys, invoice["subscription_id_key"])
    by_id = (at >= 0) & (invoice["subscription_id_key"] != "").to_numpy()
    method = np.where(by_id, MatchMethod.SUBSCRIPTION_ID.value, MatchMethod.NONE.value)

    claimed = np.zeros(len(subscriptions), dtype=bool)
    claimed[at[by_id]] = True
    fallback = _fallback_pairs(invoice.loc[~by_id], subscriptions.loc[~claimed])
    if fallback:
        paired = invoice["subscription_id_key"].map(fallback)
        use = ~by_id & paired.notna().to_numpy()
        at = np.where(use, positions(sub_keys, paired.fillna("")), at)
        method = np.where(use, MatchMethod.CUSTOMER_PRODUCT.value, method)
    at = np.where(by_id | (method == MatchMethod.CUSTOMER_PRODUCT.value), at, -1)

    carried = {new: carry(subscriptions[old], at, invoice.index, "" if old in ("subscription_id",) else None)
               for old, new in SUBSCRIPTION_FIELDS.items()}
    return invoice.assign(sub_key=carry(sub_keys, at, invoice.index, "").astype("str"), match_method=method,
                          **carried)


def _fallback_pairs(lines: pd.DataFrame, candidates: pd.DataFrame) -> dict[str, str]:
    """{invoice subscription key: export subscription key} for unambiguous customer + product pairs."""
    import pandas as pd

    if lines.empty or candidates.empty:
        return {}
    customer = lines["customer_id_key"]
    keys = []
    for product_column in ("product_id", "sku_name", "product_name", "subscription_description"):
        product = lines[product_column].str.strip().str.lower()
        keys.append(pd.DataFrame({"invoice_key": lines["subscription_id_key"], "customer": customer,
                                  "product": product}))
        names = "name:" + lines["customer_name"].str.strip().str.lower()
        keys.append(pd.DataFrame({"invoice_key": lines["subscription_id_key"], "customer": names,
                                  "product": product}))
    invoice_side = pd.concat(keys, ignore_index=True)
    invoice_side = invoice_side.loc[(invoice_side["product"] != "") & (invoice_side["customer"] != "")
                                    & (invoice_side["customer"] != "name:")].drop_duplicates()
    sub_customer = candidates["customer_id_key"].where(
        candidates["customer_id_key"] != "", "name:" + candidates["customer_name"].str.strip().str.lower())
    sub_side = pd.DataFrame({"sub_key": candidates["subscription_id_key"], "customer": sub_customer,
                             "product": candidates["product"].str.strip().str.lower()})
    sub_side = sub_side.loc[sub_side["product"] != ""]
    pairs = invoice_side.merge(sub_side, on=["customer", "product"])[["invoice_key", "sub_key"]]
    pairs = pairs.drop_duplicates()
    # Unambiguous both ways: one export row per invoice subscription and vice versa.
    pairs = pairs.loc[~pairs["invoice_key"].duplicated(keep=False) & ~pairs["sub_key"].duplicated(keep=False)]
    return dict(zip(pairs["invoice_key"], pairs["sub_key"], strict=True))


def provider_quantities(lines: pd.DataFrame) -> pd.DataFrame:
    """The seats in force after the last billing event, per subscription (PRODUCT.md §3 rule 3).

    Seat lines are ordered by OrderDate, ChargeStartDate, row; the latest line with a
    non-negative amount sets the count, a cancellation as the latest event means 0, and the
    negative half of an addQuantity/removeQuantity pair (a reversal) sets nothing.

    Returns:
        one row per subscription (`group` code, `group_key`) with `provider_quantity`, `as_of` (date),
        `deciding_row` (the row of the line that set it) and `deciding_is_cancel`.
    """
    from decimal import Decimal

    import pandas as pd

    seats = lines.loc[(lines["kind"] == Kind.SEAT.value) & (~lines["negative"] | lines["is_cancel"]),
                      ["group", "group_key", "order_date", "charge_start", "row", "quantity", "is_cancel"]]
    last = latest_events(seats)
    quantity = last["quantity"].where(~last["is_cancel"], Decimal(0))
    return pd.DataFrame({
        "group": last["group"].to_numpy(),
        "group_key": last["group_key"].to_numpy(),
        "provider_quantity": quantity.to_numpy(),
        "as_of": last["event_date"].dt.normalize().to_numpy(),
        "deciding_row": last["row"].to_numpy(),
        "deciding_is_cancel": last["is_cancel"].to_numpy(),
    })


def latest_events(lines: pd.DataFrame) -> pd.DataFrame:
    """The latest line per `group`, by event date (OrderDate, else ChargeStartDate), ChargeStartDate, row."""
    events = lines.assign(event_date=lines["order_date"].fillna(lines["charge_start"]))
    events = events.sort_values(["group", "event_date", "charge_start", "row"], na_position="first",
                                kind="stable")
    return events.drop_duplicates("group", keep="last")


def invoice_period(lines: pd.DataFrame) -> str | None:
    """The month in which most seat charges start (ties: the later month); None when undated."""
    seats = lines.loc[lines["kind"] == Kind.SEAT.value, "charge_start"].dropna()
    starts = seats if not seats.empty else lines["charge_start"].dropna()
    if starts.empty:
        return None
    counts = starts.dt.strftime("%Y-%m").value_counts()
    best = counts.max()
    return str(max(counts.index[counts == best]))


def missing_subscriptions(subscriptions: pd.DataFrame, matched_keys: pd.Series, period: str | None
                          ) -> pd.DataFrame:
    """Active subscriptions with seats, due this period, that no invoice line matched (rule 7).

    Monthly subscriptions are due every period; annual (and longer) ones in the month of
    their anniversary. A subscription that starts after the period is not due yet.
    """
    import pandas as pd

    if period is None:
        return subscriptions.iloc[0:0]
    start = pd.Timestamp(f"{period}-01")
    end = start + pd.offsets.MonthEnd(0)
    from recon_cli.normalize import decimal_test

    quantity_positive = decimal_test(subscriptions["quantity"], lambda q: q > 0)
    started = subscriptions["start_date"].isna() | (subscriptions["start_date"] <= end)
    monthly = subscriptions["frequency"] == "monthly"
    anniversary = subscriptions["start_date"].dt.month == start.month
    due = started & (monthly | anniversary.fillna(False).astype(bool))
    candidates = (subscriptions["status_key"] == "active") & quantity_positive & due
    absent = positions(matched_keys, subscriptions["subscription_id_key"]) < 0
    return subscriptions.loc[candidates & absent]
