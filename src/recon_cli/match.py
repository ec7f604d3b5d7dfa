"""Pair invoice lines with subscriptions, derive the provider's seat count, find what is missing.

Cardinality: many invoice lines to one subscription (validate="many_to_one"); subscription
ids are unique after normalize. The customer + product fallback pairs one unmatched invoice
subscription with one unmatched export row, and only when neither side is ambiguous.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from recon_cli.models import Kind, MatchMethod

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
        `match_method` and the SUBSCRIPTION_FIELDS columns.
    """
    import numpy as np

    known = set(subscriptions["subscription_id_key"])
    by_id = invoice["subscription_id_key"].isin(known) & (invoice["subscription_id_key"] != "")
    sub_key = invoice["subscription_id_key"].where(by_id, "")
    method = np.where(by_id, MatchMethod.SUBSCRIPTION_ID.value, MatchMethod.NONE.value)

    fallback = _fallback_pairs(invoice.loc[~by_id], subscriptions.loc[
        ~subscriptions["subscription_id_key"].isin(set(invoice.loc[by_id, "subscription_id_key"]))])
    if fallback:
        paired = invoice["subscription_id_key"].map(fallback)
        use = ~by_id & paired.notna()
        sub_key = sub_key.where(~use, paired)
        method = np.where(use, MatchMethod.CUSTOMER_PRODUCT.value, method)

    lines = invoice.assign(sub_key=sub_key.astype("str"), match_method=method)
    carried = subscriptions[["subscription_id_key", *SUBSCRIPTION_FIELDS]].rename(
        columns={"subscription_id_key": "sub_key", **SUBSCRIPTION_FIELDS})
    return lines.merge(carried, on="sub_key", how="left", validate="many_to_one", sort=False)


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
        one row per subscription key (`group_key`) with `provider_quantity`, `as_of` (date),
        `deciding_row` (the row of the line that set it) and `deciding_is_cancel`.
    """
    import pandas as pd

    seats = lines.loc[lines["kind"] == Kind.SEAT.value]
    non_negative = seats["subtotal"].map(lambda amount: amount >= 0, na_action="ignore")
    events = seats.loc[non_negative.fillna(False).astype(bool) | seats["is_cancel"]]
    events = events.assign(event_date=events["order_date"].fillna(events["charge_start"]))
    events = events.sort_values(["group_key", "event_date", "charge_start", "row"],
                                na_position="first", kind="stable")
    last = events.drop_duplicates("group_key", keep="last")
    quantity = last["quantity"].where(~last["is_cancel"], 0)
    from decimal import Decimal

    quantity = quantity.map(lambda q: Decimal(q) if q is not None and q == q else None)
    return pd.DataFrame({
        "group_key": last["group_key"].to_numpy(),
        "provider_quantity": quantity.to_numpy(),
        "as_of": last["event_date"].dt.normalize().to_numpy(),
        "deciding_row": last["row"].to_numpy(),
        "deciding_is_cancel": last["is_cancel"].to_numpy(),
    })


def invoice_period(lines: pd.DataFrame) -> str | None:
    """The month in which most seat charges start (ties: the later month); None when undated."""
    seats = lines.loc[lines["kind"] == Kind.SEAT.value, "charge_start"].dropna()
    starts = seats if not seats.empty else lines["charge_start"].dropna()
    if starts.empty:
        return None
    counts = starts.dt.strftime("%Y-%m").value_counts()
    best = counts.max()
    return str(max(counts.index[counts == best]))


def missing_subscriptions(subscriptions: pd.DataFrame, matched_keys: set[str], period: str | None
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
    quantity_positive = subscriptions["quantity"].map(lambda q: q > 0, na_action="ignore").fillna(False)
    started = subscriptions["start_date"].isna() | (subscriptions["start_date"] <= end)
    monthly = subscriptions["frequency"] == "monthly"
    anniversary = subscriptions["start_date"].dt.month == start.month
    due = started & (monthly | anniversary.fillna(False).astype(bool))
    candidates = (subscriptions["status_key"] == "active") & quantity_positive.astype(bool) & due
    absent = ~subscriptions["subscription_id_key"].isin(matched_keys)
    return subscriptions.loc[candidates & absent]
