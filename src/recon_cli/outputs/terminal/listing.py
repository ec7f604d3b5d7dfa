"""`recon runs` and `recon formats`: the stored runs and the input formats recognised."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.text import Text

from recon_cli.outputs.terminal.common import new_table

if TYPE_CHECKING:
    from recon_cli.formats import TableFormat
    from recon_cli.models import RunSummary

RUNS_FULL_WIDTH = 96  # what the runs table needs with its Created column


class _RunsTable:
    """The runs table, fitted to the width it is given: below RUNS_FULL_WIDTH the Created
    column goes (a run id starts with its UTC time), so ids never wrap on 80 columns."""

    def __init__(self, runs: list[RunSummary]) -> None:
        self.runs = sorted(runs, key=lambda r: (r.created_at, r.run_id), reverse=True)

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        created = options.max_width >= RUNS_FULL_WIDTH
        headers = ["Run", *(["Created"] if created else []), "Period", "Invoice", "Lines", "Attention",
                   "Missing", "Rejects"]
        table = new_table(*headers, right=headers[-4:], keep=["Run"])
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
