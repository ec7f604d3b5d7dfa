"""The terminal summary of `recon run`: header, statuses, price check, money, the exceptions.

On a big run it shows the subscriptions needing a person with most money at risk first, up
to `top`, then "... and N more; see --xlsx" (STYLE rule 18). No pandas import: it uses the
methods of the frames it is given.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from rich.console import Group, RenderableType
from rich.padding import Padding
from rich.table import Table
from rich.text import Text

from recon_cli.outputs.terminal.common import (
    BLANK,
    PRICE_STYLES,
    amounts_text,
    counted,
    facts,
    money,
    more_note,
    new_table,
    plain,
    quantity,
    status_text,
    to_decimal,
)
from recon_cli.records import MONEY_FIGURES, PRICE_FINDINGS, PriceStatus, Status

if TYPE_CHECKING:
    from recon_cli.models import RunSummary
    from recon_cli.result import ReconResult

REJECTS_SHOWN = 5


def _header(summary: RunSummary) -> RenderableType:
    invoices = ", ".join(summary.invoice_numbers) or summary.invoice_file
    title = Text.assemble(("Invoice ", "bold"), (invoices, "bold"), f" · period {summary.period or '?'}",
                          f" · run {summary.run_id}")
    invoices = ", ".join(summary.invoice_files or [summary.invoice_file])
    inputs = [f"{invoices} ({summary.invoice_format})", summary.subscriptions_file,
              summary.changes_file or "no change log"]
    lines = [title, Text("Inputs: " + ", ".join(inputs) + f" · as of {(summary.as_of or '?')[:10]}", style="dim")]
    if not summary.has_change_log:
        lines.append(Text("No change log was given: no difference could be explained.", style="yellow"))
    if summary.unknown_charge_types:
        lines.append(Text("Unknown charge types (reported as one-time): "
                          + ", ".join(summary.unknown_charge_types), style="yellow"))
    lines += [Text(plain(note), style="yellow") for note in summary.notes]
    return Group(*lines)


def _status_table(summary: RunSummary) -> Table:
    currencies = sorted(summary.subtotal_by_status)
    table = new_table("Status", "Lines", *(f"Subtotal {c}" for c in currencies),
                   right=["Lines", *(f"Subtotal {c}" for c in currencies)])
    for status in Status:
        count = summary.status_counts.get(status, 0)
        amounts = [summary.subtotal_by_status[c].get(status) for c in currencies]
        if count or any(amounts):
            table.add_row(status_text(status), f"{count:,}", *(money(a) for a in amounts))
    table.add_section()
    table.add_row(Text("Total", style="bold"), f"{summary.line_count:,}",
                  *(money(summary.subtotal_total.get(c)) for c in currencies))
    return table


def _price_table(summary: RunSummary) -> RenderableType:
    """Lines per price status, most severe first: a status and its count on one row, so nothing is cut on
    a narrow terminal."""
    present = [p for p in PriceStatus if summary.price_status_counts.get(p)]
    if not present:
        return Text("Price check: no lines")
    table = new_table("Price status", "Lines", right=["Lines"], keep=["Price status", "Lines"])
    for price in present:
        table.add_row(status_text(price, PRICE_STYLES), f"{summary.price_status_counts[price]:,}")
    return table


def _exception_rows(result: ReconResult) -> list[dict[str, Any]]:
    """Lines needing a person, one row per subscription, most money at risk first."""
    lines = result.lines
    fields = ["line_id", "subscription_id", "matched_subscription_id", "customer_name", "product",
              "status", "price_status", "provider_quantity", "subscription_quantity", "quantity_delta",
              "money_at_risk", "over_billed", "price_effect", "currency", "explanation"]
    exceptions = lines.loc[lines["needs_person"].fillna(False).astype(bool),
                           [f for f in fields if f in lines.columns]]
    records = cast("list[dict[str, Any]]", exceptions.to_dict("records"))
    groups: dict[str, dict[str, Any]] = {}
    for record in records:
        key = (plain(record["matched_subscription_id"]) or plain(record["subscription_id"])
               or record["line_id"])
        risk = to_decimal(record["money_at_risk"]) or Decimal(0)
        other = (to_decimal(record.get("over_billed")) or Decimal(0)) + abs(to_decimal(record.get("price_effect"))
                                                                              or Decimal(0))
        group = groups.get(key)
        if group is None:
            groups[key] = {**record, "risk": risk, "other": other, "count": 1}
            continue
        group["count"] += 1
        group["risk"] += risk
        group["other"] += other
    # Most money at risk first; then refunds owed and monthly price effects, so price findings rank too.
    return sorted(groups.values(), key=lambda g: (g["risk"], g["other"]), reverse=True)


def _exception(number: int, row: dict[str, Any]) -> RenderableType:
    """One subscription needing a person: what, how much, and why, as an indented block."""
    head = Text.assemble(f"{number:>2}. ", (row["line_id"], "bold"))
    if row["count"] > 1:
        head.append(f" (+{counted(row['count'] - 1, 'line')})", style="dim")
    head.append("  ")
    head.append_text(status_text(row["status"]))
    if row["price_status"] in PRICE_FINDINGS:
        head.append(" · ")
        head.append_text(status_text(row["price_status"], PRICE_STYLES))
    currency = plain(row["currency"])
    over, effect = to_decimal(row.get("over_billed")), to_decimal(row.get("price_effect"))
    if row["risk"]:
        head.append(f"  {money(row['risk'])} {currency} at risk")
    elif over:
        head.append(f"  {money(over)} {currency} over-billed")
    elif effect:
        head.append(f"  {money(effect)} {currency} a month")
    subscription = plain(row["matched_subscription_id"]) or plain(row["subscription_id"])
    who = " · ".join(t for t in (plain(row["customer_name"]), plain(row["product"]), subscription) if t)
    body = [Text(who)]
    counts = [f"{label} {value}" for label, value in (
        ("provider", quantity(row["provider_quantity"])), ("subscription", quantity(row["subscription_quantity"])),
        ("delta", quantity(row["quantity_delta"], sign=True))) if value]
    if counts:
        body.append(Text(" · ".join(counts)))
    body.append(Text(plain(row["explanation"]), style="dim"))
    return Group(head, Padding(Group(*body), (0, 0, 0, 4)))


def _exceptions(result: ReconResult, top: int) -> list[RenderableType]:
    rows = _exception_rows(result)
    summary = result.summary
    if not summary.needs_person:
        return [Text("Nothing needs a person: every line is matched, explained or confirmed, with no price "
                     "finding, and no subscription is missing.", style="green")]
    out: list[RenderableType] = [Text(summary.needs_person_text(), style="bold")]
    if rows:
        line_count = sum(r["count"] for r in rows)
        out.append(Text(f"{counted(line_count, 'line')} on {counted(len(rows), 'subscription')}, most money at risk "
                        "first:"))
    out += [_exception(i, row) for i, row in enumerate(rows[:top], start=1)]
    more = more_note(min(top, len(rows)), len(rows), "subscription")
    return [*out, more] if more else out


def _missing(result: ReconResult, top: int) -> list[RenderableType]:
    summary = result.summary
    if not summary.missing_count:
        return []
    fields = ["subscription_id", "customer_name", "product", "quantity", "expected_price", "currency"]
    records = result.missing[fields].to_dict("records")
    records.sort(key=lambda r: to_decimal(r["expected_price"]) or Decimal(0), reverse=True)
    table = new_table("Subscription", "Customer", "Product", "Seats", "Expected", right=["Seats", "Expected"],
                   keep=["Subscription", "Expected"],
                   title=f"Missing from the invoice: {counted(summary.missing_count, 'subscription')} "
                         f"({amounts_text(summary.missing_value)})")
    for r in records[:top]:
        table.add_row(Text(plain(r["subscription_id"])), Text(plain(r["customer_name"])),
                      Text(plain(r["product"])), quantity(r["quantity"]),
                      f"{money(r['expected_price'])} {plain(r['currency'])}".strip())
    more = more_note(min(top, len(records)), summary.missing_count, "missing subscription")
    return [table, more] if more else [table]


def _rejects(result: ReconResult) -> list[RenderableType]:
    return _cells(result.rejects, result.summary.reject_count, "Rejected rows", "rejected row")


def _warnings(result: ReconResult) -> list[RenderableType]:
    """Cells of optional columns that could not be read: kept rows, blank fields (PRODUCT.md §2)."""
    return _cells(result.warnings, len(result.warnings), "Warnings (row kept, cell left blank)", "warning")


def _cells(frame: Any, count: int, title: str, noun: str) -> list[RenderableType]:
    """A count of rows or cells with a problem, and the first few with their file, row and column."""
    if not count:
        return []
    out: list[RenderableType] = [Text(f"{title}: {count:,}", style="bold yellow")]
    records = frame[["file", "row", "column", "message"]].head(REJECTS_SHOWN).to_dict("records")
    for r in records:
        where = f"{plain(r['file'])} row {plain(r['row'])}" + (f", {plain(r['column'])}" if r["column"] else "")
        out.append(Text(f"  {where}: {plain(r['message'])}"))
    more = more_note(len(records), count, noun)
    return [*out, more] if more else out


def run_report(result: ReconResult, saved: Mapping[str, str], top: int = 10) -> Group:
    """The terminal summary of `recon run`.

    Args:
        result: the run.
        saved: where things went, label -> path or id ("store", "run", "xlsx", "csv", "json").
        top: how many exception subscriptions and missing subscriptions to list.

    Returns:
        Header, status table, price check, money lines, the top exceptions (one row per
        subscription, most money at risk first), missing subscriptions, rejects, saved.
    """
    summary = result.summary
    parts: list[RenderableType] = [_header(summary), BLANK, _status_table(summary), BLANK, _price_table(summary),
                                   BLANK, money_table(summary), *_usage(summary), BLANK, *_exceptions(result, top)]
    for section in (_missing(result, top), _rejects(result), _warnings(result)):
        if section:
            parts += [BLANK, *section]
    if saved:
        parts += [BLANK, Text("Saved", style="bold"), facts(list(saved.items()))]
    return Group(*parts)


# The money figures of rule 10, in the order a finance team reads them; (field, label).
MONEY_ROWS = tuple((name, MONEY_FIGURES[name][0]) for name in (
    "unbilled_cost", "under_billed", "below_cost_loss", "money_at_risk", "over_billed", "unclaimed_credit",
    "to_bill", "to_bill_forgotten", "usage_to_bill"))


def money_table(summary: RunSummary) -> RenderableType:
    """The money figures per currency, then the period's margin and the seat margin a year."""
    currencies = sorted({c for field, _ in MONEY_ROWS for c in getattr(summary, field)} | set(summary.margin))
    if not currencies:
        return Text("Money: nothing at risk, nothing owed, nothing to bill.", style="green")
    table = new_table("Money", *currencies, right=currencies, keep=currencies)
    for field, label in MONEY_ROWS:
        amounts = getattr(summary, field)
        if field == "money_at_risk" or any(amounts.get(c) for c in currencies):
            style = "bold" if field == "money_at_risk" else ""
            table.add_row(Text(label, style=style), *(Text(money(amounts.get(c)) or "—", style=style)
                                                      for c in currencies))
    if summary.margin:
        table.add_row("Margin this period", *(
            f"{money(summary.margin[c]['margin'])} ({summary.margin[c]['margin_pct']}%)" if c in summary.margin
            else "—" for c in currencies))
    parts: list[RenderableType] = [table]
    if summary.margin_pct:
        parts.append(Text("Seat margin " + ", ".join(
            f"{pct}% on {currency} {money(summary.annual_revenue.get(currency, '0'))} a year"
            for currency, pct in sorted(summary.margin_pct.items()))))
    return Group(*parts)


