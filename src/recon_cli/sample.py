"""`recon sample`: realistic months of inputs from one evolving reseller, with planted discrepancies.

Each month is Partner Center's NCE invoice reconciliation CSVs (invoice.csv in USD, invoice-eur.csv
in EUR, since Partner Center issues one invoice per billing currency), the reseller's subscription
export and its licence change log. The hand-built cases of sample_cases.py come first, one per rule
of PRODUCT.md §3 (v2); the bulk after them is built column-wise with numpy and pyarrow (a million
lines in seconds). Past a few thousand lines about 2% of the subscriptions carry a planted situation
(sample_situations.py). Later months move the same reseller on (sample_book.py, sample_carry.py):
seats change, subscriptions come and go, exceptions stay open or get fixed, new ones appear.
Pure library: never prints.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from pathlib import Path

import numpy as np

from recon_cli.sample_book import advance, plant_first_month
from recon_cli.sample_builder import EUR_INVOICE_NUMBER, INVOICE_NUMBER, CaseBuilder, PlantedCase
from recon_cli.sample_bulk import Bulk, MonthLines
from recon_cli.sample_carry import HandCases
from recon_cli.sample_cases import build_cases
from recon_cli.sample_catalog import (
    CHANGE_COLUMNS,
    FIRST_PERIOD,
    INVOICE_COLUMNS,
    SUBSCRIPTION_COLUMNS,
    invoice_numbers,
    period_of,
    period_offset,
)
from recon_cli.sample_catalog import (
    run_as_of as as_of_day,
)
from recon_cli.sample_situations import Situations, situations_of
from recon_cli.sample_story import Transitions, story_text, summary_lines, transitions
from recon_cli.sample_text import csv_text, write_columns

__all__ = ["INVOICE_COLUMNS", "PlantedCase", "SamplePlan", "Situations", "Transitions", "generate_sample",
           "summary_lines", "transitions"]

CHUNK = 100_000  # lines formatted and written at a time
# Planted situations, hand-built cases included, as a share of the first month's subscriptions: the
# hand-built ones cover it up to about 2,000 lines, so small samples are what they always were.
FIRST_MONTH_RATE = 0.02
MAX_MONTHS = 12
FIRST_AS_OF = as_of_day(0)


def _no_situations() -> Situations:
    empty = np.zeros(0, np.int64)
    return Situations(0, INVOICE_NUMBER, np.zeros(0, str), empty, empty, empty, empty, empty, empty)


@dataclass(frozen=True)
class SamplePlan:
    """What `generate_sample` wrote for one month, and what a correct reconciliation must find in it.

    Attributes:
        period: the billing period, "2026-10" by default.
        invoices: the month's invoice files: invoice.csv (USD, with the bulk), invoice-eur.csv (EUR).
        subscriptions, changes: the reseller's two files.
        line_count: invoice data lines over all invoices (hand-built + bulk).
        line_counts: data lines per invoice, in `invoices` order; rows run from 2 to count + 1.
        cases: the hand-built cases, in the first month's order (later months: the same cases, carried on).
        planted_lines: invoice.csv lines of the hand-built cases (rows 2 .. planted_lines + 1).
        bulk_seat_lines, bulk_usage_lines: the invoice.csv lines after them: `matched`, but for the
            lines of `situations`.
        month: 0 for the first month of the story, 1 for the second...
        situations: the bulk's planted situations this month (empty in a small first month).
        run_as_of: the run's as-of the expectations assume (`--as-of`).
        stats: what happened in the bulk this month (new subscriptions, seat changes by kind...).
        fixed: the hand-built exceptions fixed this month, with how.
        later: the plans of the months after this one (only on the first month's plan).
        readme: the story of every month, written beside the month folders (months > 1).
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
    month: int = 0
    situations: Situations = field(default_factory=_no_situations)
    run_as_of: date = FIRST_AS_OF
    first_period: str = FIRST_PERIOD
    stats: dict[str, int] = field(default_factory=dict)
    fixed: dict[str, str] = field(default_factory=dict)
    later: tuple[SamplePlan, ...] = ()
    readme: Path | None = None

    @property
    def invoice(self) -> Path:
        return self.invoices[0]

    @property
    def as_of(self) -> date:
        """The run's as-of the expectations assume (`--as-of`): any day from then until 2028 will do."""
        return self.run_as_of

    @property
    def invoice_number(self) -> str:
        return self.invoice_numbers[0]

    @property
    def months(self) -> tuple[SamplePlan, ...]:
        """This month and the ones after it, in order."""
        return (self, *self.later)

    def case(self, name: str) -> PlantedCase:
        return next(c for c in self.cases if c.name == name)

    def line_id(self, row: int, invoice_number: str | None = None) -> str:
        return f"{invoice_number or self.invoice_number}-{row}"

    def line_ids(self) -> list[str]:
        """Every line id of the month, invoice by invoice, in row order."""
        return [self.line_id(row, number) for number, count in zip(self.invoice_numbers, self.line_counts, strict=True)
                for row in range(2, count + 2)]

    def bulk_line_ids(self) -> list[str]:
        """Every invoice.csv line after the hand-built ones."""
        return [self.line_id(row) for row in range(self.planted_lines + 2, self.line_counts[0] + 2)]

    def expected_missing(self) -> set[str]:
        """Subscription ids (lower-case) that missing_subscriptions must list, and only these."""
        return {c.subscription_id for c in self.cases if c.expected_missing} | self.situations.missing()

    def expected_not_checked(self) -> int:
        """Subscriptions due and absent in a currency none of the invoices bills (rule 7)."""
        return sum(c.expected_not_checked for c in self.cases)

    def expected_status_counts(self, min_margin: Decimal | None = None) -> dict[str, int]:
        """Lines per status over all invoices (statuses do not depend on --min-margin)."""
        counts = Counter(c.expected_status for c in self.cases for _ in c.line_ids if c.expected_status)
        counts.update(self.situations.line_counts("status"))
        counts["matched"] += self.bulk_seat_lines + self.bulk_usage_lines - len(self.situations.rows)
        return {status: n for status, n in sorted(counts.items()) if status is not None and n}

    def expected_price_status_counts(self, min_margin: Decimal | None = None) -> dict[str, int]:
        """Lines per price status over all invoices: bulk seats `ok`, bulk usage `not_applicable`, but for
        the situations' lines."""
        counts = Counter(c.price_status(min_margin) for c in self.cases for _ in c.line_ids)
        counts.update(self.situations.line_counts("price_status", min_margin))
        counts["ok"] += self.bulk_seat_lines - len(self.situations.rows)
        counts["not_applicable"] += self.bulk_usage_lines
        return {status: n for status, n in sorted(counts.items()) if status is not None and n}

    def expected_needs_person(self, min_margin: Decimal | None = None) -> set[str]:
        """The line ids that need a person (PRODUCT.md §4)."""
        hand = {i for c in self.cases if c.needs_person_with(min_margin) for i in c.line_ids}
        return hand | self.situations.needs_person_lines(min_margin)

    def exceptions(self, min_margin: Decimal | None = None) -> dict[str, tuple[str, str]]:
        """{subscription id: (the period its exception began, the case or situation)} for every subscription
        that needs a person this month: lines that need one, and missing subscriptions."""
        found = {c.subscription_id: (self.first_period, c.name) for c in self.cases
                 if (c.line_ids and c.needs_person_with(min_margin)) or c.expected_missing}
        names = self.situations.names()
        index = {sub: i for i, sub in enumerate(self.situations.ids.tolist())}
        for sub, since in self.situations.exceptions(min_margin).items():
            found[sub] = (period_of(period_offset(self.first_period) + since), names[index[sub]])
        return found


def generate_sample(out_dir: Path, lines: int = 60, seed: int = 7, period: str = FIRST_PERIOD,
                    months: int = 1) -> SamplePlan:
    """Write `months` consecutive months of one reseller into `out_dir`; return the first month's plan.

    One month writes invoice.csv, invoice-eur.csv, subscriptions.csv and changes.csv into `out_dir`;
    several write each month into `out_dir/YYYY-MM/` and the story of the months into
    `out_dir/README.md`. The first month's plan lists the others in `later`.

    Args:
        out_dir: created if needed; the files are overwritten.
        lines: invoice lines of the first month over both invoices (the hand-built cases take 49);
            later months grow and shrink with the reseller.
        seed: the same seed gives byte-identical files.
        period: the first month, "YYYY-MM": every date of the story moves with it.
        months: how many consecutive months, 1 to 12.
    """
    shift = period_offset(period)
    if not 1 <= months <= MAX_MONTHS:
        raise ValueError(f"months must be 1 to {MAX_MONTHS}, not {months}")
    out_dir = Path(out_dir)
    first = build_cases(random.Random(seed), shift)
    usd, eur = first.invoices[first.usd_invoice], first.invoices[first.eur_invoice]
    bulk = Bulk(np.random.default_rng(seed), max(0, lines - len(usd) - len(eur)), 1001 + len(first.changes), shift)
    budget = round(FIRST_MONTH_RATE * (bulk.n_subs + len(first.subscriptions))) - len(first.cases)
    stats = plant_first_month(bulk, np.random.default_rng([seed, 0]), budget) if budget > 0 else Counter()
    folder = out_dir if months == 1 else out_dir / period_of(shift)
    plans = [_write_month(folder, first, bulk, bulk.first, seed, shift, dict(stats), {})]
    hand = HandCases(first, seed)
    for month in range(1, months):
        builder, fixed = hand.month(month)
        month_lines, stats = advance(bulk, np.random.default_rng([seed, month]), month, invoice_numbers(month)[0])
        plans.append(_write_month(out_dir / period_of(shift + month), builder, bulk, month_lines, seed, shift,
                                  dict(stats), fixed))
    readme = None
    if months > 1:
        readme = out_dir / "README.md"
        moves = [transitions(plans[index - 1] if index else None, plan) for index, plan in enumerate(plans)]
        readme.write_text(story_text(plans, moves), encoding="utf-8")
    return replace(plans[0], later=tuple(plans[1:]), readme=readme)


def _write_month(folder: Path, b: CaseBuilder, bulk: Bulk, lines: MonthLines, seed: int, shift: int,
                 stats: dict[str, int], fixed: dict[str, str]) -> SamplePlan:
    """Write one month's four files; the plan of what they hold."""
    folder.mkdir(parents=True, exist_ok=True)
    usd, eur = b.invoices[b.usd_invoice], b.invoices[b.eur_invoice]
    paths = (folder / "invoice.csv", folder / "invoice-eur.csv", folder / "subscriptions.csv",
             folder / "changes.csv")
    with paths[0].open("wb") as handle:
        handle.write(csv_text(INVOICE_COLUMNS, usd, "\r\n"))
        for start in range(0, len(lines.sub), CHUNK):
            write_columns(handle, bulk.invoice_columns(lines, slice(start, start + CHUNK)), "\r\n")
        for start in range(0, len(lines.ev_sub), CHUNK):
            write_columns(handle, bulk.event_columns(lines, slice(start, start + CHUNK)), "\r\n")
    paths[1].write_bytes(csv_text(INVOICE_COLUMNS, eur, "\r\n"))
    listed = bulk.exported & (bulk.start_month <= lines.month)
    parts: list[slice | np.ndarray]
    if listed.all():  # the first month: slices, no gathering
        parts = [slice(start, start + CHUNK) for start in range(0, bulk.n_subs, CHUNK)]
    else:
        index = np.flatnonzero(listed)
        parts = [index[start:start + CHUNK] for start in range(0, len(index), CHUNK)]
    with paths[2].open("wb") as handle:
        handle.write(csv_text(SUBSCRIPTION_COLUMNS, b.subscriptions, "\n"))
        for part in parts:
            write_columns(handle, bulk.subscription_columns(part), "\n")
    with paths[3].open("wb") as handle:
        handle.write(csv_text(CHANGE_COLUMNS, b.changes, "\n"))
        for start in range(0, len(bulk.rec_sub), CHUNK):
            write_columns(handle, bulk.change_columns(slice(start, start + CHUNK)), "\n")
    usage_lines = int(bulk.azure[lines.sub].sum())
    counts = (len(usd) + len(lines), len(eur))
    return SamplePlan(
        period=period_of(shift + lines.month), invoices=paths[:2], subscriptions=paths[2], changes=paths[3],
        line_count=sum(counts), line_counts=counts, cases=b.cases, seed=seed, planted_lines=len(usd),
        bulk_seat_lines=len(lines) - usage_lines, bulk_usage_lines=usage_lines,
        invoice_numbers=(b.usd_invoice, b.eur_invoice), month=lines.month,
        situations=situations_of(bulk, lines, len(usd) + 2), run_as_of=as_of_day(shift + lines.month),
        first_period=period_of(shift), stats=stats, fixed=fixed)
