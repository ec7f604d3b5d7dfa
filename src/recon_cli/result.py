"""ReconResult: what one run produced, shared by report, export and store.

Kept apart from pipeline.py so that readers of a result (and `recon export`, which
rebuilds one from the store) do not import the reconciliation machinery.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

    from recon_cli.cells import HeldCells
    from recon_cli.models import RunSummary


# Columns of ReconResult.invoice_raw beside the provider's own: the spreadsheet row and the file name.
ROW_COLUMN = "__row__"
FILE_COLUMN = "__file__"


@dataclass(frozen=True)
class ReconResult:
    """Frames plus summary.

    Attributes:
        lines: one row per loaded invoice line, columns LINE_FIELDS, in input order.
        missing: subscriptions due this period and absent from the invoice, MISSING_FIELDS.
        evidence: change-log records used by any explanation, EVIDENCE_FIELDS.
        rejects: input rows that could not be used, REJECT_FIELDS.
        summary: the counts and totals.
        invoice_raw: the invoices exactly as read (all text, original headers), so the CSV export can
            append results to the provider's own columns: compressed (cells.py), or a frame with
            ROW_COLUMN holding the spreadsheet row and FILE_COLUMN the file. None when rebuilt from the store.
        warnings: cells that were read with a doubt, or left blank: REJECT_FIELDS (PRODUCT.md §2).
        to_bill, margin, usage_billing: what to bill and what is earned (rule 10): TO_BILL_FIELDS,
            MARGIN_FIELDS, USAGE_BILLING_FIELDS.
        change_log_mismatch: subscriptions whose change-log deltas do not add up to their seats, when the
            log holds the whole history (Work 365's "License Change Log Mismatch"): CHANGE_LOG_MISMATCH_FIELDS.
        subscriptions: one row per subscription, lines and missing alike (history.py), what `recon diff`
            and the history in `recon explain` compare across runs: SUBSCRIPTION_STATE_FIELDS.
        since_last: the exceptions against the previous month's run (DIFF_FIELDS), when the store
            holds one: the workbook's "Since last month" sheet. Not stored (`recon diff` recomputes it).
    """

    lines: pd.DataFrame
    missing: pd.DataFrame
    evidence: pd.DataFrame
    rejects: pd.DataFrame
    summary: RunSummary
    invoice_raw: HeldCells | pd.DataFrame | None = field(default=None)
    warnings: pd.DataFrame = field(default_factory=lambda: _empty("REJECT_FIELDS"))
    to_bill: pd.DataFrame = field(default_factory=lambda: _empty("TO_BILL_FIELDS"))
    margin: pd.DataFrame = field(default_factory=lambda: _empty("MARGIN_FIELDS"))
    usage_billing: pd.DataFrame = field(default_factory=lambda: _empty("USAGE_BILLING_FIELDS"))
    change_log_mismatch: pd.DataFrame = field(default_factory=lambda: _empty("CHANGE_LOG_MISMATCH_FIELDS"))
    subscriptions: pd.DataFrame = field(default_factory=lambda: _empty("SUBSCRIPTION_STATE_FIELDS"))
    since_last: pd.DataFrame | None = None


def _empty(fields: str) -> pd.DataFrame:
    """An empty frame with the columns of a records field list (by name)."""
    import pandas as pd

    from recon_cli import records

    return pd.DataFrame({name: pd.Series(dtype="object") for name in getattr(records, fields)})
