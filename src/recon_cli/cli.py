"""The `recon` command line: flags in, one core call, render, exit code.

Light commands (`--help`, `explain`, `runs`, `confirm`) import neither pandas nor openpyxl:
heavy imports live inside the commands that need them.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from contextlib import nullcontext
from datetime import datetime, time
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import click

from recon_cli import __version__
from recon_cli.errors import ConfigError, ExitCode, ReconError

FAIL_ON = ("unexplained", "any", "never")
DATE_FORMATS = ("MDY", "DMY")


class ReconGroup(click.Group):
    """Turns every ReconError into one line and its exit code; anything else into exit 70."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ReconError as exc:
            if ctx.obj and ctx.obj.get("debug"):
                raise
            click.echo(f"Error: {exc}", err=True)
            ctx.exit(exc.exit_code)
        except KeyboardInterrupt:
            click.echo("Interrupted.", err=True)
            ctx.exit(ExitCode.INTERRUPTED)
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except Exception as exc:
            if ctx.obj and ctx.obj.get("debug"):
                raise
            click.echo(f"Internal error: {type(exc).__name__}: {exc} (run with --debug for the traceback)",
                       err=True)
            ctx.exit(ExitCode.INTERNAL)


@click.group(cls=ReconGroup)
@click.version_option(__version__, prog_name="recon")
@click.option("--debug", is_flag=True, help="Show tracebacks instead of one-line errors.")
@click.pass_context
def cli(ctx: click.Context, debug: bool) -> None:
    """Reconcile a cloud provider's invoice against your billing records.

    \b
    Exit codes: 0 nothing needs a person; 1 something does (see --fail-on);
    2 bad input or usage; 70 internal error; 130 interrupted.
    """
    ctx.obj = {"debug": debug}


def store_option(command: Callable[..., Any]) -> Callable[..., Any]:
    return click.option("--store", type=click.Path(path_type=Path, dir_okay=False),
                        help="Run store (default $RECON_HOME/recon.db, else ./.recon/recon.db).")(command)


def output_options(command: Callable[..., Any]) -> Callable[..., Any]:
    for option in reversed([
        click.option("--xlsx", "xlsx_path", type=click.Path(path_type=Path, dir_okay=False),
                     help="Write the finance workbook here."),
        click.option("--csv", "csv_path", type=click.Path(path_type=Path, dir_okay=False),
                     help="Write the invoice with result columns appended here."),
        click.option("--json", "json_target", metavar="PATH|-", help="Write the JSON result here ('-': stdout)."),
    ]):
        command = option(command)
    return command


def _decimal(value: str | None, flag: str) -> Decimal | None:
    if value is None:
        return None
    try:
        return Decimal(value.strip().rstrip("%"))
    except InvalidOperation:
        raise ConfigError(f"{flag}: expected a number like 15 (percent), found {value!r}") from None


