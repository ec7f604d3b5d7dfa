"""`recon runs` and `recon formats`: the stored runs and the input formats recognised."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.text import Text

from recon_cli.outputs.terminal.common import money, new_table, plain

if TYPE_CHECKING:
    from recon_cli.formats import TableFormat
    from recon_cli.models import RunSummary

# Widths from which the runs table shows its Created column, then the missing, reject and over-billed
# counts: on 80 columns it keeps run id, period, invoices, lines, needs a person and money at risk.
RUNS_FULL_WIDTH, RUNS_MEDIUM_WIDTH = 124, 104


class _RunsTable:
    """The runs table, fitted to the width it is given, so that ids never wrap on 80 columns (a run id
    starts with its UTC time, so Created is the first to go)."""

    def __init__(self, runs: list[RunSummary]) -> None:
        self.runs = sorted(runs, key=lambda r: (r.created_at, r.run_id), reverse=True)

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        created = options.max_width >= RUNS_FULL_WIDTH
        more = options.max_width >= RUNS_MEDIUM_WIDTH
        headers = ["Run", *(["Created"] if created else []), "Period", "Invoices", "Lines", "Needs",
                   *(["Missing", "Rejects"] if more else []), "At risk", *(["Over-billed"] if more else [])]
        table = new_table(*headers, right=["Lines", "Needs", "Missing", "Rejects", "At risk", "Over-billed"],
                          keep=["Run", "Invoices", "At risk", "Over-billed"])
        for run in self.runs:
            needs = Text(f"{run.needs_person:,}", style="bold red" if run.needs_person else "green")
            when = [run.created_at.replace("T", " ")[:16]] if created else []  # minutes tell runs apart
            period = (run.period or "") + (f"\n{plain(run.label)}" if run.label else "")
            counts = [f"{run.missing_count:,}", f"{run.reject_count:,}"] if more else []
            table.add_row(run.run_id, *when, period, Text("\n".join(run.invoice_numbers) or run.invoice_file),
                          f"{run.line_count:,}", needs, *counts, _amounts(run.money_at_risk),
                          *([_amounts(run.over_billed)] if more else []))
        yield table


def _amounts(per_currency: dict[str, str]) -> str:
    """One amount per line, with its currency; "—" when there is none."""
    shown = [f"{money(amount)} {currency}" for currency, amount in sorted(per_currency.items())
             if money(amount) not in ("", "0.00")]
    return "\n".join(shown) or "—"


def runs_report(runs: list[RunSummary]) -> RenderableType:
    """Stored runs, newest first: run id, created, period and label, invoices, lines, lines and missing
    subscriptions needing a person, missing, rejects, money at risk and over-billed per currency."""
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
        table = new_table("Column", "Header", "Type", "Required", "Also accepted",
                       title=f"{fmt.title} ({fmt.name})")
        for column in columns:
            table.add_row(column.name, Text(column.source), column.type, "yes" if column.required else "",
                          Text(", ".join(column.aliases)))
        if caption:
            table.caption = Text(" ".join(caption))
            table.caption_justify = "left"
        tables.append(table)
    return Group(*tables)
