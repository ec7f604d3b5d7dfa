"""Rich renderables for the terminal: the run summary, one line's explanation, the runs.

Builds renderables only: never prints and never makes a Console (the CLI does, per call,
STYLE rule 18). `recon explain` and `recon runs` import this module, so it imports no
pandas: `run_report` uses the methods of the frames it is given. Every value from an input
file goes into a `Text`, never a markup string, so a customer called "[bold]" stays text.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from rich import box
from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.padding import Padding
from rich.table import Table
from rich.text import Text

from recon_cli.records import NEEDS_PERSON, PriceStatus, Status

if TYPE_CHECKING:
    from recon_cli.formats import TableFormat
    from recon_cli.models import Explanation, RunSummary
    from recon_cli.result import ReconResult

STATUS_STYLES: dict[str, str] = {
    Status.MATCHED: "green", Status.EXPLAINED: "cyan", Status.PARTIALLY_EXPLAINED: "yellow",
    Status.UNEXPLAINED: "bold red", Status.UNMATCHED: "magenta", Status.CONFIRMED: "blue",
}
PRICE_STYLES: dict[str, str] = {
    PriceStatus.CURRENCY_MISMATCH: "bold red", PriceStatus.BELOW_COST: "bold red",
    PriceStatus.COST_CHANGED: "yellow", PriceStatus.LOW_MARGIN: "yellow",
}
REJECTS_SHOWN = 5
RUNS_FULL_WIDTH = 96  # what the runs table needs with its Created column
BLANK = Text("")


# --- values ---------------------------------------------------------------------------


def _decimal(value: Any) -> Decimal | None:
    """A Decimal from a frame cell or a stored string; None for blanks, NaN and text."""
    if value is None or value == "":
        return None
    try:
        number = value if isinstance(value, Decimal) else Decimal(str(value))
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def money(value: Any) -> str:
    """1,234.50; blank when absent."""
    number = _decimal(value)
    return "" if number is None else f"{number:,.2f}"


def quantity(value: Any, sign: bool = False) -> str:
    """Seats without trailing zeros (10, 2.5); `sign` adds + to positive deltas."""
    number = _decimal(value)
    if number is None:
        return ""
    text = format(number.normalize(), ",f")
    return f"+{text}" if sign and number > 0 else text


def _plain(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value != value:  # NaN from a frame
        return ""
    return str(value)


def _status(value: Any, styles: Mapping[str, str] = STATUS_STYLES) -> Text:
    """A status or price-status code in its colour."""
    text = _plain(value)
    return Text(text, style=styles.get(text, ""))


def _amounts(amounts: Mapping[str, str]) -> str:
    """"USD 1,234.50, EUR 10.00"; "none" when empty."""
    return ", ".join(f"{currency} {money(amount)}" for currency, amount in sorted(amounts.items())) or "none"


def _more(shown: int, total: int, what: str) -> Text | None:
    if total <= shown:
        return None
    return Text(f"... and {total - shown:,} more {what}{'' if total - shown == 1 else 's'}; see --xlsx",
                style="dim")


def _table(*headers: str, right: Iterable[str] = (), keep: Iterable[str] = (),
           title: str | None = None) -> Table:
    """A plain table; `right` columns align right, `keep` columns (ids, codes) never wrap."""
    table = Table(box=box.SIMPLE_HEAD, title=Text(title, style="bold") if title else None,
                  title_justify="left", pad_edge=False, show_edge=False, collapse_padding=True)
    right, keep = set(right), set(keep)
    for header in headers:
        table.add_column(header, justify="right" if header in right else "left",
                         overflow="fold", no_wrap=header in keep)
    return table


# --- recon run --------------------------------------------------------------------------


def _header(summary: RunSummary) -> RenderableType:
    invoices = ", ".join(summary.invoice_numbers) or summary.invoice_file
    title = Text.assemble(("Invoice ", "bold"), (invoices, "bold"), f" · period {summary.period or '?'}",
                          f" · run {summary.run_id}")
    inputs = [f"{summary.invoice_file} ({summary.invoice_format})", summary.subscriptions_file,
              summary.changes_file or "no change log"]
    lines = [title, Text("Inputs: " + ", ".join(inputs), style="dim")]
    if not summary.has_change_log:
        lines.append(Text("No change log was given: no difference could be explained.", style="yellow"))
    if summary.unknown_charge_types:
        lines.append(Text("Unknown charge types (reported as one-time): "
                          + ", ".join(summary.unknown_charge_types), style="yellow"))
    lines += [Text(note, style="yellow") for note in summary.notes]
    return Group(*lines)


def _status_table(summary: RunSummary) -> Table:
    currencies = sorted(summary.subtotal_by_status)
    table = _table("Status", "Lines", *(f"Subtotal {c}" for c in currencies),
                   right=["Lines", *(f"Subtotal {c}" for c in currencies)])
    for status in Status:
        count = summary.status_counts.get(status, 0)
        amounts = [summary.subtotal_by_status[c].get(status) for c in currencies]
        if count or any(amounts):
            table.add_row(_status(status), f"{count:,}", *(money(a) for a in amounts))
    table.add_section()
    table.add_row(Text("Total", style="bold"), f"{summary.line_count:,}",
                  *(money(summary.subtotal_total.get(c)) for c in currencies))
    return table


def _price_table(summary: RunSummary) -> RenderableType:
    """Lines per price status, most severe first, as one row (a status and its count never part)."""
    present = [p for p in PriceStatus if summary.price_status_counts.get(p)]
    if not present:
        return Text("Price check: no lines")
    table = _table(*present, right=present, keep=present)
    for column, price in zip(table.columns, present, strict=True):
        column.header_style = PRICE_STYLES.get(price, "")
    table.add_row(*(f"{summary.price_status_counts[p]:,}" for p in present))
    return Group(Text("Price check", style="bold"), table)


def _exception_rows(result: ReconResult) -> list[dict[str, Any]]:
    """Lines needing a person, one row per subscription, most money at risk first."""
    lines = result.lines
    fields = ["line_id", "subscription_id", "matched_subscription_id", "customer_name", "product",
              "status", "provider_quantity", "subscription_quantity", "quantity_delta", "money_at_risk",
              "currency", "explanation"]
    exceptions = lines.loc[lines["status"].isin(list(NEEDS_PERSON)), fields]
    records = cast("list[dict[str, Any]]", exceptions.to_dict("records"))
    groups: dict[str, dict[str, Any]] = {}
    for record in records:
        key = (_plain(record["matched_subscription_id"]) or _plain(record["subscription_id"])
               or record["line_id"])
        risk = _decimal(record["money_at_risk"]) or Decimal(0)
        group = groups.get(key)
        if group is None:
            groups[key] = {**record, "risk": risk, "count": 1}
            continue
        group["count"] += 1
        group["risk"] += risk
    return sorted(groups.values(), key=lambda g: g["risk"], reverse=True)


def _count(n: int, word: str) -> str:
    return f"{n:,} {word}" + ("" if n == 1 else "s")


def _exception(number: int, row: dict[str, Any]) -> RenderableType:
    """One subscription needing a person: what, how much, and why, as an indented block."""
    head = Text.assemble(f"{number:>2}. ", (row["line_id"], "bold"))
    if row["count"] > 1:
        head.append(f" (+{_count(row['count'] - 1, 'line')})", style="dim")
    head.append("  ")
    head.append_text(_status(row["status"]))
    head.append(f"  {money(row['risk'])} {_plain(row['currency'])} at risk".rstrip())
    subscription = _plain(row["matched_subscription_id"]) or _plain(row["subscription_id"])
    who = " · ".join(t for t in (_plain(row["customer_name"]), _plain(row["product"]), subscription) if t)
    body = [Text(who)]
    counts = [f"{label} {value}" for label, value in (
        ("provider", quantity(row["provider_quantity"])), ("subscription", quantity(row["subscription_quantity"])),
        ("delta", quantity(row["quantity_delta"], sign=True))) if value]
    if counts:
        body.append(Text(" · ".join(counts)))
    body.append(Text(_plain(row["explanation"]), style="dim"))
    return Group(head, Padding(Group(*body), (0, 0, 0, 4)))


def _exceptions(result: ReconResult, top: int) -> list[RenderableType]:
    rows = _exception_rows(result)
    if not rows:
        return [Text("Nothing needs a person: every line is matched, explained or confirmed.", style="green")]
    line_count = sum(r["count"] for r in rows)
    out: list[RenderableType] = [Text(f"Needs a person: {_count(line_count, 'line')} on "
                                      f"{_count(len(rows), 'subscription')}, most money at risk first",
                                      style="bold")]
    out += [_exception(i, row) for i, row in enumerate(rows[:top], start=1)]
    more = _more(min(top, len(rows)), len(rows), "subscription")
    return [*out, more] if more else out


def _missing(result: ReconResult, top: int) -> list[RenderableType]:
    summary = result.summary
    if not summary.missing_count:
        return []
    fields = ["subscription_id", "customer_name", "product", "quantity", "expected_amount", "currency"]
    records = result.missing[fields].to_dict("records")
    records.sort(key=lambda r: _decimal(r["expected_amount"]) or Decimal(0), reverse=True)
    table = _table("Subscription", "Customer", "Product", "Seats", "Expected", right=["Seats", "Expected"],
                   keep=["Subscription", "Expected"],
                   title=f"Missing from the invoice: {_count(summary.missing_count, 'subscription')} "
                         f"({_amounts(summary.missing_value)})")
    for r in records[:top]:
        table.add_row(Text(_plain(r["subscription_id"])), Text(_plain(r["customer_name"])),
                      Text(_plain(r["product"])), quantity(r["quantity"]),
                      f"{money(r['expected_amount'])} {_plain(r['currency'])}".strip())
    more = _more(min(top, len(records)), summary.missing_count, "missing subscription")
    return [table, more] if more else [table]


def _rejects(result: ReconResult) -> list[RenderableType]:
    count = result.summary.reject_count
    if not count:
        return []
    out: list[RenderableType] = [Text(f"Rejected rows: {count:,}", style="bold yellow")]
    records = result.rejects[["file", "row", "column", "message"]].head(REJECTS_SHOWN).to_dict("records")
    for r in records:
        where = f"{_plain(r['file'])} row {_plain(r['row'])}" + (f", {r['column']}" if r["column"] else "")
        out.append(Text(f"  {where}: {_plain(r['message'])}"))
    more = _more(len(records), count, "rejected row")
    return [*out, more] if more else out


def run_report(result: ReconResult, saved: Mapping[str, str], top: int = 10) -> Group:
    """The terminal summary of `recon run`.

    Args:
        result: the run.
        saved: where things went, label -> path or id ("store", "run", "xlsx", "csv", "json").
        top: how many exception subscriptions and missing subscriptions to list.

    Returns:
        Header, status table, price check, money lines, the top exceptions (one row per
        subscription, most money at risk first), missing subscriptions, rejects, saved.
    """
    summary = result.summary
    money_lines = Text.assemble(
        ("Unbilled cost (unmatched): ", "bold"), _amounts(summary.unbilled_cost), "   ",
        ("Money at risk: ", "bold"), _amounts(summary.money_at_risk))
    if summary.margin_pct:
        money_lines.append_text(Text.assemble("\n", ("Seat margin: ", "bold"), ", ".join(
            f"{currency} {pct}% of {money(summary.annual_revenue.get(currency, '0'))} a year"
            for currency, pct in sorted(summary.margin_pct.items()))))
    if summary.usage_check is not None:
        money_lines.append_text(Text.assemble("\n", ("Usage check: ", "bold"), _usage_check(summary.usage_check)))
    parts: list[RenderableType] = [_header(summary), BLANK, _status_table(summary), BLANK, _price_table(summary),
                                   BLANK, money_lines, BLANK, *_exceptions(result, top)]
    for section in (_missing(result, top), _rejects(result)):
        if section:
            parts += [BLANK, *section]
    if saved:
        parts += [BLANK, Text("Saved", style="bold"), _facts(list(saved.items()))]
    return Group(*parts)


def _usage_check(check: Mapping[str, Any]) -> str:
    """'12 usage lines checked against dru.csv; 1 differs (see JSON summary.usage_check)'."""
    checked, differing = int(check.get("lines_checked", 0)), int(check.get("lines_differing", 0))
    text = (f"{checked} usage line{'s' if checked != 1 else ''} checked against {Path(str(check.get('file'))).name}; "
            + (f"{differing} differ{'s' if differing == 1 else ''} (see JSON summary.usage_check)" if differing
               else "all agree"))
    unmatched = check.get("unmatched_usage") or {}
    if unmatched:
        text += f"; not on the invoice: {_amounts(unmatched)}"
    return text


# --- recon explain ------------------------------------------------------------------------


def _facts(rows: list[tuple[str, Text | str]]) -> Table:
    """Label / value pairs, labels bold, values folded when long."""
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column(overflow="fold")
    for label, value in rows:
        grid.add_row(label, value if isinstance(value, Text) else Text(value))
    return grid


def _subscription(invoice_id: str, matched: str, method: str) -> str:
    """The invoice's subscription id, and what it matched when that is another id."""
    if matched == "none":
        return f"{invoice_id} (not in the subscription export)"
    via = f" by {method}" if method else ""
    if matched.lower() == invoice_id.lower():
        return f"{invoice_id} (matched{via})"
    return f"{invoice_id} → matched {matched}{via}"


