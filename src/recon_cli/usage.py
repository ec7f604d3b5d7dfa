"""The NCE daily-rated usage (DRU) file as a companion for the invoice's usage lines.

Partner Center's DRU export (formats/partner-center.md §2.4) has one row per meter and day,
each rounded on its own: `BillingPreTaxTotal = FLOOR(EffectiveUnitPrice x Quantity x
PCToBCExchangeRate, 2)` (§1.2). The invoice bills the month's usage of a subscription, product
and SKU as one line, rounded once. So each invoice usage line is compared with the exact sum of
its DRU rows, allowing 0.01 per row summed (at least 0.01) for the different rounding.

Everything is column-wise: a DRU file can hold millions of rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from recon_cli.decimals import decimal_sums
from recon_cli.formats import GUID, ID, MONEY, TEXT, Column, TableFormat
from recon_cli.load import read_table
from recon_cli.normalize import Typed, id_key, normalize_table
from recon_cli.records import Kind

if TYPE_CHECKING:
    import pandas as pd

CENT = Decimal("0.01")
# How many differing lines summary.usage_check lists.
MAX_DIFFERENCES = 200
SEP = "\x1f"

DRU = TableFormat(
    name="dru",
    title="Partner Center new-commerce daily-rated usage (CSV)",
    signature=("SubscriptionId", "UsageDate", "BillingPreTaxTotal", "MeterId"),
    description="Partner Center → Billing → daily-rated usage reconciliation file (new commerce).",
    date_order="MDY",
    columns=(
        Column("invoice_number", "InvoiceNumber", ID),
        Column("product_id", "ProductId", ID),
        Column("sku_id", "SkuId", ID),
        Column("subscription_id", "SubscriptionId", GUID, required=True, nonblank=True),
        Column("usage_date", "UsageDate", TEXT),
        Column("billing_pre_tax_total", "BillingPreTaxTotal", MONEY, required=True, nonblank=True),
        Column("billing_currency", "BillingCurrency", TEXT),
    ),
)


@dataclass(frozen=True)
class UsageCheck:
    """What the check found: the summary's `usage_check` dict, notes on reading and comparing, the DRU rejects."""

    summary: dict[str, Any]
    notes: tuple[str, ...]
    rejects: pd.DataFrame


def load_usage(path: Path) -> Typed:
    """Typed DRU rows (our column names, `row`, `key`), the rows that failed to parse, and notes."""
    table = read_table(path)
    typed = normalize_table(table, DRU)
    frame = typed.frame
    frame["billing_currency"] = frame["billing_currency"].str.strip().str.upper()
    frame["key"] = _keys(frame["subscription_id_key"], frame["product_id"], frame["sku_id"])
    frame["invoice_key"] = frame["invoice_number"].str.strip().str.upper()
    # One day per distinct date, whatever the time of day or the date format.
    frame["day"] = frame["usage_date"].str.strip().str.split(r"[T ]", n=1, regex=True).str[0]
    return Typed(frame, typed.rejects, (*table.notes, *typed.notes))


def _keys(subscription_key: pd.Series, product_id: pd.Series, sku_id: pd.Series) -> pd.Series:
    """Subscription (case-insensitive GUID), product and SKU: SkuId without the leading zeros Excel strips."""
    sku = sku_id.str.strip().str.lower().str.lstrip("0")
    return subscription_key + SEP + product_id.str.strip().str.lower() + SEP + sku


