"""ReconResult: what one run produced, shared by report, export and store.

Kept apart from pipeline.py so that readers of a result (and `recon export`, which
rebuilds one from the store) do not import the reconciliation machinery.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

    from recon_cli.models import RunSummary


@dataclass(frozen=True)
class ReconResult:
    """Frames plus summary.

    Attributes:
        lines: one row per loaded invoice line, columns LINE_FIELDS, in input order.
        missing: subscriptions due this period and absent from the invoice, MISSING_FIELDS.
        evidence: change-log records used by any explanation, EVIDENCE_FIELDS.
        rejects: input rows that could not be used, REJECT_FIELDS.
        summary: the counts and totals.
        invoice_raw: the invoice exactly as read (all text, original headers), with a
            `__row__` column holding the spreadsheet row, so the CSV export can append
            results to the provider's own columns. None when rebuilt from the store.
    """

    lines: pd.DataFrame
    missing: pd.DataFrame
    evidence: pd.DataFrame
    rejects: pd.DataFrame
    summary: RunSummary
    invoice_raw: pd.DataFrame | None = field(default=None)
