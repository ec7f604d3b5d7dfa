"""What `recon explain ID` shows: one line's facts, or a subscription's lines, then the
explanation, the change-log evidence, a missing entry and a confirmation when there are.

Reads an `Explanation` from the store: stdlib records only, no pandas (STYLE rule 5).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from recon_cli.outputs.terminal.common import (
    BLANK,
    PRICE_STYLES,
    facts,
    money,
    new_table,
    plain,
    quantity,
    status_text,
)

if TYPE_CHECKING:
    from recon_cli.records import Explanation


def _subscription(invoice_id: str, matched: str, method: str) -> str:
    """The invoice's subscription id, and what it matched when that is another id."""
    if matched == "none":
        return f"{invoice_id} (not in the subscription export)"
    via = f" by {method}" if method else ""
    if matched.lower() == invoice_id.lower():
        return f"{invoice_id} (matched{via})"
    return f"{invoice_id} → matched {matched}{via}"


def _line_facts(line: Mapping[str, Any], run_id: str) -> Table:
    status = status_text(line.get("status"))
    if line.get("reason"):
        status.append(f" ({line['reason']})", style="dim")
    matched = plain(line.get("matched_subscription_id")) or "none"
    method = plain(line.get("match_method"))
    as_of = plain(line.get("as_of"))
    price = status_text(line.get("price_status"), PRICE_STYLES)
    price.append(f": unit cost {money(line.get('unit_cost')) or '?'} vs unit price "
                 f"{money(line.get('unit_price')) or '?'}")
    if plain(line.get("margin_pct")):
        price.append(f" (margin {line['margin_pct']}%)")
    residual = quantity(line.get("residual"), sign=True)
    residual = f" (residual {residual})" if residual else ""
    rows: list[tuple[str, Text | str]] = [
        ("Line", f"{line.get('line_id')} (row {line.get('row')}, run {run_id})"),
        ("Customer", plain(line.get("customer_name"))),
        ("Product", plain(line.get("product"))),
        ("Charge", f"{plain(line.get('charge_type'))} ({plain(line.get('kind'))})"),
        ("Status", status),
        ("Subscription", _subscription(plain(line.get("subscription_id")), matched, method)),
        ("Provider qty", quantity(line.get("provider_quantity")) + (f" as of {as_of}" if as_of else "")),
        ("Subscription qty", quantity(line.get("subscription_quantity"))),
        ("Delta", quantity(line.get("quantity_delta"), sign=True) + residual),
        ("Price", price),
        ("Subtotal", f"{money(line.get('subtotal'))} {plain(line.get('currency'))}".strip()),
    ]
    return facts(rows)


def _evidence_table(expl: Explanation) -> RenderableType:
    if not expl.evidence:
        return Text("No change-log record was used as evidence.", style="dim")
    table = new_table("Change", "Effective", "Delta", "Provisioning", "Initiated by", "Customer invoice",
                   "Evidence", right=["Delta"], keep=["Change", "Effective", "Delta", "Provisioning", "Evidence"],
                   title="Change-log records used")
    table.padding = (0, 0)  # one space between columns leaves room for names on 80 columns
    for record in expl.evidence:
        table.add_row(Text(plain(record.change_id)), record.effective_date,
                      quantity(record.quantity_delta, sign=True), Text(plain(record.provisioning_status)),
                      Text(plain(record.initiated_by)),
                      Text(plain(record.customer_invoice) or "not yet invoiced"), record.evidence_kind)
    return table


def _lines_table(lines: list[dict[str, Any]]) -> Table:
    table = new_table("Line", "Row", "Charge", "Status", "Provider", "Subscr.", "Δ", "Subtotal",
                   right=["Row", "Provider", "Subscr.", "Δ", "Subtotal"], keep=["Line", "Subtotal"])
    for line in lines:
        table.add_row(Text(plain(line.get("line_id"))), plain(line.get("row")),
                      Text(plain(line.get("charge_type"))), status_text(line.get("status")),
                      quantity(line.get("provider_quantity")), quantity(line.get("subscription_quantity")),
                      quantity(line.get("quantity_delta"), sign=True),
                      f"{money(line.get('subtotal'))} {plain(line.get('currency'))}".strip())
    return table


