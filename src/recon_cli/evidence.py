"""Which change-log records may explain a subscription's seat difference (PRODUCT.md §3 rule 5).

A record is *scheduled* when it takes effect after the run's as-of (`--as-of`, or the day the run
is made): it is shown, never counted. Of the others, a record is *evidence* when the provider could
not reflect it yet: effective after the provider's as-of (by calendar day), or whose provisioning
failed or is still awaited. A record effective on the provider's as-of day is taken as billed
(`same_day`): the explanation mentions it as not counted.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from recon_cli.formats.vocabularies import AWAITING, FAILED
from recon_cli.records import EvidenceKind

if TYPE_CHECKING:
    import pandas as pd

SCHEDULED = "scheduled"
SAME_DAY = "same_day"
OLD = "old"  # effective before the provider's as-of, provisioned: already reflected, not named


def classify_records(groups: pd.DataFrame, changes: pd.DataFrame, run_as_of: datetime) -> pd.DataFrame:
    """Each change-log record of the subscriptions in `groups`, with its `role` in their explanation.

    Args:
        groups: one row per subscription (`group`, `group_key`, `as_of`: the provider's as-of).
        changes: the typed change log.
        run_as_of: records effective after it are scheduled.

    Returns:
        the records joined to their subscription's `group`, with `role`: an EvidenceKind value,
        SCHEDULED, SAME_DAY or OLD; ordered by subscription, date and row.
    """
    import numpy as np

    joined = changes.merge(groups[["group", "group_key", "as_of"]], left_on="subscription_id_key",
                           right_on="group_key", how="inner", sort=False)
    day = joined["effective_date"].dt.normalize()
    scheduled = (joined["effective_date"] > run_as_of).to_numpy()
    failed = (joined["provisioning_key"] == FAILED).to_numpy()
    awaiting = (joined["provisioning_key"] == AWAITING).to_numpy()
    after = (day > joined["as_of"]).to_numpy()
    same_day = (day == joined["as_of"]).to_numpy()
    role = np.select(
        [scheduled, failed, awaiting, after, same_day],
        [SCHEDULED, EvidenceKind.FAILED_PROVISIONING.value, EvidenceKind.AWAITING_PROVISIONING.value,
         EvidenceKind.CHANGED_AFTER_AS_OF.value, SAME_DAY], OLD)
    ordered: pd.DataFrame = joined.assign(role=role).sort_values(["group", "effective_date", "row"], kind="stable")
    return ordered


def is_evidence(roles: pd.Series) -> pd.Series:
    return roles.isin([kind.value for kind in EvidenceKind])