def _line_facts(line: Mapping[str, Any], run_id: str) -> Table:
    status = _status(line.get("status"))
    if line.get("reason"):
        status.append(f" ({line['reason']})", style="dim")
    matched = _plain(line.get("matched_subscription_id")) or "none"
    method = _plain(line.get("match_method"))
    as_of = _plain(line.get("as_of"))
    price = _status(line.get("price_status"), PRICE_STYLES)
    price.append(f": unit cost {money(line.get('unit_cost')) or '?'} vs unit price "
                 f"{money(line.get('unit_price')) or '?'}")
    if _plain(line.get("margin_pct")):
        price.append(f" (margin {line['margin_pct']}%)")
    residual = quantity(line.get("residual"), sign=True)
    residual = f" (residual {residual})" if residual else ""
    rows: list[tuple[str, Text | str]] = [
        ("Line", f"{line.get('line_id')} (row {line.get('row')}, run {run_id})"),
        ("Customer", _plain(line.get("customer_name"))),
        ("Product", _plain(line.get("product"))),
        ("Charge", f"{_plain(line.get('charge_type'))} ({_plain(line.get('kind'))})"),
        ("Status", status),
        ("Subscription", _subscription(_plain(line.get("subscription_id")), matched, method)),
        ("Provider qty", quantity(line.get("provider_quantity")) + (f" as of {as_of}" if as_of else "")),
        ("Subscription qty", quantity(line.get("subscription_quantity"))),
        ("Delta", quantity(line.get("quantity_delta"), sign=True) + residual),
        ("Price", price),
        ("Subtotal", f"{money(line.get('subtotal'))} {_plain(line.get('currency'))}".strip()),
    ]
    return _facts(rows)


