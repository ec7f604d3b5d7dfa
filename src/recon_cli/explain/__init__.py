"""Why each line has its status, and every sentence that says so (PRODUCT.md §3 rules 4–6, 8–11).

`decisions` decides each seat difference from its evidence and gives every line its status, reason
and explanation; `words` holds every sentence and the words they are made of. The names below are
the stage's interface.
"""

from recon_cli.explain.decisions import Decisions, Verdicts, decide, decide_differences, evidence_records, explain_lines
from recon_cli.explain.words import (
    NOT_INVOICED,
    confirmed_text,
    date_text,
    finding_sentences,
    lapsed_text,
    missing_texts,
    money_text,
    not_checked_note,
    period_warning,
    quantity_text,
    record_text,
    seats_text,
    signed,
)

__all__ = ["NOT_INVOICED", "Decisions", "Verdicts", "confirmed_text", "date_text", "decide", "decide_differences",
           "evidence_records", "explain_lines", "finding_sentences", "lapsed_text", "missing_texts", "money_text",
           "not_checked_note", "period_warning", "quantity_text", "record_text", "seats_text", "signed"]