def _usage(summary: RunSummary) -> list[RenderableType]:
    """The daily-rated usage check (--usage): what it compared, and the lines that differ."""
    check = summary.usage_check
    if check is None:
        return []
    out: list[RenderableType] = [BLANK, Text.assemble(("Usage check: ", "bold"), _usage_check(check))]
    differences = check.get("differences") or []
    if differences:
        table = new_table("Line", "Subscription", "Invoice", "Daily-rated", "Difference",
                          right=["Invoice", "Daily-rated", "Difference"], keep=["Line"])
        for row in differences[:5]:
            table.add_row(Text(plain(row.get("line_id"))), Text(plain(row.get("subscription_id"))),
                          money(row.get("invoice_subtotal")), money(row.get("daily_rated_total")),
                          money(row.get("difference")))
        out.append(table)
        more = more_note(min(5, len(differences)), int(check.get("lines_differing", len(differences))), "usage line")
        if more:
            out.append(more)
    return out


def _usage_check(check: Mapping[str, Any]) -> str:
    """'12 usage lines checked against dru.csv; 1 differs (see JSON summary.usage_check)'."""
    checked, differing = int(check.get("lines_checked", 0)), int(check.get("lines_differing", 0))
    text = (f"{checked} usage line{'s' if checked != 1 else ''} checked against {Path(str(check.get('file'))).name}; "
            + (f"{differing} differ{'s' if differing == 1 else ''}" if differing
               else "all agree"))
    unmatched = check.get("unmatched_usage") or {}
    if unmatched:
        text += f"; not on the invoice: {amounts_text(unmatched)}"
    return text
