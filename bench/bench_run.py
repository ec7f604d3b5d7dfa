"""Benchmark: `recon run` against pandas just reading the same files, plus the light commands.

Usage:
    python bench/bench_run.py [--lines 100000] [--seed 7] [--out bench/out]

Prints one line per measurement. Targets (DEVELOPERS.md): `recon run` in about twice the time
pandas needs to read the inputs; `recon explain` and `recon --help` under 0.15 s.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import time
from pathlib import Path


def timed(command: list[str], env: dict[str, str]) -> tuple[float, int]:
    """Wall seconds and exit code of one command."""
    start = time.perf_counter()
    completed = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    if completed.returncode not in (0, 1):
        print(completed.stderr, file=sys.stderr)
        raise SystemExit(f"failed: {' '.join(command)}")
    return elapsed, completed.returncode


def best_of(runs: int, command: list[str], env: dict[str, str]) -> float:
    return min(timed(command, env)[0] for _ in range(runs))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--lines", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, default=Path("bench/out"))
    parser.add_argument("--xlsx", action="store_true", help="also write the workbook during the run")
    args = parser.parse_args()

    from recon_cli.sample import generate_sample

    folder = args.out / f"month-{args.lines}"
    start = time.perf_counter()
    plan = generate_sample(folder, lines=args.lines, seed=args.seed)
    print(f"generate {plan.line_count:,} lines: {time.perf_counter() - start:.2f} s")

    import pandas as pd

    start = time.perf_counter()
    for path in (*plan.invoices, plan.subscriptions, plan.changes):
        pd.read_csv(path, dtype=str, keep_default_na=False)
    read_seconds = time.perf_counter() - start
    print(f"pandas read_csv of the three inputs (dtype=str): {read_seconds:.2f} s")

    env = {**os.environ, "RECON_HOME": str(folder / "home")}
    recon = [sys.executable, "-m", "recon_cli"]
    command = [*recon, "run", *map(str, plan.invoices), str(plan.subscriptions), "--changes", str(plan.changes),
               "--quiet", "--fail-on", "never"]
    if args.xlsx:
        command += ["--xlsx", str(folder / "recon.xlsx")]
    run_seconds, _ = timed(command, env)
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"recon run: {run_seconds:.2f} s ({run_seconds / read_seconds:.1f}x the read), peak RSS {peak:.0f} MiB")

    explain_seconds = best_of(5, [*recon, "explain", "G000123456-3"], env)
    help_seconds = best_of(5, [*recon, "--help"], env)
    print(f"recon explain G000123456-3: {explain_seconds:.3f} s (best of 5, includes interpreter start)")
    print(f"recon --help: {help_seconds:.3f} s (best of 5, includes interpreter start)")


if __name__ == "__main__":
    main()
