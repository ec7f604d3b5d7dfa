"""Confirmations in the store: saving and withdrawing them, and moving the run's lines with them.

The rule (when a confirmation holds, what it adds to an explanation, what the summary becomes)
is confirm.py's; this module only reads and writes it.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from typing import Any

from recon_cli import confirm as rule
from recon_cli.errors import InputError, RunNotFound
from recon_cli.records import Confirmation
from recon_cli.store.lookup import find
from recon_cli.store.schema import find_run, load_summary, quoted, rows, save_summary, transaction

_SAVE = (f"INSERT OR REPLACE INTO confirmations ({quoted(Confirmation.model_fields)}) "
         f"VALUES ({', '.join(':' + f for f in Confirmation.model_fields)})")


def load_confirmations(conn: sqlite3.Connection) -> list[Confirmation]:
    """Every active confirmation, for the pipeline to carry into a new run."""
    found = rows(conn.execute("SELECT * FROM confirmations ORDER BY subscription_id"))
    return [Confirmation.model_validate(row) for row in found]


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def confirm(conn: sqlite3.Connection, query: str, note: str, by: str,
            run_id: str | None = None) -> Confirmation:
    """Confirm the difference of a subscription, or of a line's subscription, in a run.

    As the pipeline does in later runs (PRODUCT.md §3 rule 9), the subscription's lines that are not
    matched and show the confirmed quantities become `confirmed`, and the run's summary follows.
    A subscription missing from the invoice can be confirmed too: it stays listed, reason
    `confirmed`, and no longer needs a person while its quantity stays the same.
    Raises RunNotFound for an unknown run or id; InputError when the line has no subscription id.
    """
    run_id, *_, seq = find_run(conn, run_id)
    line_id, key, lines, missing = find(conn, run_id, seq, query, whole=True)
    if not lines and missing:
        return _confirm_missing(conn, run_id, missing[0], note, by)
    if not lines or not key:
        raise InputError(f"'{query}' is not on an invoice line with a subscription id, so there is "
                         "nothing to confirm; `recon explain` shows what the run says about it")
    seat = next((line for line in lines if line["provider_quantity"] or line["subscription_quantity"]),
                lines[0])
    confirmation = Confirmation(
        subscription_id=key, provider_quantity=seat["provider_quantity"],
        subscription_quantity=seat["subscription_quantity"], note=note, confirmed_by=by,
        confirmed_at=_now(), run_id=run_id, line_id=line_id)
    moved = [line for line in lines if line["status"] != "matched"
             and rule.holds(confirmation, line["provider_quantity"], line["subscription_quantity"])]
    with transaction(conn):
        conn.execute(_SAVE, confirmation.model_dump())
        # SET reads the old row, so a re-confirm keeps the first original and replaces the note. A
        # line saved already confirmed (carried over by the pipeline) keeps the original it was saved with.
        conn.executemany("""UPDATE lines SET
            original_status = COALESCE(original_status, NULLIF(status, 'confirmed')),
            original_reason = COALESCE(original_reason, NULLIF(reason, 'confirmed')),
            original_explanation = COALESCE(original_explanation,
                CASE WHEN status <> 'confirmed' THEN explanation END),
            original_money_at_risk = COALESCE(original_money_at_risk,
                CASE WHEN status <> 'confirmed' THEN money_at_risk END),
            status = 'confirmed', reason = 'confirmed', money_at_risk = '0',
            explanation = COALESCE(original_explanation, explanation, '') || ? WHERE id = ?""",
                         [(rule.note_text(confirmation), line["rowid"]) for line in moved])
        summary = rule.summary_after(load_summary(conn, run_id),
                                     [(line, line["status"], "confirmed", "0") for line in moved])
        save_summary(conn, summary)
    return confirmation


def _confirm_missing(conn: sqlite3.Connection, run_id: str, missing: dict[str, Any], note: str, by: str
                     ) -> Confirmation:
    """Accept a subscription's absence from the invoice: it stays listed, no longer needing a person."""
    confirmation = Confirmation(
        subscription_id=str(missing["subscription_id"]).lower(), provider_quantity=None,
        subscription_quantity=missing["quantity"], note=note, confirmed_by=by, confirmed_at=_now(), run_id=run_id)
    with transaction(conn):
        conn.execute(_SAVE, confirmation.model_dump())
        conn.execute("""UPDATE missing SET
            original_reason = COALESCE(original_reason, NULLIF(reason, 'confirmed')),
            original_explanation = COALESCE(original_explanation,
                CASE WHEN reason <> 'confirmed' THEN explanation END),
            reason = 'confirmed', explanation = COALESCE(original_explanation, explanation, '') || ?
            WHERE run_id = ? AND subscription_id = ?""",
                     (rule.note_text(confirmation), run_id, missing["subscription_id"]))
        if missing["reason"] != "confirmed":
            save_summary(conn, rule.summary_after(load_summary(conn, run_id), [], missing_change=-1))
    return confirmation


def unconfirm(conn: sqlite3.Connection, query: str, run_id: str | None = None) -> Confirmation:
    """Withdraw a subscription's confirmation and put its lines in the run back as they were.

    Raises RunNotFound for an unknown run, or when nothing is confirmed for the id.
    """
    run_id, *_, seq = find_run(conn, run_id)
    try:
        _, key, lines, missing = find(conn, run_id, seq, query, whole=True)
    except RunNotFound:  # not in this run: the confirmation is withdrawn all the same
        key, lines, missing = query.strip().lower(), [], []
    found = rows(conn.execute("SELECT * FROM confirmations WHERE subscription_id = ?", (key,)))
    if not found:
        raise RunNotFound(f"nothing is confirmed for '{query}'; `recon explain {query}` shows its status")
    moves = [(line, *rule.unconfirmed(line)) for line in lines if line["status"] == "confirmed"]
    with transaction(conn):
        conn.execute("DELETE FROM confirmations WHERE subscription_id = ?", (key,))
        conn.executemany("""UPDATE lines SET status = ?, reason = ?, money_at_risk = ?,
            explanation = COALESCE(original_explanation, explanation), original_status = NULL,
            original_reason = NULL, original_explanation = NULL, original_money_at_risk = NULL
            WHERE id = ?""", [(status, reason, money, line["rowid"]) for line, status, reason, money in moves])
        restored = 0
        if missing and not lines and missing[0]["reason"] == "confirmed":
            conn.execute("""UPDATE missing SET reason = COALESCE(original_reason, 'not_on_invoice'),
                explanation = COALESCE(original_explanation, explanation), original_reason = NULL,
                original_explanation = NULL WHERE run_id = ? AND subscription_id = ?""",
                         (run_id, missing[0]["subscription_id"]))
            restored = 1
        summary = rule.summary_after(load_summary(conn, run_id),
                                     [(line, "confirmed", status, money) for line, status, _, money in moves],
                                     missing_change=restored)
        save_summary(conn, summary)
    return Confirmation.model_validate(found[0])
