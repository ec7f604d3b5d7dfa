"""reconcile(inputs) -> ReconResult: load → normalize → match → explain → price → summarise."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from recon_cli import explain, match, normalize, price
from recon_cli.formats.nce import CENT
from recon_cli.formats.subscriptions import CHANGE_LOG, SUBSCRIPTIONS
from recon_cli.load import (
    RawTable,
    detect_invoice_format,
    is_workbook,
    read_change_log,
    read_table,
    read_xlsx_tables,
    split_workbook,
)
from recon_cli.models import (
    LINE_FIELDS,
    MISSING_FIELDS,
    NEEDS_PERSON,
    Confirmation,
    Kind,
    MatchMethod,
    Reason,
    RunSummary,
    Status,
)
from recon_cli.result import ReconResult

if TYPE_CHECKING:
    import pandas as pd

Progress = Callable[[str], None]


@dataclass(frozen=True)
class RunInputs:
    """What one run reads, and the options that change its rules."""

    invoice: Path
    subscriptions: Path
    changes: Path | None = None
    invoice_format: str = "auto"
    period: str | None = None
    as_of: datetime | None = None
    min_margin: Decimal | None = None
    # "MDY" or "DMY": the order of slashed dates in files whose values do not tell (--date-format).
    date_format: str | None = None
    # A profile from recon.toml's [invoice_format] (a formats.profiles.Profile), used as given.
    invoice_profile: Any = None
    # The daily-rated usage file (--usage), checked against the invoice's usage lines.
    usage: Path | None = None


def _load_subscription_tables(inputs: RunInputs) -> tuple[RawTable, RawTable | None]:
    """The subscriptions table, and the change log from --changes or the workbook's change-log sheet."""
    if is_workbook(inputs.subscriptions):
        subscriptions, change_sheet = split_workbook(read_xlsx_tables(inputs.subscriptions))
    else:
        subscriptions, change_sheet = read_table(inputs.subscriptions), None
    if inputs.changes is not None:
        change_sheet = read_change_log(inputs.changes)
    return subscriptions, change_sheet


def reconcile(inputs: RunInputs, confirmations: Sequence[Confirmation] = (), run_id: str | None = None,
              progress: Progress | None = None) -> ReconResult:
    """Reconcile one invoice against the subscriptions and their change log (PRODUCT.md §3)."""
    import pandas as pd

    step = progress or (lambda _message: None)
    step("loading invoice")
    invoice_table = read_table(inputs.invoice)
    invoice_format = detect_invoice_format(invoice_table, inputs.invoice_format, inputs.invoice_profile)
    read_notes: list[str] = []
    invoice, rejects_invoice = normalize.normalize_invoice(
        invoice_table, invoice_format, inputs.invoice, date_format=inputs.date_format, notes=read_notes)
    invoice_table = invoice_table.with_notes(read_notes)
    default_currency = invoice["currency"].mode().iloc[0] if len(invoice) else ""

    step("loading subscriptions")
    subscription_table, change_table = _load_subscription_tables(inputs)
    read_notes = []
    subscriptions, rejects_subs = normalize.normalize_subscriptions(
        subscription_table, SUBSCRIPTIONS, default_currency, date_format=inputs.date_format, notes=read_notes)
    changes, rejects_changes = (
        normalize.normalize_changes(change_table, CHANGE_LOG, date_format=inputs.date_format, notes=read_notes)
        if change_table is not None else (None, normalize.empty_rejects()))
    # The summary shows the subscriptions table's notes: the change log's travel with them.
    change_notes = change_table.notes if change_table is not None else []
    subscription_table = subscription_table.with_notes([*change_notes, *read_notes])

    step("matching")
    lines = match.match_lines(invoice, subscriptions)
    # A subscription's lines share a group: its key when matched, else the invoice's own id.
    lines["group_key"] = lines["sub_key"].where(lines["sub_key"] != "", "inv:" + lines["subscription_id_key"])
    lines["group"] = pd.factorize(lines["group_key"], sort=False)[0]
    decisions = _decide_quantities(lines, changes, inputs.as_of)
    prices = price.check_prices(lines, inputs.min_margin)
    result_lines = _assemble_lines(lines, decisions, prices)
    result_lines = apply_confirmations(result_lines, lines, confirmations)

    period = inputs.period or match.invoice_period(lines)
    matched_keys = lines.loc[lines["sub_key"] != "", "sub_key"].drop_duplicates()
    missing = _missing_frame(match.missing_subscriptions(subscriptions, matched_keys, period), period,
                             default_currency)
    missing = confirm_missing(missing, confirmations)
    rejects = pd.concat([r for r in (rejects_invoice, rejects_subs, rejects_changes) if len(r)]
                        or [normalize.empty_rejects()], ignore_index=True)
    evidence = explain.evidence_records(decisions["evidence"])
    usage_check = None
    usage_notes: list[str] = []
    if inputs.usage is not None:
        from recon_cli.usage import check_usage

        step("checking usage")
        usage_check = check_usage(result_lines, inputs.usage, notes=usage_notes)
        if len(usage_check.rejects):
            rejects = pd.concat([r for r in (rejects, usage_check.rejects) if len(r)], ignore_index=True)
        if usage_check.note:
            usage_notes.append(usage_check.note)

    step("summarising")
    raw = invoice_table.frame
    summary = summarise(
        result_lines, missing, rejects, inputs=inputs, run_id=run_id, period=period,
        invoice_format=invoice_format.name, subscription_count=len(subscriptions),
        change_count=0 if changes is None else len(changes), has_change_log=changes is not None,
        unknown_charge_types=normalize.unknown_charge_types(invoice),
        notes=[*invoice_table.notes, *subscription_table.notes, *usage_notes],
        usage_check=usage_check.summary if usage_check is not None else None)
    return ReconResult(lines=result_lines, missing=missing, evidence=evidence, rejects=rejects,
                       summary=summary, invoice_raw=raw)


