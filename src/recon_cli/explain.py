"""Why a seat count differs: the change-log records the provider could not reflect yet.

PRODUCT.md §3 rule 5. Evidence for a subscription is each change-log record effective
after the provider's as-of date (and not after `--as-of`), or whose provisioning failed
or is still awaited, whenever effective. Each Reason has one message template here.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from recon_cli.formats.subscriptions import PROVISIONING_AWAITING, PROVISIONING_FAILED
from recon_cli.models import EVIDENCE_FIELDS, EvidenceKind, Reason, Status

if TYPE_CHECKING:
    import pandas as pd

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
    return used.sort_values(["group", "effective_date", "row"], kind="stable")


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


def explain_differences(differences: pd.DataFrame, evidence: pd.DataFrame, has_change_log: bool
                        ) -> pd.DataFrame:
    """Decide every subscription with a seat difference.

    Returns:
        one row per `group`: status, reason, residual, explanation, evidence (change ids).
    """
    import pandas as pd

    by_group: dict[int, list[dict[str, Any]]] = {}
    for record in evidence.to_dict("records"):
        by_group.setdefault(record["group"], []).append(record)
    rows = []
    for key, provider, subscription, as_of in _iter(differences):
        records = by_group.get(key, [])
        status, reason, residual, text = decide(provider, subscription, records, as_of, has_change_log)
        rows.append((key, str(status), str(reason), residual, text, [r["change_id"] for r in records]))
    return pd.DataFrame(rows, columns=["group", "status", "reason", "residual", "explanation",
                                       "evidence"])


def _iter(differences: pd.DataFrame) -> Iterable[tuple[int, Decimal, Decimal, str]]:
    return zip(differences["group"], differences["provider_quantity"],
               differences["subscription_quantity"], (date_text(d) for d in differences["as_of"]),
               strict=True)
