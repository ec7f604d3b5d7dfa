"""The planted cases of `recon sample`: one small story per rule of PRODUCT.md §3 (v2).

Each case is a hand-built customer, subscription, invoice line(s) and change-log records,
with the status, reason, price status and need for a person the rules must give it. They come
first in the invoice, in a fixed order, so their line ids do not depend on the size of the bulk
that follows (sample.py). Where Microsoft's worked examples show the situation, the story cites
them: "Microsoft B1–B3" is rows B1–B3 of common-billing-scenarios-onetime-recurring.md (Microsoft
Learn, Partner Center billing docs; transcribed in shared/samples/found/ms-learn-partner-center-
docs-2023/nce-worked-examples.derived.csv). The last cases bill the month's second invoice, in EUR.
"""

from __future__ import annotations

import random
from datetime import date

from recon_cli.sample_builder import (
    EUR_INVOICE_NUMBER,
    FREE_ADDON,
    INVOICE_NUMBER,
    METERS,
    MONTHLY_TERM,
    RESERVATION,
    SEATS,
    WINDOWS_SERVER,
    CaseBuilder,
    Product,
    cycle_end,
    prorate,
)


def _seat(name: str) -> Product:
    return next(p for p in SEATS if p.product_name == name)


def _oct(day: int) -> date:
    return date(2026, 10, day)