def check_usage(lines: pd.DataFrame, path: Path) -> UsageCheck:
    """Compare the invoice's usage lines (result lines of kind usage) with the DRU file at `path`.

    Invoice usage lines with the same subscription, product, SKU and invoice number are compared
    together (one sum on each side); the first line's id stands for the group.
    """
    import pandas as pd

    loaded = load_usage(path)
    dru = loaded.frame
    usage = lines.loc[lines["kind"] == Kind.USAGE.value]
    invoice = pd.DataFrame({
        "line_id": usage["line_id"].astype("str"), "subscription_id": usage["subscription_id"].astype("str"),
        "product": usage["product"].astype("str"), "subtotal": usage["subtotal"],
        "currency": usage["currency"].astype("str"),
        "key": _keys(id_key(usage["subscription_id"].astype("str")), usage["product_id"].astype("str"),
                     usage["sku_id"].astype("str")),
        "invoice_key": usage["invoice_number"].astype("str").str.strip().str.upper(),
    })

    # DRU side: one row per (key, invoice number, currency) with its exact sum, rows and days.
    dru_group = dru["key"] + SEP + dru["invoice_key"] + SEP + dru["billing_currency"]
    dru_sums = decimal_sums(dru["billing_pre_tax_total"], dru_group)
    grouped = dru.assign(group=dru_group.to_numpy()).groupby("group", sort=True)
    dru_groups = pd.DataFrame({
        "rows": grouped.size(), "days": grouped["day"].nunique(),
        "key": grouped["key"].first(), "dru_invoice": grouped["invoice_key"].first(),
        "dru_currency": grouped["billing_currency"].first(),
    }).rename_axis("dru_group").reset_index()
    totals = dru_groups["dru_group"].map(dru_sums)
    dru_groups["total"] = totals.where(totals.notna(), Decimal(0)).astype(object)

    # Invoice side: the lines of one key and invoice number, summed.
    line_group = invoice["key"] + SEP + invoice["invoice_key"]
    line_sums = decimal_sums(invoice["subtotal"], line_group)
    by_line = invoice.assign(group=line_group.to_numpy()).groupby("group", sort=False)
    invoice_groups = pd.DataFrame({
        "line_id": by_line["line_id"].first(), "lines": by_line.size(),
        "subscription_id": by_line["subscription_id"].first(), "product": by_line["product"].first(),
        "key": by_line["key"].first(), "invoice_key": by_line["invoice_key"].first(),
    }).rename_axis("line_group").reset_index()
    invoice_groups["subtotal"] = invoice_groups["line_group"].map(line_sums)

    # A DRU group belongs to an invoice group of the same key when the invoice numbers agree or either is blank.
    pairs = invoice_groups[["line_group", "key", "invoice_key"]].merge(
        dru_groups[["dru_group", "key", "dru_invoice"]], on="key", how="inner")
    pairs = pairs.loc[(pairs["invoice_key"] == pairs["dru_invoice"]) | (pairs["invoice_key"] == "")
                      | (pairs["dru_invoice"] == "")]
    claimed = dru_groups["dru_group"].isin(pairs["dru_group"])
    dru_at = dru_groups.set_index("dru_group")
    pair_rows = dru_at.loc[pairs["dru_group"], "rows"].to_numpy()
    pair_days = dru_at.loc[pairs["dru_group"], "days"].to_numpy()
    pair_totals = pd.Series(dru_at.loc[pairs["dru_group"], "total"].to_numpy(), dtype=object)
    pair_group = pd.Series(pairs["line_group"].to_numpy(), dtype="str")
    matched_totals = decimal_sums(pair_totals, pair_group)
    rows_by = pd.Series(pair_rows, dtype="int64").groupby(pair_group.to_numpy()).sum()
    days_by = pd.Series(pair_days, dtype="int64").groupby(pair_group.to_numpy()).sum()
    invoice_groups["daily_rated_total"] = invoice_groups["line_group"].map(matched_totals).where(
        invoice_groups["line_group"].isin(matched_totals.keys()), Decimal(0))
    invoice_groups["dru_rows"] = invoice_groups["line_group"].map(rows_by).fillna(0).astype("int64")
    invoice_groups["days"] = invoice_groups["line_group"].map(days_by).fillna(0).astype("int64")

    differences = _differences(invoice_groups)
    differing_lines = int(sum(d.pop("lines") for d in differences))
    unmatched = decimal_sums(dru_groups.loc[~claimed, "total"].astype(object),
                             dru_groups.loc[~claimed, "dru_currency"].astype("str"))
    summary = {
        "file": str(path), "rows": len(dru), "lines_checked": len(invoice),
        "lines_differing": differing_lines,
        "differences": differences[:MAX_DIFFERENCES],
        "unmatched_usage": {currency: str(amount) for currency, amount in sorted(unmatched.items()) if amount != 0},
    }
    note = (f"usage: {differing_lines} invoice usage line{'s' if differing_lines != 1 else ''} "
            f"differ{'s' if differing_lines == 1 else ''} from the daily-rated file; see summary.usage_check"
            if differing_lines else None)
    return UsageCheck(summary=summary, notes=(*loaded.notes, *([note] if note else [])), rejects=loaded.rejects)


def _differences(groups: pd.DataFrame) -> list[dict[str, Any]]:
    """The invoice groups whose subtotal is off by more than 0.01 per DRU row (at least 0.01), largest first.

    One pass over the groups (invoice usage lines, not DRU rows): a handful per customer.
    """
    found: list[tuple[Decimal, dict[str, Any]]] = []
    columns = ("line_id", "subscription_id", "product", "subtotal", "daily_rated_total", "dru_rows", "days",
               "lines")
    for line_id, sub_id, product, subtotal, dru_total, rows, days, lines in zip(
            *(groups[c] for c in columns), strict=True):
        invoice_amount = subtotal if subtotal is not None and subtotal == subtotal else Decimal(0)
        difference = invoice_amount - dru_total
        if abs(difference) <= CENT * max(int(rows), 1):
            continue
        found.append((abs(difference), {
            "line_id": line_id, "subscription_id": sub_id, "product": product,
            "invoice_subtotal": str(invoice_amount), "daily_rated_total": str(dru_total),
            "difference": str(difference), "days": int(days), "dru_rows": int(rows), "lines": int(lines),
        }))
    found.sort(key=lambda item: (-item[0], item[1]["line_id"]))
    return [entry for _, entry in found]
