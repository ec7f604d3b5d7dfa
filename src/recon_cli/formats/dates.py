"""Dates as exports write them: M/D/YYYY (Partner Center), D/M/YYYY (European re-exports),
D.M.YYYY, ISO 8601 with or without time and zone, and the text an xlsx date cell gives.

Which of day and month comes first in a slashed date is decided per file from its values:
13/10/2026 can only be D/M, 10/13/2026 only M/D. A file whose values never tell needs the
provider's documented order or `--date-format`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

# day-or-month, day-or-month, year, then an optional time: 10/3/2020, 2/1/2019 0:00, 13-10-2026.
SLASHED = r"(\d{1,2})[/-](\d{1,2})[/-](\d{4}|\d{2})(?:[ T]+(.+))?"
# German and other dotted dates are always day first: 13.10.2026.
DOTTED = r"(\d{1,2})\.(\d{1,2})\.(\d{4}|\d{2})(?:[ T]+(.+))?"
MONTH_NAME = r"(?i)\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?\b"
# Timezone suffixes are dropped: the date as the provider wrote it is the date we use.
TZ_SUFFIX = r"(?:Z|[+-]\d\d:?\d\d)$"
# After ISO 8601, for what it does not take: 12-hour clocks (1/31/2023 11:59:59 PM).
TIME_FORMATS = (" %H:%M", " %H:%M:%S", " %I:%M:%S %p", " %I:%M %p", " %I:%M:%S.%f %p")


@dataclass(frozen=True)
class DateTexts:
    """A text column factorized once: `codes` index `texts` (stripped distinct values)."""

    codes: np.ndarray
    texts: pd.Series
    index: pd.Index


@dataclass
class DateEvidence:
    """Examples that decide the order of a file's slashed dates, by column."""

    day_first: dict[str, str]  # column -> a value only D/M reads (13/10/2026)
    month_first: dict[str, str]  # column -> a value only M/D reads (10/13/2026)
    ambiguous: dict[str, str]  # column -> a value either reads differently (5/10/2026)

    def add(self, column: str, dates: DateTexts) -> None:
        import numpy as np
        import pandas as pd

        texts = dates.texts
        candidates = texts[texts.str.match(r"\d{1,2}[/-]\d{1,2}[/-]\d").to_numpy(dtype=bool, na_value=False)]
        if candidates.empty:
            return
        parts = candidates.str.extract(f"^{SLASHED}$")
        first = pd.to_numeric(parts[0], errors="coerce").to_numpy(dtype=float)
        second = pd.to_numeric(parts[1], errors="coerce").to_numpy(dtype=float)
        values = candidates.to_numpy(dtype=object)
        for found, mask in ((self.day_first, (first > 12) & (second <= 12)),
                            (self.month_first, (second > 12) & (first <= 12)),
                            (self.ambiguous, (first <= 12) & (second <= 12) & (first != second))):
            hits = np.flatnonzero(mask)
            if len(hits) and column not in found:
                found[column] = str(values[hits[0]])


def factorize_dates(text: pd.Series) -> DateTexts:
    import pandas as pd

    codes, uniques = pd.factorize(text, sort=False)
    return DateTexts(codes=codes, texts=pd.Series(uniques, dtype="str").str.strip(), index=text.index)


def to_iso(texts: pd.Series, order: str) -> pd.Series:
    """Slashed and dotted dates rewritten as ISO text (one regex each), so every value parses alike.

    ISO 8601 parsing takes single-digit months, days and hours, so no padding is needed.
    """
    month, day = (r"\1", r"\2") if order == "MDY" else (r"\2", r"\1")
    iso = texts
    four, two = r"(\d{4})", r"(\d{2})"
    if iso.str.contains("/", regex=False).any() or iso.str.match(r"\d{1,2}-").any():
        for year, century in ((four, ""), (two, "20")):
            pattern = "^" + SLASHED.replace(r"(\d{4}|\d{2})", year) + "$"
            iso = iso.str.replace(pattern, rf"{century}\3-{month}-{day} \4", regex=True)
    if iso.str.contains(".", regex=False).any():
        for year, century in ((four, ""), (two, "20")):
            pattern = "^" + DOTTED.replace(r"(\d{4}|\d{2})", year) + "$"
            iso = iso.str.replace(pattern, rf"{century}\3-\2-\1 \4", regex=True)
    return iso


def parse_dates(dates: DateTexts, order: str = "MDY") -> tuple[pd.Series, pd.Series]:
    """datetime64 values (NaT for blank or bad) and a mask of cells that are not dates.

    Args:
        order: "MDY" or "DMY", for slashed dates.
    """
    import numpy as np
    import pandas as pd

    texts = dates.texts
    iso = to_iso(texts, order)
    result = pd.Series(pd.NaT, index=texts.index, dtype="datetime64[us]")
    todo = (texts != "").to_numpy(dtype=bool).copy()
    iso = iso.str.replace(TZ_SUFFIX, "", regex=True).str.replace(r"(\.\d{6})\d+", r"\1", regex=True).str.strip()
    # ISO 8601 first (what every value is, once rewritten); the formats after it catch the rest.
    for time_format in ("ISO8601", *TIME_FORMATS):
        if not todo.any():
            break
        pattern = time_format if time_format == "ISO8601" else f"%Y-%m-%d{time_format}"
        parsed = pd.to_datetime(iso[todo], format=pattern, errors="coerce")
        result[parsed.index] = result[parsed.index].fillna(parsed.astype("datetime64[us]"))
        todo &= result.isna().to_numpy()
    # Month names ("5-Oct-2026", "October 5, 2026") name the month, so they are never ambiguous.
    named = todo.copy()
    if todo.any():
        named &= texts.str.contains(MONTH_NAME, regex=True).to_numpy(dtype=bool)
    if named.any():
        parsed = pd.to_datetime(texts[named], format="mixed", dayfirst=order == "DMY", errors="coerce")
        result[parsed.index] = result[parsed.index].fillna(parsed.astype("datetime64[us]"))
        todo &= result.isna().to_numpy()
    # 0001-01-01 is the API's null date, not a date.
    result[result.dt.year <= 1] = pd.NaT
    bad_unique = np.array([*todo.tolist(), False], dtype=bool)
    values_unique = np.array([*result.to_numpy(), np.datetime64("NaT")], dtype="datetime64[us]")
    codes = np.where(dates.codes < 0, len(values_unique) - 1, dates.codes)
    return (pd.Series(values_unique[codes], index=dates.index),
            pd.Series(bad_unique[codes], index=dates.index))


def parse_date(text: pd.Series, order: str = "MDY") -> tuple[pd.Series, pd.Series]:
    """Dates from text (see `parse_dates`)."""
    return parse_dates(factorize_dates(text), order)
