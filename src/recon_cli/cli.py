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
from recon_cli.cli_store import confirm, diff, explain, open_existing, runs, unconfirm
from recon_cli.cli_support import FILE, Parsed, ReconGroup, console, output_options, read_config, store_option
from recon_cli.collection import return_freed_pages
from recon_cli.limits import parse_size
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
    return_freed_pages()  # before any command loads pyarrow


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
@click.option("--max-input-size", type=Parsed("SIZE", parse_size),
              help="Refuse an input file, or what a .gz or .xlsx inflates to, larger than this, e.g. 20GB "
                   "(default 10GiB; other caps: [limits] in recon.toml).")
@click.option("--label", help="A name for the run, shown by `recon runs` and `recon diff` (e.g. final).")
@click.option("--quiet", "-q", is_flag=True, help="No terminal report; errors only.")
def run(invoices: tuple[Path, ...], subscriptions: Path, changes: Path | None, usage: Path | None, invoice_format: Any,
        date_format: str | None, period: str | None, as_of: datetime | None, min_margin: Decimal | None,
        xlsx_path: Path | None, csv_path: Path | None, json_target: str | None, fail_on: str,
        store: Path | None, no_store: bool, max_input_size: int | None, label: str | None, quiet: bool) -> None:
    """Reconcile the month's INVOICES (provider exports, one per billing currency) against SUBSCRIPTIONS.

    An invoice may be a CSV in any encoding or delimiter, an .xlsx copy, or a Graph export
    (.jsonl.gz, or a folder of its blobs).

    \b
    Example:
        recon run invoice.csv subscriptions.csv --changes changes.csv --xlsx recon.xlsx
        recon run invoice-usd.csv invoice-eur.csv subscriptions.csv
    """
    from recon_cli.limits import Limits, set_limits
    from recon_cli.outputs.terminal.run import run_report
    from recon_cli.pipeline import RunInputs
    from recon_cli.runner import STDOUT, Outputs, run_month
    from recon_cli.store import resolve_store_path

    # Every run sets its caps, so that none carries over from an earlier call in the same process.
    set_limits((click.get_current_context().lookup_default("limits") or Limits()).with_input_size(max_input_size))
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
                            save=not no_store, label=label)
    if not quiet:
        console(stderr=json_target == STDOUT).print(run_report(outcome.result, outcome.saved))
    click.get_current_context().exit(outcome.result.summary.exit_code(FailOn(fail_on)))


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
    outcome = export_run(open_existing(store, quiet=json_target == STDOUT), run_id, outputs)
    if json_target != STDOUT:
        click.echo(f"Exported run {outcome.result.summary.run_id}.")


@cli.command()
@click.argument("directory", type=click.Path(path_type=Path, file_okay=False))
@click.option("--lines", default=60, show_default=True, type=click.IntRange(20, 10_000_000),
              help="About how many invoice lines in the first month.")
@click.option("--seed", default=7, show_default=True, type=click.IntRange(min=0),
              help="Random seed: the same seed, the same months.")
@click.option("--period", default="2026-10", show_default=True, type=click.DateTime(["%Y-%m"]),
              metavar="YYYY-MM", help="The first month billed; every date of the story moves with it.")
@click.option("--months", default=1, show_default=True, type=click.IntRange(1, 12),
              help="Consecutive months of the same reseller; more than one writes DIRECTORY/YYYY-MM/ "
                   "folders and DIRECTORY/README.md.")
def sample(directory: Path, lines: int, seed: int, period: datetime, months: int) -> None:
    """Write realistic Partner Center months with planted discrepancies into DIRECTORY.

    \b
    Example:
        recon sample demo --lines 100000
        recon run demo/invoice.csv demo/invoice-eur.csv demo/subscriptions.csv --changes demo/changes.csv
        recon sample story --months 3 --period 2026-10
    """
    from recon_cli.sample import generate_sample, summary_lines

    plan = generate_sample(directory, lines=lines, seed=seed, period=f"{period:%Y-%m}", months=months)
    for line in summary_lines(plan):
        click.echo(line)


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


for command in (explain, confirm, unconfirm, runs, diff):
    cli.add_command(command)
