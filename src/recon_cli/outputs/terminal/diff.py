"""What `recon diff` shows: the two runs, the money each kind of change moves, then the subscriptions.

New exceptions first, then those that changed, those still open (with how many months), and what
was resolved, most money at risk first in each. Light: stdlib records only, no pandas.
"""

from __future__ import annotations

from typing import Any

from rich.console import Group, RenderableType
from rich.text import Text

from recon_cli.comparison import CHANGE_ORDER
from recon_cli.outputs.terminal.common import BLANK, facts, money, more_note, new_table, plain, quantity
from recon_cli.records import PRICE_FINDINGS

CHANGE_WORDS = {"new": "New", "changed": "Changed", "open": "Still open", "resolved": "Resolved"}
CHANGE_STYLES = {"new": "bold red", "changed": "yellow", "open": "", "resolved": "green"}


def _run(run: dict[str, Any]) -> str:
    label = f", {run['label']}" if run.get("label") else ""
    return f"{run['run_id']} (period {run.get('period') or '?'}{label})"


def diff_report(runs: dict[str, dict[str, Any]], changes: list[dict[str, Any]],
                money_moved: dict[str, dict[str, str]], top: int = 40) -> RenderableType:
    """The comparison of two runs: counts and money per change, then each subscription in two lines
    (who and what; then status, delta, money and since when), grouped by change."""
    parts: list[RenderableType] = [facts([("Before", _run(runs["before"])), ("Now", _run(runs["now"]))]), BLANK]
    if not changes:
        parts.append(Text("No exception in either run: nothing new, nothing resolved.", style="green"))
        return Group(*parts)
    counts = {change: sum(1 for row in changes if row["change"] == change) for change in CHANGE_ORDER}
    totals = new_table("Change", "Subscriptions", "At risk", right=("Subscriptions",))
    for change, count in counts.items():
        if count:
            totals.add_row(Text(CHANGE_WORDS[change], style=CHANGE_STYLES[change]), f"{count:,}",
                           _money_text(money_moved.get(change, {})))
    parts += [totals]
    shown = 0
    for change in CHANGE_ORDER:
        rows = [row for row in changes if row["change"] == change][:max(0, top - shown)]
        if not rows:
            continue
        parts += [BLANK, Text(f"{CHANGE_WORDS[change]}:", style=f"bold {CHANGE_STYLES[change]}".strip())]
        parts += [_entry(row) for row in rows]
        shown += len(rows)
    more = more_note(shown, len(changes), "subscription")
    return Group(*parts, *([more] if more else []))


def _entry(row: dict[str, Any]) -> Text:
    """Two lines: customer · product · subscription id, then status, delta, money and since when."""
    status = plain(row["status_now"])
    if row["status_before"] != row["status_now"]:
        status = f"{plain(row['status_before'])} → {status}"
    facts_now = [status]
    if row.get("price_status") in PRICE_FINDINGS:
        facts_now.append(f"price {plain(row['price_status'])}")
    delta = _delta(row["delta_before"], row["delta_now"])
    if delta:
        facts_now.append(f"delta {delta}")
    risk = money(row["money_before"] if row["change"] == "resolved" else row["money_now"])
    if risk and risk != "0.00":
        facts_now.append(f"{risk} {plain(row['currency'])} {'was ' if row['change'] == 'resolved' else ''}at risk")
    if row.get("open_since"):
        months = row.get("months_open") or 1
        facts_now.append(f"open since {plain(row['open_since'])} ({months} month{'s' if months != 1 else ''})")
    who = " · ".join(part for part in (plain(row["customer_name"]), plain(row["product"]),
                                       plain(row["subscription_id"])) if part)
    return Text.assemble(f"  {who}\n", ("    " + " · ".join(facts_now), "dim"))


def _money_text(per_currency: dict[str, str]) -> str:
    return ", ".join(f"{money(amount)} {currency}".strip() for currency, amount in per_currency.items()
                     if money(amount) not in ("", "0.00")) or "—"


def _delta(before: Any, now: Any) -> str:
    old, new = quantity(before, sign=True), quantity(now, sign=True)
    if old and new and old != new:
        return f"{old} → {new}"
    return new or old
