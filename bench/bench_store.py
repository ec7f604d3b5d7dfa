"""Time the run store on a synthetic million-line run: save_run, find_explanation, confirm, load_result.

Usage: python bench/bench_store.py [LINES]   (default 1,000,000; the store goes in a temp folder)
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pandas as pd

from recon_cli import store
from recon_cli.models import EVIDENCE_FIELDS, LINE_FIELDS, MISSING_FIELDS, REJECT_FIELDS, RunSummary
from recon_cli.result import ReconResult

STATUSES = ["matched", "explained", "partially_explained", "unexplained", "unmatched"]


def synthetic_result(n: int) -> ReconResult:
    """n seat lines over n/4 subscriptions, every money column filled, as the pipeline would."""
    rows = range(2, n + 2)
    subs = [f"{i // 4:08x}-aaaa-bbbb-cccc-0123456789AB" for i in range(n)]
    status = [STATUSES[i % 5] for i in range(n)]
    qty = [Decimal(i % 50 + 1) for i in range(n)]
    price = [Decimal(f"{i % 3000 / 100:.2f}") for i in range(n)]
    money = [p * q for p, q in zip(price, qty, strict=True)]
    text = lambda value: [value] * n  # noqa: E731 - a constant column
    data = {
        "line_id": [f"G000123456-{r}" for r in rows], "row": list(rows), "invoice_number": text("G000123456"),
        "subscription_id": subs, "customer_id": text("8c1b1d0e-1111-2222-3333-444455556666"),
        "customer_name": text("Contoso Ltd"), "product": text("Microsoft 365 Business Premium"),
        "product_id": text("CFQ7TTC0LCHC"), "sku_id": text("0002"), "charge_type": text("cycleCharge"),
        "kind": text("seat"), "billing_frequency": text("monthly"), "order_date": text("2026-10-01"),
        "charge_start": text("2026-10-01"), "charge_end": text("2026-10-31"), "quantity": qty,
        "billable_quantity": qty, "status": status, "price_status": text("ok"), "reason": text("no_evidence"),
        "match_method": text("subscription_id"), "matched_subscription_id": subs, "provider_quantity": qty,
        "subscription_quantity": qty, "quantity_delta": text(Decimal("0")), "residual": text(None),
        "as_of": text("2026-10-01"), "unit_cost": price, "unit_price": price,
        "margin_pct": text(Decimal("16.67")),
        "subtotal": money, "tax_total": text(Decimal("0.00")), "total": money, "currency": text("USD"),
        "money_at_risk": text(Decimal("0")),
        "explanation": text("Provider has 5 seats as of 2026-10-01, subscription 4 (+1); "
                            "no change-log record explains it."),
        "evidence": [["LCL-1"] if i % 5 == 1 else [] for i in range(n)],
    }
    lines = pd.DataFrame(data, columns=list(LINE_FIELDS))
    evidence = pd.DataFrame({
        "change_id": ["LCL-1"] * (n // 5), "subscription_id": [subs[i] for i in range(1, n, 5)],
        "row": list(range(n // 5)), "effective_date": "2026-10-12", "quantity_delta": "2",
        "provisioning_status": "Provisioned", "initiated_by": "jane@reseller.com", "customer_invoice": "",
        "status_reason": "Active", "evidence_kind": "changed_after_as_of"}, columns=list(EVIDENCE_FIELDS))
    summary = RunSummary(
        run_id=store.new_run_id(), created_at="2026-11-25T02:00:00Z", period="2026-10",
        invoice_file="invoice.csv", subscriptions_file="subscriptions.csv", changes_file=None,
        invoice_format="nce", line_count=n,
        status_counts={s: status.count(s) for s in STATUSES},
        subtotal_by_status={"USD": {s: "0" for s in STATUSES}}, needs_attention=n * 3 // 5)
    return ReconResult(lines=lines, missing=pd.DataFrame(columns=list(MISSING_FIELDS)), evidence=evidence,
                       rejects=pd.DataFrame(columns=list(REJECT_FIELDS)), summary=summary)


def timed(label: str, call: Callable[[], object], unit: str = "s") -> object:
    """Run `call`, print its wall and CPU time: CPU time stays honest on a busy machine."""
    wall, cpu = time.perf_counter(), time.process_time()
    value = call()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    scale = 1000 if unit == "ms" else 1
    print(f"{label + ':':26}{wall * scale:8.1f} {unit} wall, {cpu * scale:8.1f} {unit} CPU")
    return value


# `recon explain` as the CLI runs it: a fresh process that imports the store, opens it, asks once.
EXPLAIN = """
import sys, time
start = time.perf_counter()
from pathlib import Path
from recon_cli import store
imported = time.perf_counter()
conn = store.open_store(Path(sys.argv[1]))
found = store.find_explanation(conn, sys.argv[2])
done = time.perf_counter()
print((imported - start) * 1000, (done - imported) * 1000, len(found.lines), "pandas" in sys.modules)
"""


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    result = timed(f"build {n:,} lines", lambda: synthetic_result(n))
    assert isinstance(result, ReconResult)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "recon.db"
        conn = store.open_store(path)
        timed("save_run", lambda: store.save_run(conn, result))
        print(f"{'store size:':26}{path.stat().st_size / 1e6:8.0f} MB")
        conn.close()
        middle = f"G000123456-{n // 2 + 3}"
        subscription = result.lines["subscription_id"][n // 2 + 1]
        for label, query in (("line id", middle), ("subscription", subscription)):
            for attempt in ("cold", "warm"):
                out = subprocess.run([sys.executable, "-c", EXPLAIN, str(path), query.upper()],
                                     capture_output=True, text=True, check=True).stdout.split()
                print(f"explain {label} ({attempt}):".ljust(26) + f"{float(out[1]):8.1f} ms open + lookup, "
                      f"{float(out[0]):.1f} ms imports; {out[2]} lines; pandas imported: {out[3]}")
        conn = store.open_store(path)
        timed("find_explanation (open)", lambda: store.find_explanation(conn, middle), "ms")
        timed("confirm", lambda: store.confirm(conn, middle, note="bench", by="bench"), "ms")
        timed("unconfirm", lambda: store.unconfirm(conn, middle), "ms")
        loaded = timed("load_result", lambda: store.load_result(conn))
        assert isinstance(loaded, ReconResult) and len(loaded.lines) == n
        conn.close()


if __name__ == "__main__":
    main()
