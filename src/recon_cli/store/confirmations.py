"""Confirmations in the store: saving and withdrawing them, and moving the run's lines with them.

The rule (when a confirmation holds, what it adds to an explanation, what the summary becomes)
is confirm.py's; this module only reads and writes it.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from recon_cli import confirm as rule
from recon_cli.errors import InputError, RunNotFound
from recon_cli.records import Confirmation
from recon_cli.store.history import refresh_state
from recon_cli.store.lookup import find
from recon_cli.store.packing import extend_layout, pack
from recon_cli.store.schema import find_run, load_summary, open_store, quoted, rows, save_summary, transaction

_SAVE = (f"INSERT OR REPLACE INTO confirmations ({quoted(Confirmation.model_fields)}) "
         f"VALUES ({', '.join(':' + f for f in Confirmation.model_fields)})")


def load_confirmations(conn: sqlite3.Connection) -> list[Confirmation]:
    """Every active confirmation, for the pipeline to carry into a new run."""
    found = rows(conn.execute("SELECT * FROM confirmations ORDER BY subscription_id"))
    return [Confirmation.model_validate(row) for row in found]


def stored_confirmations(path: Path) -> list[Confirmation]:
    """The confirmations of the store at `path` for a run that saves nothing (`--no-store`).

    The store is only read: none when there is no store yet, and nothing is created.
    """
    try:
        conn = open_store(path, writing=False)
    except RunNotFound:
        return []
    try:
        return load_confirmations(conn)
    finally:
        conn.close()


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _needs(line: dict[str, Any]) -> bool:
    """Whether a stored line needs a person (computed for lines saved before the field existed)."""
    if line.get("needs_person") is not None:
        return bool(line["needs_person"])
    return any(rule.findings(line["status"], line["reason"], line["price_status"]))


def confirm(conn: sqlite3.Connection, query: str, note: str, by: str,
            run_id: str | None = None) -> Confirmation:
    """Confirm the findings of a subscription, or of a line's subscription, in a run (see `confirm_many`)."""
    return confirm_many(conn, [(query, note, "")], by, run_id)[0]


def confirm_many(conn: sqlite3.Connection, items: list[tuple[str, str, str]], by: str,
                 run_id: str | None = None) -> list[Confirmation]:
    """Confirm several ids in one transaction: all of them, or (one id failing) none.

    Args:
        items: (id, note, where the id came from: "ids.csv row 3", or "" for the command line).

    Raises:
        RunNotFound, InputError: for the first id that cannot be confirmed, naming where it came from.
    """
    found_run, *_, seq = find_run(conn, run_id)
    done: list[Confirmation] = []
    with transaction(conn):
        for query, note, where in items:
            try:
                done.append(_confirm(conn, found_run, seq, query, note, by))
            except (RunNotFound, InputError) as exc:
                if not where:
                    raise
                raise type(exc)(f"{where}: {exc}; nothing was confirmed") from exc
    return done


def _confirm(conn: sqlite3.Connection, run_id: str, seq: int, query: str, note: str, by: str) -> Confirmation:
    """Confirm the findings of a subscription, or of a line's subscription, in a run (inside a transaction).

    As the pipeline does in later runs (PRODUCT.md §3 rule 9), the subscription's lines that need a
    person and show the confirmed values become `confirmed`, and the run's summary follows. A
    subscription missing from the invoice can be confirmed too: it stays listed, reason
    `confirmed`, and no longer needs a person while its quantity stays the same.
    Raises RunNotFound for an unknown run or id; InputError when the id needs nothing.
    """
    line_id, key, lines, missing = find(conn, run_id, seq, query, whole=True)
    if not lines and missing:
        return _confirm_missing(conn, run_id, missing[0], note, by)
    if not lines or not key:
        raise InputError(f"'{query}' is not on an invoice line with a subscription id, so there is "
                         "nothing to confirm; `recon explain` shows what the run says about it")
    # A confirmed line can be confirmed again, to replace the note.
    open_lines = [line for line in lines if _needs(line) or line["status"] == "confirmed"]
    if not open_lines:
        raise InputError(f"'{query}' needs nothing to confirm in run {run_id}: its lines are matched, explained "
                         "or already confirmed, with no price finding; `recon explain` shows them")
    seat = next((line for line in open_lines if line["provider_quantity"] or line["subscription_quantity"]),
                open_lines[0])
    confirmation = Confirmation(
        subscription_id=key, provider_quantity=seat["provider_quantity"],
        subscription_quantity=seat["subscription_quantity"], note=note, confirmed_by=by, confirmed_at=_now(),
        run_id=run_id, line_id=line_id, unit_cost=seat["unit_cost"], unit_price=seat["unit_price"])
    moved = [line for line in open_lines if rule.holds(confirmation, line)]
    after = {"status": "confirmed", "reason": "confirmed", "price_status": "confirmed", "needs_person": 0,
             **dict.fromkeys(rule.ACCEPTED_MONEY, "0")}
    conn.execute(_SAVE, confirmation.model_dump())
    _rewrite(conn, seq, [(line, _confirmed(line, rule.note_text(confirmation))) for line in moved])
    moves = [(line, {**after, "money_at_risk": line.get("unbilled_cost") or "0"}) for line in moved]
    save_summary(conn, rule.summary_after(load_summary(conn, run_id), moves))
    refresh_state(conn, run_id, seq, key)
    return confirmation


