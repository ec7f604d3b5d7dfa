"""reconcile(inputs) -> ReconResult: load → normalize → match → explain → price → summarise."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from recon_cli import explain, match, normalize, price
from recon_cli.formats.subscriptions import CHANGE_LOG, SUBSCRIPTIONS
from recon_cli.load import RawTable, detect_invoice_format, read_table, read_xlsx_tables, split_workbook
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


def _load_subscription_tables(inputs: RunInputs) -> tuple[RawTable, RawTable | None]:
    """The subscriptions table, and the change log from --changes or the workbook's second sheet."""
    if inputs.subscriptions.suffix.lower() in {".xlsx", ".xlsm"}:
        subscriptions, change_sheet = split_workbook(read_xlsx_tables(inputs.subscriptions))
    else:
        subscriptions, change_sheet = read_table(inputs.subscriptions), None
    if inputs.changes is not None:
        change_sheet = read_table(inputs.changes)
    return subscriptions, change_sheet


def reconcile(inputs: RunInputs, confirmations: Sequence[Confirmation] = (), run_id: str | None = None,
              progress: Progress | None = None) -> ReconResult:
    """Reconcile one invoice against the subscriptions and their change log (PRODUCT.md §3)."""
    import pandas as pd

    step = progress or (lambda _message: None)
    step("loading invoice")
    invoice_table = read_table(inputs.invoice)
    invoice_format = detect_invoice_format(invoice_table, inputs.invoice_format)
    invoice, rejects_invoice = normalize.normalize_invoice(invoice_table, invoice_format, inputs.invoice)
    default_currency = invoice["currency"].mode().iloc[0] if len(invoice) else ""

    step("loading subscriptions")
    subscription_table, change_table = _load_subscription_tables(inputs)
    subscriptions, rejects_subs = normalize.normalize_subscriptions(
        subscription_table, SUBSCRIPTIONS, default_currency)
    changes, rejects_changes = (normalize.normalize_changes(change_table, CHANGE_LOG)
                                if change_table is not None else (None, normalize.empty_rejects()))

    step("matching")
    lines = match.match_lines(invoice, subscriptions)
    lines["group_key"] = lines["sub_key"].where(lines["sub_key"] != "", "inv:" + lines["subscription_id_key"])
    decisions = _decide_quantities(lines, changes, inputs.as_of)
    prices = price.check_prices(lines, inputs.min_margin)
    result_lines = _assemble_lines(lines, decisions["groups"], prices)
    result_lines = apply_confirmations(result_lines, lines, confirmations)

    period = inputs.period or match.invoice_period(lines)
    matched_keys = set(lines.loc[lines["sub_key"] != "", "sub_key"])
    missing = _missing_frame(match.missing_subscriptions(subscriptions, matched_keys, period), period)
    rejects = pd.concat([r for r in (rejects_invoice, rejects_subs, rejects_changes) if len(r)]
                        or [normalize.empty_rejects()], ignore_index=True)
    evidence = explain.evidence_records(decisions["evidence"])

    step("summarising")
    raw = invoice_table.frame
    summary = summarise(
        result_lines, missing, rejects, inputs=inputs, run_id=run_id, period=period,
        invoice_format=invoice_format.name, subscription_count=len(subscriptions),
        change_count=0 if changes is None else len(changes), has_change_log=changes is not None,
        unknown_charge_types=normalize.unknown_charge_types(invoice),
        notes=[*invoice_table.notes, *subscription_table.notes])
    return ReconResult(lines=result_lines, missing=missing, evidence=evidence, rejects=rejects,
                       summary=summary, invoice_raw=raw)


def _decide_quantities(lines: pd.DataFrame, changes: pd.DataFrame | None, as_of_limit: datetime | None
                       ) -> dict[str, pd.DataFrame]:
    """Per subscription: provider vs subscription seats, and the decision on any difference."""
    quantities = match.provider_quantities(lines)
    subscription_quantity = lines.loc[lines["sub_key"] != ""].drop_duplicates("group_key")[
        ["group_key", "subscription_quantity"]]
    groups = quantities.merge(subscription_quantity, on="group_key", how="left", validate="one_to_one")
    comparable = groups["provider_quantity"].notna() & groups["subscription_quantity"].notna()
    groups["quantity_delta"] = [p - s if ok else None for p, s, ok in zip(
        groups["provider_quantity"], groups["subscription_quantity"], comparable, strict=True)]
    differs = comparable & groups["quantity_delta"].map(lambda d: d != 0, na_action="ignore").fillna(False)
    differences = groups.loc[differs.astype(bool)]
    evidence = (explain.find_evidence(differences, changes, as_of_limit) if changes is not None
                else _no_changes())
    decided = explain.explain_differences(differences, evidence, changes is not None)
    groups = groups.merge(decided, on="group_key", how="left", validate="one_to_one")
    return {"groups": groups, "evidence": evidence}


