"""Click plumbing shared by the commands in cli.py: the group that turns errors into exit codes,
parameter types over recon_cli.options' parsers, and the options several commands share."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from recon_cli.errors import ExitCode, ReconError, Terminated
from recon_cli.outputs.inert import inert


class ReconGroup(click.Group):
    """Turns every ReconError into one line and its exit code; anything else into exit 70."""

    def invoke(self, ctx: click.Context) -> Any:
        with _sigterm_raises():
            return self._invoke(ctx)

    def _invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except Terminated:
            click.echo("Terminated.", err=True)
            ctx.exit(ExitCode.TERMINATED)
        except ReconError as exc:
            if ctx.obj and ctx.obj.get("debug"):
                raise
            click.echo(f"Error: {inert(str(exc))}", err=True)
            ctx.exit(exc.exit_code)
        except KeyboardInterrupt:
            click.echo("Interrupted.", err=True)
            ctx.exit(ExitCode.INTERRUPTED)
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except Exception as exc:
            if ctx.obj and ctx.obj.get("debug"):
                raise
            click.echo(f"Internal error: {type(exc).__name__}: {inert(str(exc))} (run with --debug for the traceback)",
                       err=True)
            ctx.exit(ExitCode.INTERNAL)


@contextmanager
def _sigterm_raises() -> Iterator[None]:
    """SIGTERM raises Terminated where the program is, so that cleanup runs as for Ctrl-C; the
    previous handler comes back afterwards (tests invoke the CLI many times in one process)."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def terminate(_signum: int, _frame: Any) -> None:
        raise Terminated

    previous = signal.signal(signal.SIGTERM, terminate)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


class Parsed(click.ParamType[Any]):
    """A parameter read by one of recon_cli.options' parsers: a bad value is a usage error naming the flag."""

    def __init__(self, name: str, parse: Callable[[Any], Any]) -> None:
        self.name, self.parse = name, parse

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        try:
            return self.parse(value)
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


FILE = click.Path(path_type=Path, exists=True, dir_okay=False)
OUT = click.Path(path_type=Path, dir_okay=False)


def read_config(ctx: click.Context, _param: click.Parameter, path: Path | None) -> None:
    """recon.toml becomes the command's defaults before any other option is read: flags still win."""
    from recon_cli.config import run_defaults

    ctx.default_map = {**(ctx.default_map or {}), **run_defaults(path)}


def store_option(command: Callable[..., Any]) -> Callable[..., Any]:
    return click.option("--store", type=OUT, help="Run store (default $RECON_HOME/recon.db, else ./.recon/recon.db).")(
        command)


def output_options(command: Callable[..., Any]) -> Callable[..., Any]:
    command = click.option("--json", "json_target", metavar="PATH|-", help="Write the JSON result here ('-': stdout).")(
        command)
    command = click.option("--csv", "csv_path", type=OUT, help="Write the invoice with result columns appended here.")(
        command)
    return click.option("--xlsx", "xlsx_path", type=OUT, help="Write the finance workbook here.")(command)


def console(stderr: bool = False) -> Any:
    """The console every command prints through: a final guard makes any input text that reaches it
    inert (the views already pass their values through `inert`, which keeps tables aligned)."""
    from rich.console import Console
    from rich.segment import Segment

    from recon_cli.outputs.inert import inert

    class InertConsole(Console):
        def _render_buffer(self, buffer: Any) -> str:
            return super()._render_buffer(
                segment if segment.control else Segment(inert(segment.text), segment.style) for segment in buffer)

    return InertConsole(stderr=stderr, highlight=False, soft_wrap=False)