def _confirm_missing(conn: sqlite3.Connection, run_id: str, missing: dict[str, Any], note: str, by: str
                     ) -> Confirmation:
    """Accept a subscription's absence from the invoice: it stays listed, no longer needing a person."""
    if missing["reason"] == "confirmed":
        raise InputError(f"'{missing['subscription_id']}' is already confirmed in run {run_id}: it needs nothing")
    confirmation = Confirmation(
        subscription_id=str(missing["subscription_id"]).lower(), provider_quantity=None,
        subscription_quantity=missing["quantity"], note=note, confirmed_by=by, confirmed_at=_now(), run_id=run_id)
    conn.execute(_SAVE, confirmation.model_dump())
    conn.execute("""UPDATE missing SET original_reason = COALESCE(original_reason, reason),
        original_explanation = COALESCE(original_explanation, explanation), reason = 'confirmed',
        needs_person = 0, explanation = COALESCE(original_explanation, explanation, '') || ?
        WHERE run_id = ? AND subscription_id = ?""",
                 (rule.note_text(confirmation), run_id, missing["subscription_id"]))
    save_summary(conn, rule.summary_after(load_summary(conn, run_id), [], missing_change=-1))
    conn.execute("UPDATE subscriptions SET needs_person = 0, reason = 'confirmed', open_since = '' "
                 "WHERE run_id = ? AND subscription_key = ? AND kind = 'missing'",
                 (run_id, confirmation.subscription_id))
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
    moves = [(line, rule.unconfirmed(line)) for line in lines if line["status"] == "confirmed"]
    names = rule.RESTORED
    with transaction(conn):
        conn.execute("DELETE FROM confirmations WHERE subscription_id = ?", (key,))
        _rewrite(conn, seq, [(line, {**{n: int(back[n]) if n == "needs_person" and back[n] is not None else back[n]
                                          for n in names}, **dict.fromkeys(f"original_{n}" for n in names)})
                             for line, back in moves])
        restored = 0
        if missing and not lines and missing[0]["reason"] == "confirmed":
            conn.execute("""UPDATE missing SET reason = COALESCE(original_reason, 'not_on_invoice'),
                explanation = COALESCE(original_explanation, explanation), needs_person = 1, original_reason = NULL,
                original_explanation = NULL WHERE run_id = ? AND subscription_id = ?""",
                         (run_id, missing[0]["subscription_id"]))
            restored = 1
        save_summary(conn, rule.summary_after(load_summary(conn, run_id), moves, missing_change=restored))
        if restored:
            conn.execute("UPDATE subscriptions SET needs_person = 1, reason = 'not_on_invoice' WHERE run_id = ? "
                         "AND subscription_key = ? AND kind = 'missing'", (run_id, key))
        refresh_state(conn, run_id, seq, key)
    return Confirmation.model_validate(found[0])


def _confirmed(line: dict[str, Any], note: str) -> dict[str, Any]:
    """A line's fields once confirmed. A re-confirm keeps the first original and replaces the note; a line
    saved already confirmed (carried over by the pipeline) keeps the original it was saved with, or none."""
    changed: dict[str, Any] = {
        f"original_{name}": line[f"original_{name}"] if line[f"original_{name}"] is not None
        else (line[name] if line["status"] is not None and line["status"] != "confirmed" else None)
        for name in rule.RESTORED}
    changed.update({"status": "confirmed", "reason": "confirmed", "price_status": "confirmed", "needs_person": 0,
                    **dict.fromkeys(rule.ACCEPTED_MONEY, "0")})
    changed["money_at_risk"] = line["unbilled_cost"] if line["unbilled_cost"] is not None else "0"
    before = next((text for text in (line["original_explanation"], line["explanation"]) if text is not None), "")
    changed["explanation"] = before + note
    return changed


def _rewrite(conn: sqlite3.Connection, seq: int, changes: list[tuple[dict[str, Any], dict[str, Any]]]) -> None:
    """Store lines with some fields changed: each record packed again in its run's layout."""
    layout = extend_layout(conn, seq, [name for _, changed in changes for name, value in changed.items()
                                       if value is not None])
    conn.executemany("UPDATE lines SET record = ? WHERE id = ?",
                     [(pack([{**line, **changed}.get(name) for name in layout]), line["rowid"])
                      for line, changed in changes])
