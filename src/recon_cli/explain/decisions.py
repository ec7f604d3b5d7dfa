"""Why a line has its status: the decision on each seat difference (PRODUCT.md §3 rules 4–6).

Which change-log records count is evidence.py's; here a subscription's difference is explained,
partially explained or not, and each line gets its status, reason and explanation, in the words of
explain/words.py.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from recon_cli.evidence import SAME_DAY, SCHEDULED, classify_records, is_evidence
from recon_cli.explain.words import (
    asides,
    date_text,
    listed,
    money_text,
    quantity_text,
    seats_text,
    signed,
    unknown_count_text,
)
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
        records: the change-log records of the subscriptions on the invoice, each with its `role`
            (evidence.classify_records); `scheduled` per `group` lists the scheduled ones.
        scheduled: one row per subscription with scheduled records: `group`, `scheduled` (ids).
    """

    groups: pd.DataFrame
    decided: pd.DataFrame
    records: pd.DataFrame
    scheduled: pd.DataFrame


@dataclass(frozen=True)
class Verdicts:
    """Per invoice line (aligned with the lines): the columns the explain stage owns."""

    status: Any
    reason: Any
    explanation: Any
    evidence: pd.Series
    scheduled: pd.Series
    residual: pd.Series
    provider_quantity: pd.Series
    quantity_delta: pd.Series
    as_of: pd.Series


def decide(provider: Decimal, subscription: Decimal, records: list[dict[str, Any]], as_of: str,
           has_change_log: bool, same_day: list[dict[str, Any]] | None = None,
           scheduled: list[dict[str, Any]] | None = None, cancelled: bool = False) -> tuple[str, str, Decimal, str]:
    """Status, reason, residual and explanation of one subscription's seat difference.

    The residual is what no record explains: provider + Σ evidence − subscription. An explanation
    that rests on a Failed Provisioning record keeps reason `failed_provisioning`: the change never
    reached the provider and needs a person to retry it.
    """
    delta = provider - subscription
    state = " (cancelled)" if cancelled else ""
    head = (f"Provider has {seats_text(provider)} as of {as_of}; the subscription has "
            f"{quantity_text(subscription)}{state} ({signed(delta)}).")
    aside = asides(same_day or [], scheduled or [])
    if not records:
        if not has_change_log:
            return (Status.UNEXPLAINED, Reason.NO_CHANGE_LOG, delta,
                    f"{head} No change log was given, so the difference cannot be explained.{aside}")
        return (Status.UNEXPLAINED, Reason.NO_EVIDENCE, delta,
                f"{head} No change-log record after {as_of}, awaiting or failed provisioning explains it.{aside}")
    total = sum((r["quantity_delta"] for r in records), Decimal(0))
    residual = provider + total - subscription
    kinds = {r["role"] for r in records}
    if EvidenceKind.FAILED_PROVISIONING.value in kinds:
        reason = Reason.FAILED_PROVISIONING
    else:
        reason = Reason(kinds.pop()) if len(kinds) == 1 else Reason.SEVERAL_CAUSES
    retry = (" The failed change never reached the provider: retry it, or correct the billing system."
             if reason == Reason.FAILED_PROVISIONING else "")
    if residual == 0:
        return Status.EXPLAINED, reason, residual, f"{head} Explained by {listed(records)}.{retry}{aside}"
    return (Status.PARTIALLY_EXPLAINED, reason, residual,
            f"{head} Change-log records account for {signed(total)}: {listed(records)}; "
            f"{signed(residual)} seats remain unexplained.{retry}{aside}")


