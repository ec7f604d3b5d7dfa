"""`make bench`: recon against the floor of merely reading its inputs, on generated months of several sizes.

Usage:
    python bench/bench.py [SIZE ...] [--rounds 3] [--only floor,run,...] [--out bench/results.md]

Every measurement is its own child process, so wall time, CPU time and peak RSS are that command's alone
(os.wait4's rusage, not the cumulative RUSAGE_CHILDREN). The measurements of a size are interleaved
round after round, and the median of the rounds is reported, so a slow patch of the machine spreads over
all of them instead of landing on one. Months are generated with `recon sample` under bench/out/ and
reused by later runs; each round's store and output files go in a scratch folder next to them.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.metadata
import os
import platform
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

DEFAULT_SIZES = [100_000, 1_000_000, 3_000_000]
LIGHT_REPEATS = 5  # explain and --help: times measured per round (their median counts as the round's)
AS_OF = "2026-11-09"  # the sample month is 2026-10; as in `make demo`
HERE = Path(__file__).resolve().parent
BIN = Path(sys.executable).parent
RECON = [str(BIN / "recon")] if (BIN / "recon").exists() else [sys.executable, "-m", "recon_cli"]

# The floor: what any tool must pay to hold the month's files in memory as text, in a fresh interpreter.
FLOOR = """import sys, pandas as pd
frames = [pd.read_csv(path, engine="pyarrow", dtype=str) for path in sys.argv[1:]]
"""
# The peer: the core match a user could write in DuckDB. all_varchar because type sniffing looks at a
# sample, and an odd planted value further down would stop the query instead of being counted.
PEER = "import sys, duckdb; print(duckdb.sql(sys.argv[1]).fetchall()[0][0])"
PEER_SQL = """
WITH billed AS (
    SELECT lower(SubscriptionId) AS id, sum(TRY_CAST(Quantity AS DECIMAL(18, 4))) AS quantity
    FROM read_csv_auto({invoices}, all_varchar = true) GROUP BY 1)
