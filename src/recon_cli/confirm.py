"""What still needs a person, and what a confirmation does (PRODUCT.md §3 rule 9, §4).

A line needs a person for a quantity finding (unexplained, partially explained, unmatched, or an
explanation resting on failed provisioning) or a price finding (currency mismatch, below cost, cost
changed, low margin). A person's confirmation accepts every finding of a subscription: its lines
become `confirmed` (price status too) while the subscription shows the same provider quantity,
subscription quantity, provider unit cost and unit price; when one changes, the confirmation stops
applying and the explanation says so. The pipeline applies confirmations to a new run column-wise;
the store applies the same rule to the few lines being confirmed. Both call `holds`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from recon_cli.explain import confirmed_text, lapsed_text, quantity_text
from recon_cli.records import (
    ORIGINALS,
    PRICE_FINDINGS,
    QUANTITY_FINDINGS,
    Confirmation,
    PriceStatus,
    Reason,
    Status,
)

if TYPE_CHECKING:
    import pandas as pd

    from recon_cli.models import RunSummary

# The values a confirmation records, as (confirmation field, line field, how the explanation names it).
CONFIRMED_VALUES = (("provider_quantity", "provider_quantity", "provider quantity"),
                    ("subscription_quantity", "subscription_quantity", "subscription quantity"),
                    ("unit_cost", "unit_cost", "provider unit cost"), ("unit_price", "unit_price", "unit price"))
# What a confirmed line was before, kept so that `recon unconfirm` can put it back.
RESTORED = tuple(field.name.removeprefix("original_") for field in ORIGINALS)
# The money a confirmation accepts: nothing of it remains to act on (the unbilled cost of an unmatched
# line stays: accepting a cost does not bill it, rule 9).
ACCEPTED_MONEY = ("under_billed", "over_billed", "below_cost_loss", "price_effect")
# The summary's money figures that follow the lines' shares of them when lines are confirmed.
SHIFTED_MONEY = ("money_at_risk", "under_billed", "over_billed", "below_cost_loss")


def findings(status: Any, reason: Any, price_status: Any, arithmetic: Any = False) -> tuple[bool, bool]:
    """(quantity finding, price or provider-arithmetic finding) of one line."""
    quantity = status in QUANTITY_FINDINGS or (status == Status.EXPLAINED and reason == Reason.FAILED_PROVISIONING)
    return quantity, price_status in PRICE_FINDINGS or (bool(arithmetic) and status != Status.CONFIRMED)


def finding_masks(status: pd.Series, reason: pd.Series, price_status: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Per line, column-wise `findings`: (quantity findings, price findings)."""
    quantity = status.isin(list(QUANTITY_FINDINGS)) | ((status == Status.EXPLAINED.value)
                                                       & (reason == Reason.FAILED_PROVISIONING.value))
    return quantity, price_status.isin(list(PRICE_FINDINGS))


def needs_person(status: pd.Series, reason: pd.Series, price_status: pd.Series,
                 arithmetic: pd.Series | None = None) -> pd.Series:
    """Each line's `needs_person`: a quantity or a price finding, or provider arithmetic that is off."""
    quantity, price = finding_masks(status, reason, price_status)
    needs = quantity | price
    return needs if arithmetic is None else needs | arithmetic.to_numpy(dtype=bool)


def _number(value: Any) -> Decimal | None:
    if value is None or value == "" or (isinstance(value, float | Decimal) and value != value):
        return None
    try:
        return value if isinstance(value, Decimal) else Decimal(str(value))
    except InvalidOperation:
        return None


def changes(confirmation: Confirmation, shown: Mapping[str, Any]) -> list[str]:
    """What differs from the values confirmed ("provider quantity 10 → 12"), compared as numbers;
    an absent value matches only an absent one."""
    out = []
    for field, line_field, name in CONFIRMED_VALUES:
        before, now = _number(getattr(confirmation, field)), _number(shown.get(line_field))
        if before != now:
            text = quantity_text if "quantity" in field else _money_text
            out.append(f"the {name} was {text(before)} and is now {text(now)}")
    return out