def decide_differences(groups: pd.DataFrame, changes: pd.DataFrame | None, run_as_of: datetime) -> Decisions:
    """Decide every subscription whose seat counts differ (or cannot be known), from its change log.

    Args:
        groups: match.seat_counts(): one row per subscription.
        changes: the typed change log, None when the run has none.
        run_as_of: the run's as-of: records effective after it are scheduled.
    """
    import pandas as pd

    if changes is not None:
        records = classify_records(groups, changes, run_as_of)
    else:
        records = pd.DataFrame({"group": pd.Series(dtype="int64"), "change_id": pd.Series(dtype="str"),
                                "role": pd.Series(dtype="str"), "subscription_id_key": pd.Series(dtype="str")})
    by_group: dict[int, list[dict[str, Any]]] = {}
    for record in records.loc[records["role"] != "old"].to_dict("records"):
        by_group.setdefault(int(record["group"]), []).append({str(k): v for k, v in record.items()})
    delta = groups["quantity_delta"]
    differences = groups.loc[(delta.notna() & (delta != 0)) | groups["count_unknown"]]
    rows: list[tuple[int, str, str, Decimal | None, str, list[str]]] = []
    for key, provider, subscription, as_of, unknown, status in _iter(differences):
        named = by_group.get(key, [])
        evidence = [r for r in named if r["role"] not in (SCHEDULED, SAME_DAY)]
        if unknown:
            rows.append((key, Status.UNEXPLAINED.value, Reason.SEAT_COUNT_UNKNOWN.value, None,
                         unknown_count_text(subscription, as_of), []))
            continue
        decision = decide(provider, subscription, evidence, as_of, changes is not None,
                          [r for r in named if r["role"] == SAME_DAY], [r for r in named if r["role"] == SCHEDULED],
                          cancelled=status == "cancelled")
        rows.append((key, str(decision[0]), str(decision[1]), decision[2], decision[3],
                     [r["change_id"] for r in evidence]))
    decided = pd.DataFrame(rows, columns=["group", "status", "reason", "residual", "explanation", "evidence"])
    scheduled = records.loc[records["role"] == SCHEDULED].groupby("group", sort=False)["change_id"].agg(list)
    return Decisions(groups=groups, decided=decided, records=records,
                     scheduled=pd.DataFrame({"group": scheduled.index.to_numpy(dtype="int64"),
                                             "scheduled": scheduled.to_numpy()}))


def _iter(differences: pd.DataFrame) -> Iterable[tuple[int, Decimal, Decimal, str, bool, str]]:
    status = differences["subscription_status"] if "subscription_status" in differences else [""] * len(differences)
    return zip(differences["group"], differences["provider_quantity"], differences["subscription_quantity"],
               (date_text(d) for d in differences["as_of"]), differences["count_unknown"], status, strict=True)


def evidence_records(decisions: Decisions) -> pd.DataFrame:
    """The records explanations name as evidence or scheduled: EVIDENCE_FIELDS as text, one row each."""
    import pandas as pd

    records = decisions.records
    decided = set(decisions.decided["group"])
    named = records.loc[(is_evidence(records["role"]) & records["group"].isin(decided))
                        | (records["role"] == SCHEDULED)] if len(records) else records
    if named.empty:
        return pd.DataFrame({name: pd.Series(dtype="object") for name in EVIDENCE_FIELDS})
    unique = named.drop_duplicates(["subscription_id_key", "change_id"])
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
        "evidence_kind": unique["role"].to_numpy(),
    }, columns=list(EVIDENCE_FIELDS))


def explain_lines(lines: pd.DataFrame, decisions: Decisions) -> Verdicts:
    """Status, reason and explanation of every line, and the quantities it shows (rules 2–6).

    A seat line of a subscription with a difference takes the subscription's decision; the
    other lines are matched (equal seats, credits only, usage, one-time) or unmatched.
    """
    import numpy as np
    import pandas as pd

    index = lines.index
    groups, decided = decisions.groups, decisions.decided
    at_group = group_positions(groups["group"], lines["group"])
    at_decided = group_positions(decided["group"], lines["group"])
    at_scheduled = group_positions(decisions.scheduled["group"], lines["group"])
    seat = (lines["kind"] == Kind.SEAT.value).to_numpy()
    matched = (lines["sub_key"] != "").to_numpy()
    decided_line = seat & matched & (at_decided >= 0)
    provider_quantity = carry(groups["provider_quantity"], at_group, index)
    as_of = date_column(carry(groups["as_of"], at_group, index, pd.NaT))
    credit_only = seat & matched & ~decided_line & provider_quantity.isna().to_numpy()
    usage = (lines["kind"] == Kind.USAGE.value).to_numpy()
    rejected = (lines["rejected_row"].astype("int64") >= 0).to_numpy() if "rejected_row" in lines else False
    conditions = [~matched, decided_line, credit_only, seat, usage]
    status = np.select(conditions, [Status.UNMATCHED.value, carry(decided["status"], at_decided, index, ""),
                                    Status.MATCHED.value, Status.MATCHED.value, Status.MATCHED.value],
                       Status.MATCHED.value)
    reason = np.select(conditions, [np.where(rejected, Reason.SUBSCRIPTION_REJECTED.value,
                                             Reason.SUBSCRIPTION_NOT_FOUND.value),
                                    carry(decided["reason"], at_decided, index, ""), Reason.CREDIT_ONLY.value,
                                    Reason.QUANTITY_EQUAL.value, Reason.USAGE_LINE.value],
                       Reason.ONE_TIME_LINE.value)
    text = _line_texts(lines, conditions, rejected, carry(decided["explanation"], at_decided, index, ""),
                       provider_quantity, as_of)
    empty: list[str] = []
    evidence = carry(decided["evidence"], at_decided, index, None).where(decided_line, None)
    scheduled = carry(decisions.scheduled["scheduled"], at_scheduled, index, None).where(seat & matched, None)
    return Verdicts(
        status=status, reason=reason, explanation=text,
        evidence=evidence.where(evidence.notna(), pd.Series([empty] * len(index), index=index, dtype=object)),
        scheduled=scheduled.where(scheduled.notna(), pd.Series([empty] * len(index), index=index, dtype=object)),
        residual=carry(decided["residual"], at_decided, index).where(decided_line, None),
        provider_quantity=provider_quantity.where(seat, None),
        quantity_delta=carry(groups["quantity_delta"], at_group, index).where(seat, None),
        as_of=as_of.where(seat, ""))