def build_cases(rng: random.Random) -> CaseBuilder:
    """Plant every case, in invoice order: row 2 plain matched, row 3 the classic explained one."""
    b = CaseBuilder(rng)
    basic, standard = _seat("Microsoft 365 Business Basic"), _seat("Microsoft 365 Business Standard")
    premium, e3, e5 = _seat("Microsoft 365 Business Premium"), _seat("Office 365 E3"), _seat("Office 365 E5")
    m365e3, exo = _seat("Microsoft 365 E3"), _seat("Exchange Online (Plan 1)")
    teams, pbi = _seat("Microsoft Teams Essentials"), _seat("Power BI Pro")

    contoso = b.customer("Contoso Dental Group")
    sub = b.subscription(contoso, standard.product_name, 14, "15.00", "12.50", date(2025, 3, 1))
    line = b.seat(contoso, sub, standard, 14, "12.50", _oct(1), term_start=date(2026, 3, 1))
    b.case("matched", "Contoso Dental Group's 14 Business Standard seats are billed exactly as recorded, "
           "one cycleCharge (Microsoft A3).",
           sub, [line], "matched", provider_quantity=14, subscription_quantity=14)

    c = b.customer("Fabrikam, Inc.")
    sub = b.subscription(c, premium.product_name, 12, "26.40", "22.00", date(2025, 5, 5))
    line = b.seat(c, sub, premium, 10, "22.00", _oct(5), term_start=date(2026, 5, 5))
    ch = b.change(sub, "2026-10-12", "+2", "Provisioned", "jane.doe@reseller.example")
    b.case("explained_after_as_of", "Microsoft billed Fabrikam's 10 seats on its 5 October cycle; the 2 "
           "seats added on 12 October come on the next invoice.", sub, [line], "explained",
           expected_reason="changed_after_as_of", provider_quantity=10, subscription_quantity=12,
           evidence=[ch])

    c = b.customer("Northwind Traders")
    sub = b.subscription(c, e3.product_name, 11, "27.60", "23.00", date(2024, 7, 7))
    line = b.seat(c, sub, e3, 10, "23.00", _oct(7), term_start=date(2026, 7, 7))
    ch = b.change(sub, "2026-10-06T09:15:00", "+1", "Awaiting Provisioning", "it@northwindtraders.example")
    b.case("explained_awaiting_provisioning", "Northwind added a seat on 6 October that is still awaiting "
           "provisioning, so Microsoft bills 10 while the billing system has 11.", sub, [line], "explained",
           expected_reason="awaiting_provisioning", provider_quantity=10, subscription_quantity=11,
           evidence=[ch])

    c = b.customer("Tailspin Toys")
    sub = b.subscription(c, m365e3.product_name, 8, "43.20", "36.00", date(2025, 1, 9))
    line = b.seat(c, sub, m365e3, 10, "36.00", _oct(9), term_start=date(2026, 1, 9))
    ch = b.change(sub, "2026-10-02", "-2", "Failed Provisioning", "sam.lee@reseller.example",
                  "INV-2026-10-0042", "Archived")
    b.case("explained_failed_provisioning", "Tailspin's removal of 2 seats failed to provision, so Microsoft "
           "still bills 10 while the customer is invoiced for 8: explained, but the change must be retried.", sub,
           [line], "explained",
           expected_reason="failed_provisioning", provider_quantity=10, subscription_quantity=8,
           evidence=[ch])

    c = b.customer("Wide World Importers")
    sub = b.subscription(c, pbi.product_name, 20, "16.80", "14.00", date(2025, 8, 4))
    line = b.seat(c, sub, pbi, 15, "14.00", _oct(4), term_start=date(2026, 8, 4))
    ch = b.change(sub, "2026-10-15", "+3", "Provisioned", "jane.doe@reseller.example")
    b.case("partially_explained", "Wide World has 20 Power BI seats recorded, Microsoft bills 15; a +3 on "
           "15 October explains 3 of the 5, 2 remain.", sub, [line], "partially_explained",
           expected_reason="changed_after_as_of", provider_quantity=15, subscription_quantity=20, evidence=[ch])

    c = b.customer("Adventure Works Cycles")
    sub = b.subscription(c, exo.product_name, 7, "4.80", "4.00", date(2024, 2, 11))
    line = b.seat(c, sub, exo, 9, "4.00", _oct(11), term_start=date(2026, 2, 11))
    b.change(sub, "2026-08-20T14:03:00", "-2", "Provisioned", "mark.ortiz@reseller.example",
             "INV-2026-08-0117", "Archived")
    b.case("unexplained_old_change", "Adventure Works dropped to 7 mailboxes in August, yet Microsoft still "
           "bills 9; the only change record is old and already invoiced.", sub, [line], "unexplained",
           provider_quantity=9, subscription_quantity=7)

    c = b.customer("Litware Inc")
    sub = b.subscription(c, teams.product_name, 5, "4.80", "4.00", date(2025, 4, 16))
    line = b.seat(c, sub, teams, 6, "4.00", _oct(16), term_start=date(2026, 4, 16))
    b.case("unexplained_no_changes", "Microsoft bills Litware for 6 Teams Essentials seats, the billing "
           "system has 5, and no change was ever logged.", sub, [line], "unexplained",
           provider_quantity=6, subscription_quantity=5)

    c = b.customer("Alpine Ski House")
    sub = b.subscription(c, premium.product_name, 13, "26.04", "21.70", date(2025, 6, 3))
    ref, end = b.guid(), date(2026, 11, 2)
    eup = prorate("21.70", _oct(14), end)
    lines = [b.seat(c, sub, premium, 10, "21.70", _oct(3), term_start=date(2026, 6, 3)),
             b.seat(c, sub, premium, 10, "21.70", _oct(14), charge_type="addQuantity", eup=f"-{eup}", end=end,
                    term_start=date(2026, 6, 3), reference=ref),
             b.seat(c, sub, premium, 13, "21.70", _oct(14), charge_type="addQuantity", eup=eup, end=end,
                    term_start=date(2026, 6, 3), reference=ref)]
    b.case("add_quantity", "Alpine Ski House went from 10 to 13 seats on 14 October: a prorated reversal of "
           "the 10 and a prorated charge for the 13 (Microsoft B1–B3).", sub, lines, "matched",
           provider_quantity=13, subscription_quantity=13)

    c = b.customer("Coho Winery")
    sub = b.subscription(c, standard.product_name, 9, "18.60", "15.50", _oct(8))
    ref, end = b.guid(), date(2026, 11, 7)
    eup = prorate("15.50", _oct(10), end)
    lines = [b.seat(c, sub, standard, 12, "15.50", _oct(8), charge_type="new", term=MONTHLY_TERM),
             b.seat(c, sub, standard, 12, "15.50", _oct(10), charge_type="removeQuantity", eup=f"-{eup}",
                    end=end, term=MONTHLY_TERM, term_start=_oct(8), reference=ref),
             b.seat(c, sub, standard, 9, "15.50", _oct(10), charge_type="removeQuantity", eup=eup, end=end,
                    term=MONTHLY_TERM, term_start=_oct(8), reference=ref)]
    b.case("remove_quantity", "Coho Winery bought 12 seats on 8 October and cut them to 9 two days later, "
           "inside the 7-day window (Microsoft B4–B5).", sub, lines, "matched",
           provider_quantity=9, subscription_quantity=9)

    c = b.customer("Proseware Ltd")
    sub = b.subscription(c, teams.product_name, 0, "5.95", "4.96", date(2026, 2, 2), status="cancelled")
    eup = prorate("4.96", _oct(6), date(2026, 11, 1))
    lines = [b.seat(c, sub, teams, 5, "4.96", _oct(2), charge_type="renew", term=MONTHLY_TERM),
             b.seat(c, sub, teams, 5, "4.96", _oct(6), charge_type="cancelImmediate", eup=f"-{eup}",
                    end=date(2026, 11, 1), term=MONTHLY_TERM, term_start=_oct(2))]
    b.case("cancelled", "Proseware renewed 5 seats on 2 October and cancelled them on the 6th with a "
           "prorated refund (Microsoft D1–D2); the subscription is cancelled with 0 seats.", sub, lines, "matched",
           provider_quantity=0, subscription_quantity=0)

    c = b.customer("Blue Yonder Airlines")
    sub = b.guid()
    line = b.seat(c, sub, basic, 25, "6.00", _oct(20), term_start=date(2026, 4, 20))
    b.case("unmatched_seat", "Microsoft bills 25 Business Basic seats for Blue Yonder, a customer the "
           "billing system does not know: a cost never re-billed.", sub, [line], "unmatched", "no_price")

    sub = b.guid()
    line = b.usage(contoso, sub, METERS[0], "23.200004", pec=False)
    b.case("unmatched_usage", "Contoso Dental Group has a second Azure plan nobody recorded; its VM hours "
           "are billed but never re-billed.", sub, [line], "unmatched", "not_applicable", kind="usage")

    c = b.customer("Graphic Design Institute")
    sub = b.subscription(c, "Azure plan", 1, "", "", date(2025, 3, 14))
    lines = [b.usage(c, sub, METERS[0], "744", pec=True), b.usage(c, sub, METERS[1], "1532.418817", pec=True),
             b.usage(c, sub, METERS[2], "87.334", pec=False)]
    b.case("usage", "Graphic Design Institute's Azure plan bills three meters; usage has no seat count to "
           "compare.", sub, lines, "matched", "not_applicable", expected_reason="usage_line", kind="usage")

    c = b.customer("Trey Research")
    sub = b.subscription(c, WINDOWS_SERVER.product_name, 2, "1282.80", "1069.00", _oct(20),
                         frequency="annual")
    line = b.one_time(c, sub, WINDOWS_SERVER, 2, "1069.00", _oct(20))
    b.case("one_time", "Trey Research bought two Windows Server 2022 core packs outright on 20 October.",
           sub, [line], "matched", "not_applicable", expected_reason="one_time_line", kind="one_time")

    c = b.customer("Woodgrove Bank")
    sub = b.subscription(c, m365e3.product_name, 25, "518.40", "432.00", date(2024, 10, 9),
                         frequency="annual")
    line = b.seat(c, sub, m365e3, 25, "432.00", _oct(9), charge_type="renew", frequency="Annual")
    b.case("annual_anniversary", "Woodgrove Bank's annual-billed Microsoft 365 E3 renews on its 9 October "
           "anniversary: one charge for the year (Microsoft A2, billed yearly).", sub, [line], "matched",
           provider_quantity=25, subscription_quantity=25)

    price_cases = (
        ("below_cost", "Lucerne Publishing", e5, 8, "36.00", "34.00", "38.00", 12, "USD",
         "Lucerne Publishing is sold Office 365 E5 at 36.00 while Microsoft now charges 38.00."),
        ("currency_mismatch", "Margie's Travel", _seat("Project Plan 3"), 4, "33.00", "27.70", "30.00", 18,
         "EUR", "Margie's Travel is priced in EUR while Microsoft bills this subscription in USD."),
        ("cost_changed", "Humongous Insurance", m365e3, 40, "43.20", "34.00", "36.00", 21, "USD",
         "Humongous Insurance's expected cost is 34.00 but Microsoft charges 36.00 a seat."),
        ("low_margin", "School of Fine Art", _seat("Microsoft Defender for Business"), 30, "3.16", "3.00",
         "3.00", 19, "USD", "School of Fine Art is sold a 3.00 seat at 3.16: a 5% margin."),
        ("no_price", "Consolidated Messenger", pbi, 12, "", "14.00", "14.00", 22, "USD",
         "Consolidated Messenger's Power BI subscription has no selling price."),
    )
    for name, customer, product, qty, price, cost, provider, day, currency, story in price_cases:
        c = b.customer(customer)
        sub = b.subscription(c, product.product_name, qty, price, cost, date(2025, 11, day),
                             currency=currency)
        line = b.seat(c, sub, product, qty, provider, _oct(day), term_start=date(2025, 11, day))
        b.case(name, story, sub, [line], "matched", "ok" if name == "low_margin" else name,
               min_margin_needed=name == "low_margin", provider_quantity=qty, subscription_quantity=qty)

    c = b.customer("Fourth Coffee")
    stale = b.subscription(c, "Visio Plan 2", 3, "18.00", "15.00", date(2025, 7, 13))
    sub = b.guid()
    line = b.seat(c, sub, _seat("Visio Plan 2"), 3, "15.00", _oct(13), term_start=date(2026, 7, 13))
    b.case("fallback_customer_product", "Fourth Coffee's export still holds an old subscription id; the "
           "invoice line matches it by customer and product.", stale, [line], "matched",
           expected_match_method="customer_product", invoice_subscription_id=sub,
           provider_quantity=3, subscription_quantity=3)

    c = b.customer("VanArsdel Ltd")
    sub = b.subscription(c, basic.product_name, 18, "7.20", "6.00", date(2024, 12, 17))
    line = b.seat(c, sub.upper(), basic, 18, "6.00", _oct(17), term_start=date(2025, 12, 17))
    b.case("uppercase_guid", "The invoice writes VanArsdel's subscription id in upper case; ids compare "
           "case-insensitively.", sub, [line], "matched", invoice_subscription_id=sub.upper(),
           provider_quantity=18, subscription_quantity=18)

    c = b.customer("Relecloud")
    sub = b.subscription(c, exo.product_name, "1,200", "4.80", "4.00", date(2024, 4, 25))
    line = b.seat(c, sub, exo, 1200, "4.00", _oct(25), term_start=date(2026, 4, 25))
    b.case("thousands_separator", "Relecloud's 1,200 mailboxes are written with a thousands separator in the "
           "export.", sub, [line], "matched", provider_quantity=1200, subscription_quantity=1200)

    not_billed = (
        ("missing_monthly", "A. Datum Corporation", standard, 9, "15.00", "12.50", date(2025, 6, 14),
         "monthly", "active", True,
         "A. Datum's active monthly Business Standard has no line on the invoice."),
        ("missing_annual", "Bellows College", e3, 20, "331.20", "276.00", date(2025, 10, 21), "annual",
         "active", True, "Bellows College's annual Office 365 E3 is due on its October anniversary but "
         "was not billed."),
        ("annual_not_due", "Best For You Organics", premium, 6, "316.80", "264.00", date(2026, 3, 17),
         "annual", "active", False,
         "Best For You Organics pays annually in March, so no October line is due."),
        ("suspended", "City Power & Light", e3, 15, "27.60", "23.00", date(2025, 2, 8), "monthly",
         "suspended", False, "City Power & Light's subscription is suspended: nothing is due."),
        ("zero_seats", "Nod Publishers", pbi, 0, "16.80", "14.00", date(2025, 9, 26), "monthly", "active",
         False, "Nod Publishers' subscription has 0 seats: nothing is due."),
    )
    for name, customer, product, qty, price, cost, start, frequency, status, missing, story in not_billed:
        c = b.customer(customer)
        sub = b.subscription(c, product.product_name, qty, price, cost, start, frequency=frequency,
                             status=status)
        b.case(name, story, sub, [], None, None, expected_missing=missing,
               expected_reason="not_on_invoice" if missing else None, subscription_quantity=qty)
    _v2_cases(b, basic, standard, premium)
    _second_currency(b, premium, e3)
    return b


