"""The `recon` command line: flags in, one library call, render, exit code.

Light commands (`--help`, `explain`, `runs`, `confirm`) import neither pandas nor openpyxl:
heavy imports live inside the commands that need them.
"""

from __future__ import annotations

from contextlib import nullcontext
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import click

from recon_cli import __version__
from recon_cli.cli_support import FILE, Parsed, ReconGroup, console, output_options, read_config, store_option
from recon_cli.options import parse_as_of, parse_percent, parse_period
from recon_cli.records import FailOn


@click.group(cls=ReconGroup)
@click.version_option(__version__, prog_name="recon")
@click.option("--debug", is_flag=True, help="Show tracebacks instead of one-line errors.")
@click.pass_context
def cli(ctx: click.Context, debug: bool) -> None:
    """Reconcile a cloud provider's invoice against your billing records.

    \b
    Exit codes: 0 nothing needs a person; 1 something does (see --fail-on);
    2 bad input or usage; 70 internal error; 130 interrupted; 143 terminated.
    """
    ctx.obj = {"debug": debug}


@cli.command()
@click.option("--config", type=FILE, is_eager=True, expose_value=False, callback=read_config,
              help="recon.toml with defaults for these options (default ./recon.toml if present).")
@click.argument("invoices", nargs=-1, required=True, type=click.Path(path_type=Path, exists=True))
@click.argument("subscriptions", type=FILE)
@click.option("--changes", type=FILE, help="Licence change log (CSV or XLSX).")
@click.option("--usage", type=FILE, help="Daily-rated usage file (NCE) to check the invoice's usage lines against.")
@click.option("--invoice-format", type=Parsed("FORMAT|FILE.toml", lambda v: v.strip() if isinstance(v, str) else v),
              default="auto", help="auto, nce, legacy, graph, a distributor (`recon formats`) or a profile file.")
@click.option("--date-format", type=click.Choice(("MDY", "DMY"), case_sensitive=False),
              help="Day/month order of slashed dates when a file's values do not tell (default: decided per file).")
@click.option("--period", type=Parsed("YYYY-MM", parse_period),
              help="Billing period (default: the month most seat charges start).")
@click.option("--as-of", type=Parsed("DATE", parse_as_of),
              help="Change-log records effective after this date are scheduled, not evidence (default: today).")
@click.option("--min-margin", type=Parsed("PCT", parse_percent), help="Flag margins under this percent (low_margin).")
@output_options
@click.option("--fail-on", type=click.Choice([f.value for f in FailOn]), default=FailOn.UNEXPLAINED.value,
              help="What makes the exit code 1 (default: unexplained).")
@store_option
@click.option("--no-store", is_flag=True, help="Do not save the run; the store is only read for confirmations.")
@click.option("--quiet", "-q", is_flag=True, help="No terminal report; errors only.")
def run(invoices: tuple[Path, ...], subscriptions: Path, changes: Path | None, usage: Path | None, invoice_format: Any,
        date_format: str | None, period: str | None, as_of: datetime | None, min_margin: Decimal | None,
        xlsx_path: Path | None, csv_path: Path | None, json_target: str | None, fail_on: str,
        store: Path | None, no_store: bool, quiet: bool) -> None:
    """Reconcile the month's INVOICES (provider exports, one per billing currency) against SUBSCRIPTIONS.

    An invoice may be a CSV in any encoding or delimiter, an .xlsx copy, or a Graph export
    (.jsonl.gz, or a folder of its blobs).

    \b
    Example:
        recon run invoice.csv subscriptions.csv --changes changes.csv --xlsx recon.xlsx
        recon run invoice-usd.csv invoice-eur.csv subscriptions.csv
    """
    from recon_cli.outputs.terminal.run import run_report
    from recon_cli.pipeline import RunInputs
    from recon_cli.runner import STDOUT, Outputs, run_month
    from recon_cli.store import resolve_store_path

    named = isinstance(invoice_format, str)
    inputs = RunInputs(
        invoices=invoices, subscriptions=subscriptions, changes=changes, usage=usage,
        invoice_format=invoice_format if named else "auto", invoice_profile=None if named else invoice_format,
        period=period, as_of=as_of, min_margin=min_margin, date_format=date_format.upper() if date_format else None)
    # Progress goes to stderr, and only to a terminal: pipes and CI get the stable report alone.
    progress_console = console(stderr=True)
    live = progress_console.is_terminal and not quiet
    with progress_console.status("reading", spinner="dots") if live else nullcontext() as status:
        outcome = run_month(inputs, Outputs(xlsx=xlsx_path, csv=csv_path, json=json_target),
                            resolve_store_path(store), lambda step: status.update(step) if status else None,
                            save=not no_store)
    if not quiet:
        console(stderr=json_target == STDOUT).print(run_report(outcome.result, outcome.saved))
    click.get_current_context().exit(outcome.result.summary.exit_code(FailOn(fail_on)))


def _open_existing(store: Path | None, writing: bool = False) -> Any:
    """The run store, for commands that use a stored run: no store yet is a clear error, never an empty
    file; a command that writes (confirm) is told up front when the store is read-only."""
    from recon_cli.store import open_store, preflight, resolve_store_path

    path = resolve_store_path(store)
    connection = open_store(path, writing=False)
    if writing:
        preflight(path, writing=True)
    return connection


