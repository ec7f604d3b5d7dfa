"""The planted cases PRODUCT.md v2 decides differently from v1, and the month's second invoice.

Like sample_cases.py, each case is a hand-built story with the outcome the rules must give it;
"Microsoft E1–E3" and the like cite rows of Microsoft's worked examples.
"""

from __future__ import annotations

from recon_cli.sample_builder import CaseBuilder, cycle_end, prorate
from recon_cli.sample_catalog import FREE_ADDON, MONTHLY_TERM, RESERVATION, Product, seat


def plant_v2_cases(b: CaseBuilder, basic: Product, standard: Product, premium: Product) -> None:
    """The situations that v2 of PRODUCT.md decides differently from v1 (rules 2–7)."""
    c = b.customer("Lamna Healthcare Company")
    sub = b.subscription(c, standard.product_name, 12, "15.00", "12.50", b.day(19))
    ref = b.guid()
    lines = [b.seat(c, sub, standard, 10, "12.50", b.day(19), charge_type="addQuantity", eup="-12.50",
                    term=MONTHLY_TERM, reference=ref),
             b.seat(c, sub, standard, 12, "12.50", b.day(19), charge_type="addQuantity", term=MONTHLY_TERM,
                    reference=ref),
             b.seat(c, sub, standard, 10, "12.50", b.day(19), charge_type="new", term=MONTHLY_TERM)]
    b.case("same_day_out_of_order", "Lamna bought 10 seats on 19 October and went to 12 the same day (Microsoft "
           "B1–B3); the file lists the −10/+12 addQuantity pair before the `new` line.", sub, lines, "matched",
           provider_quantity=12, subscription_quantity=12)

    c = b.customer("Munson's Pickles and Preserves Farm")
    sub = b.subscription(c, FREE_ADDON.product_name, 13, "0.00", "0.00", b.at(2025, 4, 24))
    ref, end, addon = b.guid(), b.at(2026, 11, 23), '["AddOn"]'
    lines = [b.seat(c, sub, FREE_ADDON, 10, "0.00", b.day(24), term_start=b.at(2026, 4, 24), qualifiers=addon),
             b.seat(c, sub, FREE_ADDON, 13, "0.00", b.day(27), charge_type="addQuantity", end=end,
                    term_start=b.at(2026, 4, 24), reference=ref, qualifiers=addon),
             b.seat(c, sub, FREE_ADDON, 10, "0.00", b.day(27), charge_type="addQuantity", end=end,
                    term_start=b.at(2026, 4, 24), reference=ref, qualifiers=addon)]
    b.case("free_addon_pair", "Munson's free Phone System add-on went from 10 to 13 on 27 October: both halves of "
           "the addQuantity pair are 0.00, and the half with 10 restates the earlier count.", sub, lines,
           "matched", provider_quantity=13, subscription_quantity=13)

    c = b.customer("Wingtip Toys")
    sub = b.subscription(c, standard.product_name, 300, "15.00", "", b.day(2))
    ref, end = b.guid(), b.at(2026, 11, 1)
    lines = [b.seat(c, sub, basic, 300, "6.00", b.day(2), charge_type="new", reference=b.guid()),
             b.seat(c, sub, basic, 300, "6.00", b.day(9), charge_type="convert",
                    eup=f"-{prorate('6.00', b.day(9), end)}", end=end, term_start=b.day(2), reference=ref),
             b.seat(c, sub, standard, 300, "12.50", b.day(9), charge_type="convert", end=end, term_start=b.day(2),
                    eup=prorate("12.50", b.day(9), end), reference=ref)]
    b.case("whole_upgrade", "Wingtip Toys bought 300 Business Basic seats on 2 October and upgraded all 300 to "
           "Business Standard on the 9th, on the same subscription id (Microsoft E1–E3).", sub, lines, "matched",
           provider_quantity=300, subscription_quantity=300)

    c = b.customer("First Up Consultants")
    source = b.subscription(c, basic.product_name, 200, "7.20", "6.00", b.day(6))
    target = b.subscription(c, standard.product_name, 100, "15.00", "12.50", b.day(15))
    ref, end = b.guid(), b.at(2026, 11, 5)
    lines = [b.seat(c, source, basic, 300, "6.00", b.day(6), charge_type="new", reference=b.guid()),
             b.seat(c, source, basic, 100, "6.00", b.day(15), charge_type="convert", end=end, term_start=b.day(6),
                    eup=f"-{prorate('6.00', b.day(15), end)}", reference=ref),
             b.seat(c, target, standard, 100, "12.50", b.day(15), charge_type="convert", end=end,
                    term_start=b.day(6), eup=prorate("12.50", b.day(15), end), reference=ref)]
    b.case("partial_upgrade_source", "First Up bought 300 Business Basic seats and on 15 October upgraded 100 of "
           "them to Business Standard on a new subscription (Microsoft F1–F2): 200 stay.", source, lines[:2],
           "matched", provider_quantity=200, subscription_quantity=200)
    b.case("partial_upgrade_target", "The 100 upgraded First Up seats arrive on their new subscription id with "
           "one prorated convert line (Microsoft F3).", target, lines[2:], "matched",
           provider_quantity=100, subscription_quantity=100)

    c = b.customer("Southridge Video")
    sub = b.subscription(c, seat("Exchange Online (Plan 1)").product_name, 5, "4.80", "4.00", b.at(2024, 5, 23),
                         status="cancelled")
    line = b.seat(c, sub, seat("Exchange Online (Plan 1)"), 5, "4.00", b.day(23), term_start=b.at(2026, 5, 23))
    b.case("cancelled_but_billed", "Southridge Video is cancelled in the billing system (5 seats, none in force), "
           "yet Microsoft bills a cycleCharge for 5: the cancellation never reached Partner Center.", sub, [line],
           "unexplained", provider_quantity=5, subscription_quantity=0)

    c = b.customer("Contoso Suites")
    pbi = seat("Power BI Pro")
    sub = b.subscription(c, pbi.product_name, 6, "16.80", "14.00", b.at(2025, 3, 29))
    b.subscription(c, pbi.product_name, 4, "16.80", "14.00", b.at(2025, 3, 29), sub_id=sub)
    line = b.seat(c, sub, pbi, 10, "14.00", b.day(28), term_start=b.at(2026, 3, 28))
    b.case("split_export_rows", "Contoso Suites' one Power BI subscription sits on two agreement lines, 6 + 4 "
           "seats; Microsoft bills 10.", sub, [line], "matched", provider_quantity=10, subscription_quantity=10)

    c = b.customer("Liberty's Delightful Sinful Bakery & Cafe")
    sub = b.subscription(c, premium.product_name, 15, "26.40", "22.00", b.at(2025, 1, 26))
    line = b.seat(c, sub, premium, 20, "22.00", b.day(26), term_start=b.at(2026, 1, 26))
    ch = b.change(sub, "2028-01-26", "-5", "Awaiting Provisioning", "jane.doe@reseller.example")
    b.case("scheduled_reduction", "Liberty's will drop from 20 to 15 seats on 26 January 2028 and the billing "
           "system already shows 15; Microsoft rightly bills 20, and the scheduled −5 explains nothing yet.",
           sub, [line], "unexplained", provider_quantity=20, subscription_quantity=15, scheduled=[ch])

    c = b.customer("Boulder Innovations")
    sub = b.subscription(c, standard.product_name, 8, "180.00", "150.00", b.day(28), frequency="annual")
    line = b.seat(c, sub, standard, 10, "150.00", b.day(28), charge_type="new", frequency="",
                  end=cycle_end(b.day(28), "Annual"))
    b.case("blank_frequency_seat", "Boulder Innovations prepaid a year of 10 Business Standard seats (Microsoft A4: "
           "BillingFrequency blank, a one-year charge cycle) while the billing system has 8.", sub, [line],
           "unexplained", provider_quantity=10, subscription_quantity=8, billing_frequency="annual")

    c = b.customer("Fabrikam Residences")
    sub = b.subscription(c, RESERVATION.sku_name, 1, "1009.15", "840.96", b.day(15), frequency="annual")
    line = b.reservation(c, sub, RESERVATION, "840.96", b.day(15))
    b.case("reservation", "Fabrikam Residences reserved a D2s v3 VM for a year: a ReservationOrderId on an Azure "
           "product, no meter, bought once.", sub, [line], "matched", "not_applicable",
           expected_reason="one_time_line", kind="one_time")

    not_billed = (
        ("triennial_due", "The Phone Company", "Microsoft 365 E3", 40, "1555.20", "1296.00", b.at(2023, 10, 20),
         "triennial", True, "The Phone Company's three-year-billed Microsoft 365 E3 started October 2023: due "
         "this October, and not billed."),
        ("triennial_not_due", "Coho Vineyard", "Microsoft Defender for Business", 30, "129.60", "108.00",
         b.at(2025, 10, 11), "triennial", False, "Coho Vineyard's three-year-billed Defender started October "
         "2025: next due in October 2028."),
        ("usage_plan", "Lakeshore Retail", "Azure plan", 1, "", "", b.at(2025, 6, 1), "usage", False,
         "Lakeshore Retail's Azure plan had no usage this month: a usage subscription is never missing."),
    )
    for name, customer, product, qty, price, cost, start, frequency, missing, story in not_billed:
        sub = b.subscription(b.customer(customer), product, qty, price, cost, start, frequency=frequency)
        b.case(name, story, sub, [], None, None, expected_missing=missing,
               expected_reason="not_on_invoice" if missing else None, subscription_quantity=qty)