def _v2_cases(b: CaseBuilder, basic: Product, standard: Product, premium: Product) -> None:
    """The situations that v2 of PRODUCT.md decides differently from v1 (rules 2–7)."""
    c = b.customer("Lamna Healthcare Company")
    sub = b.subscription(c, standard.product_name, 12, "15.00", "12.50", _oct(19))
    ref = b.guid()
    lines = [b.seat(c, sub, standard, 10, "12.50", _oct(19), charge_type="addQuantity", eup="-12.50",
                    term=MONTHLY_TERM, reference=ref),
             b.seat(c, sub, standard, 12, "12.50", _oct(19), charge_type="addQuantity", term=MONTHLY_TERM,
                    reference=ref),
             b.seat(c, sub, standard, 10, "12.50", _oct(19), charge_type="new", term=MONTHLY_TERM)]
    b.case("same_day_out_of_order", "Lamna bought 10 seats on 19 October and went to 12 the same day (Microsoft "
           "B1–B3); the file lists the −10/+12 addQuantity pair before the `new` line.", sub, lines, "matched",
           provider_quantity=12, subscription_quantity=12)

    c = b.customer("Munson's Pickles and Preserves Farm")
    sub = b.subscription(c, FREE_ADDON.product_name, 13, "0.00", "0.00", date(2025, 4, 24))
    ref, end, addon = b.guid(), date(2026, 11, 23), '["AddOn"]'
    lines = [b.seat(c, sub, FREE_ADDON, 10, "0.00", _oct(24), term_start=date(2026, 4, 24), qualifiers=addon),
             b.seat(c, sub, FREE_ADDON, 13, "0.00", _oct(27), charge_type="addQuantity", end=end,
                    term_start=date(2026, 4, 24), reference=ref, qualifiers=addon),
             b.seat(c, sub, FREE_ADDON, 10, "0.00", _oct(27), charge_type="addQuantity", end=end,
                    term_start=date(2026, 4, 24), reference=ref, qualifiers=addon)]
    b.case("free_addon_pair", "Munson's free Phone System add-on went from 10 to 13 on 27 October: both halves of "
           "the addQuantity pair are 0.00, and the half with 10 restates the earlier count.", sub, lines,
           "matched", provider_quantity=13, subscription_quantity=13)

    c = b.customer("Wingtip Toys")
    sub = b.subscription(c, standard.product_name, 300, "15.00", "", _oct(2))
    ref, end = b.guid(), date(2026, 11, 1)
    lines = [b.seat(c, sub, basic, 300, "6.00", _oct(2), charge_type="new", reference=b.guid()),
             b.seat(c, sub, basic, 300, "6.00", _oct(9), charge_type="convert", eup=f"-{prorate('6.00', _oct(9), end)}",
                    end=end, term_start=_oct(2), reference=ref),
             b.seat(c, sub, standard, 300, "12.50", _oct(9), charge_type="convert", end=end, term_start=_oct(2),
                    eup=prorate("12.50", _oct(9), end), reference=ref)]
    b.case("whole_upgrade", "Wingtip Toys bought 300 Business Basic seats on 2 October and upgraded all 300 to "
           "Business Standard on the 9th, on the same subscription id (Microsoft E1–E3).", sub, lines, "matched",
           provider_quantity=300, subscription_quantity=300)

    c = b.customer("First Up Consultants")
    source = b.subscription(c, basic.product_name, 200, "7.20", "6.00", _oct(6))
    target = b.subscription(c, standard.product_name, 100, "15.00", "12.50", _oct(15))
    ref, end = b.guid(), date(2026, 11, 5)
    lines = [b.seat(c, source, basic, 300, "6.00", _oct(6), charge_type="new", reference=b.guid()),
             b.seat(c, source, basic, 100, "6.00", _oct(15), charge_type="convert", end=end, term_start=_oct(6),
                    eup=f"-{prorate('6.00', _oct(15), end)}", reference=ref),
             b.seat(c, target, standard, 100, "12.50", _oct(15), charge_type="convert", end=end,
                    term_start=_oct(6), eup=prorate("12.50", _oct(15), end), reference=ref)]
    b.case("partial_upgrade_source", "First Up bought 300 Business Basic seats and on 15 October upgraded 100 of "
           "them to Business Standard on a new subscription (Microsoft F1–F2): 200 stay.", source, lines[:2],
           "matched", provider_quantity=200, subscription_quantity=200)
    b.case("partial_upgrade_target", "The 100 upgraded First Up seats arrive on their new subscription id with "
           "one prorated convert line (Microsoft F3).", target, lines[2:], "matched",
           provider_quantity=100, subscription_quantity=100)

    c = b.customer("Southridge Video")
    sub = b.subscription(c, _seat("Exchange Online (Plan 1)").product_name, 5, "4.80", "4.00", date(2024, 5, 23),
                         status="cancelled")
    line = b.seat(c, sub, _seat("Exchange Online (Plan 1)"), 5, "4.00", _oct(23), term_start=date(2026, 5, 23))
    b.case("cancelled_but_billed", "Southridge Video is cancelled in the billing system (5 seats, none in force), "
           "yet Microsoft bills a cycleCharge for 5: the cancellation never reached Partner Center.", sub, [line],
           "unexplained", provider_quantity=5, subscription_quantity=0)

    c = b.customer("Contoso Suites")
    pbi = _seat("Power BI Pro")
    sub = b.subscription(c, pbi.product_name, 6, "16.80", "14.00", date(2025, 3, 29))
    b.subscription(c, pbi.product_name, 4, "16.80", "14.00", date(2025, 3, 29), sub_id=sub)
    line = b.seat(c, sub, pbi, 10, "14.00", _oct(28), term_start=date(2026, 3, 28))
    b.case("split_export_rows", "Contoso Suites' one Power BI subscription sits on two agreement lines, 6 + 4 "
           "seats; Microsoft bills 10.", sub, [line], "matched", provider_quantity=10, subscription_quantity=10)

    c = b.customer("Liberty's Delightful Sinful Bakery & Cafe")
    sub = b.subscription(c, premium.product_name, 15, "26.40", "22.00", date(2025, 1, 26))
    line = b.seat(c, sub, premium, 20, "22.00", _oct(26), term_start=date(2026, 1, 26))
    ch = b.change(sub, "2028-01-26", "-5", "Awaiting Provisioning", "jane.doe@reseller.example")
    b.case("scheduled_reduction", "Liberty's will drop from 20 to 15 seats on 26 January 2028 and the billing "
           "system already shows 15; Microsoft rightly bills 20, and the scheduled −5 explains nothing yet.",
           sub, [line], "unexplained", provider_quantity=20, subscription_quantity=15, scheduled=[ch])

    c = b.customer("Boulder Innovations")
    sub = b.subscription(c, standard.product_name, 8, "180.00", "150.00", _oct(28), frequency="annual")
    line = b.seat(c, sub, standard, 10, "150.00", _oct(28), charge_type="new", frequency="",
                  end=cycle_end(_oct(28), "Annual"))
    b.case("blank_frequency_seat", "Boulder Innovations prepaid a year of 10 Business Standard seats (Microsoft A4: "
           "BillingFrequency blank, a one-year charge cycle) while the billing system has 8.", sub, [line],
           "unexplained", provider_quantity=10, subscription_quantity=8, billing_frequency="annual")

    c = b.customer("Fabrikam Residences")
    sub = b.subscription(c, RESERVATION.sku_name, 1, "1009.15", "840.96", _oct(15), frequency="annual")
    line = b.reservation(c, sub, RESERVATION, "840.96", _oct(15))
    b.case("reservation", "Fabrikam Residences reserved a D2s v3 VM for a year: a ReservationOrderId on an Azure "
           "product, no meter, bought once.", sub, [line], "matched", "not_applicable",
           expected_reason="one_time_line", kind="one_time")

    not_billed = (
        ("triennial_due", "The Phone Company", "Microsoft 365 E3", 40, "1555.20", "1296.00", date(2023, 10, 20),
         "triennial", True, "The Phone Company's three-year-billed Microsoft 365 E3 started October 2023: due "
         "this October, and not billed."),
        ("triennial_not_due", "Coho Vineyard", "Microsoft Defender for Business", 30, "129.60", "108.00",
         date(2025, 10, 11), "triennial", False, "Coho Vineyard's three-year-billed Defender started October "
         "2025: next due in October 2028."),
        ("usage_plan", "Lakeshore Retail", "Azure plan", 1, "", "", date(2025, 6, 1), "usage", False,
         "Lakeshore Retail's Azure plan had no usage this month: a usage subscription is never missing."),
    )
    for name, customer, product, qty, price, cost, start, frequency, missing, story in not_billed:
        sub = b.subscription(b.customer(customer), product, qty, price, cost, start, frequency=frequency)
        b.case(name, story, sub, [], None, None, expected_missing=missing,
               expected_reason="not_on_invoice" if missing else None, subscription_quantity=qty)