def _money_text(value: Decimal | None) -> str:
    return "none" if value is None else f"{value:,.2f}"


def holds(confirmation: Confirmation, shown: Mapping[str, Any]) -> bool:
    """Whether a line (or stored line) shows the values that were confirmed."""
    return not changes(confirmation, shown)


def note_text(confirmation: Confirmation) -> str:
    """The sentence the confirmation adds to each explanation it applies to."""
    return confirmed_text(confirmation.confirmed_by, confirmation.confirmed_at, confirmation.note)


def apply_confirmations(result_lines: pd.DataFrame, keys: pd.DataFrame,
                        confirmations: Sequence[Confirmation]) -> pd.DataFrame:
    """The lines of a confirmed subscription that need a person become `confirmed` while they show
    the values confirmed; otherwise their explanation says why the confirmation lapsed.

    Args:
        result_lines: the run's output lines (with `needs_person`).
        keys: per line, `sub_key` (the matched subscription) and `subscription_id_key` (the
            invoice's own id), aligned with result_lines.
    Returns:
        the lines, with `original_*` columns holding what each confirmed line was before.
    """
    import pandas as pd

    if not confirmations or result_lines.empty:
        return result_lines
    out = result_lines.copy()
    keys = keys.reset_index(drop=True)
    for confirmation in confirmations:
        key = confirmation.subscription_id.strip().lower()
        mine = ((keys["sub_key"] == key) | (keys["subscription_id_key"] == key)) & out["needs_person"]
        if not mine.any():
            continue
        same = mine.copy()
        for position in mine[mine].index:
            changed = changes(confirmation, out.loc[position])
            same[position] = not changed
            if changed:
                out.loc[position, "explanation"] = out.loc[position, "explanation"] + lapsed_text(
                    confirmation.confirmed_by, confirmation.confirmed_at, changed)
        if not same.any():
            continue
        for name in RESTORED:
            column = f"original_{name}"
            if column not in out.columns:
                out[column] = pd.Series([None] * len(out), index=out.index, dtype=object)
            fresh = same & out[column].isna()
            out.loc[fresh, column] = out.loc[fresh, name]
        out.loc[same, "status"] = Status.CONFIRMED.value
        out.loc[same, "reason"] = Reason.CONFIRMED.value
        out.loc[same, "price_status"] = PriceStatus.CONFIRMED.value
        out.loc[same, "needs_person"] = False
        for name in ACCEPTED_MONEY:
            out.loc[same, name] = Decimal(0)  # type: ignore[call-overload]
        # Accepting an unmatched cost does not bill it: it stays at risk (rule 9).
        out.loc[same, "money_at_risk"] = out.loc[same, "unbilled_cost"]
        out.loc[same, "explanation"] = out.loc[same, "explanation"] + note_text(confirmation)
    return out


def confirm_missing(missing: pd.DataFrame, confirmations: Sequence[Confirmation]) -> pd.DataFrame:
    """A confirmed absence stays listed, reason `confirmed`, while the subscription's seats are the same."""
    held = {c.subscription_id.strip().lower(): c for c in confirmations if c.provider_quantity is None}
    if missing.empty or not held:
        return missing
    reasons, texts = missing["reason"].tolist(), missing["explanation"].tolist()
    needs = missing["needs_person"].tolist()
    originals: list[Any] = [None] * len(missing)
    for position, (sub_id, quantity) in enumerate(zip(missing["subscription_id"], missing["quantity"], strict=True)):
        confirmation = held.get(str(sub_id).strip().lower())
        if confirmation is None:
            continue
        if _number(confirmation.subscription_quantity) != _number(quantity):
            texts[position] += lapsed_text(confirmation.confirmed_by, confirmation.confirmed_at, [
                f"the quantity was {quantity_text(_number(confirmation.subscription_quantity))} and is now "
                f"{quantity_text(_number(quantity))}"])
            continue
        originals[position] = (reasons[position], texts[position])
        reasons[position], needs[position] = Reason.CONFIRMED.value, False
        texts[position] = texts[position] + note_text(confirmation)
    import pandas as pd

    kept = {name: pd.Series([o[i] if o else None for o in originals], index=missing.index, dtype=object)
            for i, name in enumerate(("original_reason", "original_explanation"))}
    return missing.assign(reason=reasons, explanation=texts, needs_person=needs, **kept)