SELECT count(*) AS mismatches
FROM billed JOIN read_csv_auto({subscriptions}, all_varchar = true) AS s ON billed.id = lower(s.subscription_id)
WHERE billed.quantity IS DISTINCT FROM TRY_CAST(s.quantity AS DECIMAL(18, 4))
"""

MEASURES = {
    "floor": "pandas read_csv (pyarrow, all text)",
    "run": "recon run",
    "csv_json": "recon run --csv --json",
    "xlsx": "recon run --xlsx",
    "explain_line": "recon explain LINE_ID",
    "explain_sub": "recon explain SUBSCRIPTION_ID",
    "help": "recon --help",
    "duckdb": "DuckDB query (peer)",
}
QUICK = 0.15  # seconds: explain and --help
RUN_OK = (0, 1)  # exit 1 is recon run's "needs a person": a normal outcome, not a failure


@dataclass(frozen=True)
class Sample:
    wall: float  # seconds
    cpu: float  # user + sys seconds
    rss: float  # peak resident MiB
    code: int
    failed: bool = False


def measure(command: list[str], scratch: Path, ok: tuple[int, ...] = (0,)) -> Sample:
    """Run one child and read its own rusage; its stderr is kept to show if it fails (exit code not in `ok`)."""
    env = {**os.environ, "RECON_HOME": str(scratch)}  # never the user's own run store
    with tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        child = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=err, cwd=scratch, env=env)
        _, status, usage = os.wait4(child.pid, 0)
        wall = time.perf_counter() - start
        child.returncode = code = os.waitstatus_to_exitcode(status)
        sample = Sample(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, code, code not in ok)
        if sample.failed:
            err.seek(0)
            tail = err.read().decode(errors="replace")[-2000:]
            print(f"FAILED (exit {code}): {' '.join(command)}\n{tail}", file=sys.stderr)
    return sample


@dataclass(frozen=True)
class Month:
    invoices: list[Path]
    subscriptions: Path
    changes: Path

    @property
    def files(self) -> list[Path]:
        return [*self.invoices, self.subscriptions, self.changes]


def month(size: int, data: Path) -> Month:
    """The generated month of `size` lines, made once: a stamp written after `recon sample` succeeds
    marks the folder complete, so an interrupted generation is redone rather than measured."""
    folder = data / f"lines-{size}"
    stamp, command = folder / "generated-by.txt", [*RECON, "sample", str(folder), "--lines", str(size)]
    wanted = f"recon sample --lines {size}\n"
    if not (stamp.exists() and stamp.read_text() == wanted):
        print(f"generating {size:,} lines into {folder} ...", flush=True)
        shutil.rmtree(folder, ignore_errors=True)
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
        stamp.write_text(wanted)
    invoices = sorted(folder.glob("invoice*.csv"), key=lambda path: (path.name != "invoice.csv", path.name))
    return Month(invoices, folder / "subscriptions.csv", folder / "changes.csv")


def run_command(m: Month, store: Path, *extra: str) -> list[str]:
    """`recon run` in the form of `make demo`: invoices, then subscriptions, then the options."""
    return [*RECON, "run", *map(str, m.files[:-1]), "--changes", str(m.changes), "--as-of", AS_OF,
            "--store", str(store), *extra]


def pick_ids(store: Path) -> tuple[str, str]:
    """A line from the middle of the stored run, and its subscription: what explain will be asked about."""
    from recon_cli.store.schema import line_rows

    with sqlite3.connect(store) as db:
        middle = db.execute("SELECT id FROM lines ORDER BY id LIMIT 1 OFFSET (SELECT count(*) FROM lines) / 2")
        [line] = line_rows(db, "id = ?", middle.fetchone())
    return str(line["line_id"]), str(line["matched_subscription_id"] or line["subscription_id"])


def add_history(store: Path, months: int) -> None:
    """Give the stored run `months - 1` earlier months by copying it in SQL (runs, lines, subscriptions and
    the rest, under new ids and sequence numbers), so explain is measured on a store holding a year of
    million-line runs without reconciling twelve of them. The newest copy keeps the run's own period."""
    from recon_cli.store.schema import LINE_KEY_SPAN as line_span  # lines.id = run seq x span + file + row

    with sqlite3.connect(store) as db:
        run_id, seq, period = db.execute("SELECT run_id, seq, period FROM runs ORDER BY seq DESC").fetchone()
        year, month_number = map(int, period.split("-"))
        tables = [name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT IN "
                                                 "('runs', 'lines', 'line_aliases', 'line_layouts', 'confirmations')")]
        run_columns = [row[1] for row in db.execute("PRAGMA table_info(runs)")]
        line_columns = [row[1] for row in db.execute("PRAGMA table_info(lines)")]
        for back in range(months - 1, 0, -1):
            index = (year * 12 + month_number - 1) - back
            # Ids sort by time like real ones (the newest run is the greatest id), so the copies sort first.
            copy_id, copy_seq = f"{index // 12}{index % 12 + 1:02d}01T000000000000Z-h{back:02d}", seq + months - back
            values = {"run_id": "?", "seq": "?", "period": "?",
                      "summary_json": "json_set(summary_json, '$.run_id', ?, '$.period', ?)"}
            db.execute(f"INSERT INTO runs ({', '.join(run_columns)}) SELECT "
                       f"{', '.join(values.get(c, c) for c in run_columns)} FROM runs WHERE run_id = ?",
                       (copy_id, copy_seq, f"{index // 12}-{index % 12 + 1:02d}", copy_id,
                        f"{index // 12}-{index % 12 + 1:02d}", run_id))
            db.execute("INSERT INTO line_layouts (seq, fields) SELECT ?, fields FROM line_layouts WHERE seq = ?",
                       (copy_seq, seq))
            shift = (copy_seq - seq) * line_span
            db.execute(f"INSERT INTO lines ({', '.join(line_columns)}) SELECT "
                       f"{', '.join('id + ?' if c == 'id' else c for c in line_columns)} FROM lines "
                       "WHERE id BETWEEN ? AND ?", (shift, seq * line_span, (seq + 1) * line_span - 1))
            for table in tables:
                columns = [row[1] for row in db.execute(f"PRAGMA table_info({table})")]
                db.execute(f"INSERT INTO {table} ({', '.join(columns)}) SELECT "
                           f"{', '.join('?' if c == 'run_id' else c for c in columns)} FROM {table} WHERE run_id = ?",
                           (copy_id, run_id))
        # The original becomes the newest month: its sequence moves past the copies, its lines with it.
        newest = seq + months
        db.execute("UPDATE lines SET id = id + ? WHERE id BETWEEN ? AND ?",
                   ((newest - seq) * line_span, seq * line_span, (seq + 1) * line_span - 1))
        db.execute("UPDATE line_aliases SET id = id + ? WHERE id BETWEEN ? AND ?",
                   ((newest - seq) * line_span, seq * line_span, (seq + 1) * line_span - 1))
        db.execute("UPDATE runs SET seq = ? WHERE run_id = ?", (newest, run_id))
        db.execute("UPDATE line_layouts SET seq = ? WHERE seq = ?", (newest, seq))


