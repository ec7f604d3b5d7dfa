"""What a stored run says about one line or subscription: indexed lookups, no run is loaded."""

from __future__ import annotations

import re
import sqlite3
from typing import Any

from recon_cli.errors import RunNotFound
from recon_cli.records import (
    EVIDENCE_FIELDS,
    LINE_FIELDS,
    MAX_INVOICES,
    MISSING_FIELDS,
    Confirmation,
    EvidenceRecord,
    Explanation,
)
from recon_cli.store.history import customer_subscriptions, subscription_history
from recon_cli.store.schema import (
    FILE_KEY_SPAN,
    LINE_KEY_SPAN,
    TABLES,
    find_run,
    line_rows,
    quoted,
    rows,
    subscription_lines,
)

_MISSING_SELECT = f"SELECT {quoted(f.name for f in TABLES['missing'])} FROM missing"


def _subscription_lines(conn: sqlite3.Connection, run_id: str, seq: int, key: str) -> list[dict[str, Any]]:
    """A subscription's lines in one run, its own and those matched to it from another id, in invoice order."""
    return sorted(subscription_lines(conn, run_id, seq, key),
                  key=lambda line: (line["row"] is None, line["row"] or 0, line["rowid"]))


def find(conn: sqlite3.Connection, run_id: str, seq: int, query: str, whole: bool = False,
         ) -> tuple[str | None, str, list[dict[str, Any]], list[dict[str, Any]]]:
    """(line id if `query` is one, subscription lower-cased, lines, missing rows) it names.

    `whole`: all the lines of a line's subscription rather than the one line.
    """
    query = query.strip()
    row = re.fullmatch(r".+-(\d{1,8})", query)
    keys = [seq * LINE_KEY_SPAN + index * FILE_KEY_SPAN + int(row[1]) for index in range(MAX_INVOICES)] if row else []
    lines = line_rows(conn, f"id IN ({', '.join('?' * len(keys))})", keys) if keys else []
    lines = [line for line in lines if line["line_id"].lower() == query.lower()]
    if lines:
        line_id = lines[0]["line_id"]
        key = (lines[0]["matched_subscription_id"] or lines[0]["subscription_id"] or "").lower()
        if whole and key:
            lines = _subscription_lines(conn, run_id, seq, key)
        return line_id, key, lines, []
    lines = _subscription_lines(conn, run_id, seq, query.lower())
    missing = rows(conn.execute(f"{_MISSING_SELECT} WHERE run_id = ? AND subscription_id = ?", (run_id, query)))
    if not lines and not missing:
        raise RunNotFound(f"no line or subscription '{query}' in run {run_id}; give a line id such as "
                          "G000123456-2 or a subscription id, or pick another run with --run")
    return None, query.lower(), lines, missing


def find_explanation(conn: sqlite3.Connection, query: str, run_id: str | None = None) -> Explanation:
    """What a run (the newest by default) says about a line, a subscription or a customer, with its evidence
    and the subscription's history across runs.

    Raises RunNotFound when there is no such run, or the id is neither a line, a subscription nor a
    customer in it; ValueError when a name fits several customers (the message lists them).
    """
    run_id, period, invoice_file, _, seq = find_run(conn, run_id)
    try:
        line_id, key, lines, missing = find(conn, run_id, seq, query)
    except RunNotFound:
        found = customer_subscriptions(conn, run_id, query)
        return Explanation(run_id=run_id, query=query, matched_by="customer", period=period,
                           invoice_file=invoice_file, subscriptions=found,
                           customer={"customer_id": found[0]["customer_id"] or "",
                                     "customer_name": found[0]["customer_name"] or ""})
    named = list(dict.fromkeys(c for line in lines for c in (line["evidence"] or "").split(",") if c))
    subscriptions = {s for line in lines for s in (line["subscription_id"], line["matched_subscription_id"])
                     if s}
    records = rows(conn.execute(f"SELECT {quoted(EVIDENCE_FIELDS)} FROM evidence WHERE run_id = ? AND "
                                f"subscription_id IN ({', '.join('?' * len(subscriptions))})",
                                (run_id, *subscriptions)))
    evidence = {r["change_id"]: EvidenceRecord.model_validate(r) for r in records if r["change_id"] in named}
    keys = sorted({key, *(s.lower() for s in subscriptions)})
    found = rows(conn.execute(
        f"SELECT * FROM confirmations WHERE subscription_id IN ({', '.join('?' * len(keys))})", keys))
    return Explanation(
        run_id=run_id, query=query, matched_by="line_id" if line_id else "subscription_id", period=period,
        invoice_file=invoice_file, lines=[{name: line[name] for name in LINE_FIELDS} for line in lines],
        evidence=[evidence[c] for c in named if c in evidence],
        missing={name: missing[0][name] for name in MISSING_FIELDS} if missing else None,
        confirmation=Confirmation.model_validate(found[0]) if found else None,
        history=subscription_history(conn, key) if key else [])
