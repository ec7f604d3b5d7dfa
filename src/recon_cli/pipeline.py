"""reconcile(inputs) -> ReconResult: load → normalize → match → explain → price → confirm → summarise.

This module only orchestrates: each stage owns its rules and returns a value.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, time
from decimal import Decimal, localcontext
from pathlib import Path
from typing import TYPE_CHECKING

from recon_cli import arithmetic, assemble, confirm, explain, exports, history, match, money, normalize, price, rebill
from recon_cli.frames import as_series, concat_rejects
from recon_cli.invoices import read_invoices
from recon_cli.periods import previous_period
from recon_cli.result import ReconResult
from recon_cli.summary import RunFacts, summarise

if TYPE_CHECKING:
    import pandas as pd

    from recon_cli.formats.profiles import Profile
    from recon_cli.records import Confirmation

Progress = Callable[[str], None]
Earlier = Callable[[str], Mapping[str, str]]


@dataclass(frozen=True)
class RunInputs:
    """What one run reads, and the options that change its rules."""

    invoices: tuple[Path, ...]
    subscriptions: Path
    changes: Path | None = None
    invoice_format: str = "auto"
    period: str | None = None
    # The run's as-of (rule 5); None: the end of the day the run is made.
    as_of: datetime | None = None
    min_margin: Decimal | None = None
    # "MDY" or "DMY": the order of slashed dates in files whose values do not tell (--date-format).
    date_format: str | None = None
    # A profile from recon.toml's [invoice_format], used as given.
    invoice_profile: Profile | None = None
    # The daily-rated usage file (--usage), checked against the invoice's usage lines.
    usage: Path | None = None
    # Keep the invoices' cells as read (only `--csv` writes them back; over a GB at a million lines).
    keep_raw: bool = True


def reconcile(inputs: RunInputs, confirmations: Sequence[Confirmation] = (), run_id: str = "",
              progress: Progress | None = None, earlier: Earlier | None = None) -> ReconResult:
    """Reconcile one month's invoices against the subscriptions and their change log (PRODUCT.md §3),
    in Decimals of 60 significant digits (28 would overflow on two in-range 15-digit values multiplied).

    Args:
        earlier: given the run's period, the subscriptions that needed a person in the previous
            month's run, with their `open_since` (the store's `open_exceptions`).
    """
    with localcontext(prec=60):
        result = _reconcile(inputs, confirmations, run_id, progress, earlier)
        # Made once the run's working frames are gone: this last frame used to set the memory peak.
        return replace(result, subscriptions=history.subscription_states(result.lines, result.missing))


def _reconcile(inputs: RunInputs, confirmations: Sequence[Confirmation], run_id: str, progress: Progress | None,
               earlier: Earlier | None) -> ReconResult:
    step = progress or (lambda _message: None)
    step("loading invoices")
    invoices = read_invoices(inputs.invoices, inputs.invoice_format, inputs.invoice_profile, inputs.date_format,
                             inputs.keep_raw)
    as_of = inputs.as_of or datetime.combine(date.today(), time.max)

    step("loading subscriptions")
    billing_side = exports.read_exports(inputs.subscriptions, inputs.changes, as_of, inputs.date_format)
    subscriptions, changes = billing_side.subscriptions, billing_side.changes

    step("matching")
    lines = match.match_lines(invoices.typed.frame, subscriptions.frame, subscriptions.rejects)
    period = inputs.period or match.invoice_period(lines)
    notes: list[str] = []
    if inputs.period is not None and not match.has_seat_charges(lines, inputs.period):
        notes.append(explain.period_warning(inputs.period, match.invoice_period(lines)))
    matched_keys = lines.loc[lines["sub_key"] != "", "sub_key"].drop_duplicates()
    currencies = set(lines["currency"].unique().tolist()) - {""}
    due, not_checked = match.missing_subscriptions(subscriptions.frame, matched_keys, period, currencies,
                                                   invoices.default_currency)
    # Matched and the missing found: the input rows are let go before the run's largest frames are made.
    subscription_count, billing_side, invoices = len(subscriptions.frame), billing_side.matched(), invoices.matched()
    subscriptions = billing_side.subscriptions
    decisions = explain.decide_differences(match.seat_counts(lines), changes.frame if changes else None, as_of)
    result_lines = confirm.apply_confirmations(assess(lines, decisions, inputs.min_margin),
                                               lines[["sub_key", "subscription_id_key"]], confirmations)
    missing = assemble.missing_frame(due, explain.missing_texts(due, period or ""), invoices.default_currency)
    missing = confirm.confirm_missing(missing, confirmations)
    result_lines, missing = history.attach_open_since(
        result_lines, missing, period, earlier(previous_period(period)) if earlier and period else {})
    if not_checked:
        notes.append(explain.not_checked_note(not_checked))
    rejects = concat_rejects([invoices.typed.rejects, subscriptions.rejects, *([changes.rejects] if changes else [])])
    usage_summary, usage_notes = None, []
    if inputs.usage is not None:
        from recon_cli.usage import check_usage
        step("checking usage")
        usage = check_usage(result_lines, inputs.usage)
        rejects = concat_rejects([rejects, usage.rejects])
        usage_summary, usage_notes = usage.summary, list(usage.notes)

    warnings = concat_rejects([invoices.typed.warnings, subscriptions.warnings,
                               *([changes.warnings] if changes else [])])
    step("summarising")
    facts = RunFacts(
        run_id=run_id, period=period, invoice_files=[str(p) for p in inputs.invoices],
        subscriptions_file=str(inputs.subscriptions), changes_file=billing_side.changes_file,
        invoice_format=invoices.format_name, as_of=as_of.isoformat(timespec="seconds"),
        min_margin=str(inputs.min_margin) if inputs.min_margin is not None else None,
        subscription_count=subscription_count, change_count=len(changes.frame) if changes else 0,
        has_change_log=changes is not None,
        unknown_charge_types=normalize.unknown_charge_types(lines),
        notes=[*invoices.typed.notes, *billing_side.notes, *notes, *usage_notes],
        not_checked_other_currency=not_checked, usage_check=usage_summary,
        warning_count=len(warnings))
    billing, usage_billing = rebill.to_bill(decisions, lines, period), rebill.usage_billing(
        result_lines, lines["markup_percent"])
    margin = rebill.margin(result_lines, lines["subscription_frequency"])
    summary = summarise(result_lines, missing, rejects, facts, billing, usage_billing, margin)
    mismatch = {} if billing_side.mismatch is None else {"change_log_mismatch": billing_side.mismatch}
    return ReconResult(lines=result_lines, missing=missing, evidence=explain.evidence_records(decisions),
                       rejects=rejects, summary=summary, warnings=warnings, invoice_raw=invoices.raw, to_bill=billing,
                       margin=margin, usage_billing=usage_billing, **mismatch)


def assess(lines: pd.DataFrame, decisions: explain.Decisions, min_margin: Decimal | None) -> pd.DataFrame:
    """The output lines before confirmations: status and explanation, price, money, provider arithmetic,
    and who needs a person."""
    verdicts = explain.explain_lines(lines, decisions)
    prices = price.price_lines(lines, min_margin)
    worth = money.line_money(lines, decisions, verdicts, prices)
    sums = arithmetic.check_arithmetic(lines)
    needs = confirm.needs_person(as_series(verdicts.status, lines.index), as_series(verdicts.reason, lines.index),
                                 as_series(prices.price_status, lines.index), sums.flagged)
    texts = verdicts.explanation + explain.finding_sentences(lines, prices.price_status, prices.unit_cost, worth,
                                                             sums)
    return assemble.result_lines(lines, verdicts, prices, worth, sums, needs, texts)