def sql_list(paths: list[Path]) -> str:
    return "[" + ", ".join("'" + str(path).replace("'", "''") + "'" for path in paths) + "]"


def one_round(m: Month, only: list[str], data: Path, ids: tuple[str, str] | None, history: int = 1
              ) -> tuple[dict[str, Sample], tuple[str, str] | None]:
    """Each wanted measurement once; the runs get fresh stores, explain reads the round's `recon run` store."""
    out: dict[str, Sample] = {}
    explain = [name for name in ("explain_line", "explain_sub") if name in only]
    with tempfile.TemporaryDirectory(prefix="round-", dir=data) as tmp:
        scratch = Path(tmp)
        store = scratch / "run.db"
        if "floor" in only:
            out["floor"] = measure([sys.executable, "-c", FLOOR, *map(str, m.files)], scratch)
        if "run" in only or explain:
            sample = measure(run_command(m, store), scratch, RUN_OK)
            if "run" in only:
                out["run"] = sample
            if ids is None and not sample.failed:
                ids = pick_ids(store)
            if history > 1 and explain and not sample.failed:
                add_history(store, history)
        if "csv_json" in only:
            extra = ["--csv", str(scratch / "out.csv"), "--json", str(scratch / "out.json")]
            out["csv_json"] = measure(run_command(m, scratch / "csv.db", *extra), scratch, RUN_OK)
        if "xlsx" in only:
            xlsx = run_command(m, scratch / "xlsx.db", "--xlsx", str(scratch / "out.xlsx"))
            out["xlsx"] = measure(xlsx, scratch, RUN_OK)
        # The light commands take ~0.1 s, where one slow start is noise: each round keeps the median of a few.
        for name in explain:
            target = "?" if ids is None else ids[name == "explain_sub"]
            out[name] = median([measure([*RECON, "explain", target, "--store", str(store)], scratch)
                                for _ in range(LIGHT_REPEATS)])
        if "help" in only:
            out["help"] = median([measure([*RECON, "--help"], scratch) for _ in range(LIGHT_REPEATS)])
        if "duckdb" in only:
            sql = PEER_SQL.format(invoices=sql_list(m.invoices), subscriptions=sql_list([m.subscriptions]))
            out["duckdb"] = measure([sys.executable, "-c", PEER, sql], scratch)
    return out, ids


