"""Pair invoice lines with subscriptions, compare seat counts, find what is missing (rules 3, 4, 6, 7).

Cardinality: many invoice lines to one subscription (validate="many_to_one"); subscription
ids are unique after normalize. The customer + product fallback pairs one unmatched invoice
subscription with one unmatched export row, and only when neither side is ambiguous.
"""

from __future__ import annotations

import operator
from typing import TYPE_CHECKING

from recon_cli.decimals import decimal_test
from recon_cli.events import provider_quantities
from recon_cli.formats.subscriptions import BILLING_FREQUENCIES
from recon_cli.formats.vocabularies import CANCELLED
from recon_cli.frames import carry, group_positions, pairwise, positions
from recon_cli.records import Kind, MatchMethod

if TYPE_CHECKING:
    import pandas as pd

# Subscription columns carried onto each matched line, renamed.
SUBSCRIPTION_FIELDS = {
    "subscription_id": "matched_subscription_id",
    "quantity_in_force": "subscription_quantity",
    "status_key": "subscription_status",
    "unit_price": "unit_price",
    "unit_cost": "expected_unit_cost",
    "currency": "subscription_currency",
    "frequency": "subscription_frequency",
    "markup_percent": "markup_percent",
}
# The invoice's columns used only to match: the matched lines leave them out (memory).
MATCH_ONLY = ("customer_id_key", "sku_name", "product_name", "subscription_description")


def match_lines(invoice: pd.DataFrame, subscriptions: pd.DataFrame, rejected: pd.DataFrame | None = None
                ) -> pd.DataFrame:
    """Attach each invoice line's subscription, by id first, then by customer + product.

    Args:
        rejected: the subscription export's rejects, with `subscription_key`: an unmatched line
            whose id is on a rejected export row carries where (`rejected_file`, `_row`,
            `_column`, `_message`).

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

    # A cancelled export row is never paired by the fallback: its seats are gone, not renamed.
    claimed = (subscriptions["status_key"] == CANCELLED).to_numpy().copy()
    claimed[at[by_id]] = True
    # A line whose export row was rejected is that row's, not another's by customer and product.
    rejected_keys = (set(rejected["subscription_key"]) - {""}) if rejected is not None and len(rejected) and \
        "subscription_key" in rejected.columns else set()
    offered = ~by_id & ~invoice["subscription_id_key"].isin(rejected_keys).to_numpy()
    fallback = _fallback_pairs(invoice.loc[offered], subscriptions.loc[~claimed])
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
    kept = invoice.drop(columns=list(MATCH_ONLY), errors="ignore")
    matched = kept.assign(sub_key=sub_key, match_method=method, group_key=group_key,
                          group=pd.factorize(group_key, sort=False)[0], **carried)
    return _with_rejected_rows(matched, rejected)


def _with_rejected_rows(lines: pd.DataFrame, rejected: pd.DataFrame | None) -> pd.DataFrame:
    """Where the export row of each unmatched line's id was rejected ("" and -1 when none)."""
    import numpy as np

    if rejected is None or rejected.empty or "subscription_key" not in rejected.columns:
        at = np.full(len(lines), -1, dtype=np.int64)
        rejected = None
    else:
        first = rejected.loc[rejected["subscription_key"] != ""].drop_duplicates("subscription_key")
        at = positions(first["subscription_key"], lines["subscription_id_key"])
        at = np.where((lines["sub_key"] == "").to_numpy(), at, -1)
        rejected = first
    columns = {f"rejected_{name}": (carry(rejected[name].astype("str"), at, lines.index, "")
                                    if rejected is not None else [""] * len(lines))
               for name in ("file", "column", "message")}
    rows = carry(rejected["row"], at, lines.index, -1) if rejected is not None else -1
    return lines.assign(rejected_row=rows, **columns)


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


def seat_counts(lines: pd.DataFrame) -> pd.DataFrame:
    """Provider vs subscription seats per subscription (rules 3 and 4).

    Returns:
        events.provider_quantities() with `subscription_quantity` (the export's quantity in force,
        None when unmatched) and `quantity_delta` = provider − subscription (None when either is
        unknown).
    """
    import numpy as np

    groups = provider_quantities(lines)
    matched = lines.loc[lines["sub_key"] != "", ["group", "subscription_quantity", "subscription_status"]]
    matched = matched.drop_duplicates("group")
    at = group_positions(matched["group"], groups["group"])
    groups["subscription_quantity"] = carry(matched["subscription_quantity"], at, groups.index)
    groups["subscription_status"] = carry(matched["subscription_status"], at, groups.index, "")
    provider, subscription = groups["provider_quantity"].to_numpy(), groups["subscription_quantity"].to_numpy()
    comparable = groups["provider_quantity"].notna().to_numpy() & groups["subscription_quantity"].notna().to_numpy()
    delta = np.full(len(groups), None, dtype=object)
    delta[comparable] = pairwise(provider[comparable], subscription[comparable], operator.sub)
    groups["quantity_delta"] = delta
    return groups


def invoice_period(lines: pd.DataFrame) -> str | None:
    """The month in which most seat charges start (ties: the later month); None when undated."""
    seats = lines.loc[lines["kind"] == Kind.SEAT.value, "charge_start"].dropna()
    starts = seats if not seats.empty else lines["charge_start"].dropna()
    if starts.empty:
        return None
    counts = starts.dt.strftime("%Y-%m").value_counts()
    best = counts.max()
    return str(max(counts.index[counts == best]))


def has_seat_charges(lines: pd.DataFrame, period: str) -> bool:
    """Whether any seat charge of the invoices starts in `period` (YYYY-MM)."""
    starts = lines.loc[lines["kind"] == Kind.SEAT.value, "charge_start"].dropna()
    return bool((starts.dt.strftime("%Y-%m") == period).any())


def missing_subscriptions(subscriptions: pd.DataFrame, matched_keys: pd.Series, period: str | None,
                          currencies: set[str], default_currency: str) -> tuple[pd.DataFrame, int]:
    """Active subscriptions with seats, due this period, that no invoice line matched (rule 7).

    Monthly subscriptions are due every period; annual ones in the month of their anniversary;
    triennial ones every 36 months from their start; `usage` ones never. A subscription that
    starts after the period is not due yet, and one without a start date is due only if monthly.

    Returns:
        the missing subscriptions in the invoices' currencies (a blank currency is the default
        one), and how many more were due and absent in another currency: not checked.
    """
    import pandas as pd

    if period is None:
        return subscriptions.iloc[0:0], 0
    start = pd.Timestamp(f"{period}-01")
    end = start + pd.offsets.MonthEnd(0)
    seats = decimal_test(subscriptions["quantity_in_force"], lambda q: q > 0)
    begins = subscriptions["start_date"]
    started = begins.isna() | (begins <= end)
    frequency = subscriptions["frequency"]
    anniversary = (begins.dt.month == start.month).fillna(False).astype(bool)
    years = (start.year - begins.dt.year).fillna(-1)
    due = started & ((frequency == "monthly") | ((frequency == "annual") & anniversary)
                     | ((frequency == "triennial") & anniversary & (years % (BILLING_FREQUENCIES["triennial"] // 12)
                                                                    == 0)))
    candidates = (subscriptions["status_key"] == "active") & seats & due
    absent = positions(matched_keys, subscriptions["subscription_id_key"]) < 0
    currency = subscriptions["currency"].where(subscriptions["currency"] != "", default_currency)
    checked = currency.isin(list(currencies))
    missing: pd.DataFrame = subscriptions.loc[candidates & absent & checked]
    return missing, int((candidates & absent & ~checked).sum())
