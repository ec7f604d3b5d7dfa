"""The situations `recon sample` plants in its bulk: what each kind is, what the rules of PRODUCT.md §3
must say about it, and a month's table of them.

A kind is planted on a subscription in a month (sample_book.py), stays open month after month
or gets fixed, and routine seat changes last one month. The table is columnar: a ten-million-line
month carries a few hundred thousand situations without a Python object each.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from decimal import ROUND_CEILING, Decimal

import numpy as np
import pyarrow.compute as pc

from recon_cli.sample_bulk import Bulk, MonthLines
from recon_cli.sample_text import pick


@dataclass(frozen=True)
class Kind:
    """One kind of situation and what a correct reconciliation says about its subscription.

    Attributes:
        status, reason, price_status: of every line of the subscription the month it is planted
            ("" status: the subscription has no line, e.g. missing).
        later_status, later_reason: while it stays open in later months ("": as planted).
        evidence: its change-log record is the evidence (the month it is planted; `later_evidence` after).
        scheduled: its record takes effect after the run's as-of: listed, never evidence.
        low_margin: a price finding only under --min-margin above its margin.
        routine: a seat change that lasts its month, never needs a person.
    """

    name: str
    story: str
    status: str = "matched"
    reason: str = "quantity_equal"
    price_status: str = "ok"
    needs_person: bool = False
    later_status: str = ""
    later_reason: str = ""
    evidence: bool = False
    later_evidence: bool = False
    scheduled: bool = False
    missing: bool = False
    low_margin: bool = False
    routine: bool = False


KINDS: tuple[Kind, ...] = (
    Kind("none", ""),
    Kind("seats_billed", "seats changed mid-cycle and Microsoft billed the prorated pair", routine=True),
    Kind("seats_after_cycle", "seats changed after Microsoft's cycle charge: billed next month", "explained",
         "changed_after_as_of", evidence=True, routine=True),
    Kind("seats_awaiting", "a seat change still awaiting provisioning", "explained", "awaiting_provisioning",
         evidence=True, routine=True),
    Kind("failed_provisioning", "a seat change failed to provision: Microsoft still bills the old count",
         "explained", "failed_provisioning", needs_person=True, evidence=True, later_evidence=True),
    Kind("partially_explained", "a change after the cycle explains part of the gap; the export is off by more",
         "partially_explained", "changed_after_as_of", needs_person=True, later_status="unexplained",
         later_reason="no_evidence", evidence=True),
    Kind("provider_bills_more", "Microsoft bills more seats than the export has, and no change was logged",
         "unexplained", "no_evidence", needs_person=True),
    Kind("provider_bills_fewer", "the export has more seats than Microsoft bills, and no change was logged",
         "unexplained", "no_evidence", needs_person=True),
    Kind("unknown_subscription", "Microsoft bills a new customer's subscription the billing system does not know",
         "unmatched", "subscription_not_found", "no_price", needs_person=True),
    Kind("not_billed", "active in the export, but Microsoft no longer bills it", "", "not_on_invoice", "",
         needs_person=True, missing=True),
    Kind("cancelled_but_billed", "cancelled in the export, but the cancellation never reached Microsoft",
         "unexplained", "no_evidence", needs_person=True),
    Kind("below_cost", "sold below what Microsoft charges", price_status="below_cost", needs_person=True),
    Kind("cost_changed", "the export's unit_cost is stale", price_status="cost_changed", needs_person=True),
    Kind("low_margin", "sold at a 5% margin", low_margin=True),
    Kind("currency_mismatch", "priced in EUR, billed in USD", price_status="currency_mismatch", needs_person=True),
    Kind("no_price", "no selling price in the export", price_status="no_price"),
    Kind("scheduled_reduction", "the export already shows a reduction scheduled for next year",
         "unexplained", "no_evidence", needs_person=True, scheduled=True),
)
CODES = {kind.name: code for code, kind in enumerate(KINDS)}
ROUTINE = np.array([code for code, kind in enumerate(KINDS) if kind.routine])


def percent(basis_points: int) -> Decimal:
    return Decimal(basis_points) / 100


@dataclass(frozen=True, eq=False)
class Situations:
    """The bulk's planted situations in one month: one row per subscription, and its invoice lines.

    Attributes:
        ids: subscription ids (lower-case; for an unknown subscription, as the invoice writes it).
        kind: codes into KINDS. since: the month (0 = the first) each began.
        change: the LCL number of its change-log record (0: none).
        margin_bp: the selling margin in hundredths of a percent (for low_margin).
        rows, owner: each line's row on invoice.csv and the situation it belongs to.
    """

    month: int
    invoice_number: str
    ids: np.ndarray
    kind: np.ndarray
    since: np.ndarray
    change: np.ndarray
    margin_bp: np.ndarray
    rows: np.ndarray
    owner: np.ndarray

    def __len__(self) -> int:
        return len(self.ids)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Situations):
            return NotImplemented
        arrays = ("ids", "kind", "since", "change", "margin_bp", "rows", "owner")
        return (self.month, self.invoice_number) == (other.month, other.invoice_number) and all(
            np.array_equal(getattr(self, a), getattr(other, a)) for a in arrays)

    __hash__ = None  # type: ignore[assignment]

    def names(self) -> list[str]:
        return [KINDS[code].name for code in self.kind.tolist()]

    def counts(self, only: str = "all") -> Counter[str]:
        """Situations per kind: all, `planted` this month, or `open` from earlier months."""
        mask = {"all": np.ones(len(self), bool), "planted": self.since == self.month,
                "open": self.since < self.month}[only]
        return Counter(KINDS[code].name for code in self.kind[mask].tolist())

    def _later(self, index: int) -> bool:
        return bool(self.since[index] < self.month)

    def expected(self, index: int, min_margin: Decimal | None = None) -> dict[str, object]:
        """What situation `index`'s lines must come out as: status, reason, price_status, needs_person,
        evidence and scheduled (change ids)."""
        kind, later = KINDS[int(self.kind[index])], self._later(index)
        change = f"LCL-{int(self.change[index])}" if self.change[index] else ""
        low = kind.low_margin and min_margin is not None and percent(int(self.margin_bp[index])) < min_margin
        evidence = kind.later_evidence if later else kind.evidence
        return {
            "status": (kind.later_status if later else "") or kind.status,
            "reason": (kind.later_reason if later else "") or kind.reason,
            "price_status": "low_margin" if low else kind.price_status,
            "needs_person": kind.needs_person or low,
            "evidence": [change] if evidence and change else [],
            "scheduled": [change] if kind.scheduled and change else [],
        }

    def line_ids(self) -> list[str]:
        return [f"{self.invoice_number}-{row}" for row in self.rows.tolist()]

    def expected_lines(self, min_margin: Decimal | None = None) -> dict[str, dict[str, object]]:
        """{line id: what it must come out as}, for every line of every situation (tests, small months)."""
        memo: dict[int, dict[str, object]] = {}
        out = {}
        for line_id, owner in zip(self.line_ids(), self.owner.tolist(), strict=True):
            if owner not in memo:
                memo[owner] = self.expected(owner, min_margin)
            out[line_id] = memo[owner]
        return out

    def exceptions(self, min_margin: Decimal | None = None) -> dict[str, int]:
        """{subscription id: the month its exception began} for the situations that need a person."""
        person = np.array([KINDS[code].needs_person for code in range(len(KINDS))])[self.kind]
        if min_margin is not None:
            low = np.array([k.low_margin for k in KINDS])[self.kind]
            person |= low & (self.margin_bp < int((min_margin * 100).to_integral_value(ROUND_CEILING)))
        return dict(zip(self.ids[person].tolist(), self.since[person].tolist(), strict=True))

    def missing(self) -> set[str]:
        flags = np.array([k.missing for k in KINDS])[self.kind]
        return set(self.ids[flags].tolist())

    def line_counts(self, field: str, min_margin: Decimal | None = None) -> Counter[str]:
        """Lines per expected `status` or `price_status`."""
        found: Counter[str] = Counter()
        per_owner = Counter(self.owner.tolist())
        for owner, lines in per_owner.items():
            found[str(self.expected(owner, min_margin)[field])] += lines
        return found

    def needs_person_lines(self, min_margin: Decimal | None = None) -> set[str]:
        person = {o for o in set(self.owner.tolist()) if self.expected(o, min_margin)["needs_person"]}
        return {line_id for line_id, owner in zip(self.line_ids(), self.owner.tolist(), strict=True) if owner in person}


def situations_of(bulk: Bulk, lines: MonthLines, first_row: int) -> Situations:
    """The situations the bulk carries after month `lines.month`, with the rows of their lines.

    Args:
        first_row: the invoice.csv row of the bulk's first line (after the hand-built cases).
    """
    index = np.flatnonzero(bulk.sit)
    where = np.full(bulk.n_subs, -1, np.int64)
    where[index] = np.arange(len(index))
    base_owner = where[lines.sub]
    event_owner = where[lines.ev_sub]
    at_base, at_event = np.flatnonzero(base_owner >= 0), np.flatnonzero(event_owner >= 0)
    rows = np.concatenate([first_row + at_base, first_row + len(lines.sub) + at_event])
    owner = np.concatenate([base_owner[at_base], event_owner[at_event]])
    order = np.lexsort((rows, owner))
    ids = pc.utf8_lower(pick(bulk.sub_guid, index)).to_numpy(zero_copy_only=False).astype(str)
    price, cost = bulk.xprice[index], bulk.cost[index]
    margin = np.where(price > 0, (2 * (price - cost) * 10_000 + price) // np.maximum(2 * price, 1), 0)
    return Situations(lines.month, lines.invoice_number, ids, bulk.sit[index].copy(), bulk.sit_since[index].copy(),
                      bulk.sit_change[index].copy(), margin, rows[order], owner[order])
