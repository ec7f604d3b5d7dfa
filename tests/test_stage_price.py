"""The price stage on in-memory frames: price_status precedence, the common period, full-cycle cost, margins.

Partner Center examples come from /work/shared/samples/found/ms-learn-partner-center-docs-2023/
(`nce-worked-examples.derived.csv`, transcribed from `common-billing-scenarios-onetime-recurring.md`).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import memory
from builders import seat, subscription, usage
from recon_cli import match, price

D = Decimal


def lines_of(invoice: list[dict[str, Any]], subs: list[dict[str, Any]]) -> pd.DataFrame:
    return match.match_lines(memory.invoice(invoice), memory.subscriptions(subs))


def checked(invoice: list[dict[str, Any]], subs: list[dict[str, Any]], min_margin: Decimal | None = None
            ) -> list[tuple[Any, ...]]:
    """check_prices() as (unit_cost, price_status, margin_pct) per subscription."""
    prices = price.check_prices(lines_of(invoice, subs), min_margin)
    return list(zip(prices["unit_cost"], prices["price_status"], prices["margin_pct"], strict=True))


# --- price_status ----------------------------------------------------------------------------------

# cost, price, expected cost, --min-margin, currency differs -> status, margin % (one monthly period each).
# Margin = (price − cost) / price × 100, rounded half up to the cent: (12 − 10) / 12 = 16.67, (9 − 10) / 9 = −11.11.
PRECEDENCE = [
    ("10.00", "9.00", "12.00", "50", True, "currency_mismatch", None),   # beats everything below
    ("10.00", "9.00", "12.00", "50", False, "below_cost", "-11.11"),     # beats cost_changed and low_margin
    ("10.00", "12.00", "9.00", "50", False, "cost_changed", "16.67"),    # beats low_margin
    ("10.00", None, "12.00", None, False, "cost_changed", None),         # beats no_price
    ("10.00", "12.00", "10.02", None, False, "cost_changed", "16.67"),   # 0.02 away: beyond the 0.01 tolerance
    ("10.00", "12.00", "10.01", "20", False, "low_margin", "16.67"),     # 0.01 away: within tolerance
    ("10.00", None, None, "20", False, "no_price", None),                # no margin to be low
    ("10.00", "12.00", "10.00", "16.67", False, "ok", "16.67"),          # a margin equal to the minimum is not low
    ("10.00", "10.00", None, None, False, "ok", "0.00"),                 # selling at cost is not below it
    ("10.00", "0", None, None, False, "below_cost", None),               # no margin on a zero price
    (None, "12.00", None, None, False, "ok", None),                      # no provider cost known
]


@pytest.mark.parametrize(("cost", "sell", "expected", "minimum", "differs", "status", "margin"), PRECEDENCE)
def test_price_status_precedence(cost: str | None, sell: str | None, expected: str | None, minimum: str | None,
                                 differs: bool, status: str, margin: str | None) -> None:
    """The most severe finding wins: currency_mismatch > below_cost > cost_changed > low_margin > no_price > ok."""
    def dec(text: str | None) -> Decimal | None:
        return D(text) if text is not None else None

    got = price.price_status(dec(cost), dec(sell), dec(expected), 1, 1, differs, dec(minimum))
    assert got == (status, dec(margin))


@pytest.mark.parametrize(("cost", "provider_months", "sell", "subscription_months", "expected", "status", "margin"), [
    # Annual cost 120.00 vs 11.00 a month: 120 vs 132 a year, (132 − 120) / 132 = 9.09 %; 10.00 × 12 = 120 expected.
    ("120.00", 12, "11.00", 1, "10.00", "ok", "9.09"),
    # 10.00 a month vs 110.00 a year: 120 vs 110, (110 − 120) / 110 = −9.09 %.
    ("10.00", 1, "110.00", 12, None, "below_cost", "-9.09"),
    # Triennial 300.00 vs 100.00 a year: lcm(36, 12) = 36 months, 300 vs 300.
    ("300.00", 36, "100.00", 12, None, "ok", "0.00"),
])
def test_monthly_and_annual_compare_on_a_common_period(cost: str, provider_months: int, sell: str,
                                                       subscription_months: int, expected: str | None, status: str,
                                                       margin: str) -> None:
    """Cost and price are scaled to the least common multiple of their billing periods before comparing."""
    got = price.price_status(D(cost), D(sell), D(expected) if expected else None, provider_months,
                             subscription_months, False, None)
    assert got == (status, D(margin))


def test_annual_invoice_line_against_a_monthly_price() -> None:
    """An annual seat line at 120.00 against a monthly price of 11.00 is ok at 9.09 % (120 vs 132 a year)."""
    invoice = [seat("s1", 2, "120.00", frequency="Annual", start="10/5/2026", end="10/4/2027")]
    assert checked(invoice, [subscription("s1", 2, "11.00")]) == [(D("120.00"), "ok", D("9.09"))]


# --- provider unit cost ----------------------------------------------------------------------------


@pytest.mark.parametrize(("effective", "rate", "cost"), [
    ("10.00", "0.92345", "9.23"),   # 9.2345
    ("10.08", "1.1", "11.08"),      # 11.088: ROUNDDOWN, where half up would give 11.09
    ("12.345", None, "12.34"),      # no rate: 1
    ("-9.42", "1", "-9.42"),        # Partner Center row D2's refund price, kept as is
    (None, "1.1", None),
])
def test_provider_unit_cost_rounds_down_after_the_exchange_rate(effective: str | None, rate: str | None,
                                                                cost: str | None) -> None:
    """Unit cost = ROUNDDOWN(EffectiveUnitPrice × PCToBCExchangeRate, 2) for a full-cycle line."""
    got = price.provider_unit_cost(D(effective) if effective else None, D(rate) if rate else None, D(1))
    assert got == (D(cost) if cost else None)


def test_exchange_rate_applies_on_the_invoice_line() -> None:
    """A 10.08 line at rate 1.1 costs 11.08 (ROUNDDOWN of 11.088); sold at 13.00: (13 − 11.08) / 13 = 14.77 %."""
    invoice = [seat("s1", 3, "10.08", rate="1.1", currency="EUR")]
    assert checked(invoice, [subscription("s1", 3, "13.00", currency="EUR")]) == [(D("11.08"), "ok", D("14.77"))]


def test_full_cycle_scale_per_line() -> None:
    """Full cycles scale 1 (month ends clip); a prorated line scales by full-cycle days ÷ charged days."""
    lines = memory.invoice([
        seat("s1", 1, start="10/5/2026", end="11/4/2026"),                       # full month
        seat("s1", 1, start="10/20/2026", end="11/4/2026"),                      # 16 of 31 days
        seat("s2", 1, frequency="Annual", start="10/5/2026", end="10/4/2027"),   # full year
        seat("s2", 1, frequency="Annual", start="1/1/2027", end="10/4/2027"),    # 277 of 365 days
        seat("s3", 1, start="1/29/2026", end="2/28/2026"),                       # Jan 29 + 1 month clips to Feb 28
        usage("u1", "1.00"),                                                     # no billing plan
    ])
    assert price.full_cycle_scale(lines).tolist() == [D(1), D(31) / D(16), D(1), D(365) / D(277), D(1), D(1)]


def test_prorated_line_is_scaled_to_its_full_cycle() -> None:
    """An addQuantity line for 16 of 31 days at 5.16 costs 5.16 × 31 / 16 = 9.9975 → 10.00 a full month."""
    invoice = [seat("s1", 4, "5.16", charge_type="addQuantity", order="10/20/2026", start="10/20/2026",
                    end="11/4/2026")]
    assert checked(invoice, [subscription("s1", 4, "12.00", unit_cost="10.00")]) == [(D("10.00"), "ok", D("16.67"))]


def test_latest_charged_seat_line_sets_the_cost() -> None:
    """The latest full-cycle line (11.00, 20 Oct) sets the cost, not an earlier one or a later credit: cost_changed."""
    invoice = [
        seat("s1", 5, "11.00", order="10/20/2026", start="10/20/2026", end="11/19/2026"),
        seat("s1", 5, "10.00"),                                                       # 5 Oct
        seat("s1", 1, "-3.00", charge_type="customerCredit", order="10/25/2026"),     # negative: never a cost
    ]
    # Expected 10.00, provider 11.00: 1.00 away. Margin (12 − 11) / 12 = 8.33 %.
    got = checked(invoice, [subscription("s1", 5, "12.00", unit_cost="10.00")])
    assert got == [(D("11.00"), "cost_changed", D("8.33"))]


@pytest.mark.parametrize("with_full_cycle_line", [False, True], ids=["prorated-only", "with-B1"])
def test_business_standard_add_seat_line_costs_10_08(with_full_cycle_line: bool) -> None:
    """Partner Center row B3 (12 seats, EUP 9.408 for 28 of 30 days): 9.408 × 30 / 28 = 10.08, B1's full price.

    PRODUCT.md §3 rule 8 (v2): a prorated line is scaled before rounding and rounded once; the full-cycle line B1
    is preferred when the invoice has it."""
    b3 = seat("s1", 12, "9.408", charge_type="addQuantity", order="6/20/2021", start="6/20/2021", end="7/17/2021",
              subtotal="112.89", currency="EUR")
    b1 = seat("s1", 10, "10.08", charge_type="new", order="6/18/2021", start="6/18/2021", end="7/17/2021",
              currency="EUR")
    invoice = [b1, b3] if with_full_cycle_line else [b3]
    got = checked(invoice, [subscription("s1", 12, "12.00", currency="EUR", unit_cost="10.08")])
    assert got[0][0] == D("10.08")


def test_one_day_prorated_line_is_compared_within_a_scaled_tolerance() -> None:
    """PRODUCT.md §3 rule 8 (v2): a 1-of-31-days line at EUP 0.39 (12.00 / 31 = 0.387, rounded) scales to 12.09:
    within 0.01 × 31 = 0.31 of 12.00, so ok, not cost_changed."""
    invoice = [seat("s1", 1, "0.39", charge_type="addQuantity", order="11/4/2026", start="11/4/2026",
                    end="11/4/2026")]
    got = checked(invoice, [subscription("s1", 1, "15.00", unit_cost="12.00")])
    assert got[0][:2] == (D("12.09"), "ok")


def test_one_day_prorated_line_beyond_the_scaled_tolerance_is_cost_changed() -> None:
    """PRODUCT.md §3 rule 8 (v2): EUP 0.45 for 1 of 31 days scales to 13.95, 1.95 from 12.00: beyond 0.31."""
    invoice = [seat("s1", 1, "0.45", charge_type="addQuantity", order="11/4/2026", start="11/4/2026",
                    end="11/4/2026")]
    got = checked(invoice, [subscription("s1", 1, "15.00", unit_cost="12.00")])
    assert got[0][:2] == (D("13.95"), "cost_changed")


@pytest.mark.parametrize(("scale", "status"), [(D(1), "cost_changed"), (D(31), "ok"), (D(5), "cost_changed")])
def test_cost_tolerance_grows_with_the_scale(scale: Decimal, status: str) -> None:
    """PRODUCT.md §3 rule 8 (v2): 12.09 vs an expected 12.00 is 0.09 away: beyond 0.01 × 1 and 0.01 × 5,
    within 0.01 × 31."""
    assert price.price_status(D("12.09"), D("15.00"), D("12.00"), 1, 1, False, None, scale)[0] == status


@pytest.mark.parametrize(("effective", "rate", "scale", "cost"), [
    ("9.408", "1", D(30) / D(28), "10.08"),       # Partner Center B3: 10.08 exactly
    ("5.0025", "1", D(2), "10.01"),               # 10.005: rounded once, half up (ROUNDDOWN first would give 10.00)
    ("5.16", "1", D(31) / D(16), "10.00"),        # 9.9975
    ("4.50", "1.1", D(2), "9.90"),                # the exchange rate applies before rounding too
])
def test_prorated_unit_cost_is_scaled_before_it_is_rounded_once(effective: str, rate: str, scale: Decimal,
                                                                 cost: str) -> None:
    """PRODUCT.md §3 rule 8 (v2): EffectiveUnitPrice × PCToBCExchangeRate × full/charged days, rounded half up once."""
    assert price.provider_unit_cost(D(effective), D(rate), scale) == D(cost)


def test_full_cycle_line_is_preferred_to_a_later_prorated_line() -> None:
    """PRODUCT.md §3 rule 8 (v2): a full month at 10.00 (5 Oct) sets the cost although a later prorated seat add
    (20 Oct, 5.50 for 16 of 31 days, 10.66 scaled) comes after it, in either row order."""
    full = seat("s1", 4, "10.00")
    prorated = seat("s1", 5, "5.50", charge_type="addQuantity", order="10/20/2026", start="10/20/2026",
                    end="11/4/2026")
    for invoice in ([full, prorated], [prorated, full]):
        assert checked(invoice, [subscription("s1", 5, "12.00", unit_cost="10.00")]) == [
            (D("10.00"), "ok", D("16.67"))]


# --- per line --------------------------------------------------------------------------------------


def test_price_lines_per_seat_line() -> None:
    """Seat lines take their subscription's check: ok, no_price, currency_mismatch; an unmatched one is no_price."""
    invoice = [seat("s1", 2), seat("s2", 2), seat("s3", 2), seat("s9", 2)]
    subs = [subscription("s1", 2, "12.00"), subscription("s2", 2, ""), subscription("s3", 2, "12.00", currency="EUR")]
    prices = price.price_lines(lines_of(invoice, subs), None)
    assert list(prices.price_status) == ["ok", "no_price", "currency_mismatch", "no_price"]
    assert prices.unit_cost.tolist() == [D("10.00"), D("10.00"), D("10.00"), None]
    assert prices.margin_pct.tolist() == [D("16.67"), None, None, None]