def median(samples: list[Sample]) -> Sample:
    """Median of each quantity over the rounds; a failed round makes the whole measurement failed."""
    failed = [sample for sample in samples if sample.failed]
    if failed:
        return failed[0]
    return Sample(statistics.median(s.wall for s in samples), statistics.median(s.cpu for s in samples),
                  statistics.median(s.rss for s in samples), 0)


def seconds(value: float) -> str:
    return f"{value:.3f}" if value < 1 else f"{value:.2f}"


def table(results: dict[str, Sample]) -> list[str]:
    floor = results.get("floor")
    base = None if floor is None or floor.failed else floor
    lines = ["| measurement | wall s | CPU s | peak RSS MiB | wall / floor | RSS / floor |",
             "|---|--:|--:|--:|--:|--:|"]
    for name, s in results.items():
        if s.failed:
            lines.append(f"| {MEASURES[name]} | failed (exit {s.code}) | | | | |")
            continue
        ratios = [f"{s.wall / base.wall:.2f}×", f"{s.rss / base.rss:.2f}×"] if base else ["—", "—"]
        cells = [MEASURES[name], seconds(s.wall), seconds(s.cpu), f"{s.rss:.0f}", *ratios]
        lines.append(f"| {' | '.join(cells)} |")
    return lines


def targets(size: int, results: dict[str, Sample]) -> list[str]:
    """The issue's targets, each with the measured value and whether it is met."""
    got = {name: s for name, s in results.items() if not s.failed}
    floor, run, outputs, xlsx = (got.get(name) for name in ("floor", "run", "csv_json", "xlsx"))
    rows: list[str] = []

    def row(target: str, needs: tuple[str, ...], value: float | None, limit: float, shown: str) -> None:
        verdict = "met" if value is not None and value <= limit else "**not met**"
        if value is None:
            failed = any(results[name].failed for name in needs if name in results)
            shown, verdict = "—", "failed" if failed else "not measured"
        elif "xlsx" in needs and size != 1_000_000:
            verdict = "n/a (stated for 1,000,000 lines)"
        rows.append(f"| {target} | {shown.format(value)} | {verdict} |")

    both = ("run", "floor")
    row("`recon run` wall ≤ 2.5× floor", both, run.wall / floor.wall if run and floor else None, 2.5, "{:.2f}×")
    row("`recon run` peak RSS ≤ 2× floor's", both, run.rss / floor.rss if run and floor else None, 2, "{:.2f}×")
    added = (outputs.wall - run.wall) / floor.wall if outputs and run and floor else None
    row("`--csv --json` adds ≤ 1× floor", ("csv_json", *both), added, 1, "{:+.2f}× floor")
    added = xlsx.wall - run.wall if xlsx and run else None
    row("`--xlsx` adds ≤ 25 s at 1M lines", ("xlsx", "run"), added, 25, "{:+.2f} s")
    for name in ("explain_line", "explain_sub", "help"):
        s = got.get(name)
        row(f"`{MEASURES[name]}` ≤ {QUICK} s", (name,), s.wall if s else None, QUICK, "{:.3f} s")
    return ["| target | measured | verdict |", "|---|--:|---|", *rows]


def machine() -> list[str]:
    """Where the numbers come from: they mean little without the CPU, the memory and the versions."""
    info = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    cpu = next((line.split(":", 1)[1].strip() for line in info.splitlines() if line.startswith("model name")),
               platform.processor() or "unknown")
    meminfo = Path("/proc/meminfo").read_text() if Path("/proc/meminfo").exists() else ""
    kib = next((int(line.split()[1]) for line in meminfo.splitlines() if line.startswith("MemTotal")), 0)

    def version(package: str) -> str:
        try:
            return importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            return "not installed"

    packages = ", ".join(f"{p} {version(p)}" for p in ("recon-cli", "pandas", "pyarrow", "duckdb", "openpyxl"))
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return [f"- Machine: {cpu}, {os.cpu_count()} cores, {kib / 1024 ** 2:.1f} GiB memory ({platform.system()})",
            f"- Python {platform.python_version()}; {packages}",
            f"- Load average when the benchmark started: {load}"]


