"""Runs compared month over month, from the `subscriptions` table: light (sqlite3 only).

`open_exceptions` gives a new run the exceptions still open from the month before (so that each
keeps its `open_since`), `subscription_history` is a subscription's row in every run,
`customer_subscriptions` answers `recon explain CUSTOMER`, and `compare_runs` is `recon diff`.
Subscriptions are compared by their lower-cased id, never by line id (line ids change with each
invoice).
"""

from __future__ import annotations

import sqlite3
from decimal import Decimal
from typing import Any

from recon_cli.comparison import amount as _amount
from recon_cli.comparison import compare
from recon_cli.errors import InputError, RunNotFound
from recon_cli.store.packing import unpack_list
from recon_cli.store.schema import find_run, rows

HISTORY_COLUMNS = ("run_id", "period", "label", "status", "reason", "price_status", "needs_person", "open_since",
                   "provider_quantity", "subscription_quantity", "quantity_delta", "money_at_risk", "over_billed",
                   "currency", "line_id")
_STATE = ("subscription_key, subscription_id, customer_id, customer_name, product, currency, kind, status, "
          "reason, price_status, needs_person, open_since, quantity_delta, money_at_risk, over_billed, line_id")


def open_exceptions(conn: sqlite3.Connection, period: str) -> dict[str, str]:
    """The subscriptions needing a person in the newest run of `period`, with their `open_since`."""
    found = conn.execute("SELECT run_id FROM runs WHERE period = ? ORDER BY seq DESC LIMIT 1", (period,)).fetchone()
    if found is None:
        return {}
    return {key: since or period for key, since in conn.execute(
        "SELECT subscription_key, open_since FROM subscriptions WHERE run_id = ? AND needs_person = 1", found)}


def subscription_history(conn: sqlite3.Connection, key: str, limit: int = 24) -> list[dict[str, Any]]:
    """The subscription in each stored run it appears in, newest first: one row per run."""
    # The runs, newest first, each searched for the key (the index leads with the run: m007); CROSS JOIN
    # keeps that order of the loops, so a store of many runs is searched once per run, never scanned.
    sql = (f"SELECT r.run_id, r.period, r.label, {', '.join('s.' + c for c in HISTORY_COLUMNS[3:])} "
           "FROM runs AS r CROSS JOIN subscriptions AS s ON s.run_id = r.run_id AND s.subscription_key = ? "
           "ORDER BY r.seq DESC LIMIT ?")
    return rows(conn.execute(sql, (key.strip().lower(), limit)))


def customer_subscriptions(conn: sqlite3.Connection, run_id: str, query: str) -> list[dict[str, Any]]:
    """The subscriptions of the customer `query` names in the run: its customer id, or its name (whole,
    else a part of it). RunNotFound when no customer answers; ValueError listing them when several do."""
    text = query.strip()
    # The run's customers (store/schema.py m006) are searched, then their subscriptions fetched by key.
    select = "SELECT customer_id, customer_name, subscription_keys FROM customers WHERE run_id = ? AND "
    customers = conn.execute(select + "customer_id = ? COLLATE NOCASE", (run_id, text)).fetchall()
    if not customers:
        customers = conn.execute(select + "customer_name = ? COLLATE NOCASE", (run_id, text)).fetchall()
    if not customers and len(text) >= 3:
        pattern = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        customers = conn.execute(select + "customer_name LIKE ? ESCAPE '\\'", (run_id, pattern)).fetchall()
    if not customers:
        raise RunNotFound(f"no line, subscription or customer '{query}' in run {run_id}; give a line id such as "
                          "G000123456-2, a subscription id, a customer id or a customer name")
    names = sorted({(name or "", customer_id or "") for customer_id, name, _ in customers})
    if len(names) > 1:
        listed = "; ".join(f"{name} ({customer_id})" if customer_id else name for name, customer_id in names[:10])
        raise InputError(f"'{query}' names {len(names)} customers in run {run_id}: {listed}"
                         f"{' ...' if len(names) > 10 else ''}; give the customer id or the whole name")
    found: list[dict[str, Any]] = []
    for customer_id, name, listed in customers:  # one, or a few that read alike (NULL and blank)
        keys = sorted({key for key in unpack_list(listed) if key is not None})
        for start in range(0, len(keys), 500):
            chunk = keys[start:start + 500]
            found += rows(conn.execute(
                f"SELECT rowid AS row_order, {_STATE} FROM subscriptions WHERE run_id = ? AND customer_id IS ? "
                f"AND customer_name IS ? AND subscription_key IN ({', '.join('?' * len(chunk))})",
                (run_id, customer_id, name, *chunk)))
    found.sort(key=lambda r: r.pop("row_order"))  # in the order the run was saved, as a customer index gave them
    return sorted(found, key=lambda r: (not r["needs_person"], -_amount(r["money_at_risk"]), r["product"] or ""))


