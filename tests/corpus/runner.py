"""Runs one corpus case in a child process forked from a warm server, reporting its exit, output, time and peak memory.

A fresh `python -m recon_cli` costs a second or two of imports per case; a child forked from a
server that has already imported them costs milliseconds, and its peak resident memory is its own
(the server's imported modules included: see BASELINE in tests/test_corpus.py).
"""

from __future__ import annotations

import multiprocessing
import resource
import tempfile
import time
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

PRELOAD = ["recon_cli.cli", "recon_cli.load", "recon_cli.pipeline", "recon_cli.runner", "recon_cli.store",
           "recon_cli.config", "recon_cli.outputs.terminal.run", "recon_cli.outputs.json", "recon_cli.formats.graph",
           "recon_cli.formats.sheets", "recon_cli.formats.textrows", "pandas", "pyarrow", "pyarrow.csv", "openpyxl",
           "click.testing", "babel", "rich"]
# A hard ceiling on the child's address space, so a regression fails the test instead of the machine.
ADDRESS_SPACE = 8 * 1024**3


def run_case(args: list[str], limits: dict[str, int], connection: Connection) -> None:
    """In the child: `recon run ARGS` through click's CliRunner, with `limits` in force."""
    from click.testing import CliRunner

    from recon_cli.cli import cli

    resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE, ADDRESS_SPACE))
    config: list[str] = []
    if limits:  # as a user sets them: a [limits] table in recon.toml (the run sets its caps from it)
        path = Path(tempfile.mkdtemp(prefix="recon-limits-")) / "recon.toml"
        path.write_text("[limits]\n" + "".join(f"{name} = {value}\n" for name, value in limits.items()))
        config = ["--config", str(path)]
    start = time.perf_counter()
    try:
        result = CliRunner().invoke(cli, ["run", *config, *args], catch_exceptions=False)
        outcome: dict[str, Any] = {"exit": result.exit_code, "stdout": result.stdout[-4000:],
                                   "stderr": result.stderr[-4000:]}
    except BaseException as exc:  # a crash past the CLI's own handler: reported, never an allowed exit
        outcome = {"exit": None, "stdout": "", "stderr": f"{type(exc).__name__}: {exc}"[:4000]}
    outcome["seconds"] = time.perf_counter() - start
    # ru_maxrss is in KiB on Linux.
    outcome["peak_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    connection.send(outcome)
    connection.close()


def context() -> Any:
    found = multiprocessing.get_context("forkserver")
    found.set_forkserver_preload(PRELOAD)
    return found


def run(ctx: Any, args: list[str], limits: dict[str, int], timeout: float) -> dict[str, Any]:
    """`recon run ARGS` in a forked child; {"exit": None, "stderr": "timed out"} when it outlives `timeout`."""
    receive, send = ctx.Pipe(duplex=False)
    child = ctx.Process(target=run_case, args=(args, limits, send))
    started = time.perf_counter()
    child.start()
    send.close()
    outcome: dict[str, Any] | None = None
    if receive.poll(timeout):
        try:
            outcome = receive.recv()
        except EOFError:  # the child died without a word (killed, out of memory)
            child.join()
            return {"exit": None, "stdout": "", "stderr": f"the child died (exit code {child.exitcode})",
                    "seconds": time.perf_counter() - started, "peak_mib": 0.0}
    child.join(1 if outcome else 0)
    if child.is_alive():
        child.kill()
        child.join()
    if outcome is None:
        return {"exit": None, "stdout": "", "stderr": f"timed out after {timeout} s (exit code {child.exitcode})",
                "seconds": time.perf_counter() - started, "peak_mib": 0.0}
    return outcome