def _no_changes() -> pd.DataFrame:
    import pandas as pd

    return pd.DataFrame({"group_key": pd.Series(dtype="str"), "change_id": pd.Series(dtype="str"),
                         "quantity_delta": pd.Series(dtype=object)})


def _assemble_lines(lines: pd.DataFrame, groups: pd.DataFrame, prices: pd.DataFrame) -> pd.DataFrame:
    """One output row per invoice line with the fields of LINE_FIELDS (PRODUCT.md §4)."""
    import numpy as np
    import pandas as pd

    merged = lines.merge(groups.rename(columns={"subscription_quantity": "group_sub_quantity"}),
                         on="group_key", how="left", validate="many_to_one", sort=False)
    merged = merged.merge(prices, on="group_key", how="left", validate="many_to_one", sort=False)
    seat = merged["kind"] == Kind.SEAT.value
    matched = merged["sub_key"] != ""
    decided = seat & merged["status"].notna()
    as_of = merged["as_of"].dt.strftime("%Y-%m-%d").fillna("").astype("str")
    qty_text = merged["provider_quantity"].map(explain.quantity_text, na_action="ignore").astype(object)
    qty_text = qty_text.where(qty_text.notna(), "?")
    equal_text = ("Provider and subscription both have " + qty_text.astype("str") + " seats (provider as of "
                  + as_of + ").")
    not_found = ("Subscription " + merged["subscription_id"] + " is not in the subscription export: "
                 "this cost (" + merged["subtotal"].map(str) + " " + merged["currency"] + ") is never re-billed.")
    usage_text = "Usage on subscription " + merged["matched_subscription_id"].fillna("") + \
        "; quantity rules do not apply to usage lines."
    one_time_text = "One-time charge on subscription " + merged["matched_subscription_id"].fillna("") + \
        "; quantity rules do not apply to one-time lines."
    no_event = "Only credits or reversals for this subscription on the invoice: no seat count to compare."
    no_quantity = seat & matched & ~decided & merged["provider_quantity"].isna()

    conditions = [~matched, decided, seat & ~no_quantity, seat, merged["kind"] == Kind.USAGE.value]
    status = np.select(conditions, [Status.UNMATCHED, merged["status"].fillna(""), Status.MATCHED,
                                    Status.MATCHED, Status.MATCHED], Status.MATCHED).astype(str)
    reason = np.select(conditions, [Reason.SUBSCRIPTION_NOT_FOUND, merged["reason"].fillna(""),
                                    Reason.QUANTITY_EQUAL, Reason.QUANTITY_EQUAL, Reason.USAGE_LINE],
                       Reason.ONE_TIME_LINE).astype(str)
    text = np.select(conditions, [not_found, merged["explanation"].fillna(""), equal_text, no_event,
                                  usage_text], one_time_text).astype(str)
    fallback = merged["match_method"] == MatchMethod.CUSTOMER_PRODUCT.value
    text = np.where(fallback, text + " Matched on customer and product: the export has this subscription as "
                    + merged["matched_subscription_id"].fillna("") + ".", text)

    price_status = merged["price_status"].where(seat & merged["price_status"].notna(),
                                                price.line_price_status(merged))
    at_risk = _money_at_risk(merged, status)
    evidence = merged["evidence"].map(lambda ids: ids if isinstance(ids, list) else [])
    seat_values = {column: merged[column].where(seat, None) for column in
                   ("provider_quantity", "quantity_delta", "residual")}
    out = pd.DataFrame({
        "line_id": merged["line_id"], "row": merged["row"], "invoice_number": merged["invoice_number"],
        "subscription_id": merged["subscription_id"], "customer_id": merged["customer_id"],
        "customer_name": merged["customer_name"], "product": merged["product"],
        "product_id": merged["product_id"], "sku_id": merged["sku_id"], "charge_type": merged["charge_type"],
        "kind": merged["kind"], "billing_frequency": merged["frequency"],
        "order_date": _date_column(merged["order_date"]), "charge_start": _date_column(merged["charge_start"]),
        "charge_end": _date_column(merged["charge_end"]), "quantity": merged["quantity"],
        "billable_quantity": merged["billable_quantity"], "status": status,
        "price_status": price_status.astype("str"), "reason": reason, "match_method": merged["match_method"],
        "matched_subscription_id": merged["matched_subscription_id"].fillna(""),
        "provider_quantity": seat_values["provider_quantity"],
        "subscription_quantity": merged["subscription_quantity"].where(matched, None),
        "quantity_delta": seat_values["quantity_delta"], "residual": seat_values["residual"],
        "as_of": as_of.where(seat, ""), "unit_cost": merged["unit_cost"].where(seat & matched, None),
        "unit_price": merged["unit_price"].where(matched, None),
        "margin_pct": merged["margin_pct"].where(seat & matched, None), "subtotal": merged["subtotal"],
        "tax_total": merged["tax_total"], "total": merged["total"], "currency": merged["currency"],
        "money_at_risk": at_risk, "explanation": text, "evidence": evidence,
    }, columns=list(LINE_FIELDS))
    return out.astype({"row": "int64"}).replace({np.nan: None}).sort_values("row", kind="stable").reset_index(
        drop=True)


