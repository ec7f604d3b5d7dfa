"""Every sentence a run writes: the words of explanations (quantities, dates, records, money) and the
templates of each reason and finding. Nothing else in the package writes explanation prose."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from recon_cli.frames import picked, picked_values

if TYPE_CHECKING:
    import pandas as pd

    from recon_cli.arithmetic import Arithmetic
    from recon_cli.money import LineMoney

NOT_INVOICED = "not yet invoiced"


def quantity_text(value: Decimal | None) -> str:
    """Seats as people write them: 12, not 12.00 or 1.2E+1."""
    if value is None or value != value:
        return "?"
    if value == value.to_integral_value():
        return str(int(value))
    return format(value.normalize(), "f")


def signed(value: Decimal) -> str:
    text = quantity_text(abs(value))
    return f"+{text}" if value > 0 else (f"−{text}" if value < 0 else "0")


def seats_text(quantity: Decimal | None) -> str:
    """'12 seats', '1 seat'."""
    return f"{quantity_text(quantity)} seat{'' if quantity == 1 else 's'}"


def date_text(value: Any) -> str:
    if value is None or value != value:  # NaT and None
        return ""
    if isinstance(value, datetime | date):
        return value.strftime("%Y-%m-%d") if not _has_time(value) else value.strftime("%Y-%m-%d %H:%M")
    return str(value)


def _has_time(value: date) -> bool:
    return isinstance(value, datetime) and (value.hour, value.minute, value.second) != (0, 0, 0)


def record_text(record: Mapping[Any, Any]) -> str:
    """One change-log record as an explanation names it."""
    who = record["initiated_by"] or "unknown initiator"
    invoice = record["customer_invoice"] or NOT_INVOICED
    status = record["provisioning_status"] or "provisioning status not given"
    delta = record["quantity_delta"]
    return (f"{record['change_id']}: {signed(delta)} seat{'' if abs(delta) == 1 else 's'} effective "
            f"{date_text(record['effective_date'])}, {status}, by {who}, {invoice}")


def listed(records: list[dict[str, Any]]) -> str:
    return "; ".join(record_text(r) for r in records)


def asides(same_day: list[dict[str, Any]], scheduled: list[dict[str, Any]]) -> str:
    """The records an explanation names without counting them."""
    text = ""
    if same_day:
        text += (f" Effective on the provider's as-of day, so taken as already billed and not counted: "
                 f"{listed(same_day)}.")
    if scheduled:
        text += f" Scheduled after the run's as-of, not counted: {listed(scheduled)}."
    return text


def unknown_count_text(subscription: Decimal | None, as_of: str) -> str:
    """Why a subscription whose seats left without a count before them needs a person."""
    return (f"Seats left this subscription on {as_of} (convert or moveQuantity), but its seat count before "
            f"that is not on the invoice, so the provider's count is unknown; the subscription has "
            f"{quantity_text(subscription)}. Check the seats in Partner Center.")


def money_text(value: Any) -> str:
    """1,234.50."""
    return "?" if value is None or value != value else f"{value:,.2f}"


def finding_sentences(lines: pd.DataFrame, price_status: Any, unit_cost: pd.Series, worth: LineMoney,
                      sums: Arithmetic) -> Any:
    """What each line's price finding and provider-arithmetic finding mean, in money (rules 8, 10, 11)."""
    import numpy as np

    effect, loss = worth.price_effect, worth.below_cost_loss
    arithmetic_off, recomputed, recomputed_alt = sums.flagged, sums.recomputed, sums.recomputed_alt
    statuses = np.asarray(price_status)
    text = np.full(len(lines), "", dtype=object)
    flagged = np.asarray(arithmetic_off, dtype=bool)
    wanted = np.flatnonzero(np.isin(statuses, ["below_cost", "cost_changed", "currency_mismatch", "low_margin"])
                            | flagged)
    # The values of the lines with a finding only, column by column (a row of the frame costs ~0.4 ms).
    row = picked(lines, wanted, ("currency", "unit_price", "expected_unit_cost", "subscription_currency",
                                 "subtotal"))
    value = {name: picked_values(series, lines.index[wanted]) for name, series in (
        ("unit_cost", unit_cost), ("loss", loss), ("effect", effect), ("recomputed", recomputed),
        ("recomputed_alt", recomputed_alt))}
    for n, position in enumerate(wanted.tolist()):
        currency, status = row["currency"][n], statuses[position]
        if status == "below_cost":
            text[position] += (f" Sold at {money_text(row['unit_price'][n])} {currency} a seat, below the provider's "
                               f"{money_text(value['unit_cost'][n])}: {money_text(value['loss'][n])} lost on this "
                               f"charge ({money_text(value['effect'][n])} a month).")
        elif status == "cost_changed":
            text[position] += (f" The provider charges {money_text(value['unit_cost'][n])} {currency} a seat, not "
                               f"the {money_text(row['expected_unit_cost'][n])} expected: "
                               f"{money_text(value['effect'][n])} a month more on this subscription.")
        elif status == "currency_mismatch":
            text[position] += (f" The subscription is priced in {row['subscription_currency'][n]}, the provider "
                               f"bills in {currency}: the price cannot be compared.")
        elif status == "low_margin":
            text[position] += " The margin is under the --min-margin asked for."
        if flagged[position]:
            text[position] += (f" Microsoft's subtotal {money_text(row['subtotal'][n])} matches neither "
                               f"ROUNDDOWN(EffectiveUnitPrice × rate, 2) × quantity = "
                               f"{money_text(value['recomputed'][n])} nor ROUNDDOWN(EffectiveUnitPrice × rate × "
                               f"quantity, 2) = {money_text(value['recomputed_alt'][n])}: provider arithmetic.")
    return text


def missing_texts(missing: pd.DataFrame, period: str) -> pd.Series:
    """Why each missing subscription is listed (reason not_on_invoice)."""
    return ("Active " + missing["frequency"] + " subscription with "
            + missing["quantity_in_force"].map(seats_text).astype("str")
            + f" is due in {period} but has no line on the invoice.")


def confirmed_text(confirmed_by: str, confirmed_at: str, note: str) -> str:
    """The sentence a confirmation adds to an explanation (rule 9)."""
    return f" Confirmed by {confirmed_by} on {confirmed_at[:10]}: {note.rstrip('.')}."


def lapsed_text(confirmed_by: str, confirmed_at: str, changed: list[str]) -> str:
    """The sentence that says a confirmation no longer applies, and why (rule 9)."""
    return (f" A confirmation by {confirmed_by} on {confirmed_at[:10]} no longer applies: "
            f"{'; '.join(changed)}.")


def period_warning(period: str, invoice_period: str | None) -> str:
    """--period names a month the invoices do not bill: missing subscriptions would be judged on the wrong month."""
    mostly = f" (most of its seat charges start in {invoice_period})" if invoice_period else ""
    return (f"--period {period}: no seat charge of the invoice starts in {period}{mostly}; check the period "
            "(subscriptions due then are compared against invoices for another month).")


def not_checked_note(count: int) -> str:
    return (f"{count} subscription{'s' if count != 1 else ''} due this period in another currency than the "
            "invoices' were not checked for missing charges (other currency).")