def test_usage_and_one_time_lines_are_not_applicable() -> None:
    """PRODUCT.md §3 rule 8 (v2): a usage line and a one-time line have price status not_applicable (v1: ok or
    no_price), whether their subscription has a price, has none, or is not in the export; none has a unit cost."""
    invoice = [usage("s1", "3.00"), seat("s1", 1, "50.00", frequency="", TermAndBillingCycle=""),
               usage("s2", "3.00"), usage("s9", "3.00", CustomerId="c-9")]
    lines = lines_of(invoice, [subscription("s1", 2, "12.00"), subscription("s2", 2, "")])
    assert lines["kind"].tolist() == ["usage", "one_time", "usage", "usage"]
    prices = price.price_lines(lines, None)
    assert list(prices.price_status) == ["not_applicable"] * 4
    assert prices.unit_cost.tolist() == [None] * 4


def test_seat_margins_weighted_by_yearly_sales() -> None:
    """USD: 10 seats × 10.00 × 12 = 1,200 at 20 % and 3 × 100.00 × 1 = 300 at 50 %: (240 + 150) / 1,500 = 26.00 %,
    not the plain average 35 %; EUR separate; a repeated line, an unmatched line and a usage line do not count."""
    def line(sub: str, frequency: str, sell: str, seats: str, margin: str | None, currency: str = "USD",
             status: str = "matched", kind: str = "seat") -> dict[str, Any]:
        return {"kind": kind, "status": status, "matched_subscription_id": sub, "billing_frequency": frequency,
                "unit_price": D(sell), "subscription_quantity": D(seats),
                "margin_pct": D(margin) if margin else None, "currency": currency}

    lines = pd.DataFrame([
        line("s1", "monthly", "10.00", "10", "20.00"),
        line("s1", "monthly", "10.00", "10", "20.00"),                      # same subscription: counted once
        line("s2", "annual", "100.00", "3", "50.00", status="unexplained"),
        line("s3", "monthly", "5.00", "2", "10.00", currency="EUR"),        # 5 × 2 × 12 = 120 at 10 %
        line("s9", "monthly", "99.00", "9", "90.00", status="unmatched"),
        line("s4", "monthly", "99.00", "9", "90.00", kind="usage"),
        line("s5", "monthly", "99.00", "9", None),                          # no margin known
    ])
    assert price.seat_margins(lines) == ({"EUR": "120.00", "USD": "1500.00"}, {"EUR": "10.00", "USD": "26.00"})