def unconfirmed(line: Mapping[str, Any]) -> dict[str, Any]:
    """What a confirmed stored line goes back to: what it was, as kept in its original_* fields; a line
    saved before those existed needs a person again."""
    fallback = ((Status.UNMATCHED, Reason.SUBSCRIPTION_NOT_FOUND) if line["match_method"] == "none"
                else (Status.UNEXPLAINED, Reason.NO_EVIDENCE))
    restored = {name: line.get(f"original_{name}") for name in RESTORED}
    restored["status"] = restored["status"] or fallback[0].value
    restored["reason"] = restored["reason"] or fallback[1].value
    restored["price_status"] = restored["price_status"] or PriceStatus.OK.value
    for name in (*SHIFTED_MONEY, "price_effect"):
        restored[name] = restored[name] if restored[name] is not None else line.get(name)
    restored["explanation"] = restored["explanation"] or line["explanation"]
    restored["needs_person"] = True
    return restored


def summary_after(summary: RunSummary, moves: Sequence[tuple[Mapping[str, Any], Mapping[str, Any]]],
                  missing_change: int = 0) -> RunSummary:
    """The run's summary once lines moved (each: the line as stored, and the fields it now has), and
    `missing_change` missing subscriptions stopped (−1) or started (+1) needing a person.

    Counting only what moved keeps `confirm` instant and exact on a million-line run, where a
    GROUP BY would read every line, and could not sum text amounts exactly.
    """
    counts = Counter(summary.status_counts)
    prices = Counter(summary.price_status_counts)
    by_status = {currency: dict(amounts) for currency, amounts in summary.subtotal_by_status.items()}
    money = {name: dict(getattr(summary, name)) for name in SHIFTED_MONEY}
    needs, price_findings, people = (summary.needs_attention + missing_change, summary.price_findings,
                                     summary.needs_person + missing_change)
    for line, after in moves:
        before_status, after_status = line["status"], after["status"]
        counts[before_status] -= 1
        counts[after_status] += 1
        prices[line["price_status"]] -= 1
        prices[after["price_status"]] += 1
        arithmetic = line.get("provider_arithmetic")
        quantity_before, price_before = findings(before_status, line["reason"], line["price_status"], arithmetic)
        quantity_after, price_after = findings(after_status, after["reason"], after["price_status"], arithmetic)
        needs += quantity_after - quantity_before
        price_findings += price_after - price_before
        people += (quantity_after or price_after) - (quantity_before or price_before)
        currency, subtotal = line["currency"] or "", Decimal(line["subtotal"] or 0)
        amounts = by_status.setdefault(currency, {})
        amounts[before_status] = str(Decimal(amounts.get(before_status, 0)) - subtotal)
        amounts[after_status] = str(Decimal(amounts.get(after_status, 0)) + subtotal)
        for name in SHIFTED_MONEY:
            if name in after:
                change = Decimal(after[name] or 0) - Decimal(line.get(name) or 0)
                money[name][currency] = str(Decimal(money[name].get(currency, 0)) + change)
    gone = {status for status, n in counts.items() if n <= 0}  # and so no amount, in any currency
    return summary.model_copy(update={
        "status_counts": {s: n for s, n in sorted(counts.items()) if s not in gone},
        "price_status_counts": {s: n for s, n in sorted(prices.items()) if n > 0},
        "subtotal_by_status": {c: {s: a for s, a in sorted(amounts.items()) if s not in gone}
                               for c, amounts in by_status.items()},
        **{name: {c: a for c, a in sorted(by.items()) if Decimal(a) != 0} for name, by in money.items()},
        "needs_attention": needs, "price_findings": price_findings, "needs_person": people,
        "missing_needing_person": summary.missing_needing_person + missing_change})
