"""The words billing exports use for statuses, billing plans, provisioning and currencies, as data.

Each vocabulary maps the values seen in real exports (Work 365, ConnectWise, Autotask, HaloPSA,
Partner Center) to the one word the rules use. A value outside it is kept, reported with a count
and an example, and read the cautious way (PRODUCT.md §2): an unknown status counts as active, an
unknown billing plan as monthly (both keep the subscription due, so nothing goes missing quietly).

Currency names and symbols come from maintained data, not a hand list: the ISO 4217 official names
("Pound Sterling", "Yen") from pycountry, and the Unicode CLDR names, plurals and symbols in many
languages ("US dollars", "dollar des États-Unis", "€") from Babel.
"""

from __future__ import annotations

import re
from functools import cache

ACTIVE, SUSPENDED, CANCELLED = "active", "suspended", "cancelled"
STATUS = {
    ACTIVE: ("active", "enabled", "live", "in use", "current", "open", "billable", "active (status reason)"),
    SUSPENDED: ("suspended", "disabled", "paused", "on hold", "inactive", "blocked", "frozen"),
    CANCELLED: ("cancelled", "canceled", "deleted", "expired", "terminated", "ended", "closed", "removed",
                "deactivated", "cancelled (status reason)", "canceled (status reason)", "do not bill",
                "donotbill"),
}
MONTHLY, ANNUAL, TRIENNIAL, USAGE = "monthly", "annual", "triennial", "usage"
FREQUENCY = {
    MONTHLY: ("monthly", "month", "months", "p1m", "1 month", "one month", "1m", "per month", "mo", "every month"),
    ANNUAL: ("annual", "annually", "yearly", "year", "years", "p1y", "1 year", "one year", "1y", "per year",
             "12 months", "every year"),
    TRIENNIAL: ("triennial", "triennially", "p3y", "3 years", "three years", "3 year", "three year", "3y",
                "36 months"),
    USAGE: ("usage", "pay-as-you-go", "pay as you go", "payg", "consumption", "metered", "arrears", "in arrears",
            "usage-based", "usage based"),
}
# What invoices write for a charge with no billing plan (a one-time purchase): read as blank.
NO_PLAN = ("onetime", "one time", "one-time", "none", "n/a", "na", "not applicable")
PROVISIONED, AWAITING, FAILED, NOT_APPLICABLE = ("provisioned", "awaiting provisioning", "failed provisioning",
                                                 "not applicable")
PROVISIONING = {
    PROVISIONED: ("provisioned", "completed", "complete", "done", "success", "succeeded", "active"),
    AWAITING: ("awaiting provisioning", "awaiting", "pending", "pending provisioning", "in progress", "queued",
               "processing", "submitted"),
    FAILED: ("failed provisioning", "failed", "failure", "error", "provisioning failed"),
    NOT_APPLICABLE: ("not applicable", "n/a", "na", "none"),
}


def synonyms(vocabulary: dict[str, tuple[str, ...]]) -> dict[str, str]:
    """{written form (lower case, single spaces): the word the rules use}."""
    return {word: key for key, words in vocabulary.items() for word in words}


def word_key(text: str) -> str:
    """A value as the vocabularies compare it: lower case, spaces and underscores as single spaces."""
    return re.sub(r"[\s_]+", " ", text.strip().lower())


# Locales whose currency names exports are written in (English first: it wins a clash).
CURRENCY_LOCALES = ("en", "en_GB", "de", "fr", "nl", "es", "it", "pt", "sv", "da", "nb", "fi", "pl")
ISO_CODE = re.compile(r"[A-Za-z]{3}")


@cache
def currency_names() -> dict[str, str]:
    """{currency name or symbol (as word_key sees it): ISO code}, from ISO 4217 and CLDR.

    A symbol several currencies share ("$", "kr") maps to none of them, except "$", which CLDR's
    English data gives to the US dollar: exports that write "$" mean it, and the note says so.
    """
    import pycountry
    from babel import Locale
    from babel.numbers import get_currency_name

    names: dict[str, str] = {word_key(c.name): c.alpha_3 for c in pycountry.currencies}
    symbols: dict[str, set[str]] = {}
    for tag in CURRENCY_LOCALES:
        locale = Locale.parse(tag)
        for code, name in locale.currencies.items():
            names.setdefault(word_key(name), code)
            # Plural forms ("US dollars", "euros"): one count per plural category that matters here.
            for count in (2, 5):
                names.setdefault(word_key(get_currency_name(code, count, locale)), code)
        for code, symbol in locale.currency_symbols.items():
            if symbol and symbol.upper() != code:
                symbols.setdefault(word_key(symbol), set()).add(code)
    for symbol, codes in symbols.items():
        if len(codes) == 1:
            names.setdefault(symbol, next(iter(codes)))
    names.setdefault("$", "USD")
    return names


@cache
def currency_codes() -> frozenset[str]:
    """Every ISO 4217 code CLDR knows."""
    from babel import Locale

    return frozenset(Locale.parse("en").currencies)


def currency_code(text: str) -> str | None:
    """The ISO code of a currency written as its code, name or symbol; None when it is none of them."""
    code = text.strip().upper()
    if ISO_CODE.fullmatch(code) and code in currency_codes():
        return code
    return currency_names().get(word_key(text))
