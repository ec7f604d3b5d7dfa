"""Pair invoice lines with subscriptions, derive the provider's seat count, find what is missing.

Cardinality: many invoice lines to one subscription (validate="many_to_one"); subscription
ids are unique after normalize. The customer + product fallback pairs one unmatched invoice
subscription with one unmatched export row, and only when neither side is ambiguous.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from recon_cli.frames import carry, decimal_test, group_positions, positions
from recon_cli.records import Kind, MatchMethod

if TYPE_CHECKING:
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


def match_lines(invoice: pd.DataFrame, subscriptions: pd.DataFrame) -> pd.DataFrame:
    """Attach each invoice line's subscription, by id first, then by customer + product.

    Returns:
        the invoice lines with `sub_key` (the matched subscription's key, "" when none),
        `match_method`, the SUBSCRIPTION_FIELDS columns, and the subscription each line belongs
        to: `group_key` (its key when matched, else the invoice's own id) and `group`, a small
        integer code of it that later stages join on.
    """
    import numpy as np
    import pandas as pd

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
    sub_key = carry(sub_keys, at, invoice.index, "").astype("str")
    group_key = sub_key.where(sub_key != "", "inv:" + invoice["subscription_id_key"])
    return invoice.assign(sub_key=sub_key, match_method=method, group_key=group_key,
                          group=pd.factorize(group_key, sort=False)[0], **carried)


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


def seat_counts(lines: pd.DataFrame) -> pd.DataFrame:
    """Provider vs subscription seats per subscription (rules 3 and 4).

    Returns:
        provider_quantities() with `subscription_quantity` (None when unmatched) and
        `quantity_delta` = provider − subscription (None when either is unknown).
    """
    import numpy as np

    groups = provider_quantities(lines)
    matched = lines.loc[lines["sub_key"] != "", ["group", "subscription_quantity"]].drop_duplicates("group")
    at = group_positions(matched["group"], groups["group"])
    groups["subscription_quantity"] = carry(matched["subscription_quantity"], at, groups.index)
    provider, subscription = groups["provider_quantity"].to_numpy(), groups["subscription_quantity"].to_numpy()
    comparable = groups["provider_quantity"].notna().to_numpy() & groups["subscription_quantity"].notna().to_numpy()
    delta = np.full(len(groups), None, dtype=object)
    delta[comparable] = provider[comparable] - subscription[comparable]
    groups["quantity_delta"] = delta
    return groups


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
    quantity_positive = decimal_test(subscriptions["quantity"], lambda q: q > 0)
    started = subscriptions["start_date"].isna() | (subscriptions["start_date"] <= end)
    monthly = subscriptions["frequency"] == "monthly"
    anniversary = subscriptions["start_date"].dt.month == start.month
    due = started & (monthly | anniversary.fillna(False).astype(bool))
    candidates = (subscriptions["status_key"] == "active") & quantity_positive & due
    absent = positions(matched_keys, subscriptions["subscription_id_key"]) < 0
    due_and_absent: pd.DataFrame = subscriptions.loc[candidates & absent]
    return due_and_absent
