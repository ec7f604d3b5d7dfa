"""What to bill the customers, and what the reseller earns (PRODUCT.md §3 rule 10).

- `to_bill`: change-log records that explain a difference and are not yet invoiced to the customer
  (no customer invoice, not archived): seats x unit price each. A record older than one period at
  the end of the run's period is flagged as forgotten billing.
- `margin`: per customer and currency, for matched seat subscriptions: the provider's cost (the
  invoice's subtotals) against the selling value for the same charge (subscription quantity x unit
  price, brought to the provider's billing period), and margin %.
- `usage_billing`: for subscriptions with a `markup_percent`, the usage cost on the invoice and
  what to bill at the markup.
"""

from __future__ import annotations

from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any

from recon_cli.decimals import decimal_sums, group_totals
from recon_cli.formats.nce import CENT
from recon_cli.formats.subscriptions import BILLING_FREQUENCIES
from recon_cli.frames import distinct_rows
from recon_cli.records import MARGIN_FIELDS, TO_BILL_FIELDS, USAGE_BILLING_FIELDS, Kind, MatchMethod, Status

if TYPE_CHECKING:
    import pandas as pd

    from recon_cli.explain import Decisions

ZERO = Decimal(0)
HUNDRED = Decimal(100)
BILLED = "archived"  # Work 365's status reason for a change already billed


def to_bill(decisions: Decisions, lines: pd.DataFrame, period: str | None) -> pd.DataFrame:
    """The explained records not yet invoiced to the customer, with what to bill for each."""
    import pandas as pd

    from recon_cli.evidence import is_evidence
    from recon_cli.explain import date_text, record_text

    records, decided = decisions.records, decisions.decided
    if records.empty or decided.empty:
        return _empty(TO_BILL_FIELDS)
    explained = set(decided.loc[decided["status"].isin([Status.EXPLAINED.value,
                                                       Status.PARTIALLY_EXPLAINED.value]), "group"])
    due = records.loc[is_evidence(records["role"]) & records["group"].isin(explained)
                      & (records["customer_invoice"].str.strip() == "")
                      & (records["status_reason"].str.strip().str.lower() != BILLED)]
    if due.empty:
        return _empty(TO_BILL_FIELDS)
    # Only the columns used: dropping duplicates of the whole line frame copies a million rows.
    first = lines[["group", "unit_price", "customer_name", "product", "currency"]].drop_duplicates("group") \
        .set_index("group")
    price = due["group"].map(first["unit_price"])
    cutoff = _month_before_end(period)
    forgotten = (due["effective_date"] < cutoff) if cutoff is not None else pd.Series(False, index=due.index)
    amounts = [None if p is None or p != p else (d * p).quantize(CENT, ROUND_HALF_UP)
               for d, p in zip(due["quantity_delta"], price, strict=True)]
    texts = [record_text(r) + (" — older than a period and still not invoiced: forgotten billing?" if late else "")
             for r, late in zip(due.to_dict("records"), forgotten, strict=True)]
    return pd.DataFrame({
        "customer_name": due["group"].map(first["customer_name"]).to_numpy(),
        "subscription_id": due["subscription_id"].to_numpy(),
        "product": due["group"].map(first["product"]).to_numpy(),
        "change_id": due["change_id"].to_numpy(),
        "effective_date": [date_text(d) for d in due["effective_date"]],
        "quantity_delta": due["quantity_delta"].to_numpy(), "unit_price": price.to_numpy(), "amount": amounts,
        "currency": due["group"].map(first["currency"]).to_numpy(), "forgotten": forgotten.to_numpy(dtype=bool),
        "explanation": texts,
    }, columns=list(TO_BILL_FIELDS))


def _month_before_end(period: str | None) -> datetime | None:
    """The day one period before the end of `period`: a record effective before it is forgotten."""
    import pandas as pd

    if period is None:
        return None
    end = pd.Timestamp(f"{period}-01") + pd.offsets.MonthEnd(0)
    cutoff: datetime = (end - pd.DateOffset(months=1)).to_pydatetime()
    return cutoff


