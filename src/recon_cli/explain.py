"""Why a line has its status: the change-log records the provider could not reflect yet, and
every reason's text.

PRODUCT.md §3 rule 5. Evidence for a subscription is each change-log record effective
after the provider's as-of date (and not after `--as-of`), or whose provisioning failed
or is still awaited, whenever effective. Each Reason has one message template here, and
nothing else in the package writes explanation prose.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from recon_cli.formats.subscriptions import PROVISIONING_AWAITING, PROVISIONING_FAILED
from recon_cli.frames import carry, date_column, group_positions, mapped_texts
from recon_cli.records import EVIDENCE_FIELDS, EvidenceKind, Kind, MatchMethod, Reason, Status

if TYPE_CHECKING:
    import pandas as pd


@dataclass(frozen=True)
class Decisions:
    """The quantity rules' outcome per subscription.

    Attributes:
        groups: seat counts per subscription (match.seat_counts): provider and subscription
            quantity, delta, the provider's as-of and the line that set the count.
        decided: one row per subscription with a difference: status, reason, residual,
            explanation, evidence (change ids).
        evidence: the change-log records used, with `group` and `evidence_kind`.
    """

    groups: pd.DataFrame
    decided: pd.DataFrame
    evidence: pd.DataFrame


@dataclass(frozen=True)
class Verdicts:
    """Per invoice line (aligned with the lines): the columns the explain stage owns."""

    status: Any
    reason: Any
    explanation: Any
    evidence: pd.Series
    residual: pd.Series
    provider_quantity: pd.Series
    quantity_delta: pd.Series
    as_of: pd.Series

NOT_INVOICED = "not yet invoiced"


def quantity_text(value: Decimal | None) -> str:
    """Seats as people write them: 12, not 12.00 or 1.2E+1."""
    if value is None:
        return "?"
    if value == value.to_integral_value():
        return str(int(value))
    return format(value.normalize(), "f")


def signed(value: Decimal) -> str:
    text = quantity_text(abs(value))
    return f"+{text}" if value > 0 else (f"−{text}" if value < 0 else "0")


def date_text(value: Any) -> str:
    if value is None or value != value:  # NaT and None
        return ""
    if isinstance(value, datetime | date):
        return value.strftime("%Y-%m-%d") if not _has_time(value) else value.strftime("%Y-%m-%d %H:%M")
    return str(value)


def _has_time(value: date) -> bool:
    return isinstance(value, datetime) and (value.hour, value.minute, value.second) != (0, 0, 0)


def find_evidence(differences: pd.DataFrame, changes: pd.DataFrame, as_of_limit: datetime | None
                  ) -> pd.DataFrame:
    """Change-log records that explain each difference.

    Args:
        differences: one row per subscription with a non-zero delta: `group_key`, `as_of`.
        changes: the typed change log.
        as_of_limit: `--as-of`: changes effective after it are in the future and do not count.

    Returns:
        the evidence records with `group_key` and `evidence_kind`, ordered by date.
    """
    import numpy as np

    joined = changes.merge(differences[["group", "group_key", "as_of"]], left_on="subscription_id_key",
                           right_on="group_key", how="inner", sort=False)
    effective_day = joined["effective_date"].dt.normalize()
    after = effective_day > joined["as_of"]
    if as_of_limit is not None:
        after &= joined["effective_date"] <= as_of_limit
    failed = joined["provisioning_key"] == PROVISIONING_FAILED
    awaiting = joined["provisioning_key"] == PROVISIONING_AWAITING
    used = joined.loc[after | failed | awaiting].copy()
    used["evidence_kind"] = np.where(
        failed[used.index], EvidenceKind.FAILED_PROVISIONING.value,
        np.where(awaiting[used.index], EvidenceKind.AWAITING_PROVISIONING.value,
                 EvidenceKind.CHANGED_AFTER_AS_OF.value))
    ordered: pd.DataFrame = used.sort_values(["group", "effective_date", "row"], kind="stable")
    return ordered


def evidence_records(evidence: pd.DataFrame) -> pd.DataFrame:
    """The evidence as stored and exported: EVIDENCE_FIELDS, text values, one row per record."""
    import pandas as pd

    if evidence.empty:
        return pd.DataFrame({name: pd.Series(dtype="object") for name in EVIDENCE_FIELDS})
    unique = evidence.drop_duplicates(["subscription_id_key", "change_id"])
    return pd.DataFrame({
        "change_id": unique["change_id"].to_numpy(),
        "subscription_id": unique["subscription_id"].to_numpy(),
        "row": unique["row"].to_numpy(),
        "effective_date": [date_text(v) for v in unique["effective_date"]],
        "quantity_delta": [signed(v).replace("−", "-") for v in unique["quantity_delta"]],
        "provisioning_status": unique["provisioning_status"].to_numpy(),
        "initiated_by": unique["initiated_by"].to_numpy(),
        "customer_invoice": unique["customer_invoice"].to_numpy(),
        "status_reason": unique["status_reason"].to_numpy(),
        "evidence_kind": unique["evidence_kind"].to_numpy(),
    }, columns=list(EVIDENCE_FIELDS))


def record_text(record: dict[str, Any]) -> str:
    """One change-log record as an explanation names it."""
    who = record["initiated_by"] or "unknown initiator"
    invoice = record["customer_invoice"] or NOT_INVOICED
    status = record["provisioning_status"] or "provisioning status not given"
    return (f"{record['change_id']}: {signed(record['quantity_delta'])} seats effective "
            f"{date_text(record['effective_date'])}, {status}, by {who}, {invoice}")


def decide(provider: Decimal, subscription: Decimal, records: list[dict[str, Any]], as_of: str,
           has_change_log: bool) -> tuple[str, str, Decimal, str]:
    """Status, reason, residual and explanation of one subscription's seat difference.

    The residual is what no record explains: provider + Σ evidence − subscription.
    """
    delta = provider - subscription
    head = (f"Provider has {quantity_text(provider)} seats as of {as_of}; the subscription has "
            f"{quantity_text(subscription)} ({signed(delta)}).")
    if not records:
        if not has_change_log:
            return (Status.UNEXPLAINED, Reason.NO_CHANGE_LOG, delta,
                    f"{head} No change log was given, so the difference cannot be explained.")
        return (Status.UNEXPLAINED, Reason.NO_EVIDENCE, delta,
                f"{head} No change-log record after {as_of}, awaiting or failed provisioning explains it.")
    total = sum((r["quantity_delta"] for r in records), Decimal(0))
    residual = provider + total - subscription
    kinds = {r["evidence_kind"] for r in records}
    reason = Reason(kinds.pop()) if len(kinds) == 1 else Reason.SEVERAL_CAUSES
    listed = "; ".join(record_text(r) for r in records)
    if residual == 0:
        return Status.EXPLAINED, reason, residual, f"{head} Explained by {listed}."
    return (Status.PARTIALLY_EXPLAINED, reason, residual,
            f"{head} Change-log records account for {signed(total)}: {listed}; "
            f"{signed(residual)} seats remain unexplained.")


def decide_differences(groups: pd.DataFrame, changes: pd.DataFrame | None, as_of_limit: datetime | None
                       ) -> Decisions:
    """Decide every subscription whose seat counts differ, from its change-log evidence.

    Args:
        groups: match.seat_counts(): one row per subscription.
        changes: the typed change log, None when the run has none.
        as_of_limit: `--as-of`.
    """
    import pandas as pd

    delta = groups["quantity_delta"]
    differences = groups.loc[delta.notna() & (delta != 0)]
    if changes is not None:
        evidence = find_evidence(differences, changes, as_of_limit)
    else:
        evidence = pd.DataFrame({"group": pd.Series(dtype="int64"), "change_id": pd.Series(dtype="str"),
                                 "quantity_delta": pd.Series(dtype=object)})
    by_group: dict[int, list[dict[str, Any]]] = {}
    for record in evidence.to_dict("records"):
        by_group.setdefault(int(record["group"]), []).append({str(k): v for k, v in record.items()})
    rows = []
    for key, provider, subscription, as_of in _iter(differences):
        records = by_group.get(key, [])
        status, reason, residual, text = decide(provider, subscription, records, as_of, changes is not None)
        rows.append((key, str(status), str(reason), residual, text, [r["change_id"] for r in records]))
    decided = pd.DataFrame(rows, columns=["group", "status", "reason", "residual", "explanation", "evidence"])
    return Decisions(groups=groups, decided=decided, evidence=evidence)


def _iter(differences: pd.DataFrame) -> Iterable[tuple[int, Decimal, Decimal, str]]:
    return zip(differences["group"], differences["provider_quantity"],
               differences["subscription_quantity"], (date_text(d) for d in differences["as_of"]),
               strict=True)


def explain_lines(lines: pd.DataFrame, decisions: Decisions) -> Verdicts:
    """Status, reason and explanation of every line, and the quantities it shows (rules 2–6).

    A seat line of a subscription with a difference takes the subscription's decision; the
    other lines are matched (equal seats, usage, one-time) or unmatched.
    """
    import numpy as np
    import pandas as pd

    index = lines.index
    groups, decided = decisions.groups, decisions.decided
    at_group = group_positions(groups["group"], lines["group"])
    at_decided = group_positions(decided["group"], lines["group"])
    seat = (lines["kind"] == Kind.SEAT.value).to_numpy()
    matched = (lines["sub_key"] != "").to_numpy()
    decided_line = seat & (at_decided >= 0)
    provider_quantity = carry(groups["provider_quantity"], at_group, index)
    as_of = date_column(carry(groups["as_of"], at_group, index, pd.NaT))
    no_count = seat & matched & ~decided_line & provider_quantity.isna().to_numpy()
    usage = (lines["kind"] == Kind.USAGE.value).to_numpy()
    conditions = [~matched, decided_line, seat & ~no_count, seat, usage]
    status = np.select(conditions, [Status.UNMATCHED.value, carry(decided["status"], at_decided, index, ""),
                                    Status.MATCHED.value, Status.MATCHED.value, Status.MATCHED.value],
                       Status.MATCHED.value)
    reason = np.select(conditions, [Reason.SUBSCRIPTION_NOT_FOUND.value,
                                    carry(decided["reason"], at_decided, index, ""), Reason.QUANTITY_EQUAL.value,
                                    Reason.QUANTITY_EQUAL.value, Reason.USAGE_LINE.value],
                       Reason.ONE_TIME_LINE.value)
    text = _line_texts(lines, conditions, carry(decided["explanation"], at_decided, index, ""),
                       provider_quantity, as_of)
    evidence = carry(decided["evidence"], at_decided, index, None)
    no_evidence: list[str] = []
    evidence = evidence.where(evidence.notna(), pd.Series([no_evidence] * len(index), index=index, dtype=object))
    return Verdicts(
        status=status, reason=reason, explanation=text, evidence=evidence,
        residual=carry(decided["residual"], at_decided, index).where(decided_line, None),
        provider_quantity=provider_quantity.where(seat, None),
        quantity_delta=carry(groups["quantity_delta"], at_group, index).where(seat, None),
        as_of=as_of.where(seat, ""))


def _line_texts(lines: pd.DataFrame, conditions: list[Any], decided: pd.Series, provider_quantity: pd.Series,
                as_of: pd.Series) -> Any:
    """The explanation of every line, each template built only for the lines it applies to."""
    import numpy as np

    unmatched, decided_line, equal, no_event, usage = conditions
    text = np.full(len(lines), "", dtype=object)
    sub_id = lines["matched_subscription_id"]

    def fill(mask: Any, build: Callable[[Any], Any]) -> None:
        if mask.any():
            text[mask] = np.asarray(build(mask), dtype=object)

    fill(unmatched, lambda m: "Subscription " + lines["subscription_id"][m] + " is not in the subscription "
         "export: this cost (" + mapped_texts(lines["subtotal"][m], str) + " " + lines["currency"][m]
         + ") is never re-billed.")
    fill(decided_line, lambda m: decided[m].to_numpy())
    fill(equal & ~decided_line & ~unmatched, lambda m: "Provider and subscription both have " + mapped_texts(
        provider_quantity[m], seats_text, "? seats") + " (provider as of " + as_of[m] + ").")
    fill(no_event & ~equal & ~decided_line & ~unmatched,
         lambda m: "Only credits or reversals for this subscription on the invoice: no seat count to compare.")
    fill(usage & ~unmatched, lambda m: "Usage on subscription " + sub_id[m] + "; quantity rules do not apply "
         "to usage lines.")
    one_time = ~unmatched & (lines["kind"] == Kind.ONE_TIME.value).to_numpy()
    fill(one_time, lambda m: "One-time charge on subscription " + sub_id[m] + "; quantity rules do not apply "
         "to one-time lines.")
    fallback = (lines["match_method"] == MatchMethod.CUSTOMER_PRODUCT.value).to_numpy()
    fill(fallback, lambda m: text[m] + (" Matched on customer and product: the export has this subscription as "
                                        + sub_id[m] + ".").to_numpy(dtype=object))
    return text


def seats_text(quantity: Decimal) -> str:
    """'12 seats', '1 seat'."""
    return f"{quantity_text(quantity)} seat{'s' if quantity != 1 else ''}"


def missing_texts(missing: pd.DataFrame, period: str | None) -> pd.Series:
    """Why each missing subscription is listed (reason not_on_invoice)."""
    due = "every month" if period is None else period
    return ("Active " + missing["frequency"] + " subscription with "
            + missing["quantity"].map(quantity_text).astype("str")
            + f" seats is due in {due} but has no line on the invoice.")


def confirmed_text(confirmed_by: str, confirmed_at: str, note: str) -> str:
    """The sentence a confirmation adds to an explanation (rule 9)."""
    return f" Confirmed by {confirmed_by} on {confirmed_at[:10]}: {note.rstrip('.')}."
