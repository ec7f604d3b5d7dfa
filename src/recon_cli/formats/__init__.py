"""Input formats declared as data: each column's source header, our name, type and rules.

`load` matches headers against these declarations; `normalize` parses each column by
its declared type. Adding a provider is adding a module here, not code in the stages.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

# Column types normalize.py knows how to parse.
TEXT, ID, GUID, MONEY, NUMBER, DATE = "text", "id", "guid", "money", "number", "date"


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
    """

    name: str
    source: str
    type: str = TEXT
    required: bool = False
    nonblank: bool = False
    aliases: tuple[str, ...] = ()

    def header_keys(self) -> tuple[str, ...]:
        return tuple(header_key(h) for h in (self.source, self.name, *self.aliases))


@dataclass(frozen=True)
class TableFormat:
    """A declared table layout: its columns and how to recognise it from a header."""

    name: str
    title: str
    columns: tuple[Column, ...]
    # Headers that, all present, identify this format when auto-detecting.
    signature: tuple[str, ...] = field(default=())

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)

    def matches(self, headers: list[str]) -> bool:
        keys = {header_key(h) for h in headers}
        return bool(self.signature) and all(header_key(s) in keys for s in self.signature)
