"""The run store at scale: a run's save as the store fills up, then confirm, unconfirm and export on it.

Usage:
    python bench/bench_store.py [SIZE] [--months N] [--out bench/store.md]

`bench.py` saves each round into a fresh store; a reseller's store holds every month before. Here the
month of SIZE lines (default 1,000,000; generated once under bench/out/ with `recon sample`) is
reconciled once, as `recon run` does on the main invoice file, then saved N times (default 6) into one
new store under new run ids, each save through a newly opened connection as each `recon run` would.
A save that takes longer with every month is an index whose inserts land among the months before.
Then, on the full store: `confirm` and `unconfirm` of a line needing a person in the newest run (each
its own transaction), and `load_result` of that run (what `recon export` reads). `recon explain` on
such a store is `bench.py --history`. Wall and CPU time of each, printed and written to the report.
Not a test: one process, one round, read the trend.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from bench import AS_OF, compile_package, machine, month  # noqa: E402


def timed(call: Callable[[], Any]) -> tuple[Any, float, float]:
    """`call`'s value, wall seconds and CPU seconds (CPU stays honest on a busy machine)."""
    wall, cpu = time.perf_counter(), time.process_time()
    value = call()
    return value, time.perf_counter() - wall, time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("size", nargs="?", type=int, default=1_000_000, help="invoice lines")
    parser.add_argument("--months", type=int, default=6, help="saves into the one store")
    parser.add_argument("--data", type=Path, default=HERE / "out", help="where months are generated and kept")
    parser.add_argument("--out", type=Path, default=HERE / "store.md", help="the Markdown report")
    args = parser.parse_args()
    data = args.data.resolve()
    data.mkdir(parents=True, exist_ok=True)
    compile_package()
    m = month(args.size, data)

    from recon_cli import pipeline, store
    from recon_cli.collection import paused_collection, reuse_freed_pages
    from recon_cli.options import parse_as_of
    from recon_cli.outputs.columns import ColumnTexts

    reuse_freed_pages()
    rows = ["| step | wall s | CPU s | store, MiB |", "|---|--:|--:|--:|"]

    def report(step: str, wall: float, cpu: float, path: Path) -> None:
        size = path.stat().st_size / 2**20
        print(f"  {step}: {wall:7.3f} s wall, {cpu:7.3f} s CPU, store {size:,.0f} MiB", flush=True)
        rows.append(f"| {step} | {wall:.3f} | {cpu:.3f} | {size:,.0f} |")

    with paused_collection(), tempfile.TemporaryDirectory(dir=data) as scratch:
        inputs = pipeline.RunInputs(invoices=(m.invoices[0],), subscriptions=m.subscriptions, changes=m.changes,
                                    as_of=parse_as_of(AS_OF), keep_raw=False)
        result = pipeline.reconcile(inputs, run_id=store.new_run_id())
        flagged = result.lines.loc[result.lines["needs_person"].astype(bool), "line_id"]
        path = Path(scratch) / "recon.db"
        print(f"{args.size:,} lines, {len(result.subscriptions):,} subscriptions; saves into one store:")
        for number in range(1, args.months + 1):
            summary = result.summary.model_copy(update={"run_id": store.new_run_id()})
            month_result = dataclasses.replace(result, summary=summary)
            connection = store.open_store(path)
            try:
                _, wall, cpu = timed(partial(store.save_run, connection, month_result, ColumnTexts(month_result.lines)))
            finally:
                connection.close()
            report(f"save, month {number}", wall, cpu, path)
        del result
        connection = store.open_store(path)
        try:
            if len(flagged):
                line_id = str(flagged.iloc[len(flagged) // 2])
                _, wall, cpu = timed(lambda: store.confirm(connection, line_id, note="bench", by="bench"))
                report(f"confirm {line_id}", wall, cpu, path)
                _, wall, cpu = timed(lambda: store.unconfirm(connection, line_id))
                report(f"unconfirm {line_id}", wall, cpu, path)
            loaded, wall, cpu = timed(lambda: store.load_result(connection))
            report(f"load_result ({len(loaded.lines):,} lines)", wall, cpu, path)
        finally:
            connection.close()
    report_lines = ["# The run store at scale", "", *machine(), "",
                    f"`python bench/bench_store.py {args.size} --months {args.months}`: the month of {args.size:,} "
                    f"lines reconciled once and saved {args.months} times into one new store, as month-ends would; "
                    "then confirm, unconfirm and load_result on the newest run. One process, one round.", "",
                    *rows, ""]
    args.out.write_text("\n".join(report_lines), encoding="utf-8")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
