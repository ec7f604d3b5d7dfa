"""`recon sample`: a realistic month of inputs with planted discrepancies.

Writes a Partner Center NCE invoice reconciliation CSV (invoice G000123456, October 2026),
the reseller's subscription export and its licence change log. The planted cases of
sample_cases.py come first, one per rule of PRODUCT.md §3; the bulk after them is built
column-wise with numpy and pyarrow (a million lines in seconds), and every bulk line
reconciles: same seats, a healthy margin, change-log records only from months before.
Money is integer cents (or micro-dollars for meters), truncated as Partner Center does.
Pure library: never prints.
"""

from __future__ import annotations

import csv
import io
import random
from collections import Counter
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import IO

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from recon_cli.sample_builder import (
    CHANGE_COLUMNS,
    INVOICE_COLUMNS,
    INVOICE_NUMBER,
    PERIOD,
    SUBSCRIPTION_COLUMNS,
    PlantedCase,
)
from recon_cli.sample_bulk import Bulk
from recon_cli.sample_cases import build_cases

__all__ = ["INVOICE_COLUMNS", "PlantedCase", "SamplePlan", "generate_sample"]

CHUNK = 100_000  # lines formatted and written at a time


@dataclass(frozen=True)
class SamplePlan:
    """What `generate_sample` wrote, and what a correct reconciliation must find in it.

    Attributes:
        period: the billing period, "2026-10".
        invoice, subscriptions, changes: the three files written.
        line_count: invoice data lines (planted + bulk); rows run from 2 to line_count + 1.
        cases: the planted cases, in invoice order.
        planted_lines: invoice lines of the planted cases (rows 2 .. planted_lines + 1).
        bulk_seat_lines, bulk_usage_lines: the bulk lines after them, all `matched`.
    """

    period: str
    invoice: Path
    subscriptions: Path
    changes: Path
    line_count: int
    cases: list[PlantedCase]
    seed: int
    planted_lines: int
    bulk_seat_lines: int
    bulk_usage_lines: int
    invoice_number: str = INVOICE_NUMBER

    def case(self, name: str) -> PlantedCase:
        return next(c for c in self.cases if c.name == name)

    def line_id(self, row: int) -> str:
        return f"{self.invoice_number}-{row}"

    def bulk_line_ids(self) -> list[str]:
        """Every line after the planted ones: each must come out `matched`."""
        return [self.line_id(row) for row in range(self.planted_lines + 2, self.line_count + 2)]

    def expected_missing(self) -> set[str]:
        """Subscription ids (lower-case) that missing_subscriptions must list, and only these."""
        return {c.subscription_id for c in self.cases if c.expected_missing}

    def expected_status_counts(self, min_margin: Decimal | None = None) -> dict[str, int]:
        """Lines per status over the whole invoice (statuses do not depend on --min-margin)."""
        counts = Counter(c.expected_status for c in self.cases for _ in c.line_ids if c.expected_status)
        counts["matched"] += self.bulk_seat_lines + self.bulk_usage_lines
        return {status: n for status, n in sorted(counts.items()) if status is not None}

    def expected_price_status_counts(self, min_margin: Decimal | None = None) -> dict[str, int]:
        """Lines per price status over the lines it is predicted for: seat lines with a subscription.

        Bulk seat lines are all `ok`; unmatched, usage and one-time lines are left out.
        """
        counts = Counter(c.price_status(min_margin) for c in self.cases for _ in c.line_ids
                         if c.price_status(min_margin) is not None)
        counts["ok"] += self.bulk_seat_lines
        return {status: n for status, n in sorted(counts.items()) if status is not None}


def generate_sample(out_dir: Path, lines: int = 60, seed: int = 7) -> SamplePlan:
    """Write invoice.csv, subscriptions.csv and changes.csv into `out_dir`; return the plan.

    Args:
        out_dir: created if needed; the three files are overwritten.
        lines: invoice lines wanted in all; the planted cases alone take a fixed 30 or so.
        seed: the same seed gives byte-identical files.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    planted = build_cases(random.Random(seed))
    rng = np.random.default_rng(seed)
    bulk = Bulk(rng, max(0, lines - len(planted.invoice)), first_change=1001 + len(planted.changes))
    paths = out_dir / "invoice.csv", out_dir / "subscriptions.csv", out_dir / "changes.csv"
    with paths[0].open("wb") as handle:
        handle.write(_csv_text(INVOICE_COLUMNS, planted.invoice, "\r\n"))
        for start in range(0, bulk.n_lines, CHUNK):
            _write(handle, bulk.invoice_columns(slice(start, start + CHUNK)), "\r\n")
    with paths[1].open("wb") as handle:
        handle.write(_csv_text(SUBSCRIPTION_COLUMNS, planted.subscriptions, "\n"))
        for start in range(0, bulk.n_subs, CHUNK):
            _write(handle, bulk.subscription_columns(slice(start, start + CHUNK)), "\n")
    with paths[2].open("wb") as handle:
        handle.write(_csv_text(CHANGE_COLUMNS, planted.changes, "\n"))
        _write(handle, bulk.change_columns(), "\n")
    usage_lines = int(bulk.usage.sum())
    return SamplePlan(
        period=PERIOD, invoice=paths[0], subscriptions=paths[1], changes=paths[2],
        line_count=len(planted.invoice) + bulk.n_lines, cases=planted.cases, seed=seed,
        planted_lines=len(planted.invoice), bulk_seat_lines=bulk.n_lines - usage_lines,
        bulk_usage_lines=usage_lines)


def _csv_text(columns: tuple[str, ...], rows: list[dict[str, str]], terminator: str) -> bytes:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator=terminator)
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")


def _write(handle: IO[bytes], columns: list[pa.Array | str], terminator: str) -> None:
    """Join pre-quoted text columns into CSV lines and write the bytes as they lie in memory."""
    if not any(isinstance(c, pa.Array) and len(c) for c in columns):
        return
    lines = pc.binary_join_element_wise(pc.binary_join_element_wise(*columns, ","), terminator, "")
    if isinstance(lines, pa.ChunkedArray):
        lines = lines.combine_chunks()
    offsets = np.frombuffer(lines.buffers()[1], dtype=np.int32)
    data = lines.buffers()[2]
    handle.write(memoryview(data)[offsets[lines.offset]:offsets[lines.offset + len(lines)]])