def plant_second_currency(b: CaseBuilder, premium: Product, e3: Product) -> None:
    """invoice-eur.csv (Partner Center's invoice for EUR-billed customers), and a GBP subscription."""
    b.bill_in(b.eur_invoice, "EUR")
    c = b.customer("Fabrikam Fiber GmbH", "DE")
    sub = b.subscription(c, premium.product_name, 12, "24.70", "20.60", b.at(2025, 3, 12), currency="EUR")
    line = b.seat(c, sub, premium, 12, "20.60", b.day(12), term_start=b.at(2026, 3, 12))
    b.case("eur_matched", "Fabrikam Fiber is billed in EUR on the second invoice: 12 seats, as recorded.", sub,
           [line], "matched", provider_quantity=12, subscription_quantity=12)

    c = b.customer("Tailwind Traders B.V.", "NL")
    sub = b.subscription(c, e3.product_name, 6, "26.20", "21.80", b.at(2025, 7, 18), currency="EUR")
    line = b.seat(c, sub, e3, 8, "21.80", b.day(18), term_start=b.at(2026, 7, 18))
    b.case("eur_unexplained", "Microsoft bills Tailwind Traders 8 Office 365 E3 seats in EUR; the billing system "
           "has 6 and no change explains it.", sub, [line], "unexplained",
           provider_quantity=8, subscription_quantity=6)
    b.bill_in(b.usd_invoice, "USD")

    c = b.customer("Fincher Architects Ltd", "GB")
    sub = b.subscription(c, premium.product_name, 7, "22.40", "18.70", b.at(2025, 8, 14), currency="GBP")
    b.case("gbp_not_checked", "Fincher Architects is billed in GBP, and no GBP invoice came this month: its "
           "monthly subscription is counted as not checked (other currency), not as missing.", sub, [], None,
           None, expected_not_checked=True, subscription_quantity=7)
