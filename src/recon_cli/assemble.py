"""The run's output frames, in the field catalogue's order: each field taken from the stage that owns it.

Matching gives a line's identity and subscription, explain its status and quantities, price its
cost and margin, money its share of the money at risk. Nothing is computed here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from recon_cli.frames import date_column
from recon_cli.money import FIGURES
from recon_cli.records import LINE_FIELDS, MISSING_FIELDS, Reason

if TYPE_CHECKING:
    import pandas as pd

    from recon_cli.arithmetic import Arithmetic
    from recon_cli.explain import Verdicts
    from recon_cli.money import LineMoney
    from recon_cli.price import LinePrices


def result_lines(lines: pd.DataFrame, verdicts: Verdicts, prices: LinePrices, money: LineMoney,
                 arithmetic: Arithmetic, needs_person: pd.Series, explanation: Any) -> pd.DataFrame:
    """One output row per invoice line with the catalogue's line fields (PRODUCT.md §4)."""
    import pandas as pd

    matched = (lines["sub_key"] != "").to_numpy()
    columns = {
        "line_id": lines["line_id"], "row": lines["row"], "invoice_number": lines["invoice_number"],
        "invoice_file": lines["invoice_file"], "needs_person": needs_person,
        "customer_name": lines["customer_name"], "customer_id": lines["customer_id"],
        "subscription_id": lines["subscription_id"], "product": lines["product"],
        "product_id": lines["product_id"], "sku_id": lines["sku_id"], "charge_type": lines["charge_type"],
        "kind": lines["kind"], "billing_frequency": lines["frequency"],
        "order_date": date_column(lines["order_date"]), "charge_start": date_column(lines["charge_start"]),
        "charge_end": date_column(lines["charge_end"]), "status": verdicts.status,
        "reason": verdicts.reason, "price_status": prices.price_status, "match_method": lines["match_method"],
        "matched_subscription_id": lines["matched_subscription_id"], "quantity": lines["quantity"],
        "billable_quantity": lines["billable_quantity"], "provider_quantity": verdicts.provider_quantity,
        "subscription_quantity": lines["subscription_quantity"].astype(object).where(matched, None),
        "quantity_delta": verdicts.quantity_delta, "residual": verdicts.residual, "as_of": verdicts.as_of,
        "unit_cost": prices.unit_cost, "unit_price": lines["unit_price"].astype(object).where(matched, None),
        "margin_pct": prices.margin_pct, "subtotal": lines["subtotal"], "tax_total": lines["tax_total"],
        "total": lines["total"], "currency": lines["currency"],
        **{name: getattr(money, name) for name in FIGURES},
        "recomputed_subtotal": arithmetic.recomputed, "recomputed_subtotal_alt": arithmetic.recomputed_alt,
        "provider_arithmetic": arithmetic.flagged,
        "explanation": explanation, "evidence": verdicts.evidence, "scheduled": verdicts.scheduled,
        "open_since": "",  # history.attach_open_since, once the period is known
    }
    return pd.DataFrame({name: columns[name] for name in LINE_FIELDS}, copy=False).reset_index(drop=True)


def missing_frame(missing: pd.DataFrame, explanations: pd.Series, default_currency: str) -> pd.DataFrame:
    """The missing subscriptions with the catalogue's missing fields (rule 7)."""
    import pandas as pd

    quantity = missing["quantity_in_force"]
    columns = {
        "subscription_id": missing["subscription_id"], "row": missing["row"],
        "customer_id": missing["customer_id"], "customer_name": missing["customer_name"],
        "product": missing["product"], "quantity": quantity, "billing_frequency": missing["frequency"],
        "start_date": date_column(missing["start_date"]), "unit_price": missing["unit_price"],
        "unit_cost": missing["unit_cost"],
        "currency": missing["currency"].where(missing["currency"] != "", default_currency),
        "expected_cost": _times(quantity, missing["unit_cost"]),
        "expected_price": _times(quantity, missing["unit_price"]),
        "needs_person": True, "reason": Reason.NOT_ON_INVOICE.value, "explanation": explanations,
        "open_since": "",
    }
    return pd.DataFrame({name: columns[name] for name in MISSING_FIELDS}).reset_index(drop=True)


def _times(quantity: pd.Series, amount: pd.Series) -> list[Any]:
    """quantity x amount per row, None where the amount is not known."""
    return [q * a if a is not None and a == a else None for q, a in zip(quantity, amount, strict=True)]
