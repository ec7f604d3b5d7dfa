"""Two runs compared subscription by subscription: the rows of `recon diff` and of the workbook's
"Since last month" sheet. Pure functions over state rows (key -> the `subscriptions` row of a run,
amounts as text, as the store gives them); standard library only.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from recon_cli.periods import months_between
from recon_cli.records import DIFF_FIELDS

CHANGE_ORDER = {"new": 0, "changed": 1, "open": 2, "resolved": 3}


def compare(old: dict[str, dict[str, Any]], new: dict[str, dict[str, Any]], period: str) -> list[dict[str, Any]]:
    """The DIFF rows of two runs' subscriptions (key -> state row), `period` being the later run's."""
    out: list[dict[str, Any]] = []
    for key in sorted(set(old) | set(new)):
        a, b = old.get(key), new.get(key)
        was, is_ = bool(a and a["needs_person"]), bool(b and b["needs_person"])
        if not was and not is_:
            continue
        if is_ and not was:
            change = "new"
        elif was and not is_:
            change = "resolved"
        else:
            assert a is not None and b is not None
            moved = (a["status"], amount(a["quantity_delta"]), amount(a["money_at_risk"])) != (
                b["status"], amount(b["quantity_delta"]), amount(b["money_at_risk"]))
            change = "changed" if moved else "open"
        main = b if b is not None else a
        assert main is not None
        since = (b or {}).get("open_since") if is_ else ""
        out.append({
            "change": change, "customer_name": main["customer_name"], "product": main["product"],
            "subscription_id": main["subscription_id"], "currency": main["currency"],
            "status_before": a["status"] if a else "absent", "status_now": b["status"] if b else "absent",
            "price_status": main["price_status"] or "",
            "delta_before": a["quantity_delta"] if a else None, "delta_now": b["quantity_delta"] if b else None,
            "money_before": a["money_at_risk"] if a else None, "money_now": b["money_at_risk"] if b else None,
            "open_since": since or "", "months_open": months_between(since, period) if since and period else None,
            "kind": main["kind"], "line_id": (b or {}).get("line_id") or "",
        })
    out.sort(key=lambda r: (CHANGE_ORDER[r["change"]], -amount(r["money_now"] or r["money_before"]),
                            r["customer_name"] or ""))
    return [{name: r[name] for name in DIFF_FIELDS} for r in out]


def money_by_change(changes: list[dict[str, Any]]) -> dict[str, dict[str, str]]:
    """Σ money at risk per change and currency: what the new exceptions add, what was resolved..."""
    totals: dict[str, dict[str, Decimal]] = {}
    for row in changes:
        amount = row["money_before"] if row["change"] == "resolved" else row["money_now"]
        currency = row["currency"] or ""
        per = totals.setdefault(row["change"], {})
        per[currency] = per.get(currency, Decimal(0)) + Decimal(amount or 0)
    return {change: {c: str(v) for c, v in sorted(per.items())} for change, per in totals.items()}


def amount(text: Any) -> Decimal:
    try:
        return Decimal(text) if text not in (None, "") else Decimal(0)
    except ArithmeticError:
        return Decimal(0)
