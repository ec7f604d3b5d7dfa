"""The commands over stored runs: explain, confirm, unconfirm, runs, diff (added to the group in cli.py).

Light: none of them imports pandas or pyarrow, except `diff --xlsx`, which writes a workbook.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import click

from recon_cli.cli_support import OUT, console, store_option
from recon_cli.errors import InputError

# First-row words that make a --from-file row a header rather than an id.
ID_HEADERS = frozenset({"id", "ids", "line", "line_id", "line id", "subscription", "subscription_id",
                        "subscription id"})


def open_existing(store: Path | None, writing: bool = False, quiet: bool = False) -> Any:
    """The run store, for commands that use a stored run: no store yet is a clear error, never an empty
    file; a command that writes (confirm) is told up front when the store is read-only. The store used
    is named on stderr when it is not the default one (`quiet`: for output a program reads)."""
    from recon_cli.store import locate_store, open_store, preflight

    location = locate_store(store)
    note = location.note()
    if note and not quiet:
        click.echo(note, err=True)
    connection = open_store(location.path, writing=False)
    if writing:
        preflight(location.path, writing=True)
    return connection


@click.command()
@click.argument("id_", metavar="ID")
@click.option("--run", "run_id", help="Run id (default: the newest run).")
@click.option("--json", "as_json", is_flag=True, help="Print the explanation as JSON.")
@store_option
def explain(id_: str, run_id: str | None, as_json: bool, store: Path | None) -> None:
    """Explain a line (line id), a subscription (its id) or a customer (id or name) of a stored run,
    with the subscription's status in earlier runs.

    \b
    Example:
        recon explain G000123456-3
        recon explain 1600a35a-0999-40d8-b6f6-75cc81e74ef5
        recon explain "Contoso Dental"
    """
    from recon_cli.store import find_explanation

    explanation = find_explanation(open_existing(store, quiet=as_json), id_, run_id)
    if as_json:
        click.echo(explanation.model_dump_json(indent=2))
        return
    from recon_cli.outputs.terminal.explain import explanation_report

    console().print(explanation_report(explanation))


def _ids_from_file(path: Path, note: str | None) -> list[tuple[str, str, str]]:
    """(id, note, "FILE row N") per row of a CSV whose first column holds ids; a `note` column, when the
    header has one, gives each row its own note."""
    with path.open(encoding="utf-8-sig", newline="") as handle:
        found = [row for row in csv.reader(handle)]
    header = [cell.strip().lower() for cell in found[0]] if found else []
    start = 1 if header and header[0] in ID_HEADERS else 0
    notes_at = header.index("note") if start and "note" in header else None
    items = []
    for number, row in enumerate(found[start:], start=start + 1):
        if not row or not row[0].strip():
            continue
        own = row[notes_at].strip() if notes_at is not None and notes_at < len(row) else ""
        if not (own or note):
            raise InputError(f"{path.name} row {number}: no note for '{row[0].strip()}'; give --note or a note "
                             "column; nothing was confirmed")
        items.append((row[0].strip(), own or note or "", f"{path.name} row {number}"))
    if not items:
        raise InputError(f"{path.name}: no id in the file; expected one id per row in the first column")
    return items


@click.command()
@click.argument("ids", metavar="ID...", nargs=-1)
@click.option("--note", help="Why the difference is acceptable (required unless the file has a note column).")
@click.option("--from-file", type=click.Path(path_type=Path, exists=True, dir_okay=False),
              help="A CSV of ids (first column), one per row, with an optional note column.")
@click.option("--by", "by", default=None, help="Who confirms (default: your user name).")
@click.option("--run", "run_id", help="Run id (default: the newest run).")
@store_option
def confirm(ids: tuple[str, ...], note: str | None, from_file: Path | None, by: str | None, run_id: str | None,
            store: Path | None) -> None:
    """Confirm differences: their lines become `confirmed` while each subscription shows the same quantities,
    cost and price. Several ids are confirmed together, or none if one fails.

    \b
    Example:
        recon confirm G000123456-7 --note "credit agreed with the customer" --by ana
        recon confirm G000123456-7 G000123456-8 --note "billed by hand on INV-0042"
        recon confirm --from-file agreed.csv --note "agreed at the month-end review"
    """
    import getpass

    from recon_cli.store import confirm_many

    if not ids and from_file is None:
        raise click.UsageError("give at least one ID, or --from-file")
    if ids and not note:
        raise click.UsageError("give --note: why the difference is acceptable")
    items = [(id_, note or "", f"ID {position}" if len(ids) > 1 else "") for position, id_ in enumerate(ids, 1)]
    items += _ids_from_file(from_file, note) if from_file else []
    done = confirm_many(open_existing(store, writing=True), items, by or getpass.getuser(), run_id)
    for confirmation in done:
        click.echo(f"Confirmed {confirmation.subscription_id} (provider {confirmation.provider_quantity}, "
                   f"subscription {confirmation.subscription_quantity}) in run {confirmation.run_id}.")


@click.command()
@click.argument("id_", metavar="ID")
@click.option("--run", "run_id", help="Run id (default: the newest run).")
@store_option
def unconfirm(id_: str, run_id: str | None, store: Path | None) -> None:
    """Withdraw a confirmation.

    \b
    Example:
        recon unconfirm G000123456-7
    """
    from recon_cli.store import unconfirm as unconfirm_in

    click.echo(f"Unconfirmed {unconfirm_in(open_existing(store, writing=True), id_, run_id).subscription_id}.")


@click.command()
@click.option("--limit", default=20, show_default=True, help="How many runs to list.")
@click.option("--prune", "keep", type=click.IntRange(min=1), metavar="KEEP",
              help="Delete all runs but the newest KEEP (confirmations stay).")
@store_option
def runs(limit: int, keep: int | None, store: Path | None) -> None:
    """List stored runs, newest first: period, label, invoices, counts, money at risk and over-billed.

    \b
    Example:
        recon runs
        recon runs --prune 12
    """
    from recon_cli.outputs.terminal.listing import runs_report
    from recon_cli.store import list_runs, prune_runs

    connection = open_existing(store, writing=keep is not None)
    if keep is not None:
        deleted = prune_runs(connection, keep)
        click.echo(f"Deleted {len(deleted)} run{'s' if len(deleted) != 1 else ''}; kept the newest {keep}.")
    console().print(runs_report(list_runs(connection, limit)))


@click.command()
@click.argument("run_a", required=False)
@click.argument("run_b", required=False)
@click.option("--json", "json_target", metavar="PATH|-", help="Write the comparison as JSON here ('-': stdout).")
@click.option("--xlsx", "xlsx_path", type=OUT, help="Write RUN_B's workbook with a 'Since last month' sheet here.")
@click.option("--top", default=40, show_default=True, help="How many subscriptions to list.")
@store_option
def diff(run_a: str | None, run_b: str | None, json_target: str | None, xlsx_path: Path | None, top: int,
         store: Path | None) -> None:
    """What changed between two runs (default: the two latest), subscription by subscription: exceptions
    new, resolved, still open (with how many months) and changed, with the money they move.

    \b
    Example:
        recon diff
        recon diff 20261102T090000000000Z-1a2b 20261202T090000000000Z-3c4d --xlsx november.xlsx
    """
    import json

    from recon_cli.comparison import money_by_change
    from recon_cli.outputs.terminal.diff import diff_report
    from recon_cli.store import compare_runs, latest_two

    connection = open_existing(store, quiet=json_target == "-")
    if run_a and not run_b:
        raise click.UsageError("give both runs, or none for the two latest")
    before, now = (run_a, run_b) if run_a and run_b else latest_two(connection)
    runs_compared, changes = compare_runs(connection, before, now)
    moved = money_by_change(changes)
    if xlsx_path is not None:
        _diff_workbook(connection, runs_compared["now"]["run_id"], changes, xlsx_path)
    if json_target is not None:
        document = json.dumps({**runs_compared, "money": moved, "changes": changes}, ensure_ascii=False, indent=2)
        if json_target == "-":
            click.echo(document)
            return
        from recon_cli.outputs.files import atomic_write, check_output

        check_output(Path(json_target), "--json")
        with atomic_write(Path(json_target)) as handle:
            handle.write(document + "\n")
    console().print(diff_report(runs_compared, changes, moved, top))


def _diff_workbook(connection: Any, run_id: str, changes: list[dict[str, Any]], target: Path) -> None:
    """The later run's finance workbook, its "Since last month" sheet holding this comparison."""
    from dataclasses import replace

    import pandas as pd

    from recon_cli.outputs.files import check_output
    from recon_cli.outputs.xlsx.workbook import write_xlsx
    from recon_cli.records import DIFF_FIELDS
    from recon_cli.store import load_result

    check_output(target, "--xlsx")
    result = load_result(connection, run_id)
    write_xlsx(replace(result, since_last=pd.DataFrame(changes, columns=list(DIFF_FIELDS))), target)
