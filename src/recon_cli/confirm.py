"""When a confirmation applies, and what it does to a line (PRODUCT.md §3 rule 9).

A person's confirmation of a subscription holds while the subscription shows the quantities
that were confirmed. The pipeline applies it to a new run column-wise; the store applies the
same rule to the few lines of a run being confirmed or unconfirmed. Both call `holds`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from recon_cli.explain import confirmed_text
from recon_cli.records import NEEDS_PERSON, Confirmation, Reason, Status

if TYPE_CHECKING:
    import pandas as pd

    from recon_cli.models import RunSummary


def _number(value: Any) -> Decimal | None:
    if value is None or value == "" or (isinstance(value, float | Decimal) and value != value):
        return None
    try:
        return value if isinstance(value, Decimal) else Decimal(str(value))
    except InvalidOperation:
        return None


def holds(confirmation: Confirmation, provider_quantity: Any, subscription_quantity: Any) -> bool:
    """Whether the quantities shown (Decimal, text or None) are the ones confirmed, compared as
    numbers ("5" == "5.0"); an absent quantity matches only an absent one."""
    for shown, confirmed in ((provider_quantity, confirmation.provider_quantity),
                             (subscription_quantity, confirmation.subscription_quantity)):
        shown_number, confirmed_number = _number(shown), _number(confirmed)
        if shown_number != confirmed_number:
            return False
    return True


def note_text(confirmation: Confirmation) -> str:
    """The sentence the confirmation adds to each explanation it applies to."""
    return confirmed_text(confirmation.confirmed_by, confirmation.confirmed_at, confirmation.note)


def apply_confirmations(result_lines: pd.DataFrame, keys: pd.DataFrame,
                        confirmations: Sequence[Confirmation]) -> pd.DataFrame:
    """Lines of a confirmed subscription that still show the confirmed quantities become `confirmed`.

    Args:
        result_lines: the run's output lines.
        keys: per line, `sub_key` (the matched subscription) and `subscription_id_key` (the
            invoice's own id), aligned with result_lines.
    Returns:
        the lines, with `original_*` columns holding what each confirmed line was before, so
        that `recon unconfirm` can put it back.
    """
    import pandas as pd

    if not confirmations or result_lines.empty:
        return result_lines
    out = result_lines.copy()
    keys = keys.reset_index(drop=True)
    pairs = list(zip(out["provider_quantity"], out["subscription_quantity"], strict=True))
    for confirmation in confirmations:
        key = confirmation.subscription_id.strip().lower()
        mine = ((keys["sub_key"] == key) | (keys["subscription_id_key"] == key)) & (out["status"] != Status.MATCHED)
        if not mine.any():
            continue
        same = mine.copy()
        for position in mine[mine].index:
            same[position] = holds(confirmation, *pairs[position])
        if not same.any():
            continue
        for name in ("status", "reason", "explanation", "money_at_risk"):
            column = f"original_{name}"
            if column not in out.columns:
                out[column] = pd.Series([None] * len(out), index=out.index, dtype=object)
            fresh = same & out[column].isna()
            out.loc[fresh, column] = out.loc[fresh, name]
        out.loc[same, "status"] = Status.CONFIRMED.value
        out.loc[same, "reason"] = Reason.CONFIRMED.value
        out.loc[same, "money_at_risk"] = Decimal(0)  # type: ignore[call-overload]
        out.loc[same, "explanation"] = out.loc[same, "explanation"] + note_text(confirmation)
    return out


def confirm_missing(missing: pd.DataFrame, confirmations: Sequence[Confirmation]) -> pd.DataFrame:
    """A confirmed absence stays listed, reason `confirmed`, while the subscription's seats are the same."""
    held = {c.subscription_id.strip().lower(): c for c in confirmations if c.provider_quantity is None}
    if missing.empty or not held:
        return missing
    reasons, texts = missing["reason"].tolist(), missing["explanation"].tolist()
    for position, (sub_id, quantity) in enumerate(zip(missing["subscription_id"], missing["quantity"], strict=True)):
        confirmation = held.get(str(sub_id).strip().lower())
        if confirmation is None or confirmation.subscription_quantity is None:
            continue
        if not holds(confirmation, None, quantity):
            continue
        reasons[position] = Reason.CONFIRMED.value
        texts[position] = texts[position] + note_text(confirmation)
    return missing.assign(reason=reasons, explanation=texts)


def unconfirmed(line: Mapping[str, Any]) -> tuple[str, str, Any]:
    """(status, reason, money at risk) a confirmed stored line goes back to: what it was before, as
    kept in its original_* fields; a line saved before those existed needs a person again."""
    fallback = ((Status.UNMATCHED, Reason.SUBSCRIPTION_NOT_FOUND) if line["match_method"] == "none"
                else (Status.UNEXPLAINED, Reason.NO_EVIDENCE))
    return (line.get("original_status") or fallback[0].value, line.get("original_reason") or fallback[1].value,
            line.get("original_money_at_risk") or line["money_at_risk"])


def summary_after(summary: RunSummary, moves: Sequence[tuple[Mapping[str, Any], str, str, Any]],
                  missing_change: int = 0) -> RunSummary:
    """The run's summary once lines moved status (line as stored, before, after, money at risk after),
    and `missing_change` missing subscriptions stopped (−1) or started (+1) needing a person.

    Counting only what moved keeps `confirm` instant and exact on a million-line run, where a
    GROUP BY would read every line, and could not sum text amounts exactly.
    """
    counts = Counter(summary.status_counts)
    by_status = {currency: dict(amounts) for currency, amounts in summary.subtotal_by_status.items()}
    at_risk = dict(summary.money_at_risk)
    needs = summary.needs_attention + missing_change
    for line, before, after, money in moves:
        counts[before] -= 1
        counts[after] += 1
        needs += (after in NEEDS_PERSON) - (before in NEEDS_PERSON)
        currency, subtotal = line["currency"] or "", Decimal(line["subtotal"] or 0)
        amounts = by_status.setdefault(currency, {})
        amounts[before] = str(Decimal(amounts.get(before, 0)) - subtotal)
        amounts[after] = str(Decimal(amounts.get(after, 0)) + subtotal)
        risk = Decimal(money or 0) - Decimal(line["money_at_risk"] or 0)
        at_risk[currency] = str(Decimal(at_risk.get(currency, 0)) + risk)
    gone = {status for status, n in counts.items() if n <= 0}  # and so no amount, in any currency
    return summary.model_copy(update={
        "status_counts": {s: n for s, n in sorted(counts.items()) if s not in gone},
        "subtotal_by_status": {c: {s: a for s, a in sorted(amounts.items()) if s not in gone}
                               for c, amounts in by_status.items()},
        "money_at_risk": {c: a for c, a in sorted(at_risk.items()) if Decimal(a) != 0},
        "needs_attention": needs})
