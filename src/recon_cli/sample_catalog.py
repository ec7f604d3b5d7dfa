"""What every part of `recon sample` shares: the catalog, the files' layouts and the calendar.

The sample's calendar is anchored at October 2026 (sample_data/): `--period` moves every date of
the story by whole months, so the same seed tells the same story in any month.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date

from recon_cli.formats.nce import NCE_HEADERS

FIRST_PERIOD = "2026-10"
PARTNER_ID = "6f1c3a52-8d0e-4b7a-9c21-5e4d3b2a1f09"
MPN_ID = "6034453"

# The invoice's 47 columns, as declared once by the NCE format.
INVOICE_COLUMNS: tuple[str, ...] = NCE_HEADERS
SUBSCRIPTION_COLUMNS: tuple[str, ...] = (
    "subscription_id", "customer_id", "customer_name", "product", "quantity", "unit_price",
    "unit_cost", "currency", "billing_frequency", "status", "start_date",
)
CHANGE_COLUMNS: tuple[str, ...] = (
    "change_id", "subscription_id", "effective_date", "quantity_delta", "provisioning_status",
    "initiated_by", "customer_invoice", "status_reason",
)

ANNUAL_TERM = "One-Year commitment for monthly/yearly billing"
MONTHLY_TERM = "One-Month commitment for monthly billing"
PEC = json.dumps(["15.0% Partner earned credit for services managed"], separators=(",", ":"))
PRICE_NOTES = json.dumps(["Price for given billing period",
                          "You are getting a price guarantee for your price.", "Price for given term"],
                         separators=(",", ":"))


@dataclass(frozen=True)
class Product:
    """A catalog item: seats (price in cents per month on a one-year term) or an Azure meter."""

    product_id: str
    sku_id: str
    availability_id: str
    sku_name: str
    product_name: str
    price: int = 0  # seats: USD cents per seat-month, one-year term; meters: USD micro-dollars per unit
    meter: str = ""
    unit_type: str = ""
    unit_term: str = ""  # what TermAndBillingCycle holds on a usage row


SEATS: tuple[Product, ...] = (
    Product("CFQ7TTC0LH18", "0001", "CFQ7TTC0J1FV", "Microsoft 365 Business Basic",
            "Microsoft 365 Business Basic", 600),
    Product("CFQ7TTC0LDPB", "0001", "CFQ7TTC0KDGB", "Microsoft 365 Business Standard",
            "Microsoft 365 Business Standard", 1250),
    Product("CFQ7TTC0LCHC", "0002", "CFQ7TTC0J7KN", "Microsoft 365 Business Premium",
            "Microsoft 365 Business Premium", 2200),
    Product("CFQ7TTC0LF8Q", "0001", "CFQ7TTC0K3QT", "Office 365 E3", "Office 365 E3", 2300),
    Product("CFQ7TTC0LF8S", "0002", "CFQ7TTC0K4N2", "Office 365 E5", "Office 365 E5", 3800),
    Product("CFQ7TTC0LH16", "0001", "CFQ7TTC0J3BX", "Exchange Online (Plan 1)",
            "Exchange Online (Plan 1)", 400),
    Product("CFQ7TTC0RQ4T", "0001", "CFQ7TTC0RQ4W", "Microsoft Teams Essentials",
            "Microsoft Teams Essentials", 400),
    Product("CFQ7TTC0L3PB", "0001", "CFQ7TTC0KBG8", "Power BI Pro", "Power BI Pro", 1400),
    Product("CFQ7TTC0LFLX", "0002", "CFQ7TTC0K1XC", "Microsoft 365 E3", "Microsoft 365 E3", 3600),
    Product("CFQ7TTC0LCHX", "0001", "CFQ7TTC0K5CJ", "Microsoft Defender for Business",
            "Microsoft Defender for Business", 300),
    Product("CFQ7TTC0HD33", "000P", "CFQ7TTC0K8R1", "Visio Plan 2", "Visio Plan 2", 1500),
    Product("CFQ7TTC0HDB1", "000P", "CFQ7TTC0KF5M", "Project Plan 3", "Project Plan 3", 3000),
)
METERS: tuple[Product, ...] = (
    Product("DZH318Z0BQ3Q", "0015", "DZH318Z0BP9D", "D2 v3", "Virtual Machines Dv3 Series", 96000,
            "Virtual Machines Dv3 Series - D2 v3 - US East", "1 Hour", "1 Hour"),
    Product("DZH318Z0BNVX", "0041", "DZH318Z0B8V7", "Hot LRS", "Blob Storage", 18400,
            "Blob Storage - Hot LRS Data Stored", "1 GB/Month", "Stored data (GB/month)"),
    Product("DZH318Z0BNZ5", "0001", "DZH318Z08B80",
            "Bandwidth Inter-Region - Intra Continent - North America", "Bandwidth Inter-Region", 20000,
            "Bandwidth - Data Transfer Out (GB) - Zone 1", "1 GB", ""),
    Product("DZH318Z0BP55", "002R", "DZH318Z0BZ3L", "General Purpose - Compute Gen5 - 2 vCore",
            "SQL Database Single/Elastic Pool General Purpose - Compute Gen5", 252100,
            "SQL Database General Purpose - Compute Gen5 - vCore", "1 Hour", ""),
    Product("DZH318Z0BQ4X", "0008", "DZH318Z0BQ4Z", "Standard SSD E10", "Managed Disks", 9600000,
            "Managed Disks - Standard SSD E10 - Disks", "1/Month", "1/Month"),
)
WINDOWS_SERVER = Product("DG7GMGF0D5RK", "0002", "DG7GMGF0D7VP",
                         "Windows Server 2022 Standard - 16 Core License Pack",
                         "Windows Server 2022 Standard - 16 Core License Pack")
# A free add-on (Microsoft's own doc sample product, price 0).
FREE_ADDON = Product("CFQ7TTC0LH0R", "0002", "CFQ7TTC0K5RQ", "Microsoft 365 Phone System - Virtual User",
                     "Microsoft 365 Phone System - Virtual User")
# An Azure reservation: an Azure product id (DZH318Z0...), bought once for a year, no meter.
RESERVATION = Product("DZH318Z08M2V", "0059", "DZH318Z08M3B",
                      "Reserved VM Instance, Standard_D2s_v3, US East, 1 Year", "Virtual Machines Dsv3 Series")

# The bulk's customer names, and who makes changes in the billing system.
PREFIXES = ("Northwind", "Contoso", "Fabrikam", "Tailspin", "Woodgrove", "Lakeshore", "Summit", "Bluebird",
            "Granite", "Harbor", "Maple", "Cedar", "Silverline", "Redwood", "Ironbridge", "Riverside",
            "Pinecrest", "Oakmont", "Highland", "Brightwater", "Evergreen", "Stonegate", "Westfield",
            "Eastgate", "Lighthouse", "Clearview", "Copperleaf", "Sunrise", "Meridian", "Keystone")
NOUNS = ("Dental", "Legal", "Logistics", "Accounting", "Engineering", "Health", "Realty", "Marine",
         "Foods", "Design", "Consulting", "Builders", "Pharmacy", "Veterinary", "Insurance", "Motors",
         "Analytics", "Media", "Outfitters", "Clinic", "Partners", "Labs", "Freight", "Studios")
SUFFIXES = ("LLC", "Inc", "Ltd", "Group", "Co", "Associates", "Corp", "PLLC")
AUTHORS = ("jane.doe@reseller.example", "sam.lee@reseller.example", "mark.ortiz@reseller.example",
           "billing-sync@reseller.example", "portal (customer)")


def seat(name: str) -> Product:
    """The seat product called `name`."""
    return next(p for p in SEATS if p.product_name == name)


def add_months(day: date, months: int) -> date:
    """Same day-of-month, `months` later (days above 28 are not used by the sample)."""
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, day.day)


def period_offset(period: str) -> int:
    """Months from October 2026 to `period` ("YYYY-MM"); a bad period is a ValueError."""
    if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", period):
        raise ValueError(f"period {period!r}: expected YYYY-MM, such as 2026-10")
    return (int(period[:4]) * 12 + int(period[5:]) - 1) - (2026 * 12 + 9)


def period_of(offset: int) -> str:
    """The period `offset` months after October 2026, "YYYY-MM"."""
    first = add_months(date(2026, 10, 1), offset)
    return f"{first.year:04d}-{first.month:02d}"


def invoice_numbers(month: int) -> tuple[str, str]:
    """The story's month `month` (0 = the first) invoice numbers: USD, then EUR."""
    return f"G{123456 + 2 * month:09d}", f"G{123457 + 2 * month:09d}"


def run_as_of(offset: int) -> date:
    """The day the reseller reconciles the month `offset` after October 2026: the 9th of the next
    month, once the invoices are in (the invoices arrive 6-8 November for October)."""
    return add_months(date(2026, 11, 9), offset)
