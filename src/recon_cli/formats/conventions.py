"""Per-file decisions about how numbers and dates are written, from the values themselves.

Decimal separator: per column from the values that can only be read one way, else the file's,
else the provider's documented choice, else the delimiter (`;` files come from European Excel).
Date order: per file. A value like 13/10/2026 proves day-first, 10/13/2026 month-first; when no
value tells, the provider's documented order is used for a file in its usual layout, and a
file in a European layout (`;`, decimal comma) needs `--date-format`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from recon_cli.errors import InputError
from recon_cli.formats.numbers import NumberTexts, has_comma, separator_votes

if TYPE_CHECKING:
    from recon_cli.formats import TableFormat
    from recon_cli.formats.dates import DateEvidence

FLAG = "--date-format"


@dataclass(frozen=True)
class DecimalStyles:
    """Which numeric columns use a decimal comma, and whether the file looks European."""

    comma: dict[str, bool]
    european: bool
    note: str | None


def decide_decimal_styles(numbers: dict[str, NumberTexts], fmt: TableFormat, where: str, delimiter: str
                          ) -> DecimalStyles:
    """The decimal separator of each numeric column (see the module docstring)."""
    if fmt.decimal_comma is None and delimiter != ";" and not any(has_comma(t) for t in numbers.values()):
        # The usual file: no value has a comma, so every value reads one way with a decimal point.
        return DecimalStyles(comma=dict.fromkeys(numbers, False), european=False, note=None)
    votes = {name: separator_votes(texts) for name, texts in numbers.items()}
    dots, commas = sum(v[0] for v in votes.values()), sum(v[1] for v in votes.values())
    if fmt.decimal_comma is not None:
        file_comma = fmt.decimal_comma
    elif commas != dots:
        file_comma = commas > dots
    else:
        file_comma = delimiter == ";"
    comma = {name: (c > d) if c != d else file_comma for name, (d, c) in votes.items()}
    note = None
    if any(comma.values()):
        example = _comma_example(numbers, comma)
        note = (f"{where}: amounts read with a decimal comma (European layout)"
                + (f", e.g. {example!r}" if example else "") + ".")
    return DecimalStyles(comma=comma, european=delimiter == ";" or commas > dots, note=note)


def _comma_example(numbers: dict[str, NumberTexts], comma: dict[str, bool]) -> str | None:
    for name, texts in numbers.items():
        if comma[name]:
            found = texts.texts[texts.texts.str.contains(",", regex=False)]
            if len(found):
                return str(found.iloc[0])
    return None


def decide_date_order(evidence: DateEvidence, fmt: TableFormat, where: str, date_format: str | None,
                      european: bool) -> tuple[str, list[str]]:
    """The order of day and month in the file's slashed dates, and any note for the user.

    Raises:
        InputError: the values prove both orders and no `--date-format` was given, or they never
            tell in a European-layout file without `--date-format`.
    """
    day, month, ambiguous = evidence.day_first, evidence.month_first, evidence.ambiguous
    if day and month:
        if date_format:
            return date_format, []  # values that do not fit the order asked for are rejected
        (day_column, day_value), (month_column, month_value) = next(iter(day.items())), next(iter(month.items()))
        raise InputError(
            f"{where}: dates are written both ways: '{day_column}' has {day_value!r} (day first) and "
            f"'{month_column}' has {month_value!r} (month first); give {FLAG} DMY or {FLAG} MDY")
    for proof, order, words in ((day, "DMY", "day first (D/M/YYYY)"), (month, "MDY", "month first (M/D/YYYY)")):
        if not proof:
            continue
        column, value = next(iter(proof.items()))
        if date_format and date_format != order:
            return order, [f"{where}: {FLAG} {date_format} not used: {value!r} in '{column}' can only be "
                           f"read {words}."]
        if order != (fmt.date_order or "MDY") and not date_format:
            return order, [f"{where}: dates read {words}: {value!r} in '{column}' can only be read that way."]
        return order, []
    if ambiguous and not date_format:
        column, value = next(iter(ambiguous.items()))
        if european:
            raise InputError(
                f"{where}: dates like {value!r} ('{column}') could be month first or day first and no value "
                f"in the file tells; the file has a European layout, so give {FLAG} DMY (day first) or "
                f"{FLAG} MDY (month first)")
        if fmt.date_order is None:
            return "MDY", [f"{where}: dates like {value!r} ('{column}') could be month first or day first; "
                           f"read as M/D/YYYY. If that is wrong, run again with {FLAG} DMY."]
    return date_format or fmt.date_order or "MDY", []