def _decide_quantities(lines: pd.DataFrame, changes: pd.DataFrame | None, as_of_limit: datetime | None
                       ) -> dict[str, pd.DataFrame]:
    """Per subscription: provider vs subscription seats, and the decision on any difference."""
    import numpy as np

    groups = match.provider_quantities(lines)
    matched = lines.loc[lines["sub_key"] != "", ["group", "subscription_quantity"]].drop_duplicates("group")
    at = match.group_positions(matched["group"], groups["group"])
    groups["subscription_quantity"] = match.carry(matched["subscription_quantity"], at, groups.index)
    provider, subscription = groups["provider_quantity"].to_numpy(), groups["subscription_quantity"].to_numpy()
    comparable = groups["provider_quantity"].notna().to_numpy() & groups["subscription_quantity"].notna().to_numpy()
    delta = np.full(len(groups), None, dtype=object)
    delta[comparable] = provider[comparable] - subscription[comparable]
    groups["quantity_delta"] = delta
    differs = comparable & (delta != 0)
    differences = groups.loc[differs]
    evidence = (explain.find_evidence(differences, changes, as_of_limit) if changes is not None
                else _no_changes())
    decided = explain.explain_differences(differences, evidence, changes is not None)
    return {"groups": groups, "decided": decided, "evidence": evidence}


def _no_changes() -> pd.DataFrame:
    import pandas as pd

    return pd.DataFrame({"group": pd.Series(dtype="int64"), "change_id": pd.Series(dtype="str"),
                         "quantity_delta": pd.Series(dtype=object)})