def explanation_report(expl: Explanation) -> RenderableType:
    """What `recon explain ID` shows: the line(s), the explanation, the evidence records.

    One line: every fact about it. A subscription with several lines: the lines in a
    compact table, each distinct explanation once, then the evidence once. Also the
    missing-subscription entry and the confirmation when there are.
    """
    parts: list[RenderableType] = []
    if len(expl.lines) == 1:
        line = expl.lines[0]
        parts += [_line_facts(line, expl.run_id), BLANK, Text(plain(line.get("explanation")))]
    elif expl.lines:
        first = expl.lines[0]
        parts += [facts([("Subscription", expl.query), ("Customer", plain(first.get("customer_name"))),
                          ("Product", plain(first.get("product"))), ("Run", expl.run_id)]),
                  _lines_table(expl.lines)]
        # Each distinct explanation once, with the lines it is about.
        texts: dict[str, list[str]] = {}
        for line in expl.lines:
            if plain(line.get("explanation")):
                texts.setdefault(plain(line.get("explanation")), []).append(plain(line.get("line_id")))
        parts += [Text.assemble((", ".join(ids) + ": ", "bold"), text) for text, ids in texts.items()]
    if expl.lines:
        parts += [BLANK, _evidence_table(expl)]
    if expl.missing:
        m = expl.missing
        parts += [BLANK] if parts else []
        parts += [Text("Missing from the invoice", style="bold red"), facts([
            ("Subscription", plain(m.get("subscription_id"))), ("Customer", plain(m.get("customer_name"))),
            ("Product", plain(m.get("product"))),
            ("Seats", f"{quantity(m.get('quantity'))} ({plain(m.get('billing_frequency'))})"),
            ("Expected", f"cost {money(m.get('expected_cost')) or '?'}, price {money(m.get('expected_price')) or '?'} "
                         f"{plain(m.get('currency'))}".strip()),
            ("Reason", plain(m.get("reason"))),
        ]), Text(plain(m.get("explanation")))]
    if expl.confirmation:
        c = expl.confirmation
        parts += [BLANK] if parts else []
        quantities = f"provider {c.provider_quantity}, subscription {c.subscription_quantity}"
        parts.append(Text.assemble(("Confirmed", "bold blue"), f" by {c.confirmed_by} at {c.confirmed_at} "
                                   f"({quantities}): ", Text(plain(c.note))))
    if expl.matched_by == "customer":
        parts += _customer(expl)
    if len(expl.history) > 1:
        parts += [BLANK, _history_table(expl.history)]
    if not parts:
        parts.append(Text(f"Nothing in run {expl.run_id} for {expl.query}."))
    return Group(*parts)


def _history_table(history: list[dict[str, Any]]) -> Table:
    """The subscription in each stored run, newest first."""
    table = new_table("Run", "Period", "Status", "Delta", "At risk", "Open since", right=("Delta", "At risk"),
                      keep=("Run",), title="In earlier runs")
    for row in history:
        period = plain(row.get("period")) + (f" ({plain(row.get('label'))})" if row.get("label") else "")
        risk = money(row.get("money_at_risk"))
        table.add_row(plain(row.get("run_id")), period, status_text(row.get("status")),
                      quantity(row.get("quantity_delta"), sign=True),
                      f"{risk} {plain(row.get('currency'))}" if risk and risk != "0.00" else "",
                      plain(row.get("open_since")))
    return table


def _customer(expl: Explanation) -> list[RenderableType]:
    """`recon explain CUSTOMER`: the customer's subscriptions in the run, those needing a person first."""
    customer = expl.customer or {}
    needing = sum(1 for row in expl.subscriptions if row.get("needs_person"))
    table = new_table("Subscription", "Product", "Status", "Needs a person", "Delta", "At risk", "Open since",
                      right=("Delta", "At risk"), keep=("Subscription",))
    for row in expl.subscriptions:
        risk = money(row.get("money_at_risk"))
        table.add_row(plain(row.get("subscription_id")), plain(row.get("product")), status_text(row.get("status")),
                      "yes" if row.get("needs_person") else "", quantity(row.get("quantity_delta"), sign=True),
                      f"{risk} {plain(row.get('currency'))}" if risk and risk != "0.00" else "",
                      plain(row.get("open_since")))
    return [facts([("Customer", plain(customer.get("customer_name"))),
                   ("Customer ID", plain(customer.get("customer_id"))),
                   ("Run", f"{expl.run_id} (period {plain(expl.period)})"),
                   ("Subscriptions", f"{len(expl.subscriptions):,}, {needing:,} needing a person")]), BLANK, table]
