"""`recon sample`: a realistic month of inputs with planted discrepancies.

Writes the Partner Center NCE invoice reconciliation CSVs of October 2026 (invoice.csv: G000123456,
USD; invoice-eur.csv: G000123457, EUR, since Partner Center issues one invoice per billing
currency), the reseller's subscription export and its licence change log. The planted cases of
sample_cases.py come first, one per rule of PRODUCT.md §3 (v2); the bulk after them is built
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
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import IO

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from recon_cli.sample_builder import (
    CHANGE_COLUMNS,
    EUR_INVOICE_NUMBER,
    INVOICE_COLUMNS,
    INVOICE_NUMBER,
    PERIOD,
    RUN_AS_OF,
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
        invoices: the month's invoice files: invoice.csv (USD, with the bulk), invoice-eur.csv (EUR).
        invoice: the first of them, invoice.csv.
        subscriptions, changes: the reseller's two files.
        line_count: invoice data lines over all invoices (planted + bulk).
        line_counts: data lines per invoice, in `invoices` order; rows run from 2 to count + 1.
        cases: the planted cases, in invoice order.
        planted_lines: invoice.csv lines of the planted cases (rows 2 .. planted_lines + 1).
        bulk_seat_lines, bulk_usage_lines: the invoice.csv lines after them, all `matched`.
    """

    period: str
    invoices: tuple[Path, ...]
    subscriptions: Path
    changes: Path
    line_count: int
    line_counts: tuple[int, ...]
    cases: list[PlantedCase]
    seed: int
    planted_lines: int
    bulk_seat_lines: int
    bulk_usage_lines: int
    invoice_numbers: tuple[str, ...] = (INVOICE_NUMBER, EUR_INVOICE_NUMBER)

    @property
    def invoice(self) -> Path:
        return self.invoices[0]

    @property
    def as_of(self) -> date:
        """The run's as-of the expectations assume (`--as-of`): any day from then until 2028 will do."""
        return RUN_AS_OF

    @property
    def invoice_number(self) -> str:
        return self.invoice_numbers[0]

    def case(self, name: str) -> PlantedCase:
        return next(c for c in self.cases if c.name == name)

    def line_id(self, row: int, invoice_number: str = INVOICE_NUMBER) -> str:
        return f"{invoice_number}-{row}"

    def line_ids(self) -> list[str]:
        """Every line id of the month, invoice by invoice, in row order."""
        return [self.line_id(row, number) for number, count in zip(self.invoice_numbers, self.line_counts, strict=True)
                for row in range(2, count + 2)]

    def bulk_line_ids(self) -> list[str]:
        """Every invoice.csv line after the planted ones: each must come out `matched`."""
        return [self.line_id(row) for row in range(self.planted_lines + 2, self.line_counts[0] + 2)]

    def expected_missing(self) -> set[str]:
        """Subscription ids (lower-case) that missing_subscriptions must list, and only these."""
        return {c.subscription_id for c in self.cases if c.expected_missing}

    def expected_not_checked(self) -> int:
        """Subscriptions due and absent in a currency none of the invoices bills (rule 7)."""
        return sum(c.expected_not_checked for c in self.cases)

    def expected_status_counts(self, min_margin: Decimal | None = None) -> dict[str, int]:
        """Lines per status over all invoices (statuses do not depend on --min-margin)."""
        counts = Counter(c.expected_status for c in self.cases for _ in c.line_ids if c.expected_status)
        counts["matched"] += self.bulk_seat_lines + self.bulk_usage_lines
        return {status: n for status, n in sorted(counts.items()) if status is not None}

    def expected_price_status_counts(self, min_margin: Decimal | None = None) -> dict[str, int]:
        """Lines per price status over all invoices: bulk seats `ok`, bulk usage `not_applicable`."""
        counts = Counter(c.price_status(min_margin) for c in self.cases for _ in c.line_ids)
        counts["ok"] += self.bulk_seat_lines
        counts["not_applicable"] += self.bulk_usage_lines
        return {status: n for status, n in sorted(counts.items()) if status is not None and n}

    def expected_needs_person(self, min_margin: Decimal | None = None) -> set[str]:
        """The line ids that need a person (PRODUCT.md §4); no bulk line does."""
        return {i for c in self.cases if c.needs_person_with(min_margin) for i in c.line_ids}


def generate_sample(out_dir: Path, lines: int = 60, seed: int = 7) -> SamplePlan:
    """Write invoice.csv, invoice-eur.csv, subscriptions.csv and changes.csv into `out_dir`; return the plan.

    Args:
        out_dir: created if needed; the files are overwritten.
        lines: invoice lines wanted over both invoices; the planted cases alone take a fixed 49.
        seed: the same seed gives byte-identical files.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    planted = build_cases(random.Random(seed))
    usd, eur = planted.invoices[INVOICE_NUMBER], planted.invoices[EUR_INVOICE_NUMBER]
    rng = np.random.default_rng(seed)
    bulk = Bulk(rng, max(0, lines - len(usd) - len(eur)), first_change=1001 + len(planted.changes))
    paths = (out_dir / "invoice.csv", out_dir / "invoice-eur.csv", out_dir / "subscriptions.csv",
             out_dir / "changes.csv")
    with paths[0].open("wb") as handle:
        handle.write(_csv_text(INVOICE_COLUMNS, usd, "\r\n"))
        for start in range(0, bulk.n_lines, CHUNK):
            _write(handle, bulk.invoice_columns(slice(start, start + CHUNK)), "\r\n")
    paths[1].write_bytes(_csv_text(INVOICE_COLUMNS, eur, "\r\n"))
    with paths[2].open("wb") as handle:
        handle.write(_csv_text(SUBSCRIPTION_COLUMNS, planted.subscriptions, "\n"))
        for start in range(0, bulk.n_subs, CHUNK):
            _write(handle, bulk.subscription_columns(slice(start, start + CHUNK)), "\n")
    with paths[3].open("wb") as handle:
        handle.write(_csv_text(CHANGE_COLUMNS, planted.changes, "\n"))
        _write(handle, bulk.change_columns(), "\n")
    usage_lines = int(bulk.usage.sum())
    counts = (len(usd) + bulk.n_lines, len(eur))
    return SamplePlan(
        period=PERIOD, invoices=paths[:2], subscriptions=paths[2], changes=paths[3], line_count=sum(counts),
        line_counts=counts, cases=planted.cases, seed=seed, planted_lines=len(usd),
        bulk_seat_lines=bulk.n_lines - usage_lines, bulk_usage_lines=usage_lines)


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