def compile_package() -> None:
    """Byte-compile recon's modules, as installing its wheel does: where PYTHONDONTWRITEBYTECODE is set
    (as on this machine), an editable install would compile every module it imports at each start, and
    the light commands would be timed with the compiler (0.01-0.02 s of `recon --help`)."""
    import compileall

    import recon_cli

    compileall.compile_dir(Path(recon_cli.__file__).parent, quiet=1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("sizes", nargs="*", type=int, default=DEFAULT_SIZES, help="invoice lines per month")
    parser.add_argument("--rounds", type=int, default=3, help="rounds per size; the median is reported")
    parser.add_argument("--only", default=",".join(MEASURES), help=f"comma-separated subset of {','.join(MEASURES)}")
    parser.add_argument("--out", type=Path, default=HERE / "results.md", help="the Markdown report")
    parser.add_argument("--history", type=int, default=1,
                        help="months in the store explain is measured on (the run copied into earlier months)")
    parser.add_argument("--data", type=Path, default=HERE / "out", help="where months are generated and kept")
    args = parser.parse_args()
    only = [name.strip() for name in args.only.split(",") if name.strip()]
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    if unknown := set(only) - set(MEASURES):
        parser.error(f"unknown measurement(s): {', '.join(sorted(unknown))}; choose from {', '.join(MEASURES)}")
    args.data.mkdir(parents=True, exist_ok=True)
    compile_package()
    header = machine()
    started = dt.datetime.now().astimezone()

    report: list[str] = []
    failed = False
    for size in args.sizes:
        m = month(size, args.data.resolve())
        rounds: dict[str, list[Sample]] = {name: [] for name in MEASURES if name in only}
        ids = None
        for number in range(1, args.rounds + 1):
            samples, ids = one_round(m, only, args.data.resolve(), ids, args.history)
            for name, sample in samples.items():
                rounds[name].append(sample)
            done = ", ".join(f"{name} {f'failed (exit {s.code})' if s.failed else f'{seconds(s.wall)} s'}"
                             for name, s in samples.items())
            print(f"{size:,} lines, round {number}/{args.rounds}: {done}", flush=True)
        results = {name: median(samples) for name, samples in rounds.items()}
        failed = failed or any(s.failed for s in results.values())
        explained = f" (explain: line `{ids[0]}`, subscription `{ids[1]}`)" if ids else ""
        stored = f"; explain on a store of {args.history} monthly runs" if args.history > 1 else ""
        section = [f"## {size:,} invoice lines", "", f"Median of {args.rounds} round(s){explained}{stored}.", "",
                   *table(results), "", *targets(size, results), ""]
        print("\n" + "\n".join(section), flush=True)
        report += section

    command = " ".join(["python", *sys.argv])
    text = [f"# recon benchmark, {started:%Y-%m-%d %H:%M %Z}", "", *header, f"- Command: `{command}`", "",
            "Floor: a fresh Python reading every CSV of the month with `pd.read_csv(path, engine=\"pyarrow\", "
            "dtype=str)`. `recon run` is the `make demo` form (`--as-of 2026-11-09`, a fresh `--store`, report "
            "to /dev/null); `--csv --json` and `--xlsx` are the same run with those outputs; explain reads the "
            "store of that round's `recon run`. The DuckDB query sums invoice quantity per subscription and "
            "counts those that differ from the subscriptions file: the core match, as a user might write it. "
            "Each figure is the child process's own wall time, CPU time (user + sys) and peak RSS; explain and "
            f"`--help` run {LIGHT_REPEATS} times per round, and each round counts their median.", "",
            *report]
    args.out.write_text("\n".join(text))
    print(f"wrote {args.out}")
    if failed:
        raise SystemExit("some measurements failed; see above")


if __name__ == "__main__":
    main()
