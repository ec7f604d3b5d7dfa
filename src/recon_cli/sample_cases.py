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

from recon_cli.sample_builder import CaseBuilder, prorate
from recon_cli.sample_cases_v2 import plant_second_currency, plant_v2_cases
from recon_cli.sample_catalog import METERS, MONTHLY_TERM, WINDOWS_SERVER, seat


def build_cases(rng: random.Random, shift: int = 0) -> CaseBuilder:
    """Plant every case, in invoice order: row 2 plain matched, row 3 the classic explained one.

    Args:
        shift: months from October 2026 to the month billed (`--period`); every date moves with it.
    """
    b = CaseBuilder(rng, shift)
    basic, standard = seat("Microsoft 365 Business Basic"), seat("Microsoft 365 Business Standard")
    premium, e3, e5 = seat("Microsoft 365 Business Premium"), seat("Office 365 E3"), seat("Office 365 E5")
    m365e3, exo = seat("Microsoft 365 E3"), seat("Exchange Online (Plan 1)")
    teams, pbi = seat("Microsoft Teams Essentials"), seat("Power BI Pro")

    contoso = b.customer("Contoso Dental Group")
    sub = b.subscription(contoso, standard.product_name, 14, "15.00", "12.50", b.at(2025, 3, 1))
    line = b.seat(contoso, sub, standard, 14, "12.50", b.day(1), term_start=b.at(2026, 3, 1))
    b.case("matched", "Contoso Dental Group's 14 Business Standard seats are billed exactly as recorded, "
           "one cycleCharge (Microsoft A3).",
           sub, [line], "matched", provider_quantity=14, subscription_quantity=14)

    c = b.customer("Fabrikam, Inc.")
    sub = b.subscription(c, premium.product_name, 12, "26.40", "22.00", b.at(2025, 5, 5))
    line = b.seat(c, sub, premium, 10, "22.00", b.day(5), term_start=b.at(2026, 5, 5))
    ch = b.change(sub, "2026-10-12", "+2", "Provisioned", "jane.doe@reseller.example")
    b.case("explained_after_as_of", "Microsoft billed Fabrikam's 10 seats on its 5 October cycle; the 2 "
           "seats added on 12 October come on the next invoice.", sub, [line], "explained",
           expected_reason="changed_after_as_of", provider_quantity=10, subscription_quantity=12,
           evidence=[ch])

    c = b.customer("Northwind Traders")
    sub = b.subscription(c, e3.product_name, 11, "27.60", "23.00", b.at(2024, 7, 7))
    line = b.seat(c, sub, e3, 10, "23.00", b.day(7), term_start=b.at(2026, 7, 7))
    ch = b.change(sub, "2026-10-06T09:15:00", "+1", "Awaiting Provisioning", "it@northwindtraders.example")
    b.case("explained_awaiting_provisioning", "Northwind added a seat on 6 October that is still awaiting "
           "provisioning, so Microsoft bills 10 while the billing system has 11.", sub, [line], "explained",
           expected_reason="awaiting_provisioning", provider_quantity=10, subscription_quantity=11,
           evidence=[ch])

    c = b.customer("Tailspin Toys")
    sub = b.subscription(c, m365e3.product_name, 8, "43.20", "36.00", b.at(2025, 1, 9))
    line = b.seat(c, sub, m365e3, 10, "36.00", b.day(9), term_start=b.at(2026, 1, 9))
    ch = b.change(sub, "2026-10-02", "-2", "Failed Provisioning", "sam.lee@reseller.example",
                  "INV-2026-10-0042", "Archived")
    b.case("explained_failed_provisioning", "Tailspin's removal of 2 seats failed to provision, so Microsoft "
           "still bills 10 while the customer is invoiced for 8: explained, but the change must be retried.", sub,
           [line], "explained",
           expected_reason="failed_provisioning", provider_quantity=10, subscription_quantity=8,
           evidence=[ch])

    c = b.customer("Wide World Importers")
    sub = b.subscription(c, pbi.product_name, 20, "16.80", "14.00", b.at(2025, 8, 4))
    line = b.seat(c, sub, pbi, 15, "14.00", b.day(4), term_start=b.at(2026, 8, 4))
    ch = b.change(sub, "2026-10-15", "+3", "Provisioned", "jane.doe@reseller.example")
    b.case("partially_explained", "Wide World has 20 Power BI seats recorded, Microsoft bills 15; a +3 on "
           "15 October explains 3 of the 5, 2 remain.", sub, [line], "partially_explained",
           expected_reason="changed_after_as_of", provider_quantity=15, subscription_quantity=20, evidence=[ch])

    c = b.customer("Adventure Works Cycles")
    sub = b.subscription(c, exo.product_name, 7, "4.80", "4.00", b.at(2024, 2, 11))
    line = b.seat(c, sub, exo, 9, "4.00", b.day(11), term_start=b.at(2026, 2, 11))
    b.change(sub, "2026-08-20T14:03:00", "-2", "Provisioned", "mark.ortiz@reseller.example",
             "INV-2026-08-0117", "Archived")
    b.case("unexplained_old_change", "Adventure Works dropped to 7 mailboxes in August, yet Microsoft still "
           "bills 9; the only change record is old and already invoiced.", sub, [line], "unexplained",
           provider_quantity=9, subscription_quantity=7)

    c = b.customer("Litware Inc")
    sub = b.subscription(c, teams.product_name, 5, "4.80", "4.00", b.at(2025, 4, 16))
    line = b.seat(c, sub, teams, 6, "4.00", b.day(16), term_start=b.at(2026, 4, 16))
    b.case("unexplained_no_changes", "Microsoft bills Litware for 6 Teams Essentials seats, the billing "
           "system has 5, and no change was ever logged.", sub, [line], "unexplained",
           provider_quantity=6, subscription_quantity=5)

    c = b.customer("Alpine Ski House")
    sub = b.subscription(c, premium.product_name, 13, "26.04", "21.70", b.at(2025, 6, 3))
    ref, end = b.guid(), b.at(2026, 11, 2)
    eup = prorate("21.70", b.day(14), end)
    lines = [b.seat(c, sub, premium, 10, "21.70", b.day(3), term_start=b.at(2026, 6, 3)),
             b.seat(c, sub, premium, 10, "21.70", b.day(14), charge_type="addQuantity", eup=f"-{eup}", end=end,
                    term_start=b.at(2026, 6, 3), reference=ref),
             b.seat(c, sub, premium, 13, "21.70", b.day(14), charge_type="addQuantity", eup=eup, end=end,
                    term_start=b.at(2026, 6, 3), reference=ref)]
    b.case("add_quantity", "Alpine Ski House went from 10 to 13 seats on 14 October: a prorated reversal of "
           "the 10 and a prorated charge for the 13 (Microsoft B1–B3).", sub, lines, "matched",
           provider_quantity=13, subscription_quantity=13)

    c = b.customer("Coho Winery")
    sub = b.subscription(c, standard.product_name, 9, "18.60", "15.50", b.day(8))
    ref, end = b.guid(), b.at(2026, 11, 7)
    eup = prorate("15.50", b.day(10), end)
    lines = [b.seat(c, sub, standard, 12, "15.50", b.day(8), charge_type="new", term=MONTHLY_TERM),
             b.seat(c, sub, standard, 12, "15.50", b.day(10), charge_type="removeQuantity", eup=f"-{eup}",
                    end=end, term=MONTHLY_TERM, term_start=b.day(8), reference=ref),
             b.seat(c, sub, standard, 9, "15.50", b.day(10), charge_type="removeQuantity", eup=eup, end=end,
                    term=MONTHLY_TERM, term_start=b.day(8), reference=ref)]
    b.case("remove_quantity", "Coho Winery bought 12 seats on 8 October and cut them to 9 two days later, "
           "inside the 7-day window (Microsoft B4–B5).", sub, lines, "matched",
           provider_quantity=9, subscription_quantity=9)

    c = b.customer("Proseware Ltd")
    sub = b.subscription(c, teams.product_name, 0, "5.95", "4.96", b.at(2026, 2, 2), status="cancelled")
    eup = prorate("4.96", b.day(6), b.at(2026, 11, 1))
    lines = [b.seat(c, sub, teams, 5, "4.96", b.day(2), charge_type="renew", term=MONTHLY_TERM),
             b.seat(c, sub, teams, 5, "4.96", b.day(6), charge_type="cancelImmediate", eup=f"-{eup}",
                    end=b.at(2026, 11, 1), term=MONTHLY_TERM, term_start=b.day(2))]
    b.case("cancelled", "Proseware renewed 5 seats on 2 October and cancelled them on the 6th with a "
           "prorated refund (Microsoft D1–D2); the subscription is cancelled with 0 seats.", sub, lines, "matched",
           provider_quantity=0, subscription_quantity=0)

    c = b.customer("Blue Yonder Airlines")
    sub = b.guid()
    line = b.seat(c, sub, basic, 25, "6.00", b.day(20), term_start=b.at(2026, 4, 20))
    b.case("unmatched_seat", "Microsoft bills 25 Business Basic seats for Blue Yonder, a customer the "
           "billing system does not know: a cost never re-billed.", sub, [line], "unmatched", "no_price")

    sub = b.guid()
    line = b.usage(contoso, sub, METERS[0], "23.200004", pec=False)
    b.case("unmatched_usage", "Contoso Dental Group has a second Azure plan nobody recorded; its VM hours "
           "are billed but never re-billed.", sub, [line], "unmatched", "not_applicable", kind="usage")

    c = b.customer("Graphic Design Institute")
    sub = b.subscription(c, "Azure plan", 1, "", "", b.at(2025, 3, 14))
    lines = [b.usage(c, sub, METERS[0], "744", pec=True), b.usage(c, sub, METERS[1], "1532.418817", pec=True),
             b.usage(c, sub, METERS[2], "87.334", pec=False)]
    b.case("usage", "Graphic Design Institute's Azure plan bills three meters; usage has no seat count to "
           "compare.", sub, lines, "matched", "not_applicable", expected_reason="usage_line", kind="usage")

    c = b.customer("Trey Research")
    sub = b.subscription(c, WINDOWS_SERVER.product_name, 2, "1282.80", "1069.00", b.day(20),
                         frequency="annual")
    line = b.one_time(c, sub, WINDOWS_SERVER, 2, "1069.00", b.day(20))
    b.case("one_time", "Trey Research bought two Windows Server 2022 core packs outright on 20 October.",
           sub, [line], "matched", "not_applicable", expected_reason="one_time_line", kind="one_time")

    c = b.customer("Woodgrove Bank")
    sub = b.subscription(c, m365e3.product_name, 25, "518.40", "432.00", b.at(2024, 10, 9),
                         frequency="annual")
    line = b.seat(c, sub, m365e3, 25, "432.00", b.day(9), charge_type="renew", frequency="Annual")
    b.case("annual_anniversary", "Woodgrove Bank's annual-billed Microsoft 365 E3 renews on its 9 October "
           "anniversary: one charge for the year (Microsoft A2, billed yearly).", sub, [line], "matched",
           provider_quantity=25, subscription_quantity=25)

    price_cases = (
        ("below_cost", "Lucerne Publishing", e5, 8, "36.00", "34.00", "38.00", 12, "USD",
         "Lucerne Publishing is sold Office 365 E5 at 36.00 while Microsoft now charges 38.00."),
        ("currency_mismatch", "Margie's Travel", seat("Project Plan 3"), 4, "33.00", "27.70", "30.00", 18,
         "EUR", "Margie's Travel is priced in EUR while Microsoft bills this subscription in USD."),
        ("cost_changed", "Humongous Insurance", m365e3, 40, "43.20", "34.00", "36.00", 21, "USD",
         "Humongous Insurance's expected cost is 34.00 but Microsoft charges 36.00 a seat."),
        ("low_margin", "School of Fine Art", seat("Microsoft Defender for Business"), 30, "3.16", "3.00",
         "3.00", 19, "USD", "School of Fine Art is sold a 3.00 seat at 3.16: a 5% margin."),
        ("no_price", "Consolidated Messenger", pbi, 12, "", "14.00", "14.00", 22, "USD",
         "Consolidated Messenger's Power BI subscription has no selling price."),
    )
    for name, customer, product, qty, price, cost, provider, day, currency, story in price_cases:
        c = b.customer(customer)
        sub = b.subscription(c, product.product_name, qty, price, cost, b.at(2025, 11, day),
                             currency=currency)
        line = b.seat(c, sub, product, qty, provider, b.day(day), term_start=b.at(2025, 11, day))
        b.case(name, story, sub, [line], "matched", "ok" if name == "low_margin" else name,
               min_margin_needed=name == "low_margin", provider_quantity=qty, subscription_quantity=qty)

    c = b.customer("Fourth Coffee")
    stale = b.subscription(c, "Visio Plan 2", 3, "18.00", "15.00", b.at(2025, 7, 13))
    sub = b.guid()
    line = b.seat(c, sub, seat("Visio Plan 2"), 3, "15.00", b.day(13), term_start=b.at(2026, 7, 13))
    b.case("fallback_customer_product", "Fourth Coffee's export still holds an old subscription id; the "
           "invoice line matches it by customer and product.", stale, [line], "matched",
           expected_match_method="customer_product", invoice_subscription_id=sub,
           provider_quantity=3, subscription_quantity=3)

    c = b.customer("VanArsdel Ltd")
    sub = b.subscription(c, basic.product_name, 18, "7.20", "6.00", b.at(2024, 12, 17))
    line = b.seat(c, sub.upper(), basic, 18, "6.00", b.day(17), term_start=b.at(2025, 12, 17))
    b.case("uppercase_guid", "The invoice writes VanArsdel's subscription id in upper case; ids compare "
           "case-insensitively.", sub, [line], "matched", invoice_subscription_id=sub.upper(),
           provider_quantity=18, subscription_quantity=18)

    c = b.customer("Relecloud")
    sub = b.subscription(c, exo.product_name, "1,200", "4.80", "4.00", b.at(2024, 4, 25))
    line = b.seat(c, sub, exo, 1200, "4.00", b.day(25), term_start=b.at(2026, 4, 25))
    b.case("thousands_separator", "Relecloud's 1,200 mailboxes are written with a thousands separator in the "
           "export.", sub, [line], "matched", provider_quantity=1200, subscription_quantity=1200)

    not_billed = (
        ("missing_monthly", "A. Datum Corporation", standard, 9, "15.00", "12.50", b.at(2025, 6, 14),
         "monthly", "active", True,
         "A. Datum's active monthly Business Standard has no line on the invoice."),
        ("missing_annual", "Bellows College", e3, 20, "331.20", "276.00", b.at(2025, 10, 21), "annual",
         "active", True, "Bellows College's annual Office 365 E3 is due on its October anniversary but "
         "was not billed."),
        ("annual_not_due", "Best For You Organics", premium, 6, "316.80", "264.00", b.at(2026, 3, 17),
         "annual", "active", False,
         "Best For You Organics pays annually in March, so no October line is due."),
        ("suspended", "City Power & Light", e3, 15, "27.60", "23.00", b.at(2025, 2, 8), "monthly",
         "suspended", False, "City Power & Light's subscription is suspended: nothing is due."),
        ("zero_seats", "Nod Publishers", pbi, 0, "16.80", "14.00", b.at(2025, 9, 26), "monthly", "active",
         False, "Nod Publishers' subscription has 0 seats: nothing is due."),
    )
    for name, customer, product, qty, price, cost, start, frequency, status, missing, story in not_billed:
        c = b.customer(customer)
        sub = b.subscription(c, product.product_name, qty, price, cost, start, frequency=frequency,
                             status=status)
        b.case(name, story, sub, [], None, None, expected_missing=missing,
               expected_reason="not_on_invoice" if missing else None, subscription_quantity=qty)
    plant_v2_cases(b, basic, standard, premium)
    plant_second_currency(b, premium, e3)
    return b