# --- margin per customer: the column-wise grouping against the plain rule -----------------------------

NAME = st.sampled_from(["Contoso", "contoso", "Contoso\tLtd", "Contoso\x1fX", "Ábaco", "", "\U0001f600"])
CUSTOMER_LINE = st.tuples(NAME, st.sampled_from(["c1", "c2", "X"]), st.sampled_from(["USD", "EUR", "USDX"]),
                          st.sampled_from(["s1", "s2", "s3", "s4"]), st.booleans(),
                          st.decimals(min_value=-500, max_value=500, places=2, allow_nan=False))


@settings(max_examples=100, deadline=None)
@given(st.lists(CUSTOMER_LINE, min_size=1, max_size=20))
def test_margin_has_one_row_per_customer_with_seats_in_currency_then_key_order(rows: list[tuple]) -> None:
    from recon_cli import rebill
    from recon_cli.records import MatchMethod

    lines = pd.DataFrame({
        "customer_name": pd.Series([r[0] for r in rows], dtype="str"),
        "customer_id": pd.Series([r[1] for r in rows], dtype="str"),
        "currency": pd.Series([r[2] for r in rows], dtype="str"),
        "matched_subscription_id": pd.Series([r[3] for r in rows], dtype="str"),
        "kind": ["seat" if r[4] else "usage" for r in rows],
        "match_method": MatchMethod.SUBSCRIPTION_ID.value,
        "subtotal": pd.Series([r[5] for r in rows], dtype=object),
        "money_at_risk": pd.Series([D(0)] * len(rows), dtype=object),
        "over_billed": pd.Series([r[5] for r in rows], dtype=object),
        "needs_person": [r[5] < 0 for r in rows],
        "subscription_quantity": pd.Series([D(2)] * len(rows), dtype=object),
        "unit_price": pd.Series([D("10.00")] * len(rows), dtype=object),
        "billing_frequency": "monthly",
    })
    margin = rebill.margin(lines, lines["billing_frequency"])
    customers = {(r[0], r[1], r[2]) for r in rows if r[4]}
    expected = sorted(customers, key=lambda c: (c[2], "\x1f".join(c)))
    assert list(zip(margin["customer_name"], margin["customer_id"], margin["currency"], strict=True)) == expected
    for customer, row in zip(expected, margin.to_dict("records"), strict=True):
        mine = [r for r in rows if (r[0], r[1], r[2]) == customer]
        assert row["cost"] == sum((r[5] for r in mine if r[4]), D(0))
        assert row["over_billed"] == sum((r[5] for r in mine), D(0))
        assert row["needs_person"] == sum(1 for r in mine if r[5] < 0)
        # Each subscription's selling value once, on its first seat line's customer: 2 seats x 10.00.
        firsts = {next(i for i, x in enumerate(rows) if x[4] and x[3] == r[3]) for r in rows if r[4]}
        sold = sum(1 for i in firsts if (rows[i][0], rows[i][1], rows[i][2]) == customer)
        assert row["revenue"] == (D("20.00") * sold if sold else None)