def _evidence_table(expl: Explanation) -> RenderableType:
    if not expl.evidence:
        return Text("No change-log record was used as evidence.", style="dim")
    table = _table("Change", "Effective", "Delta", "Provisioning", "Initiated by", "Customer invoice",
                   "Evidence", right=["Delta"], keep=["Change", "Effective", "Delta", "Provisioning", "Evidence"],
                   title="Change-log records used")
    table.padding = (0, 0)  # one space between columns leaves room for names on 80 columns
    for record in expl.evidence:
        table.add_row(Text(record.change_id), record.effective_date,
                      quantity(record.quantity_delta, sign=True), Text(record.provisioning_status),
                      Text(record.initiated_by),
                      Text(record.customer_invoice or "not yet invoiced"), record.evidence_kind)
    return table


def _lines_table(lines: list[dict[str, Any]]) -> Table:
    table = _table("Line", "Row", "Charge", "Status", "Provider", "Subscr.", "Δ", "Subtotal",
                   right=["Row", "Provider", "Subscr.", "Δ", "Subtotal"], keep=["Line", "Subtotal"])
    for line in lines:
        table.add_row(Text(_plain(line.get("line_id"))), _plain(line.get("row")),
                      Text(_plain(line.get("charge_type"))), _status(line.get("status")),
                      quantity(line.get("provider_quantity")), quantity(line.get("subscription_quantity")),
                      quantity(line.get("quantity_delta"), sign=True),
                      f"{money(line.get('subtotal'))} {_plain(line.get('currency'))}".strip())
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
        parts += [_line_facts(line, expl.run_id), BLANK, Text(_plain(line.get("explanation")))]
    elif expl.lines:
        first = expl.lines[0]
        parts += [_facts([("Subscription", expl.query), ("Customer", _plain(first.get("customer_name"))),
                          ("Product", _plain(first.get("product"))), ("Run", expl.run_id)]),
                  _lines_table(expl.lines)]
        # Each distinct explanation once, with the lines it is about.
        texts: dict[str, list[str]] = {}
        for line in expl.lines:
            if _plain(line.get("explanation")):
                texts.setdefault(_plain(line.get("explanation")), []).append(_plain(line.get("line_id")))
        parts += [Text.assemble((", ".join(ids) + ": ", "bold"), text) for text, ids in texts.items()]
    if expl.lines:
        parts += [BLANK, _evidence_table(expl)]
    if expl.missing:
        m = expl.missing
        parts += [BLANK] if parts else []
        parts += [Text("Missing from the invoice", style="bold red"), _facts([
            ("Subscription", _plain(m.get("subscription_id"))), ("Customer", _plain(m.get("customer_name"))),
            ("Product", _plain(m.get("product"))),
            ("Seats", f"{quantity(m.get('quantity'))} ({_plain(m.get('billing_frequency'))})"),
            ("Expected", f"{money(m.get('expected_amount'))} {_plain(m.get('currency'))}".strip()),
            ("Reason", _plain(m.get("reason"))),
        ]), Text(_plain(m.get("explanation")))]
    if expl.confirmation:
        c = expl.confirmation
        parts += [BLANK] if parts else []
        quantities = f"provider {c.provider_quantity}, subscription {c.subscription_quantity}"
        parts.append(Text.assemble(("Confirmed", "bold blue"), f" by {c.confirmed_by} at {c.confirmed_at} "
                                   f"({quantities}): ", Text(c.note)))
    if not parts:
        parts.append(Text(f"Nothing in run {expl.run_id} for {expl.query}."))
    return Group(*parts)


