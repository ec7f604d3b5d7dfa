"""Time the three writers on a run: `python bench/bench_export.py [--lines N]`.

Synthetic by default (N lines, 5% needing a person). With `--run DIR` (a folder written by
`recon sample DIR --lines N`), a real `reconcile()` of that month instead, after changing
the seats of a `--exceptions` share of its subscriptions so that many lines need a person.

Not a test (STYLE rule 22: speed targets live in bench/). Target: the xlsx of a
100,000-line run with 5% exceptions in under 10 seconds; JSON for a million lines in a
few seconds.
"""

from __future__ import annotations

import argparse
import csv
import random
import tempfile
import time
from decimal import Decimal
from pathlib import Path

import pandas as pd

from recon_cli.models import RunSummary
from recon_cli.outputs.csv import write_csv
from recon_cli.outputs.json import write_json
from recon_cli.outputs.xlsx.workbook import write_xlsx
from recon_cli.records import EVIDENCE_FIELDS, LINE_FIELDS, MISSING_FIELDS, REJECT_FIELDS
from recon_cli.result import ReconResult

# How the synthetic lines spread over statuses: 5% need a person.
STATUS_WEIGHTS = {"matched": 85, "explained": 10, "unexplained": 3, "partially_explained": 1, "unmatched": 1}
PROVIDER_COLUMNS = 40  # an NCE reconciliation CSV has about this many


def synthetic_result(n: int, seed: int = 7) -> ReconResult:
    """A ReconResult of `n` seat lines with realistic values (Decimal money, text ids)."""
    rng = random.Random(seed)
    statuses = rng.choices(list(STATUS_WEIGHTS), weights=list(STATUS_WEIGHTS.values()), k=n)
    rows = list(range(2, n + 2))
    qty = [Decimal(rng.randint(1, 300)) for _ in range(n)]
    cost = [Decimal(rng.choice(["12.50", "22.00", "4.80", "30.00", "-5.00"])) for _ in range(n)]
    sub_qty = [q if st in ("matched", "unmatched") else q + rng.choice([-2, -1, 1, 3])
               for q, st in zip(qty, statuses, strict=True)]
    delta = [q - s for q, s in zip(qty, sub_qty, strict=True)]
    needs = {"unexplained", "partially_explained", "unmatched"}
    data = {
        "line_id": [f"G000123456-{r}" for r in rows],
        "row": rows,
        "invoice_number": ["G000123456"] * n,
        "subscription_id": [f"{i:08x}-aaaa-bbbb-cccc-{i:012x}" for i in range(n)],
        "customer_id": [f"cust-{i % 5000}" for i in range(n)],
        "customer_name": [f"Customer {i % 5000} Ltd" for i in range(n)],
        "product": ["Microsoft 365 Business Premium"] * n,
        "product_id": ["CFQ7TTC0LCHC"] * n, "sku_id": ["0002"] * n,
        "charge_type": ["cycleCharge"] * n, "kind": ["seat"] * n, "billing_frequency": ["monthly"] * n,
        "order_date": ["2026-10-01"] * n, "charge_start": ["2026-10-01"] * n,
        "charge_end": ["2026-10-31"] * n,
        "quantity": qty, "billable_quantity": qty, "status": statuses,
        "price_status": ["ok"] * n,
        "reason": ["quantity_equal" if st == "matched" else "no_evidence" for st in statuses],
        "match_method": ["none" if st == "unmatched" else "subscription_id" for st in statuses],
        "matched_subscription_id": [None] * n,
        "provider_quantity": qty, "subscription_quantity": sub_qty, "quantity_delta": delta,
        "residual": [Decimal(0)] * n, "as_of": ["2026-10-01"] * n,
        "unit_cost": cost, "unit_price": [c * Decimal("1.2") for c in cost],
        "margin_pct": [Decimal("16.67")] * n,
        "subtotal": [c * q for c, q in zip(cost, qty, strict=True)],
        "tax_total": [Decimal("0.00")] * n,
        "total": [c * q for c, q in zip(cost, qty, strict=True)],
        "currency": ["USD"] * n,
        "money_at_risk": [abs(c * d) if st in needs else Decimal(0)
                          for c, d, st in zip(cost, delta, statuses, strict=True)],
        "explanation": [f"Provider has {q} seats as of 2026-10-01, subscription {s}." for q, s in
                        zip(qty, sub_qty, strict=True)],
        "evidence": [["LCL-1"] if st == "explained" else [] for st in statuses],
    }
    lines = pd.DataFrame(data, columns=list(LINE_FIELDS))
    raw = pd.DataFrame({f"Column {j}": [f"value {j}-{i % 97}" for i in range(n)]
                        for j in range(PROVIDER_COLUMNS)})
    raw["__row__"] = rows
    summary = RunSummary(run_id="bench", created_at="2026-11-25T02:00:00Z", period="2026-10",
                         invoice_file="invoice.csv", subscriptions_file="subscriptions.csv",
                         changes_file=None, invoice_format="nce", line_count=n)
    empty = {name: pd.DataFrame(columns=list(fields)) for name, fields in
             (("missing", MISSING_FIELDS), ("evidence", EVIDENCE_FIELDS), ("rejects", REJECT_FIELDS))}
    return ReconResult(lines=lines, summary=summary, invoice_raw=raw, **empty)


def sample_result(folder: Path, share: float, seed: int = 7) -> ReconResult:
    """A real reconcile() of a `recon sample` month whose subscriptions lost one seat on
    `share` of them (picked at random): those lines become unexplained differences."""
    from recon_cli.pipeline import RunInputs, reconcile

    rng = random.Random(seed)
    with (folder / "subscriptions.csv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    quantity = rows[0].index("quantity")
    for row in rows[1:]:
        if rng.random() < share and row[quantity].isdigit() and int(row[quantity]) > 1:
            row[quantity] = str(int(row[quantity]) - 1)
    with tempfile.TemporaryDirectory() as work:
        subscriptions = Path(work) / "subscriptions.csv"
        with subscriptions.open("w", encoding="utf-8", newline="") as handle:
            csv.writer(handle, lineterminator="\n").writerows(rows)
        return reconcile(RunInputs(invoices=(folder / "invoice.csv",), subscriptions=subscriptions,
                                   changes=folder / "changes.csv"), run_id="bench")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--lines", type=int, default=100_000)
    parser.add_argument("--run", type=Path, help="a folder written by `recon sample`")
    parser.add_argument("--exceptions", type=float, default=0.05,
                        help="with --run: the share of subscriptions given a difference")
    args = parser.parse_args()
    started = time.perf_counter()
    result = sample_result(args.run, args.exceptions) if args.run else synthetic_result(args.lines)
    needs = int(result.lines["status"].isin(["unexplained", "partially_explained", "unmatched"]).sum())
    print(f"built {len(result.lines):,} lines ({needs:,} needing a person, "
          f"{needs / max(1, len(result.lines)):.1%}) in {time.perf_counter() - started:.2f} s")
    with tempfile.TemporaryDirectory() as folder:
        for name, writer in (("xlsx", write_xlsx), ("csv", write_csv), ("json", write_json)):
            target = Path(folder) / f"recon.{name}"
            started = time.perf_counter()
            writer(result, target)
            elapsed = time.perf_counter() - started
            print(f"{name:5} {elapsed:6.2f} s  {target.stat().st_size / 1e6:7.1f} MB")


if __name__ == "__main__":
    main()