def _assemble_lines(lines: pd.DataFrame, decisions: dict[str, pd.DataFrame], prices: pd.DataFrame
                    ) -> pd.DataFrame:
    """One output row per invoice line with the fields of LINE_FIELDS (PRODUCT.md §4)."""
    import numpy as np
    import pandas as pd

    index = lines.index
    groups, decided = decisions["groups"], decisions["decided"]
    at_group = match.group_positions(groups["group"], lines["group"])
    at_decided = match.group_positions(decided["group"], lines["group"])
    at_price = match.group_positions(prices["group"], lines["group"])
    seat = (lines["kind"] == Kind.SEAT.value).to_numpy()
    matched = (lines["sub_key"] != "").to_numpy()
    decided_line = seat & (at_decided >= 0)
    provider_quantity = match.carry(groups["provider_quantity"], at_group, index)
    as_of_day = match.carry(groups["as_of"], at_group, index, pd.NaT)
    as_of = _date_column(as_of_day)
    status_decided = match.carry(decided["status"], at_decided, index, "")
    reason_decided = match.carry(decided["reason"], at_decided, index, "")
    text_decided = match.carry(decided["explanation"], at_decided, index, "")

    no_quantity = seat & matched & ~decided_line & provider_quantity.isna().to_numpy()
    usage = (lines["kind"] == Kind.USAGE.value).to_numpy()
    conditions = [~matched, decided_line, seat & ~no_quantity, seat, usage]
    status = np.select(conditions, [Status.UNMATCHED.value, status_decided, Status.MATCHED.value,
                                    Status.MATCHED.value, Status.MATCHED.value], Status.MATCHED.value)
    reason = np.select(conditions, [Reason.SUBSCRIPTION_NOT_FOUND.value, reason_decided,
                                    Reason.QUANTITY_EQUAL.value, Reason.QUANTITY_EQUAL.value,
                                    Reason.USAGE_LINE.value], Reason.ONE_TIME_LINE.value)
    sub_id = lines["matched_subscription_id"]
    text = _explanations(lines, conditions, text_decided, provider_quantity, as_of)

    priced = seat & (at_price >= 0)
    price_status = np.where(priced, match.carry(prices["price_status"], at_price, index, ""),
                            price.line_price_status(lines))
    residual = match.carry(decided["residual"], at_decided, index).where(decided_line, None)
    unit_cost = match.carry(prices["unit_cost"], at_price, index).where(priced, None)
    deciding = match.carry(groups["deciding_row"], at_group, index, -1).to_numpy() == lines["row"].to_numpy()
    at_risk = _money_at_risk(lines, status, residual, unit_cost, deciding)
    no_evidence: list[str] = []
    evidence = match.carry(decided["evidence"], at_decided, index, None)
    evidence = evidence.where(evidence.notna(), pd.Series([no_evidence] * len(index), index=index, dtype=object))
    out = pd.DataFrame({
        "line_id": lines["line_id"], "row": lines["row"], "invoice_number": lines["invoice_number"],
        "subscription_id": lines["subscription_id"], "customer_id": lines["customer_id"],
        "customer_name": lines["customer_name"], "product": lines["product"],
        "product_id": lines["product_id"], "sku_id": lines["sku_id"], "charge_type": lines["charge_type"],
        "kind": lines["kind"], "billing_frequency": lines["frequency"],
        "order_date": _date_column(lines["order_date"]), "charge_start": _date_column(lines["charge_start"]),
        "charge_end": _date_column(lines["charge_end"]), "quantity": lines["quantity"],
        "billable_quantity": lines["billable_quantity"], "status": status,
        "price_status": price_status, "reason": reason, "match_method": lines["match_method"],
        "matched_subscription_id": sub_id,
        "provider_quantity": provider_quantity.where(seat, None),
        "subscription_quantity": lines["subscription_quantity"].astype(object).where(matched, None),
        "quantity_delta": match.carry(groups["quantity_delta"], at_group, index).where(seat, None),
        "residual": residual, "as_of": as_of.where(seat, ""), "unit_cost": unit_cost,
        "unit_price": lines["unit_price"].astype(object).where(matched, None),
        "margin_pct": match.carry(prices["margin_pct"], at_price, index).where(priced, None),
        "subtotal": lines["subtotal"], "tax_total": lines["tax_total"], "total": lines["total"],
        "currency": lines["currency"], "money_at_risk": at_risk, "explanation": text, "evidence": evidence,
    }, columns=list(LINE_FIELDS))
    return out.reset_index(drop=True)


