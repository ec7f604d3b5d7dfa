"""Input formats declared as data: each column's source header, our name, type and rules.

`load` matches headers against these declarations; `normalize` parses each column by
its declared type. Adding a provider is adding a module (or a TOML profile) here, not code
in the stages.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from recon_cli.errors import InputError

if TYPE_CHECKING:
    import pandas as pd

# Column types normalize.py knows how to parse.
TEXT, ID, GUID, MONEY, NUMBER, DATE = "text", "id", "guid", "money", "number", "date"
# Invoice columns the rules read (event order, charge periods, prices, arithmetic): a bad value in
# one rejects the line, as in a required column; a bad value elsewhere (TaxTotal...) only warns.
INVOICE_VITAL = frozenset({"order_date", "charge_start", "charge_end", "effective_unit_price", "list_unit_price",
                           "billable_quantity", "exchange_rate"})
# Orders of the day and month in a date written with slashes (`--date-format`).
DATE_ORDERS = ("MDY", "DMY")


def header_key(name: str) -> str:
    """Headers compare case-, space- and punctuation-insensitively ("Subscription ID" == "subscription_id")."""
    return re.sub(r"[^0-9a-z]", "", name.replace("\ufeff", "").lower())


@dataclass(frozen=True)
class Column:
    """One declared column.

    Attributes:
        name: our name for it, used by every later stage.
        source: the header as the provider or billing system writes it.
        type: how normalize parses it (TEXT, ID, GUID, MONEY, NUMBER, DATE).
        required: the header must be present, or the file is refused.
        nonblank: every row needs a value, or the row is rejected.
        aliases: other headers that mean the same column.
        match_name: our own name also counts as a header for it. Profiles turn this off for the
            columns they map, so `--invoice-format pax8` never reads an NCE `Subtotal` by accident.
        meaning: what the column holds, in a sentence: the README's input tables print it.
    """

    name: str
    source: str
    type: str = TEXT
    required: bool = False
    nonblank: bool = False
    aliases: tuple[str, ...] = ()
    match_name: bool = True
    meaning: str = field(default="", compare=False)

    def header_keys(self) -> tuple[str, ...]:
        names = (self.source, self.name, *self.aliases) if self.match_name else (self.source, *self.aliases)
        # A column with no header of its own (a blank kept for the common shape) matches nothing.
        return tuple(key for key in (header_key(h) for h in names) if key)


@dataclass(frozen=True)
class TableFormat:
    """A declared table layout: its columns, how to recognise it, and its provider's conventions.

    Attributes:
        signature: headers that, all present, identify this format when auto-detecting.
        description: one sentence for `recon formats` (where the file comes from, caveats).
        base: the format this one extends (a profile over `nce`); its other columns are inherited.
        known_charge_types: ChargeType keys (lower case, no spaces) documented for this format;
            anything else is kept and reported.
        cancel_charge_types: ChargeType keys that end a subscription.
        cancel_contains: a ChargeType key containing this word is a cancellation too (legacy
            "Prorate fees when cancel").
        date_order: "MDY" or "DMY" as the provider documents it: used when the values leave the
            order open (a value like 13/10/2026 decides it; a file in a European layout still
            needs `--date-format`, as a regional re-export may have changed it).
        declared_date_order: the order a profile's author declared: used as `--date-format` is.
        decimal_comma: True / False when the provider documents it; else decided from the values.
        defaults: text used for a column that is absent or blank (a profile's `currency = "EUR"`).
        fallbacks: our column -> another of ours used where the first is blank.
        derive: extra clean-up on the typed frame, for what a format computes differently.
        vital: columns whose header is optional but whose bad value still rejects the row (a change
            log's quantity_delta, which old and new quantity may replace).
        event_ranks: ChargeType key -> its place among same-day events (PRODUCT.md §3 rule 3):
            0 for what starts a cycle (new, renew...), 1 for seat changes (the default),
            2 for cancellations.
    """

    name: str
    title: str
    columns: tuple[Column, ...]
    signature: tuple[str, ...] = field(default=())
    description: str = ""
    base: TableFormat | None = None
    known_charge_types: frozenset[str] = frozenset()
    cancel_charge_types: frozenset[str] = frozenset()
    cancel_contains: str | None = None
    date_order: str | None = None
    declared_date_order: str | None = None
    decimal_comma: bool | None = None
    defaults: Mapping[str, str] = field(default_factory=dict, hash=False)
    fallbacks: Mapping[str, str] = field(default_factory=dict, hash=False)
    derive: Callable[[pd.DataFrame], pd.DataFrame] | None = None
    event_ranks: Mapping[str, int] = field(default_factory=dict, hash=False)
    vital: frozenset[str] = frozenset()

    def rejects_bad(self, column: Column) -> bool:
        """Whether a bad value in `column` rejects its row (PRODUCT.md §2): the required columns do; any
        other column keeps the row, leaves that field blank and warns."""
        return column.required or column.nonblank or column.name in self.vital

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)

    def matches(self, headers: list[str]) -> bool:
        keys = {header_key(h) for h in headers}
        return bool(self.signature) and all(header_key(s) in keys for s in self.signature)

    def own_columns(self) -> tuple[Column, ...]:
        """The columns read from the file: not inherited from a base, not kept blank."""
        base = {c.name: c.header_keys() for c in self.base.columns} if self.base is not None else {}
        return tuple(c for c in self.columns if c.header_keys() and base.get(c.name) != c.header_keys())


def blank_columns(base: TableFormat, declared: tuple[Column, ...]) -> tuple[Column, ...]:
    """The base's columns that `declared` lacks, with no header: read as blank, so every format
    yields the same frame columns (a legacy file has no PCToBCExchangeRate, yet the column exists)."""
    names = {c.name for c in declared}
    return tuple(Column(c.name, "", c.type, match_name=False) for c in base.columns if c.name not in names)


def charge_type_key(text: str) -> str:
    """ChargeType compared without case, spaces or punctuation ("Cycle fee" == "CYCLE_FEE")."""
    return header_key(text)


def resolve_columns(headers: list[str], where: str, fmt: TableFormat, requested: str | None = None
                    ) -> dict[str, str]:
    """Map our column names to the file's headers; refuse a file missing a required column.

    Args:
        headers: the file's headers; `where` names the file (and sheet) in messages.
        requested: the `--invoice-format` the user gave, named in the message when it was forced.

    Returns:
        {our name: header in the file} for every declared column found.
    """
    by_key: dict[str, str] = {}
    for name in headers:
        by_key.setdefault(header_key(name), name)
    found: dict[str, str] = {}
    used: set[str] = set()
    for column in fmt.columns:
        for key in column.header_keys():
            header = by_key.get(key)
            if header is not None and header not in used:
                found[column.name] = header
                used.add(header)
                break
    missing = [c for c in fmt.columns if c.required and c.name not in found]
    if missing:
        names = ", ".join(f"'{c.source}'" for c in missing)
        also = "; ".join(f"'{c.source}' may also be named {', '.join(repr(a) for a in c.aliases[:6])}"
                         for c in missing if c.aliases)
        forced = f" (--invoice-format {requested})" if requested and requested != "auto" else ""
        raise InputError(
            f"{where}: required column {names} not found; the columns are: "
            f"{', '.join(headers) or '(none)'}; expected a {fmt.title} file{forced}"
            + (f" ({also})" if also else "")
        )
    return found
