"""The hand-built cases after the first month: every subscription of sample_cases.py billed on, and
each planted exception left open or fixed.

In the second month the routine stories close (the change after the cycle is billed, the awaited
one provisioned), three exceptions resolve for good (Bellows College's renewal is billed late,
Boulder's export is corrected, The Phone Company's lapsed triennial is marked cancelled), and each
other open exception is fixed with probability one half, month after month (at least one fixed and
one left open in the second month). Nothing new is planted here: new exceptions come from the bulk.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from recon_cli.sample_builder import CaseBuilder, Customer, PlantedCase
from recon_cli.sample_catalog import FREE_ADDON, METERS, MONTHLY_TERM, Product, add_months, seat

FIX_RATE = 0.5
BASIC, STANDARD, PREMIUM = seat("Microsoft 365 Business Basic"), seat("Microsoft 365 Business Standard"), \
    seat("Microsoft 365 Business Premium")
E3, M365E3, EXO, PBI = seat("Office 365 E3"), seat("Microsoft 365 E3"), seat("Exchange Online (Plan 1)"), \
    seat("Power BI Pro")


@dataclass(frozen=True)
class Carry:
    """How a hand-built subscription is billed after the first month.

    Attributes:
        quantity: the provider's seats after the first month.
        cost: Microsoft's full-cycle price per seat, in the pricing currency.
        plan: "annual_term" (one-year term billed monthly), "monthly_term", "annual" (billed on its
            anniversary), "usage" (the Azure meters of the first month).
        term: the first month's term start (annual: the start whose anniversary bills it), in the
            October 2026 calendar.
    """

    case: str
    customer: str
    product: Product
    quantity: int
    cost: str
    day: int
    plan: str = "annual_term"
    term: tuple[int, int, int] = (2026, 10, 1)
    eur: bool = False
    qualifiers: str = "[]"


CARRIES: tuple[Carry, ...] = (
    Carry("matched", "Contoso Dental Group", STANDARD, 14, "12.50", 1, term=(2026, 3, 1)),
    Carry("explained_after_as_of", "Fabrikam, Inc.", PREMIUM, 12, "22.00", 5, term=(2026, 5, 5)),
    Carry("explained_awaiting_provisioning", "Northwind Traders", E3, 11, "23.00", 7, term=(2026, 7, 7)),
    Carry("explained_failed_provisioning", "Tailspin Toys", M365E3, 10, "36.00", 9, term=(2026, 1, 9)),
    Carry("partially_explained", "Wide World Importers", PBI, 18, "14.00", 4, term=(2026, 8, 4)),
    Carry("unexplained_old_change", "Adventure Works Cycles", EXO, 9, "4.00", 11, term=(2026, 2, 11)),
    Carry("unexplained_no_changes", "Litware Inc", seat("Microsoft Teams Essentials"), 6, "4.00", 16,
          term=(2026, 4, 16)),
    Carry("add_quantity", "Alpine Ski House", PREMIUM, 13, "21.70", 3, term=(2026, 6, 3)),
    Carry("remove_quantity", "Coho Winery", STANDARD, 9, "15.50", 8, "monthly_term"),
    Carry("unmatched_seat", "Blue Yonder Airlines", BASIC, 25, "6.00", 20, term=(2026, 4, 20)),
    Carry("unmatched_usage", "Contoso Dental Group", METERS[0], 1, "", 1, "usage"),
    Carry("usage", "Graphic Design Institute", METERS[0], 1, "", 1, "usage"),
    Carry("annual_anniversary", "Woodgrove Bank", M365E3, 25, "432.00", 9, "annual", (2024, 10, 9)),
    Carry("below_cost", "Lucerne Publishing", seat("Office 365 E5"), 8, "38.00", 12, term=(2025, 11, 12)),
    Carry("currency_mismatch", "Margie's Travel", seat("Project Plan 3"), 4, "30.00", 18, term=(2025, 11, 18)),
    Carry("cost_changed", "Humongous Insurance", M365E3, 40, "36.00", 21, term=(2025, 11, 21)),
    Carry("low_margin", "School of Fine Art", seat("Microsoft Defender for Business"), 30, "3.00", 19,
          term=(2025, 11, 19)),
    Carry("no_price", "Consolidated Messenger", PBI, 12, "14.00", 22, term=(2025, 11, 22)),
    Carry("fallback_customer_product", "Fourth Coffee", seat("Visio Plan 2"), 3, "15.00", 13, term=(2026, 7, 13)),
    Carry("uppercase_guid", "VanArsdel Ltd", BASIC, 18, "6.00", 17, term=(2025, 12, 17)),
    Carry("thousands_separator", "Relecloud", EXO, 1200, "4.00", 25, term=(2026, 4, 25)),
    Carry("annual_not_due", "Best For You Organics", PREMIUM, 6, "264.00", 17, "annual", (2026, 3, 17)),
    Carry("same_day_out_of_order", "Lamna Healthcare Company", STANDARD, 12, "12.50", 19, "monthly_term"),
    Carry("free_addon_pair", "Munson's Pickles and Preserves Farm", FREE_ADDON, 13, "0.00", 24,
          term=(2026, 4, 24), qualifiers='["AddOn"]'),
    Carry("whole_upgrade", "Wingtip Toys", STANDARD, 300, "12.50", 2, term=(2026, 10, 2)),
    Carry("partial_upgrade_source", "First Up Consultants", BASIC, 200, "6.00", 6, term=(2026, 10, 6)),
    Carry("partial_upgrade_target", "First Up Consultants", STANDARD, 100, "12.50", 6, term=(2026, 10, 6)),
    Carry("cancelled_but_billed", "Southridge Video", EXO, 5, "4.00", 23, term=(2026, 5, 23)),
    Carry("split_export_rows", "Contoso Suites", PBI, 10, "14.00", 28, term=(2026, 3, 28)),
    Carry("scheduled_reduction", "Liberty's Delightful Sinful Bakery & Cafe", PREMIUM, 20, "22.00", 26,
          term=(2026, 1, 26)),
    Carry("eur_matched", "Fabrikam Fiber GmbH", PREMIUM, 12, "20.60", 12, term=(2026, 3, 12), eur=True),
    Carry("eur_unexplained", "Tailwind Traders B.V.", E3, 8, "21.80", 18, term=(2026, 7, 18), eur=True),
)
# Whose story each hand-built case is, for the README of several months.
CUSTOMERS = {carry.case: carry.customer for carry in CARRIES} | {
    "missing_monthly": "A. Datum Corporation", "missing_annual": "Bellows College",
    "blank_frequency_seat": "Boulder Innovations", "triennial_due": "The Phone Company"}
# The Azure meters each usage case bills every month: (meter, quantity, partner-earned credit).
METER_LINES = {"unmatched_usage": ((0, "23.200004", False),),
               "usage": ((0, "744", True), (1, "1532.418817", True), (2, "87.334", False))}

# Open exceptions at the end of the first month, and what fixing each changes (and says).
FIXES: dict[str, str] = {
    "explained_failed_provisioning": "Tailspin Toys' failed removal of 2 seats was retried: Microsoft bills 8.",
    "partially_explained": "Wide World Importers' export was corrected to the 18 seats Microsoft bills.",
    "unexplained_old_change": "Adventure Works Cycles' 2 extra mailboxes were removed at Microsoft: 7 billed.",
    "unexplained_no_changes": "Litware's export was raised to the 6 Teams Essentials seats Microsoft bills.",
    "unmatched_seat": "Blue Yonder Airlines was added to the billing system.",
    "unmatched_usage": "Contoso Dental Group's second Azure plan was added to the billing system.",
    "below_cost": "Lucerne Publishing's price was raised to 45.60 (cost 38.00).",
    "currency_mismatch": "Margie's Travel is now priced in USD, at 36.00 (cost 30.00).",
    "cost_changed": "Humongous Insurance's unit_cost was updated to 36.00.",
    "low_margin": "School of Fine Art's price was raised to 3.60.",
    "missing_monthly": "A. Datum's subscription, cancelled at Microsoft, is now cancelled in the export too.",
    "cancelled_but_billed": "Southridge Video's cancellation finally reached Microsoft: no more charges.",
    "scheduled_reduction": "Liberty's export is back to the 20 seats in force until the 2028 reduction.",
    "eur_unexplained": "Tailwind Traders' export was raised to the 8 seats Microsoft bills in EUR.",
    "missing_annual": "Bellows College's renewal, missed last month, is billed late on this invoice.",
    "blank_frequency_seat": "Boulder Innovations' export was corrected to the 10 prepaid seats.",
    "triennial_due": "The Phone Company's triennial had lapsed at Microsoft: it is now cancelled in the export.",
}
# Resolved in the second month whatever the seed: annual and triennial, nothing to bill again.
ALWAYS_FIXED = ("missing_annual", "blank_frequency_seat", "triennial_due")
# (provider seats, export seats) while each quantity exception is open, and after it is fixed.
OPEN_SEATS = {"explained_failed_provisioning": (10, 8), "partially_explained": (18, 20),
              "unexplained_old_change": (9, 7), "unexplained_no_changes": (6, 5), "cancelled_but_billed": (5, 0),
              "scheduled_reduction": (20, 15), "eur_unexplained": (8, 6)}
FIXED_SEATS = {"explained_failed_provisioning": 8, "unexplained_old_change": 7}
EXPORT_FIXES: dict[str, dict[str, str]] = {
    "partially_explained": {"quantity": "18"}, "unexplained_no_changes": {"quantity": "6"},
    "below_cost": {"unit_price": "45.60", "unit_cost": "38.00"},
    "currency_mismatch": {"currency": "USD", "unit_price": "36.00", "unit_cost": "30.00"},
    "cost_changed": {"unit_cost": "36.00"}, "low_margin": {"unit_price": "3.60"},
    "missing_monthly": {"status": "cancelled"}, "scheduled_reduction": {"quantity": "20"},
    "eur_unexplained": {"quantity": "8"}, "blank_frequency_seat": {"quantity": "10"},
    "triennial_due": {"status": "cancelled"},
}


class HandCases:
    """The hand-built cases' state from month to month: export rows, change log, open exceptions."""

    def __init__(self, first: CaseBuilder, seed: int) -> None:
        self.first, self.seed = first, seed
        self.subscriptions = [dict(row) for row in first.subscriptions]
        self.changes = [dict(row) for row in first.changes]
        self.cases = {case.name: case for case in first.cases}
        self.open = [name for name in self.cases if name in FIXES]
        self.quantity = {carry.case: carry.quantity for carry in CARRIES}

    def month(self, month: int) -> tuple[CaseBuilder, dict[str, str]]:
        """Bill month `month` (1 = the second); returns the builder (rows, cases) and {case: how it was fixed}."""
        b = CaseBuilder(random.Random(f"{self.seed}:{month}"), self.first.shift, month)
        b.customers = self.first.customers
        fixed = self._fates(month)
        if month == 1:  # the first month's routine changes reach Microsoft and the customer's invoice
            stamp = f"INV-{b.first_day:%Y-%m}-"
            for number, change in enumerate(self.changes[:4], start=101):
                if change["change_id"] in ("LCL-1001", "LCL-1002", "LCL-1004"):
                    change.update(provisioning_status="Provisioned", customer_invoice=f"{stamp}{number:04d}",
                                  status_reason="Archived")
        for name in fixed:
            self._fix(b, name)
        for carry in CARRIES:
            if not carry.eur:
                self._bill(b, carry, fixed)
        b.bill_in(b.eur_invoice, "EUR")
        for carry in CARRIES:
            if carry.eur:
                self._bill(b, carry, fixed)
        b.bill_in(b.usd_invoice, "USD")
        for name, case in self.cases.items():
            if name not in {c.case for c in CARRIES}:
                self._quiet(b, case, month, fixed)
        order = list(self.cases)
        b.cases.sort(key=lambda case: order.index(case.name))
        b.subscriptions, b.changes = self.subscriptions, self.changes
        return b, {name: FIXES[name] for name in fixed}

    def _fates(self, month: int) -> list[str]:
        fate = random.Random(f"{self.seed}:{month}:fates")
        drawn = {name: fate.random() < FIX_RATE for name in self.open if name not in ALWAYS_FIXED}
        if month == 1 and len(drawn) >= 2 and len(set(drawn.values())) == 1:
            first = next(iter(drawn))
            drawn[first] = not drawn[first]
        fixed = [name for name in self.open if name in ALWAYS_FIXED or drawn.get(name)]
        self.open = [name for name in self.open if name not in fixed]
        return fixed

    def _fix(self, b: CaseBuilder, name: str) -> None:
        case = self.cases[name]
        rows = [row for row in self.subscriptions if row["subscription_id"].lower() == case.subscription_id]
        for row in rows:
            row.update(EXPORT_FIXES.get(name, {}))
        if name in FIXED_SEATS:
            self.quantity[name] = FIXED_SEATS[name]
        if name == "explained_failed_provisioning":
            next(c for c in self.changes if c["change_id"] == "LCL-1003")["provisioning_status"] = "Provisioned"
        if name in ("unmatched_seat", "unmatched_usage"):
            customer = self.first.customers[next(c.customer for c in CARRIES if c.case == name)]
            if name == "unmatched_seat":
                b.subscription(customer, BASIC.product_name, 25, "7.20", "6.00", b.at(2025, 4, 20),
                               sub_id=case.subscription_id)
            else:
                b.subscription(customer, "Azure plan", 1, "", "", b.at(2025, 3, 14), frequency="usage",
                               sub_id=case.subscription_id)
            self.subscriptions.append(b.subscriptions.pop())

    def _bill(self, b: CaseBuilder, carry: Carry, fixed: list[str]) -> None:
        """The carried subscription's lines this month, and what they must come out as."""
        name, case = carry.case, self.cases[carry.case]
        customer = self.first.customers[carry.customer]
        sub = case.invoice_subscription_id or case.subscription_id
        is_open = name in self.open
        if name == "cancelled_but_billed" and not is_open:
            b.case(name, self._story(name, fixed, "Cancelled at both ends: nothing is billed."), case.subscription_id,
                   [], None, None)
            return
        if carry.plan == "usage":
            lines = [b.usage(customer, sub, METERS[meter], quantity, pec=pec) for meter, quantity, pec in
                     METER_LINES[name]]
            status, price = ("unmatched", "not_applicable") if is_open else ("matched", "not_applicable")
            reason = {} if is_open else {"expected_reason": "usage_line"}
            b.case(name, self._story(name, fixed, "Azure usage, billed again."), case.subscription_id, lines,
                   status, price, kind="usage", **reason)
            return
        lines = self._seat_lines(b, carry, customer, sub)
        provider, export = OPEN_SEATS.get(name, (self.quantity[name],) * 2) if is_open else (self.quantity[name],) * 2
        more: dict[str, object] = {}
        if lines and not (is_open and name == "unmatched_seat"):
            more.update(provider_quantity=provider, subscription_quantity=export)
        if case.invoice_subscription_id:
            more.update(invoice_subscription_id=case.invoice_subscription_id,
                        expected_match_method=case.expected_match_method)
        if name in ("scheduled_reduction", "explained_failed_provisioning"):
            more.update(scheduled=list(case.scheduled), evidence=list(case.evidence) if is_open else [])
        status, price = "matched", "no_price" if name == "no_price" else "ok"
        if is_open:
            status = {"explained_failed_provisioning": "explained", "unmatched_seat": "unmatched"}.get(
                name, "unexplained" if name in OPEN_SEATS else "matched")
            price = {"unmatched_seat": "no_price", "low_margin": "ok"}.get(name, case.expected_price_status or "ok")
            if name == "explained_failed_provisioning":
                more["expected_reason"] = "failed_provisioning"
            more["min_margin_needed"] = name == "low_margin"
        b.case(name, self._story(name, fixed, f"{carry.customer}: {self.quantity[name]} {carry.product.product_name}"
                                 " seats, billed as recorded."), case.subscription_id, lines,
               status if lines else None, price if lines else None, **more)

    def _seat_lines(self, b: CaseBuilder, carry: Carry, customer: Customer, sub: str) -> list[str]:
        quantity, cycle = self.quantity[carry.case], b.day(carry.day)
        if carry.plan == "monthly_term":
            return [b.seat(customer, sub, carry.product, quantity, carry.cost, cycle, charge_type="renew",
                           term=MONTHLY_TERM)]
        term = b.at(*carry.term)
        if carry.plan == "annual":
            if term.month != cycle.month or term >= cycle:
                return []
            return [b.seat(customer, sub, carry.product, quantity, carry.cost, cycle, charge_type="renew",
                           frequency="Annual")]
        while add_months(term, 12) <= cycle:
            term = add_months(term, 12)
        return [b.seat(customer, sub, carry.product, quantity, carry.cost, cycle,
                       charge_type="renew" if term == cycle else "cycleCharge", term_start=term,
                       qualifiers=carry.qualifiers)]

    def _quiet(self, b: CaseBuilder, case: PlantedCase, month: int, fixed: list[str]) -> None:
        """A case with no carried lines: missing, not due, not checked, or resolved for good."""
        name = case.name
        if name == "missing_annual" and month == 1:  # Microsoft bills the missed anniversary late
            customer = self.first.customers["Bellows College"]
            line = b.seat(customer, case.subscription_id, E3, 20, "276.00", b.at(2026, 10, 21), order=b.day(3),
                          charge_type="renew", frequency="Annual")
            b.case(name, FIXES[name], case.subscription_id, [line], "matched", provider_quantity=20,
                   subscription_quantity=20)
            return
        missing = name == "missing_monthly" and name in self.open
        b.case(name, self._story(name, fixed, "Nothing is due this month." if not missing else
                                 "A. Datum's active monthly subscription is still not billed."),
               case.subscription_id, [], None, None, expected_missing=missing,
               expected_reason="not_on_invoice" if missing else None,
               expected_not_checked=case.expected_not_checked)

    def _story(self, name: str, fixed: list[str], plain: str) -> str:
        if name in fixed:
            return FIXES[name]
        if name in self.open:
            return "Still open: " + self.cases[name].description
        return plain