def _explanations(lines: pd.DataFrame, conditions: list[Any], decided: pd.Series, provider_quantity: pd.Series,
                  as_of: pd.Series) -> Any:
    """The explanation of every line, each template built only for the lines it applies to."""
    import numpy as np

    unmatched, decided_line, equal, no_event, usage = conditions
    text = np.full(len(lines), "", dtype=object)
    sub_id = lines["matched_subscription_id"]

    def fill(mask: Any, build: Callable[[Any], Any]) -> None:
        if mask.any():
            text[mask] = np.asarray(build(mask), dtype=object)

    fill(unmatched, lambda m: "Subscription " + lines["subscription_id"][m] + " is not in the subscription "
         "export: this cost (" + _texts(lines["subtotal"][m]) + " " + lines["currency"][m] + ") is never re-billed.")
    fill(decided_line, lambda m: decided[m].to_numpy())
    fill(equal & ~decided_line & ~unmatched, lambda m: "Provider and subscription both have " + _quantity_texts(
        provider_quantity[m]) + " (provider as of " + as_of[m] + ").")
    fill(no_event & ~equal & ~decided_line & ~unmatched,
         lambda m: "Only credits or reversals for this subscription on the invoice: no seat count to compare.")
    fill(usage & ~unmatched, lambda m: "Usage on subscription " + sub_id[m] + "; quantity rules do not apply "
         "to usage lines.")
    one_time = ~unmatched & (lines["kind"] == Kind.ONE_TIME.value).to_numpy()
    fill(one_time, lambda m: "One-time charge on subscription " + sub_id[m] + "; quantity rules do not apply "
         "to one-time lines.")
    fallback = (lines["match_method"] == MatchMethod.CUSTOMER_PRODUCT.value).to_numpy()
    fill(fallback, lambda m: text[m] + (" Matched on customer and product: the export has this subscription as "
                                        + sub_id[m] + ".").to_numpy(dtype=object))
    return text


def _quantity_texts(quantities: pd.Series) -> pd.Series:
    """'12 seats' per line, formatted once per distinct quantity."""
    import pandas as pd

    codes, uniques = pd.factorize(quantities, sort=False, use_na_sentinel=True)
    texts = [f"{explain.quantity_text(q)} seat{'s' if q != 1 else ''}" for q in uniques]
    return pd.Series([*texts, "? seats"], dtype="str").take(codes).set_axis(quantities.index)


def _texts(values: pd.Series) -> pd.Series:
    """str() of each Decimal, once per distinct value."""
    import pandas as pd

    codes, uniques = pd.factorize(values, sort=False, use_na_sentinel=True)
    return pd.Series([*(str(u) for u in uniques), ""], dtype="str").take(codes).set_axis(values.index)


def _money_at_risk(lines: pd.DataFrame, status: Any, residual: pd.Series, unit_cost: pd.Series,
                   deciding: Any) -> pd.Series:
    """Cost never re-billed (unmatched), and unexplained seats x unit cost, counted once per subscription."""
    import numpy as np
    import pandas as pd

    zero = Decimal(0)
    at_risk = pd.Series(np.full(len(lines), zero, dtype=object), index=lines.index)
    unmatched = status == Status.UNMATCHED.value
    at_risk[unmatched] = lines.loc[unmatched, "subtotal"]
    open_difference = (status == Status.UNEXPLAINED.value) | (status == Status.PARTIALLY_EXPLAINED.value)
    for index in lines.index[open_difference & deciding]:
        left, cost = residual[index], unit_cost[index]
        if left is not None and cost is not None and cost == cost:
            at_risk[index] = abs(left) * cost
    return at_risk


def _date_column(values: pd.Series) -> pd.Series:
    """ISO dates as text, formatted once per distinct date ("" for none)."""
    import pandas as pd

    codes, uniques = pd.factorize(values, sort=False, use_na_sentinel=True)
    texts = [*pd.DatetimeIndex(uniques).strftime("%Y-%m-%d"), ""]
    return pd.Series(texts, dtype="str").take(codes).set_axis(values.index)