def margin(lines: pd.DataFrame, sold_frequency: pd.Series) -> pd.DataFrame:
    """Per customer and currency: selling value, provider cost, margin and margin %, money at risk.

    Grouped by integer codes of the customer key and summed exactly as scaled integers
    (`decimals.group_totals`): no per-line Python, no copy of the result frame.

    Args:
        lines: the result lines.
        sold_frequency: per line, the billing plan the subscription is sold on (its unit price's period).
    """
    import numpy as np
    import pandas as pd

    seat = ((lines["kind"] == Kind.SEAT.value) & (lines["match_method"] != MatchMethod.NONE.value)).to_numpy()
    if not seat.any():
        return _empty(MARGIN_FIELDS)
    codes, customers = _customers(lines)
    count = len(customers)
    cost = group_totals(lines["subtotal"].where(seat, None), codes, count)
    at_risk = group_totals(lines["money_at_risk"], codes, count)
    over = group_totals(lines["over_billed"], codes, count)
    keyed = codes >= 0  # a line without a customer key (a blank name) is in no group

    def per_key(at: Any, weights: Any) -> Any:
        return np.bincount(codes[at][keyed[at]], weights=np.asarray(weights, dtype=float)[keyed[at]], minlength=count)

    every = slice(None)
    needs = per_key(every, lines["needs_person"].astype(bool).to_numpy())
    with_seats = per_key(every, seat) > 0
    # The selling value of each subscription once (its first seat line), for the provider's charge of this period.
    seats = np.flatnonzero(seat)
    first = seats[~lines["matched_subscription_id"].iloc[seats].duplicated().to_numpy()]
    counts = per_key(first, np.ones(len(first)))
    terms, priced = _selling_values(*(column.to_numpy()[first] for column in (
        lines["subscription_quantity"], lines["unit_price"], lines["billing_frequency"], sold_frequency)))
    revenue = group_totals(pd.Series(terms, dtype="object"), codes[first], count)
    has_revenue = per_key(first, priced) > 0
    rows = []
    for i in _in_order(customers, np.flatnonzero(with_seats)):
        name, customer_id, currency = customers[i]
        value = revenue[i].quantize(CENT, ROUND_HALF_UP) if has_revenue[i] else None
        earned = value - cost[i] if value is not None else None
        pct = (earned / value * HUNDRED).quantize(CENT, ROUND_HALF_UP) if earned is not None and value else None
        rows.append((name, customer_id, currency, int(counts[i]), value, cost[i], earned, pct,
                     at_risk[i], over[i], int(needs[i])))
    return pd.DataFrame(rows, columns=list(MARGIN_FIELDS))


def _selling_values(quantity: Any, price: Any, billed: Any, sold: Any) -> tuple[Any, Any]:
    """Per subscription: quantity x unit price brought from the plan it is sold on to the provider's
    billing period (None when either is unknown), computed once per distinct combination (equal
    values alike, the first one's digits); and whether it is known."""
    import numpy as np
    import pandas as pd

    def known(value: Any) -> bool:
        return value is not None and value == value

    columns = (quantity, price, billed, sold)
    first, codes = distinct_rows([pd.Series(column, dtype=object) for column in columns])
    terms = np.array([q * p * _months(b) / _months(s) if known(p) and known(q) else None
                      for q, p, b, s in zip(*(column[first].tolist() for column in columns), strict=True)]
                     + [None], dtype=object)  # the extra None keeps numpy from making a 2-D array of tuples
    return terms[codes], np.array([t is not None for t in terms[:-1]], dtype=bool)[codes]


def _customers(lines: pd.DataFrame) -> tuple[Any, list[tuple[str, str, str]]]:
    """Each line's customer (name, id, currency) as a code (-1: one of them missing), and the customers."""
    import numpy as np

    columns = [lines[name] for name in ("customer_name", "customer_id", "currency")]
    first, codes = distinct_rows(columns)
    codes = np.where(np.logical_or.reduce([column.isna().to_numpy() for column in columns]), -1, codes)
    values = [column.to_numpy(dtype=object)[first].tolist() for column in columns]
    return codes, [(str(name), str(number), str(currency)) for name, number, currency in zip(*values, strict=True)]


def _in_order(customers: list[tuple[str, str, str]], wanted: Any) -> list[int]:
    """The `wanted` customers by currency, then by name, id and currency joined by US (text compared by
    code point, as Python does)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    chosen = [customers[i] for i in wanted.tolist()]
    order = pc.sort_indices(pa.table({"currency": [c[2] for c in chosen], "key": ["\x1f".join(c) for c in chosen]}),
                            sort_keys=[("currency", "ascending"), ("key", "ascending")])
    return [int(wanted[i]) for i in order.to_pylist()]


def usage_billing(lines: pd.DataFrame, markups: pd.Series) -> pd.DataFrame:
    """Usage lines of subscriptions with a markup (`markups`, per line): their cost and what to bill."""
    import pandas as pd

    lines = lines.assign(markup_percent=markups.to_numpy())
    usage = lines.loc[(lines["kind"] == Kind.USAGE.value) & lines["markup_percent"].notna()
                      & (lines["match_method"] != MatchMethod.NONE.value)]
    if usage.empty:
        return _empty(USAGE_BILLING_FIELDS)
    keys = usage["matched_subscription_id"].astype("str") + "\x1f" + usage["currency"].astype("str")
    cost = decimal_sums(usage["subtotal"], keys)
    first = usage.assign(key=keys).drop_duplicates("key").set_index("key")
    count = keys.value_counts()
    rows = []
    for k in sorted(cost):
        row = first.loc[k]
        markup = Decimal(str(row["markup_percent"]))
        billed = (cost[k] * (HUNDRED + markup) / HUNDRED).quantize(CENT, ROUND_HALF_UP)
        rows.append((row["customer_name"], row["customer_id"], row["matched_subscription_id"], row["currency"],
                     int(count[k]), cost[k], markup, billed))
    return pd.DataFrame(rows, columns=list(USAGE_BILLING_FIELDS))


def _months(frequency: Any) -> int:
    return BILLING_FREQUENCIES.get(str(frequency), 1)


def _empty(fields: tuple[str, ...]) -> pd.DataFrame:
    import pandas as pd

    return pd.DataFrame({name: pd.Series(dtype="object") for name in fields})