def _as_of(value: str | None) -> datetime | None:
    """`--as-of` as the end of that day when no time is given: a change on that day counts."""
    if value is None:
        return None
    for fmt in ("%Y-%m-%d", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S", "%m/%d/%Y"):
        try:
            parsed = datetime.strptime(value.strip(), fmt)
        except ValueError:
            continue
        return datetime.combine(parsed.date(), time.max) if len(value.strip()) <= 10 else parsed
    raise ConfigError(f"--as-of: expected a date like 2026-10-31, found {value!r}")


def _console(stderr: bool = False) -> Any:
    from rich.console import Console

    return Console(stderr=stderr, highlight=False, soft_wrap=False)


@cli.command()
@click.argument("invoice", type=click.Path(path_type=Path, exists=True))
@click.argument("subscriptions", type=click.Path(path_type=Path, exists=True, dir_okay=False))
@click.option("--changes", type=click.Path(path_type=Path, exists=True, dir_okay=False),
              help="Licence change log (CSV or XLSX).")
@click.option("--usage", type=click.Path(path_type=Path, exists=True, dir_okay=False),
              help="Daily-rated usage file (NCE) to check the invoice's usage lines against.")
@click.option("--config", "config_path", type=click.Path(path_type=Path, exists=True, dir_okay=False),
              help="recon.toml with defaults for these options (default ./recon.toml if present).")
@click.option("--invoice-format", default=None, metavar="FORMAT|FILE.toml",
              help="auto (default), nce, legacy, graph, a distributor (see `recon formats`) or a profile file.")
@click.option("--date-format", type=click.Choice(DATE_FORMATS, case_sensitive=False), default=None, metavar="MDY|DMY",
              help="Day/month order of slashed dates when a file's values do not tell (default: decided per file).")
@click.option("--period", help="Billing period YYYY-MM (default: the month most seat charges start).")
@click.option("--as-of", "as_of", help="Ignore change-log records effective after this date.")
@click.option("--min-margin", help="Flag margins under this percent as low_margin.")
@output_options
@click.option("--fail-on", type=click.Choice(FAIL_ON), default=None,
              help="What makes the exit code 1 (default: unexplained).")
@store_option
@click.option("--quiet", "-q", is_flag=True, help="No terminal report; errors only.")
def run(invoice: Path, subscriptions: Path, changes: Path | None, usage: Path | None, config_path: Path | None,
        invoice_format: str | None, date_format: str | None, period: str | None, as_of: str | None,
        min_margin: str | None,
        xlsx_path: Path | None, csv_path: Path | None, json_target: str | None, fail_on: str | None,
        store: Path | None, quiet: bool) -> None:
    """Reconcile INVOICE (provider export) against SUBSCRIPTIONS (your billing export).

    INVOICE may be a CSV in any encoding or delimiter, an .xlsx copy, or a Graph export
    (.jsonl.gz, or a folder of its blobs).

    \b
    Example:
        recon run invoice.csv subscriptions.csv --changes changes.csv --xlsx recon.xlsx
    """
    from recon_cli import export, report
    from recon_cli import store as run_store
    from recon_cli.config import load_config
    from recon_cli.pipeline import RunInputs, reconcile

    config = load_config(config_path)
    period = period or config.period
    if period is not None and not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", period):
        raise ConfigError(f"--period: expected YYYY-MM like 2026-10, found {period!r}")
    inputs = RunInputs(
        invoice=invoice, subscriptions=subscriptions, changes=changes or config.changes,
        usage=usage or config.usage,
        invoice_format=invoice_format or config.invoice_format or "auto", period=period,
        date_format=(date_format or config.date_format or "").upper() or None,
        invoice_profile=None if invoice_format else config.invoice_profile,
        as_of=_as_of(as_of or config.as_of),
        min_margin=_decimal(min_margin or config.min_margin, "--min-margin"))
    json_target = json_target or config.json_path
    to_stdout = json_target == "-"
    console = _console(stderr=to_stdout)
    store_path = run_store.resolve_store_path(store or config.store)
    connection = run_store.open_store(store_path)
    # Progress goes to stderr, and only to a terminal: pipes and CI get the stable report alone.
    progress_console = _console(stderr=True)
    live = progress_console.is_terminal and not quiet
    with progress_console.status("reading", spinner="dots") if live else nullcontext() as status:
        def progress(message: str) -> None:
            if status is not None:
                status.update(message)

        result = reconcile(inputs, run_store.load_confirmations(connection),
                           run_id=run_store.new_run_id(), progress=progress)
        progress("saving the run")
        run_store.save_run(connection, result)
        saved = {"store": str(store_path), "run": result.summary.run_id}
        for label, target, writer in (("xlsx", xlsx_path or config.xlsx, export.write_xlsx),
                                      ("csv", csv_path or config.csv, export.write_csv)):
            if target is not None:
                progress(f"writing {label}")
                writer(result, target)
                saved[label] = str(target)
        if json_target is not None:
            export.write_json(result, Path(json_target) if not to_stdout else "-")
            saved["json"] = "stdout" if to_stdout else json_target
    if not quiet:
        console.print(report.run_report(result, saved))
    sys.exit(exit_code(result.summary, fail_on or config.fail_on or "unexplained"))


def exit_code(summary: Any, fail_on: str) -> int:
    """0 when nothing needs a person; 1 when something does, per --fail-on (PRODUCT.md §4)."""
    if fail_on == "never":
        return ExitCode.OK
    needs = summary.needs_attention > 0
    if fail_on == "any":
        price_findings = any(count for status, count in summary.price_status_counts.items()
                             if status not in ("ok", "no_price"))
        needs = needs or price_findings or summary.reject_count > 0
    return ExitCode.NEEDS_ATTENTION if needs else ExitCode.OK


def _open_existing(store: Path | None) -> Any:
    """The run store, for commands that read it: no store yet is a clear error, not an empty file."""
    from recon_cli import store as run_store
    from recon_cli.errors import RunNotFound

    path = run_store.resolve_store_path(store)
    if not path.exists():
        raise RunNotFound(f"no runs stored yet in {path}; run `recon run INVOICE SUBSCRIPTIONS` first")
    return run_store.open_store(path)


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
    from recon_cli import report
    from recon_cli import store as run_store

    connection = _open_existing(store)
    explanation = run_store.find_explanation(connection, id_, run_id)
    if as_json:
        click.echo(explanation.model_dump_json(indent=2))
        return
    _console().print(report.explanation_report(explanation))


@cli.command()
@click.argument("id_")
@click.option("--note", required=True, help="Why the difference is acceptable.")
@click.option("--by", "by", default=None, help="Who confirms (default: your user name).")
@click.option("--run", "run_id", help="Run id (default: the newest run).")
@store_option
def confirm(id_: str, note: str, by: str | None, run_id: str | None, store: Path | None) -> None:
    """Confirm a difference: its lines become `confirmed`, in this run and later ones
    while the subscription shows the same quantities.

    \b
    Example:
        recon confirm G000123456-7 --note "credit agreed with the customer" --by ana
    """
    import getpass

    from recon_cli import store as run_store

    connection = _open_existing(store)
    confirmation = run_store.confirm(connection, id_, note, by or getpass.getuser(), run_id)
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
    from recon_cli import store as run_store

    connection = _open_existing(store)
    confirmation = run_store.unconfirm(connection, id_, run_id)
    click.echo(f"Unconfirmed {confirmation.subscription_id}.")


@cli.command()
@click.option("--limit", default=20, show_default=True, help="How many runs to list.")
@store_option
def runs(limit: int, store: Path | None) -> None:
    """List stored runs, newest first, with their counts.

    \b
    Example:
        recon runs
    """
    from recon_cli import report
    from recon_cli import store as run_store

    connection = _open_existing(store)
    _console().print(report.runs_report(run_store.list_runs(connection, limit)))


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
    from recon_cli import export as exporter
    from recon_cli import store as run_store

    if not (xlsx_path or csv_path or json_target):
        raise click.UsageError("give at least one of --xlsx, --csv, --json")
    connection = _open_existing(store)
    result = run_store.load_result(connection, run_id)
    if xlsx_path:
        exporter.write_xlsx(result, xlsx_path)
    if csv_path:
        exporter.write_csv(result, csv_path)
    if json_target:
        exporter.write_json(result, "-" if json_target == "-" else Path(json_target))
    if json_target != "-":
        click.echo(f"Exported run {result.summary.run_id}.")


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
    for path in (plan.invoice, plan.subscriptions, plan.changes):
        click.echo(f"  {path}")
    click.echo(f"Next: recon run {plan.invoice} {plan.subscriptions} --changes {plan.changes}")


@cli.command()
def formats() -> None:
    """List the input formats recognised, with their columns.

    Invoices are detected from their header; `recon run --invoice-format NAME` picks one, and
    `--invoice-format FILE.toml` (or an [invoice_format] table in recon.toml) maps any other
    provider's columns onto these.

    \b
    Example:
        recon formats
    """
    from recon_cli import report
    from recon_cli.formats.detect import invoice_formats
    from recon_cli.formats.subscriptions import CHANGE_LOG, SUBSCRIPTIONS

    _console().print(report.formats_report([*invoice_formats().values(), SUBSCRIPTIONS, CHANGE_LOG]))