def _line_texts(lines: pd.DataFrame, conditions: list[Any], rejected: Any, decided: pd.Series,
                provider_quantity: pd.Series, as_of: pd.Series) -> Any:
    """The explanation of every line, each template built only for the lines it applies to."""
    import numpy as np

    unmatched, decided_line, credit_only, seat, usage = conditions
    text = np.full(len(lines), "", dtype=object)
    sub_id = lines["matched_subscription_id"]

    def fill(mask: Any, build: Callable[[Any], Any]) -> None:
        if mask.any():
            text[mask] = np.asarray(build(mask), dtype=object)

    def cost(m: Any) -> Any:
        return mapped_texts(lines["subtotal"][m], money_text) + " " + lines["currency"][m]

    credit = lines["negative"].to_numpy(dtype=bool)
    fill(unmatched & ~rejected & ~credit, lambda m: "Subscription " + lines["subscription_id"][m] + " is not in the "
         "subscription export: this cost (" + cost(m) + ") is never re-billed.")
    fill(unmatched & ~rejected & credit, lambda m: "Subscription " + lines["subscription_id"][m] + " is not in the "
         "subscription export: this credit (" + cost(m) + ") is never passed on.")
    fill(unmatched & rejected, lambda m: "Subscription " + lines["subscription_id"][m] + " is in the subscription "
         "export, but its row was rejected (" + lines["rejected_file"][m] + " row "
         + lines["rejected_row"][m].astype("str") + ", column '" + lines["rejected_column"][m] + "': "
         + lines["rejected_message"][m] + "), so this cost (" + cost(m) + ") could not be checked. Fix that row "
         "and run again.")
    fill(decided_line, lambda m: decided[m].to_numpy())
    fill(credit_only, lambda m: np.full(int(m.sum()), "Only credits or reversals for this subscription on the "
                                        "invoice: no seat count to compare.", dtype=object))
    fill(seat & ~decided_line & ~credit_only & ~unmatched, lambda m: "Provider and subscription both have "
         + mapped_texts(provider_quantity[m], seats_text, "? seats") + " (provider as of " + as_of[m] + ").")
    fill(usage & ~unmatched, lambda m: "Usage on subscription " + sub_id[m] + "; quantity rules do not apply "
         "to usage lines.")
    one_time = ~unmatched & (lines["kind"] == Kind.ONE_TIME.value).to_numpy()
    fill(one_time, lambda m: "One-time charge on subscription " + sub_id[m] + "; quantity rules do not apply "
         "to one-time lines.")
    fallback = (lines["match_method"] == MatchMethod.CUSTOMER_PRODUCT.value).to_numpy()
    fill(fallback, lambda m: text[m] + (" Matched on customer and product: the export has this subscription as "
                                        + sub_id[m] + ".").to_numpy(dtype=object))
    return text
