"""The story of a sample: the README.md written beside the month folders, and what `recon sample` says.

Each month says what happened to the reseller and how its exceptions (the subscriptions that need a
person, in a run without --min-margin) compare with the month before: new, still open since when,
resolved. The plans (sample.SamplePlan) say the same, for tests.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from recon_cli.sample_carry import CUSTOMERS
from recon_cli.sample_situations import CODES, KINDS

if TYPE_CHECKING:
    from recon_cli.sample import SamplePlan

ROUTINE_WORDS = {"new_subscriptions": "new subscriptions", "cancelled": "cancelled",
                 "seats_billed": "seat changes billed mid-cycle", "seats_after_cycle": "seat changes after the cycle",
                 "seats_awaiting": "seat changes awaiting provisioning", "fixed": "bulk exceptions fixed"}


@dataclass(frozen=True)
class Transitions:
    """How a month's exceptions compare with the month before's, by subscription id.

    Attributes:
        new: {id: case or situation} of the exceptions that began this month.
        persisting: {id: the period they began} of those still open from an earlier month.
        resolved: {id: case or situation} of last month's exceptions that need nobody now.
    """

    new: dict[str, str]
    persisting: dict[str, str]
    resolved: dict[str, str]


def transitions(previous: SamplePlan | None, current: SamplePlan, min_margin: Decimal | None = None) -> Transitions:
    """What is new, still open (since when) and resolved in `current` against `previous`."""
    now = current.exceptions(min_margin)
    before = previous.exceptions(min_margin) if previous is not None else {}
    return Transitions(
        new={sub: name for sub, (since, name) in now.items() if since == current.period},
        persisting={sub: since for sub, (since, _) in now.items() if since != current.period},
        resolved={sub: name for sub, (_, name) in before.items() if sub not in now})


def _names(plan: SamplePlan, found: dict[str, str], hand: bool) -> list[str]:
    """The case or situation names in `found` ({subscription id: name}), of the hand-built cases or the bulk's."""
    cases = {case.subscription_id for case in plan.cases}
    names = (name if not hand else f"{name} ({CUSTOMERS[name]})" if name in CUSTOMERS else name
             for sub, name in found.items() if (sub in cases) == hand)
    return sorted(names)


def _grouped(names: list[str]) -> str:
    counts = Counter(names)
    return ", ".join(f"{name} × {count}" if count > 1 else name for name, count in sorted(counts.items()))


def _describe(plan: SamplePlan, previous: SamplePlan | None, moved: Transitions) -> list[str]:
    out = [f"## {plan.period}: invoices {plan.invoice_numbers[0]} (USD) and {plan.invoice_numbers[1]} (EUR)", "",
           f"{plan.line_count:,} invoice lines ({plan.line_counts[0]:,} in `{plan.period}/invoice.csv`, "
           f"{plan.line_counts[1]} in `invoice-eur.csv`); reconcile with `--as-of {plan.as_of.isoformat()}`."]
    routine = [f"{words}: {plan.stats[key]:,}" for key, words in ROUTINE_WORDS.items() if plan.stats.get(key)]
    if routine:
        out += ["", "In the bulk: " + "; ".join(routine) + "."]
    total = len(moved.new) + len(moved.persisting)
    out += ["", f"**{total:,} exceptions** need a person: {len(moved.new):,} new, {len(moved.persisting):,} still "
            f"open; {len(moved.resolved):,} resolved since the month before.", ""]
    if moved.resolved:
        out.append("- Resolved:")
        out += [f"  - {text}" for name, text in plan.fixed.items() if name in moved.resolved.values()]
        others = [n for n in _names(plan, moved.resolved, hand=True) if n.split(" (")[0] not in plan.fixed]
        if others:
            out.append(f"  - no longer billed or due this month: {', '.join(others)}")
        bulk = _names(plan, moved.resolved, hand=False)
        if bulk:
            out.append(f"  - in the bulk: {_grouped(bulk)}")
    if moved.persisting:
        by_since = Counter(moved.persisting.values())
        since = ", ".join(f"{count} since {period}" for period, count in sorted(by_since.items()))
        still = {sub: name for sub, (_, name) in plan.exceptions().items() if sub in moved.persisting}
        out.append(f"- Still open ({since}):")
        hand = _names(plan, still, hand=True)
        if hand:
            out.append(f"  - hand-built: {', '.join(hand)}")
        bulk = _names(plan, still, hand=False)
        if bulk:
            out.append(f"  - in the bulk: {_grouped(bulk)}")
    if moved.new:
        out.append("- New:")
        hand = _names(plan, moved.new, hand=True)
        if hand:
            out.append(f"  - hand-built (see sample_data/README.md): {', '.join(hand)}")
        hand_ids = {case.subscription_id for case in plan.cases}
        for name, count in sorted(Counter(_names(plan, moved.new, hand=False)).items()):
            example = next(sub for sub, kind in moved.new.items() if kind == name and sub not in hand_ids)
            out.append(f"  - {name} × {count}: {KINDS[CODES[name]].story} (e.g. `{example}`)")
    return [*out, ""]