def apply_confirmations(result_lines: pd.DataFrame, lines: pd.DataFrame,
                        confirmations: Sequence[Confirmation]) -> pd.DataFrame:
    """A confirmation holds while the subscription shows the same quantities (PRODUCT.md §3 rule 9)."""
    if not confirmations or result_lines.empty:
        return result_lines
    out = result_lines.copy()
    keys = lines[["sub_key", "subscription_id_key"]].reset_index(drop=True)
    for confirmation in confirmations:
        key = confirmation.subscription_id.strip().lower()
        same = (keys["sub_key"] == key) | (keys["subscription_id_key"] == key)
        same &= _same_quantity(out["provider_quantity"], confirmation.provider_quantity)
        same &= _same_quantity(out["subscription_quantity"], confirmation.subscription_quantity)
        same &= out["status"] != Status.MATCHED
        if not same.any():
            continue
        out.loc[same, "status"] = Status.CONFIRMED.value
        out.loc[same, "reason"] = Reason.CONFIRMED.value
        out.loc[same, "money_at_risk"] = Decimal(0)
        out.loc[same, "explanation"] = out.loc[same, "explanation"] + (
            f" Confirmed by {confirmation.confirmed_by} on {confirmation.confirmed_at[:10]}: "
            f"{confirmation.note.rstrip('.')}.")
    return out


def confirm_missing(missing: pd.DataFrame, confirmations: Sequence[Confirmation]) -> pd.DataFrame:
    """A confirmed absence stays listed, reason `confirmed`, while the subscription's seats are the same."""
    held = {c.subscription_id.strip().lower(): c for c in confirmations if c.provider_quantity is None}
    if missing.empty or not held:
        return missing
    reasons, texts = missing["reason"].tolist(), missing["explanation"].tolist()
    for position, (sub_id, quantity) in enumerate(zip(missing["subscription_id"], missing["quantity"], strict=True)):
        confirmation = held.get(str(sub_id).strip().lower())
        if confirmation is None or confirmation.subscription_quantity is None:
            continue
        if Decimal(confirmation.subscription_quantity) != quantity:
            continue
        reasons[position] = Reason.CONFIRMED.value
        texts[position] = (f"{texts[position]} Confirmed by {confirmation.confirmed_by} on "
                           f"{confirmation.confirmed_at[:10]}: {confirmation.note.rstrip('.')}.")
    return missing.assign(reason=reasons, explanation=texts)


def _same_quantity(values: pd.Series, confirmed: str | None) -> pd.Series:
    if confirmed is None:
        return values.isna()
    target = Decimal(confirmed)
    return values.map(lambda v: v is not None and v == v and v == target).astype(bool)


def _missing_frame(missing: pd.DataFrame, period: str | None, default_currency: str) -> pd.DataFrame:
    import pandas as pd

    expected = [q * p if p is not None else None for q, p in zip(missing["quantity"], missing["unit_price"],
                                                                  strict=True)]
    due = "every month" if period is None else period
    text = ("Active " + missing["frequency"] + " subscription with "
            + missing["quantity"].map(explain.quantity_text).astype("str")
            + f" seats is due in {due} but has no line on the invoice.")
    return pd.DataFrame({
        "subscription_id": missing["subscription_id"], "row": missing["row"],
        "customer_id": missing["customer_id"], "customer_name": missing["customer_name"],
        "product": missing["product"], "quantity": missing["quantity"], "billing_frequency": missing["frequency"],
        "start_date": _date_column(missing["start_date"]), "unit_price": missing["unit_price"],
        "currency": missing["currency"].where(missing["currency"] != "", default_currency),
        "expected_amount": expected, "reason": Reason.NOT_ON_INVOICE.value, "explanation": text,
    }, columns=list(MISSING_FIELDS)).reset_index(drop=True)


def _sum_by(frame: pd.DataFrame, keys: list[str], column: str) -> dict[str, Decimal]:
    """Exact sums of a Decimal column per key (keys joined by '|')."""
    group = frame[keys[0]].astype("str")
    for key in keys[1:]:
        group = group + "|" + frame[key].astype("str")
    return normalize.decimal_sums(frame[column], group)