def latest_two(conn: sqlite3.Connection) -> tuple[str, str]:
    """The two newest runs, older first (the default of `recon diff`)."""
    found = [row[0] for row in conn.execute("SELECT run_id FROM runs ORDER BY seq DESC LIMIT 2")]
    if len(found) < 2:
        raise RunNotFound("recon diff needs two stored runs; `recon runs` lists them")
    return found[1], found[0]


def compare_runs(conn: sqlite3.Connection, before: str, now: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """`recon diff`: exceptions (subscriptions needing a person) new, resolved, still open and changed.

    Returns:
        the two runs' facts (`before`, `now`: run id, period, label), and one row per subscription
        (DIFF_FIELDS): `change` is "new", "resolved", "changed" (still open, with another status,
        delta or money at risk) or "open" (still open, the same); `months_open` counts the months
        from `open_since` to the later run's period.
    """
    runs = {}
    for run_id in (before, now):
        found_id, period, _, _, seq = find_run(conn, run_id)
        label = conn.execute("SELECT label FROM runs WHERE run_id = ?", (found_id,)).fetchone()[0]
        runs[run_id] = {"run_id": found_id, "period": period, "label": label, "seq": seq}
    old = _states(conn, runs[before]["run_id"])
    new = _states(conn, runs[now]["run_id"])
    # Each side's counterpart of the other's exceptions (only exceptions are read: a run holds every
    # subscription, a million at most, and only the few needing a person matter here).
    old.update(_states(conn, runs[before]["run_id"], set(new) - set(old)))
    new.update(_states(conn, runs[now]["run_id"], set(old) - set(new)))
    facts = {name: {k: v for k, v in run.items() if k != "seq"} for name, run in
             (("before", runs[before]), ("now", runs[now]))}
    return facts, compare(old, new, runs[now]["period"] or "")


def earlier_states(conn: sqlite3.Connection, period: str, keys: set[str]) -> tuple[dict[str, Any] | None,
                                                                                  dict[str, dict[str, Any]]]:
    """The newest run of `period` (its facts) and its exceptions, plus its rows of `keys`: what a new run
    is compared with for its "Since last month" sheet. (None, {}) when no run of `period` is stored."""
    found = conn.execute("SELECT run_id, label FROM runs WHERE period = ? ORDER BY seq DESC LIMIT 1",
                         (period,)).fetchone()
    if found is None:
        return None, {}
    states = _states(conn, found[0])
    states.update(_states(conn, found[0], keys - set(states)))
    return {"run_id": found[0], "period": period, "label": found[1]}, states


def _states(conn: sqlite3.Connection, run_id: str, keys: set[str] | None = None) -> dict[str, dict[str, Any]]:
    """The run's subscriptions needing a person, or (`keys`) the rows of those subscriptions."""
    if keys is None:
        return {r["subscription_key"]: r for r in rows(conn.execute(
            f"SELECT {_STATE} FROM subscriptions WHERE run_id = ? AND needs_person = 1", (run_id,)))}
    found: dict[str, dict[str, Any]] = {}
    wanted = sorted(keys)
    for start in range(0, len(wanted), 500):
        chunk = wanted[start:start + 500]
        found.update({r["subscription_key"]: r for r in rows(conn.execute(
            f"SELECT {_STATE} FROM subscriptions WHERE run_id = ? AND subscription_key IN "
            f"({', '.join('?' * len(chunk))})", (run_id, *chunk)))})
    return found


# The line that speaks for its subscription (history.STATUS_URGENCY, repeated here without pandas).
_URGENCY = {"unmatched": 0, "unexplained": 1, "partially_explained": 2, "explained": 3, "confirmed": 4, "matched": 5}


def refresh_state(conn: sqlite3.Connection, run_id: str, seq: int, key: str) -> None:
    """Recompute a subscription's row in `subscriptions` from its lines after a confirmation moved them."""
    from recon_cli.store.schema import subscription_lines

    lines = subscription_lines(conn, run_id, seq, key, aliases=False)
    if not lines:
        return
    lines.sort(key=lambda line: (not line["needs_person"], _URGENCY.get(line["status"], 9)))
    first = lines[0]
    needs = any(line["needs_person"] for line in lines)
    sums = {name: str(sum((_amount(line[name]) for line in lines), Decimal(0)))
            for name in ("money_at_risk", "over_billed", "price_effect")}
    conn.execute(
        "UPDATE subscriptions SET status = ?, reason = ?, price_status = ?, needs_person = ?, open_since = ?, "
        "provider_quantity = ?, subscription_quantity = ?, quantity_delta = ?, money_at_risk = ?, over_billed = ?, "
        "price_effect = ?, line_id = ? WHERE run_id = ? AND subscription_key = ? AND kind <> 'missing'",
        (first["status"], first["reason"], first["price_status"], int(needs), first["open_since"] if needs else "",
         first["provider_quantity"], first["subscription_quantity"], first["quantity_delta"], sums["money_at_risk"],
         sums["over_billed"], sums["price_effect"], first["line_id"], run_id, key))
