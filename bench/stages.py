"""Where `recon run`'s time goes, stage by stage, and how each stage grows with the month.

Usage:
    python bench/stages.py [SIZE ...] [--out bench/stages.md]

Each size is reconciled and saved in a child process of its own (so that its peak RSS is its own), with a
timer around each stage of `pipeline.reconcile` and around the store's save: the same calls `recon run
INVOICE SUBSCRIPTIONS --changes CHANGES --as-of 2026-11-09` makes on the month's main invoice file. The
table gives each stage's seconds at every size and, per size after the first, its growth per line
against the first size: 1.00 is linear, 1.5 means each line cost half as much again. A stage that
grows faster than the month is where the run stops being linear (docs/scale.md).

One round per size: read the growth column as a trend (this machine's single runs vary by up to 30%).
Months come from `bench.py`'s generator (bench/out/, made once with `recon sample`).
"""

from __future__ import annotations

import argparse
import functools
import importlib
import json
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from bench import AS_OF, compile_package, machine, month  # noqa: E402

# (module, function): each stage as the pipeline calls it, through its module's attribute.
STAGES = [
    ("recon_cli.pipeline", "read_invoices"), ("recon_cli.exports", "read_exports"),
    ("recon_cli.match", "match_lines"), ("recon_cli.match", "missing_subscriptions"),
    ("recon_cli.match", "seat_counts"), ("recon_cli.explain", "decide_differences"),
    ("recon_cli.explain", "explain_lines"), ("recon_cli.price", "price_lines"), ("recon_cli.money", "line_money"),
    ("recon_cli.arithmetic", "check_arithmetic"), ("recon_cli.explain", "finding_sentences"),
    ("recon_cli.assemble", "result_lines"), ("recon_cli.confirm", "apply_confirmations"),
    ("recon_cli.history", "attach_open_since"), ("recon_cli.rebill", "to_bill"), ("recon_cli.rebill", "margin"),
    ("recon_cli.pipeline", "summarise"), ("recon_cli.history", "subscription_states"),
    ("recon_cli.runner", "with_since_last"), ("recon_cli.store", "save_run"),
]


def timed(seconds: dict[str, float], peaks: dict[str, float], module: str, name: str) -> None:
    """Replace module.name with a wrapper adding its wall time to seconds[name] and noting the process's
    peak RSS once it returns in peaks[name]; a renamed stage fails here."""
    owner = importlib.import_module(module)
    original: Callable[..., Any] = getattr(owner, name)

    @functools.wraps(original)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            seconds[name] = seconds.get(name, 0.0) + time.perf_counter() - started
            peaks[name] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    setattr(owner, name, wrapper)


def child(size: int, data: Path) -> None:
    """Reconcile and save one month in this process; print {stage: seconds, ...} as JSON."""
    seconds: dict[str, float] = {}
    peaks: dict[str, float] = {}
    for module, name in STAGES:
        timed(seconds, peaks, module, name)
    from recon_cli import runner
    from recon_cli.options import parse_as_of
    from recon_cli.pipeline import RunInputs

    m = month(size, data)
    inputs = RunInputs(invoices=(m.invoices[0],), subscriptions=m.subscriptions, changes=m.changes,
                       as_of=parse_as_of(AS_OF))
    with tempfile.TemporaryDirectory(dir=data) as scratch:
        started = time.perf_counter()
        runner.run_month(inputs, runner.Outputs(), Path(scratch) / "recon.db")
        total = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    # The stage that set the peak: the first, in the order the stages ended, after which the peak was reached.
    ended = sorted(peaks, key=peaks.__getitem__)
    setter = next((name for name in ended if peaks[name] >= peak - 1), "")
    print(json.dumps({"stages": seconds, "total": total, "peak_mib": peak, "peak_stage": setter, "lines": size}))


def table(results: list[dict[str, Any]]) -> list[str]:
    """Seconds per stage and size, and each later size's growth per line against the first."""
    first = results[0]
    sizes = [f"{r['lines']:,}" for r in results]
    head = ["stage", *(f"{s} lines, s" for s in sizes), *(f"growth to {s}" for s in sizes[1:])]
    rows = [f"| {' | '.join(head)} |", "|---" + "|--:" * (len(head) - 1) + "|"]

    def growth(now: float, then: float, scale: float) -> str:
        return f"{now / (then * scale):.2f}" if then > 0.05 else "–"

    names = sorted(first["stages"], key=lambda name: -results[-1]["stages"].get(name, 0.0))
    for name in [*names, "total"]:
        values = [r["total"] if name == "total" else r["stages"].get(name, 0.0) for r in results]
        label = "**total** (reconcile and save)" if name == "total" else f"`{name}`"
        grown = [growth(v, values[0], r["lines"] / first["lines"]) for v, r in zip(values[1:], results[1:],
                                                                                  strict=True)]
        rows.append(f"| {label} | {' | '.join(f'{v:.2f}' for v in values)} | {' | '.join(grown)} |")
    peaks = ", ".join(f"{r['lines']:,}: {r['peak_mib']:,.0f} MiB (reached in `{r.get('peak_stage', '')}`)"
                      for r in results)
    return [*rows, "", f"Peak RSS: {peaks}."]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("sizes", nargs="*", type=int, default=[1_000_000, 3_000_000], help="invoice lines")
    parser.add_argument("--out", type=Path, default=HERE / "stages.md", help="the Markdown report")
    parser.add_argument("--data", type=Path, default=HERE / "out", help="where months are generated and kept")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    data = args.data.resolve()
    data.mkdir(parents=True, exist_ok=True)
    if args.child:
        child(args.child, data)
        return
    compile_package()
    header = machine()
    results = []
    for size in sorted(args.sizes):
        month(size, data)  # generated before the child starts, so that generating is not timed
        done = subprocess.run([sys.executable, __file__, "--child", str(size), "--data", str(data)],
                              check=True, capture_output=True, text=True)
        results.append(json.loads(done.stdout.strip().splitlines()[-1]))
        print(f"{size:,} lines: {results[-1]['total']:.1f} s, peak {results[-1]['peak_mib']:,.0f} MiB", flush=True)
    report = ["# Stage timings of `recon run`", "", *header, "",
              "`python bench/stages.py " + " ".join(map(str, sorted(args.sizes))) + "`: one round per size, "
              "the main invoice file; growth is per line against the first size (1.00: linear).", "",
              *table(results), ""]
    args.out.write_text("\n".join(report), encoding="utf-8")
    print("\n".join(table(results)))
    print(f"\nwrote {args.out}")


if __name__ == "__main__":
    main()