@cli.command()
@click.argument("id_")
@click.option("--run", "run_id", help="Run id (default: the newest run).")
@click.option("--json", "as_json", is_flag=True, help="Print the explanation as JSON.")
@store_option
def explain(id_: str, run_id: str | None, as_json: bool, store: Path | None) -> None:
    """Explain one line (line id) or subscription (subscription id) of a stored run.

    \b
    Example:
        recon explain G000123456-3
    """
    from recon_cli.store import find_explanation

    explanation = find_explanation(_open_existing(store), id_, run_id)
    if as_json:
        click.echo(explanation.model_dump_json(indent=2))
        return
    from recon_cli.outputs.terminal.explain import explanation_report

    console().print(explanation_report(explanation))


@cli.command()
@click.argument("id_")
@click.option("--note", required=True, help="Why the difference is acceptable.")
@click.option("--by", "by", default=None, help="Who confirms (default: your user name).")
@click.option("--run", "run_id", help="Run id (default: the newest run).")
@store_option
def confirm(id_: str, note: str, by: str | None, run_id: str | None, store: Path | None) -> None:
    """Confirm a difference: its lines become `confirmed` while the subscription shows the same quantities.

    \b
    Example:
        recon confirm G000123456-7 --note "credit agreed with the customer" --by ana
    """
    import getpass

    from recon_cli.store import confirm as confirm_in

    confirmation = confirm_in(_open_existing(store, writing=True), id_, note, by or getpass.getuser(), run_id)
    click.echo(f"Confirmed {confirmation.subscription_id} (provider {confirmation.provider_quantity}, "
               f"subscription {confirmation.subscription_quantity}) in run {confirmation.run_id}.")


@cli.command()
@click.argument("id_")
@click.option("--run", "run_id", help="Run id (default: the newest run).")
@store_option
def unconfirm(id_: str, run_id: str | None, store: Path | None) -> None:
    """Withdraw a confirmation.

    \b
    Example:
        recon unconfirm G000123456-7
    """
    from recon_cli.store import unconfirm as unconfirm_in

    click.echo(f"Unconfirmed {unconfirm_in(_open_existing(store, writing=True), id_, run_id).subscription_id}.")


@cli.command()
@click.option("--limit", default=20, show_default=True, help="How many runs to list.")
@store_option
def runs(limit: int, store: Path | None) -> None:
    """List stored runs, newest first, with their counts.

    \b
    Example:
        recon runs
    """
    from recon_cli.outputs.terminal.listing import runs_report
    from recon_cli.store import list_runs

    console().print(runs_report(list_runs(_open_existing(store), limit)))


@cli.command()
@click.argument("run_id", required=False)
@output_options
@store_option
def export(run_id: str | None, xlsx_path: Path | None, csv_path: Path | None, json_target: str | None,
           store: Path | None) -> None:
    """Re-render a stored run (default: the newest) without reading the inputs again.

    \b
    Example:
        recon export --xlsx october.xlsx
    """
    from recon_cli.runner import STDOUT, Outputs, export_run

    outputs = Outputs(xlsx=xlsx_path, csv=csv_path, json=json_target)
    if not outputs:
        raise click.UsageError("give at least one of --xlsx, --csv, --json")
    outcome = export_run(_open_existing(store), run_id, outputs)
    if json_target != STDOUT:
        click.echo(f"Exported run {outcome.result.summary.run_id}.")


@cli.command()
@click.argument("directory", type=click.Path(path_type=Path, file_okay=False))
@click.option("--lines", default=60, show_default=True, type=click.IntRange(20, 5_000_000),
              help="About how many invoice lines.")
@click.option("--seed", default=7, show_default=True, help="Random seed: the same seed, the same month.")
def sample(directory: Path, lines: int, seed: int) -> None:
    """Write a realistic Partner Center month with planted discrepancies into DIRECTORY.

    \b
    Example:
        recon sample demo --lines 100000
        recon run demo/invoice.csv demo/subscriptions.csv --changes demo/changes.csv
    """
    from recon_cli.sample import generate_sample

    plan = generate_sample(directory, lines=lines, seed=seed)
    click.echo(f"Wrote {plan.line_count} invoice lines for {plan.period} with {len(plan.cases)} planted cases:")
    for path in (*plan.invoices, plan.subscriptions, plan.changes):
        click.echo(f"  {path}")
    click.echo(f"Next: recon run {' '.join(map(str, plan.invoices))} {plan.subscriptions} --changes {plan.changes}")


@cli.command()
def formats() -> None:
    """List the input formats recognised (detected from the header, or --invoice-format), with their columns.

    \b
    Example:
        recon formats
    """
    from recon_cli.formats.detect import invoice_formats
    from recon_cli.formats.subscriptions import CHANGE_LOG, SUBSCRIPTIONS
    from recon_cli.outputs.terminal.listing import formats_report

    console().print(formats_report([*invoice_formats().values(), SUBSCRIPTIONS, CHANGE_LOG]))
