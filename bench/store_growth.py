"""How a run's save grows with the runs its store already holds: month-end after month-end on one store.

Usage:
    python bench/store_growth.py [SIZE] [--months N] [--out bench/store_growth.md]

`bench.py` saves each round into a fresh store; a reseller's store holds every month before. Here the
month of SIZE lines (default 1,000,000; generated once under bench/out/ with `recon sample`) is
reconciled once, as `recon run` does on the main invoice file, then saved N times (default 6) into one
new store under new run ids, each save through a newly opened connection as each `recon run` would.
Each save's wall and CPU time and the store's size are printed and written to the report; a save that
takes longer with every month is an index whose inserts land among the months before. Not a test: one
process, one round, read the trend.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from bench import AS_OF, compile_package, machine, month  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("size", nargs="?", type=int, default=1_000_000, help="invoice lines")
    parser.add_argument("--months", type=int, default=6, help="saves into the one store")
    parser.add_argument("--data", type=Path, default=HERE / "out", help="where months are generated and kept")
    parser.add_argument("--out", type=Path, default=HERE / "store_growth.md", help="the Markdown report")
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
    with paused_collection(), tempfile.TemporaryDirectory(dir=data) as scratch:
        inputs = pipeline.RunInputs(invoices=(m.invoices[0],), subscriptions=m.subscriptions, changes=m.changes,
                                    as_of=parse_as_of(AS_OF), keep_raw=False)
        result = pipeline.reconcile(inputs, run_id=store.new_run_id())
        path = Path(scratch) / "recon.db"
        print(f"{args.size:,} lines, {len(result.subscriptions):,} subscriptions; saves into one store:")
        rows = ["| month | save, wall s | save, CPU s | store, MiB |", "|--:|--:|--:|--:|"]
        for number in range(1, args.months + 1):
            summary = result.summary.model_copy(update={"run_id": store.new_run_id()})
            month_result = dataclasses.replace(result, summary=summary)
            wall, cpu = time.perf_counter(), time.process_time()
            connection = store.open_store(path)
            try:
                store.save_run(connection, month_result, ColumnTexts(month_result.lines))
            finally:
                connection.close()
            seconds, busy, size = time.perf_counter() - wall, time.process_time() - cpu, path.stat().st_size / 2**20
            print(f"  month {number}: {seconds:6.2f} s wall, {busy:6.2f} s CPU, store {size:,.0f} MiB", flush=True)
            rows.append(f"| {number} | {seconds:.2f} | {busy:.2f} | {size:,.0f} |")
    report = ["# A run's save as its store grows", "", *machine(), "",
              f"`python bench/store_growth.py {args.size} --months {args.months}`: the month of {args.size:,} lines "
              f"({len(result.subscriptions):,} subscriptions) reconciled once and saved {args.months} times into one "
              "new store, as month-ends would; one process, one round.", "", *rows, ""]
    args.out.write_text("\n".join(report), encoding="utf-8")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