def seat_margins(lines: pd.DataFrame) -> tuple[dict[str, str], dict[str, str]]:
    """Annual selling value and revenue-weighted margin % per currency, one row per priced seat subscription.

    Each subscription's margin (price vs the provider's full-cycle cost, on the same period) is
    weighted by what it sells for in a year, so monthly and annual subscriptions add up fairly.
    """
    import numpy as np

    from recon_cli.formats.subscriptions import BILLING_FREQUENCIES

    priced = lines.loc[(lines["kind"] == Kind.SEAT.value) & (lines["status"] != Status.UNMATCHED.value)
                       & lines["margin_pct"].notna() & lines["unit_price"].notna()
                       & lines["subscription_quantity"].notna()]
    priced = priced.drop_duplicates("matched_subscription_id")
    if priced.empty:
        return {}, {}
    # The line's billing plan sets how often the price is billed in a year (the subscription's
    # plan is the same in all but a mid-term plan change).
    per_year = priced["billing_frequency"].map(lambda f: Decimal(12) / BILLING_FREQUENCIES.get(f, 1))
    revenue = priced["unit_price"].to_numpy() * priced["subscription_quantity"].to_numpy() * per_year.to_numpy()
    margin = revenue * priced["margin_pct"].to_numpy() / Decimal(100)
    revenue_by, margin_by = {}, {}
    for currency in sorted(set(priced["currency"])):
        mask = (priced["currency"] == currency).to_numpy()
        total = np.sum(revenue[mask]) if mask.any() else Decimal(0)
        if total:
            revenue_by[currency] = str(Decimal(total).quantize(CENT))
            margin_by[currency] = str((np.sum(margin[mask]) / total * 100).quantize(CENT))
    return revenue_by, margin_by


def _new_run_id() -> str:
    from recon_cli.store import new_run_id

    return new_run_id()


def summarise(lines: pd.DataFrame, missing: pd.DataFrame, rejects: pd.DataFrame, *, inputs: RunInputs,
              run_id: str | None, period: str | None, invoice_format: str, subscription_count: int,
              change_count: int, has_change_log: bool, unknown_charge_types: list[str],
              notes: list[str], usage_check: dict[str, Any] | None = None) -> RunSummary:
    """Counts and exact totals per status and currency."""
    by_status = _sum_by(lines, ["currency", "status"], "subtotal")
    subtotal_by_status: dict[str, dict[str, str]] = {}
    for key, amount in sorted(by_status.items()):
        currency, status = key.split("|", 1)
        subtotal_by_status.setdefault(currency, {})[status] = str(amount)
    unmatched = lines.loc[lines["status"] == Status.UNMATCHED.value]
    needs = int(lines["status"].isin(NEEDS_PERSON).sum())
    annual_revenue, margin_pct = seat_margins(lines)
    return RunSummary(
        run_id=run_id or _new_run_id(), created_at=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        period=period, invoice_file=str(inputs.invoice), subscriptions_file=str(inputs.subscriptions),
        changes_file=str(inputs.changes) if inputs.changes else None, invoice_format=invoice_format,
        invoice_numbers=sorted(n for n in lines["invoice_number"].unique().tolist() if n),
        as_of=inputs.as_of.isoformat() if inputs.as_of else None,
        min_margin=str(inputs.min_margin) if inputs.min_margin is not None else None,
        line_count=len(lines), subscription_count=subscription_count, change_count=change_count,
        status_counts={k: int(v) for k, v in lines["status"].value_counts().sort_index().items()},
        price_status_counts={k: int(v) for k, v in lines["price_status"].value_counts().sort_index().items()},
        kind_counts={k: int(v) for k, v in lines["kind"].value_counts().sort_index().items()},
        subtotal_by_status=subtotal_by_status,
        subtotal_total={k: str(v) for k, v in sorted(_sum_by(lines, ["currency"], "subtotal").items())},
        unbilled_cost={k: str(v) for k, v in sorted(_sum_by(unmatched, ["currency"], "subtotal").items())},
        money_at_risk={k: str(v) for k, v in sorted(_sum_by(lines, ["currency"], "money_at_risk").items())
                       if v != 0},
        annual_revenue=annual_revenue, margin_pct=margin_pct, missing_count=len(missing),
        missing_value={k: str(v) for k, v in sorted(_sum_by(missing, ["currency"], "expected_amount").items())},
        reject_count=len(rejects), has_change_log=has_change_log,
        needs_attention=needs + int((missing["reason"] != Reason.CONFIRMED.value).sum()),
        unknown_charge_types=unknown_charge_types, notes=notes, usage_check=usage_check,
    )