def _money_at_risk(merged: pd.DataFrame, status: Any) -> pd.Series:
    """Cost never re-billed (unmatched), and unexplained seats x unit cost, counted once per subscription."""
    import pandas as pd

    at_risk = pd.Series(Decimal(0), index=merged.index, dtype=object)
    unmatched = status == Status.UNMATCHED
    at_risk[unmatched] = merged.loc[unmatched, "subtotal"]
    open_difference = (status == Status.UNEXPLAINED) | (status == Status.PARTIALLY_EXPLAINED)
    deciding = open_difference & (merged["row"] == merged["deciding_row"])
    for index in deciding[deciding].index:
        residual, cost = merged.at[index, "residual"], merged.at[index, "unit_cost"]
        if residual is not None and cost is not None and cost == cost:
            at_risk[index] = abs(residual) * cost
    return at_risk


def _date_column(values: pd.Series) -> pd.Series:
    return values.dt.strftime("%Y-%m-%d").fillna("").astype("str")


def apply_confirmations(result_lines: pd.DataFrame, lines: pd.DataFrame,
                        confirmations: Sequence[Confirmation]) -> pd.DataFrame:
    """A confirmation holds while the subscription shows the same quantities (PRODUCT.md §3 rule 9)."""
    if not confirmations or result_lines.empty:
        return result_lines
    out = result_lines.copy()
    keys = lines.set_index("row").loc[out["row"], ["sub_key", "subscription_id_key"]].reset_index(drop=True)
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
            f"{confirmation.note}")
    return out


def _same_quantity(values: pd.Series, confirmed: str | None) -> pd.Series:
    if confirmed is None:
        return values.isna()
    target = Decimal(confirmed)
    return values.map(lambda v: v is not None and v == v and v == target).astype(bool)


def _missing_frame(missing: pd.DataFrame, period: str | None) -> pd.DataFrame:
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
        "currency": missing["currency"], "expected_amount": expected, "reason": Reason.NOT_ON_INVOICE.value,
        "explanation": text,
    }, columns=list(MISSING_FIELDS)).reset_index(drop=True)


def _sum_by(frame: pd.DataFrame, keys: list[str], column: str) -> dict[Any, Decimal]:
    sums: dict[Any, Decimal] = {}
    for key, value in zip(zip(*(frame[k] for k in keys), strict=True), frame[column], strict=True):
        if value is not None and value == value:
            group = key if len(keys) > 1 else key[0]
            sums[group] = sums.get(group, Decimal(0)) + value
    return sums


def _new_run_id() -> str:
    from recon_cli.store import new_run_id

    return new_run_id()


def summarise(lines: pd.DataFrame, missing: pd.DataFrame, rejects: pd.DataFrame, *, inputs: RunInputs,
              run_id: str | None, period: str | None, invoice_format: str, subscription_count: int,
              change_count: int, has_change_log: bool, unknown_charge_types: list[str],
              notes: list[str]) -> RunSummary:
    """Counts and exact totals per status and currency."""
    by_status = _sum_by(lines, ["currency", "status"], "subtotal")
    subtotal_by_status: dict[str, dict[str, str]] = {}
    for (currency, status), amount in sorted(by_status.items()):
        subtotal_by_status.setdefault(currency, {})[status] = str(amount)
    unmatched = lines.loc[lines["status"] == Status.UNMATCHED.value]
    needs = int(lines["status"].isin(NEEDS_PERSON).sum())
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
        missing_count=len(missing),
        missing_value={k: str(v) for k, v in sorted(_sum_by(missing, ["currency"], "expected_amount").items())},
        reject_count=len(rejects), needs_attention=needs + len(missing), has_change_log=has_change_log,
        unknown_charge_types=unknown_charge_types, notes=notes,
    )