def _second_currency(b: CaseBuilder, premium: Product, e3: Product) -> None:
    """invoice-eur.csv (Partner Center's invoice for EUR-billed customers), and a GBP subscription."""
    b.bill_in(EUR_INVOICE_NUMBER, "EUR")
    c = b.customer("Fabrikam Fiber GmbH", "DE")
    sub = b.subscription(c, premium.product_name, 12, "24.70", "20.60", date(2025, 3, 12), currency="EUR")
    line = b.seat(c, sub, premium, 12, "20.60", _oct(12), term_start=date(2026, 3, 12))
    b.case("eur_matched", "Fabrikam Fiber is billed in EUR on the second invoice: 12 seats, as recorded.", sub,
           [line], "matched", provider_quantity=12, subscription_quantity=12)

    c = b.customer("Tailwind Traders B.V.", "NL")
    sub = b.subscription(c, e3.product_name, 6, "26.20", "21.80", date(2025, 7, 18), currency="EUR")
    line = b.seat(c, sub, e3, 8, "21.80", _oct(18), term_start=date(2026, 7, 18))
    b.case("eur_unexplained", "Microsoft bills Tailwind Traders 8 Office 365 E3 seats in EUR; the billing system "
           "has 6 and no change explains it.", sub, [line], "unexplained",
           provider_quantity=8, subscription_quantity=6)
    b.bill_in(INVOICE_NUMBER, "USD")

    c = b.customer("Fincher Architects Ltd", "GB")
    sub = b.subscription(c, premium.product_name, 7, "22.40", "18.70", date(2025, 8, 14), currency="GBP")
    b.case("gbp_not_checked", "Fincher Architects is billed in GBP, and no GBP invoice came this month: its "
           "monthly subscription is counted as not checked (other currency), not as missing.", sub, [], None,
           None, expected_not_checked=True, subscription_quantity=7)
