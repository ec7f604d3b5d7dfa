"""Read the words of billing exports: statuses, billing plans, provisioning statuses and currencies.

Each distinct value is looked up once in formats/vocabularies.py (a million lines hold a handful
of them). A value outside the vocabulary is kept, read the cautious way the caller names, and
reported in one note with a count and an example (PRODUCT.md §2 "Never silently misread").
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from recon_cli.formats.vocabularies import currency_code, synonyms, word_key

if TYPE_CHECKING:
    import pandas as pd


@dataclass(frozen=True)
class Words:
    """A column read through a vocabulary: the values the rules use, and what the user should know."""

    read: pd.Series
    notes: tuple[str, ...] = ()


def read_words(text: pd.Series, rows: pd.Series, vocabulary: dict[str, tuple[str, ...]], *, where: str,
               header: str | None, unknown_as: str | None, reading: str) -> Words:
    """Each cell as the word the rules use; blank stays blank.

    Args:
        rows: the spreadsheet row of each cell, for the note's example.
        unknown_as: what a value outside the vocabulary is read as; None keeps it (lower case).
        reading: how an unknown value is read, in words, for the note ("read as active").
    """
    known = synonyms(vocabulary)
    return _read(text, rows, lambda value: known.get(word_key(value)), where=where, header=header,
                 unknown=(lambda value: unknown_as if unknown_as is not None else word_key(value)),
                 reading=reading, listing=", ".join(key for key in vocabulary if key))


def read_currencies(text: pd.Series, rows: pd.Series, *, where: str, header: str | None) -> Words:
    """ISO codes from codes, names or symbols ("US Dollar", "Euro", "€"), with a note naming the mapping.

    An unknown currency is kept in upper case: it then fails to match the invoice's currency and the
    line says `currency_mismatch`, which is the cautious reading.
    """
    import numpy as np
    import pandas as pd

    words = _read(text, rows, currency_code, where=where, header=header,
                  unknown=lambda value: value.strip().upper(), reading="kept as written; it matches no invoice "
                  "currency", listing="ISO 4217 codes, or currency names and symbols")
    written = text.str.strip().str.upper()
    named = (written != words.read) & (words.read != "") & (words.read != written)
    if not named.any():
        return words
    pairs = pd.DataFrame({"value": text[named], "code": words.read[named]}).drop_duplicates()
    shown = ", ".join(f"'{value}' as {code}" for value, code in pairs.head(4).itertuples(index=False))
    note = (f"{where}: column '{header}': {int(np.count_nonzero(named))} cell(s) name a currency rather than "
            f"give its ISO code; read {shown}{' ...' if len(pairs) > 4 else ''}.")
    return Words(words.read, (note, *words.notes))


def _read(text: pd.Series, rows: pd.Series, look_up: Callable[[str], str | None], *, where: str,
          header: str | None, unknown: Callable[[str], str], reading: str, listing: str) -> Words:
    import pandas as pd

    codes, uniques = pd.factorize(text, sort=False)
    if len(uniques) == 0:
        return Words(pd.Series([""] * len(text), index=text.index, dtype="str"))
    read: list[str] = []
    strange: list[int] = []
    for position, value in enumerate(uniques):
        value = str(value)
        if not value.strip():
            read.append("")
            continue
        found = look_up(value)
        if found is None:
            strange.append(position)
            found = unknown(value)
        read.append(found)
    values = pd.Series([*read, ""], dtype="str").take(codes).set_axis(text.index)
    if not strange:
        return Words(values)
    odd = pd.Series(codes, index=text.index).isin(strange)
    first = int(odd.to_numpy().argmax())
    distinct = [repr(str(uniques[i])) for i in strange]
    note = (f"{where}: column '{header}': {int(odd.sum())} cell(s) hold a value outside the known words "
            f"({listing}): {', '.join(distinct[:5])}{' ...' if len(distinct) > 5 else ''} (first at row "
            f"{rows.iloc[first]}); {reading}.")
    return Words(values, (note,))