# --- recon runs, recon formats -------------------------------------------------------------


class _RunsTable:
    """The runs table, fitted to the width it is given: below RUNS_FULL_WIDTH the Created
    column goes (a run id starts with its UTC time), so ids never wrap on 80 columns."""

    def __init__(self, runs: list[RunSummary]) -> None:
        self.runs = sorted(runs, key=lambda r: (r.created_at, r.run_id), reverse=True)

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        created = options.max_width >= RUNS_FULL_WIDTH
        headers = ["Run", *(["Created"] if created else []), "Period", "Invoice", "Lines", "Attention",
                   "Missing", "Rejects"]
        table = _table(*headers, right=headers[-4:], keep=["Run"])
        table.padding = (0, 0)  # the box's own space separates columns: 95 characters in all
        for run in self.runs:
            attention = Text(f"{run.needs_attention:,}", style="bold red" if run.needs_attention else "green")
            when = [run.created_at.replace("T", " ")[:16]] if created else []  # minutes tell runs apart
            table.add_row(run.run_id, *when, run.period or "", Text(", ".join(run.invoice_numbers) or run.invoice_file),
                          f"{run.line_count:,}", attention, f"{run.missing_count:,}", f"{run.reject_count:,}")
        yield table


def runs_report(runs: list[RunSummary]) -> RenderableType:
    """Stored runs, newest first: run id, created, period, invoice, lines, needs attention,
    missing, rejects."""
    if not runs:
        return Text("No runs stored yet: `recon run INVOICE SUBSCRIPTIONS` makes one.")
    return _RunsTable(runs)


def formats_report(formats: list[TableFormat]) -> RenderableType:
    """The input formats recognised, each with its description and the columns it reads.

    A format that extends another (a distributor profile over `nce`) lists only the columns it
    names differently; the caption says the rest are as in its base.
    """
    tables: list[RenderableType] = []
    for fmt in formats:
        caption = [fmt.description] if fmt.description else []
        if fmt.base is not None:
            caption.append(f"Other columns as in {fmt.base.name}.")
        if fmt.signature:
            caption.append("Detected by: " + ", ".join(fmt.signature) + ".")
        columns = fmt.own_columns()
        if not columns:  # same columns as its base (the Graph export): the caption says it all
            tables.append(Group(Text(f"{fmt.title} ({fmt.name})", style="italic"), Text(" ".join(caption)), Text()))
            continue
        table = _table("Column", "Header", "Type", "Required", "Also accepted",
                       title=f"{fmt.title} ({fmt.name})")
        for column in columns:
            table.add_row(column.name, Text(column.source), column.type, "yes" if column.required else "",
                          Text(", ".join(column.aliases)))
        if caption:
            table.caption = Text(" ".join(caption))
            table.caption_justify = "left"
        tables.append(table)
    return Group(*tables)