def story_text(plans: list[SamplePlan], moves: list[Transitions]) -> str:
    """README.md of a sample of several months."""
    first, last = plans[0], plans[-1]
    folder = [f"{plan.period}/" for plan in plans]
    lines = [f"# A reseller's months: {first.period} to {last.period}", "",
             f"Written by `recon sample` (seed {first.seed}, {first.line_count:,} invoice lines in the first month). "
             f"Each of {', '.join(folder)} holds one month: invoice.csv (USD), invoice-eur.csv (EUR), "
             "subscriptions.csv (the billing system's export that month) and changes.csv (its licence change "
             "log). Subscription ids stay the same from month to month; invoice numbers change.", "",
             "Reconcile the months in order, then see what changed:", "", "```"]
    for plan in plans:
        lines.append(f"$ recon run {plan.period}/invoice.csv {plan.period}/invoice-eur.csv "
                     f"{plan.period}/subscriptions.csv --changes {plan.period}/changes.csv "
                     f"--as-of {plan.as_of.isoformat()}")
    lines += ["$ recon diff", "```", ""]
    for index, (plan, moved) in enumerate(zip(plans, moves, strict=True)):
        lines += _describe(plan, plans[index - 1] if index else None, moved)
    return "\n".join(lines)


def summary_lines(plan: SamplePlan) -> list[str]:
    """What `recon sample` prints once it has written `plan` (and the months after it)."""

    def run(month: SamplePlan) -> str:
        return (f"recon run {' '.join(map(str, month.invoices))} {month.subscriptions} --changes {month.changes}"
                + (f" --as-of {month.as_of.isoformat()}" if len(plan.months) > 1 else ""))

    if len(plan.months) == 1:
        planted = len(plan.cases) + len(plan.situations)
        return [f"Wrote {plan.line_count} invoice lines for {plan.period} with {planted} planted cases:",
                *(f"  {path}" for path in (*plan.invoices, plan.subscriptions, plan.changes)), f"Next: {run(plan)}"]
    months = plan.months
    out = [f"Wrote {len(months)} months of one reseller, {months[0].period} to {months[-1].period}; the story is in "
           f"{plan.readme}:"]
    for index, month in enumerate(months):
        moved = transitions(months[index - 1] if index else None, month)
        out.append(f"  {month.invoice.parent}: {month.line_count:,} invoice lines, "
                   f"{len(moved.new) + len(moved.persisting)} exceptions ({len(moved.new)} new, "
                   f"{len(moved.persisting)} still open, {len(moved.resolved)} resolved)")
    return [*out, "Next, month by month (then recon diff):", *(f"  {run(month)}" for month in months)]
