"""Numbers as people and spreadsheets write them, parsed to exact Decimals.

Accepted: `1234.56`, `1,234.56`, `1.234,56` and `1 234,56` (European exports), `$12.50`,
`12,50 €`, `EUR 12.50`, `(12.50)` and `12.50-` (credits), the Unicode minus. Whether a comma is
the decimal separator is decided from the values: `12,5` or `1.234,56` can only be a decimal
comma, `12.5` or `1,234.56` only a decimal point; only `1,250` and `1.250` (one separator, then
exactly three digits) are ambiguous, and they follow the column's other values, then the file's,
then the delimiter (`;` files are European). Every text is parsed once, however many rows hold it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

PLAIN = r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?"
# A plain number whose dot could be a thousands separator: 1.250 (one dot, then exactly 3 digits;
# 0.045 cannot be, as no thousands group starts with 0).
AMBIGUOUS_DOT = r"[+-]?[1-9]\d{0,2}\.\d{3}"
CURRENCY = r"(?:US\$|[$€£¥₹]|[A-Z]{3})"
_SPLIT = re.compile(
    rf"(?P<s1>[+-]?)\s*(?:{CURRENCY})?\s*(?P<s2>[+-]?)\s*(?P<body>[\d.,'’ \u00a0\u202f]*?)\s*(?:{CURRENCY})?")
# Grouping spaces and apostrophes (1 234,56; 1'234.56) sit between a digit and three digits.
_GROUPING = re.compile(r"(?<=\d)['’ \u00a0\u202f](?=\d{3}(?!\d))")
_ONE_GROUP_COMMA = re.compile(r"[1-9]\d{0,2},\d{3}")
_ONE_GROUP_DOT = re.compile(r"[1-9]\d{0,2}\.\d{3}")
_DOT_STYLE = re.compile(r"(?:\d{1,3}(?:,\d{3})+|\d*)(?:\.\d*)?")
_COMMA_STYLE = re.compile(r"(?:\d{1,3}(?:\.\d{3})+|\d*)(?:,\d*)?")
# What a money or quantity cell may hold; past it the cell is a reject (it is damage, not an amount),
# so no later step meets 1E+999999999, whose first sum or rounding would raise. No invoice line, price,
# rate or seat count comes near 10^15, and 10,000,000 of them sum exactly in Decimal's 28 digits.
# Digits: Partner Center writes up to 16 decimals (Microsoft's own usage example: EffectiveUnitPrice
# 0.0209496384791679; seat prices carry up to 6), a double prints at most 17 significant digits, and an
# exact prorated price (UnitPrice / 31 x 12) has Decimal's 28; more than 28 would be rounded by the
# first multiplication anyway, so a 40-digit fraction or a 500-digit integer is refused. Places: 32
# keep a 28-digit price under 0.0001 and refuse 1E-400.
MAX_MAGNITUDE = 15
MAX_DIGITS = 28
MAX_PLACES = 32
# A plain number `bounded` leaves as it is: at most 15 integer digits (MAX_MAGNITUDE) and 12 places, so
# within MAX_DIGITS and MAX_PLACES, and no exponent.
SHORT = r"[+-]?\d{1,15}(?:\.\d{0,12})?"
EXPECTED_RANGE = f"under 10^{MAX_MAGNITUDE}, with at most {MAX_DIGITS} significant digits"
_ONE = Decimal(1)


@dataclass(frozen=True)
class NumberTexts:
    """A text column factorized once: `codes` index `texts` (stripped distinct values), -1 for none."""

    codes: np.ndarray
    texts: pd.Series
    index: pd.Index


def factorize_numbers(text: pd.Series) -> NumberTexts:
    import pandas as pd

    codes, uniques = pd.factorize(text, sort=False)
    return NumberTexts(codes=codes, texts=pd.Series(uniques, dtype="str").str.strip(), index=text.index)


def _split(text: str) -> tuple[str, bool] | None:
    """(digits and separators, negative) of a non-plain value; None when it is not a number."""
    value = text.replace("\u2212", "-").strip()
    negative = False
    if value.startswith("(") and value.endswith(")"):
        negative, value = True, value[1:-1].strip()
    elif value.endswith("-") and len(value) > 1:  # SAP and some ERPs write credits as 12.50-
        negative, value = True, value[:-1].strip()
    found = _SPLIT.fullmatch(value)
    if found is None or (found["s1"] and found["s2"]):
        return None
    body = _GROUPING.sub("", found["body"])
    if not any(ch.isdigit() for ch in body) or any(ch in body for ch in "'’ \u00a0\u202f"):
        return None
    return body, negative or "-" in (found["s1"], found["s2"])


def _vote(body: str) -> str | None:
    """'dot' or 'comma' when the value can only be read one way; None when ambiguous or whole.

    A value that is malformed either way (1.2.3) votes for nothing.
    """
    style = _style(body)
    if style == "dot":
        return style if _DOT_STYLE.fullmatch(body) else None
    if style == "comma":
        return style if _COMMA_STYLE.fullmatch(body) else None
    return None


def _style(body: str) -> str | None:
    comma, dot = body.rfind(","), body.rfind(".")
    if comma >= 0 and dot >= 0:
        return "comma" if comma > dot else "dot"
    if comma >= 0:
        if body.count(",") > 1:
            return "dot"
        return None if _ONE_GROUP_COMMA.fullmatch(body) else "comma"
    if dot >= 0:
        if body.count(".") > 1:
            return "comma"
        return None if _ONE_GROUP_DOT.fullmatch(body) else "dot"
    return None


def _canonical(body: str, decimal_comma: bool) -> str | None:
    style = _vote(body) or ("comma" if decimal_comma else "dot")
    if style == "dot":
        return body.replace(",", "") if _DOT_STYLE.fullmatch(body) else None
    return body.replace(".", "").replace(",", ".") if _COMMA_STYLE.fullmatch(body) else None


def has_comma(numbers: NumberTexts) -> bool:
    """Any value with a comma: without one, only a European file could read 1.250 as 1250."""
    return bool(numbers.texts.str.contains(",", regex=False).any())


def separator_votes(numbers: NumberTexts) -> tuple[int, int]:
    """(values that prove a decimal point, values that prove a decimal comma), over distinct values."""
    texts = numbers.texts
    plain = texts.str.fullmatch(PLAIN)
    plain_dot = plain & texts.str.contains(".", regex=False) & ~texts.str.fullmatch(AMBIGUOUS_DOT) & \
        ~texts.str.contains("[eE]", regex=True)
    dot, comma = int(plain_dot.sum()), 0
    for value in texts[~plain & (texts != "")].tolist():
        split = _split(value)
        vote = _vote(split[0]) if split else None
        dot += vote == "dot"
        comma += vote == "comma"
    return dot, comma


def parse_numbers(numbers: NumberTexts, decimal_comma: bool = False) -> tuple[pd.Series, pd.Series]:
    """Decimals (None for blank) and a mask of cells that are not numbers, broadcast to every row."""
    import numpy as np
    import pandas as pd

    texts = numbers.texts
    plain = texts.str.fullmatch(PLAIN).to_numpy(dtype=bool).copy()
    if decimal_comma:
        # In a decimal-comma file, 1.250 is one thousand two hundred and fifty.
        plain &= ~texts.str.fullmatch(AMBIGUOUS_DOT).to_numpy(dtype=bool)
    values_list = texts.tolist()
    # Plain numbers (nearly all of them) go straight to Decimal; the pattern guarantees they parse. A short
    # one is within every bound as it is (SHORT): `bounded` only for the others.
    short = texts.str.fullmatch(SHORT).to_numpy(dtype=bool).tolist()
    parsed: list[Decimal | None] = [(Decimal(v) if fits else bounded(Decimal(v))) if ok else None
                                    for v, ok, fits in zip(values_list, plain.tolist(), short, strict=True)]
    for position in np.flatnonzero(~plain).tolist():
        value = values_list[position]
        if value:
            split = _split(value)
            canonical = _canonical(split[0], decimal_comma) if split else None
            number = _decimal(canonical) if canonical else None
            parsed[position] = -number if number is not None and split and split[1] else number
    bad = [number is None and value != "" for number, value in zip(parsed, values_list, strict=True)]
    values = np.array([*parsed, None], dtype=object)
    bad_array = np.array([*bad, False], dtype=bool)
    codes = np.where(numbers.codes < 0, len(parsed), numbers.codes)
    return (pd.Series(values[codes], index=numbers.index, dtype=object),
            pd.Series(bad_array[codes], index=numbers.index))


def _decimal(text: str) -> Decimal | None:
    try:
        return bounded(Decimal(text))
    except InvalidOperation:
        return None


def bounded(number: Decimal) -> Decimal | None:
    """The number when it can be an amount or a quantity (see MAX_MAGNITUDE), else None.

    Checked on its digits alone, with no arithmetic, so 1E+999999999 costs nothing. Trailing zeros
    are not digits that count (1.50000000000000000000000 is 1.5), and an exponent form is written
    out (1E+3 is 1000), so the text the store and the outputs write is always plain.
    """
    if not number.is_finite():
        return None
    sign, digits, exponent = number.as_tuple()
    assert isinstance(exponent, int)  # a finite number's exponent
    if number.is_zero():
        return number if -MAX_PLACES <= exponent <= 0 else Decimal(0)
    kept = len(digits)
    while digits[kept - 1] == 0:
        kept -= 1
    scale = exponent + len(digits) - kept  # the exponent of the last significant digit
    if scale + kept > MAX_MAGNITUDE or kept > MAX_DIGITS or -scale > MAX_PLACES:
        return None
    if -exponent > MAX_PLACES:
        number = Decimal((sign, digits[:kept], scale))
    return number.quantize(_ONE) if exponent > 0 else number


def parse_decimal(text: pd.Series, decimal_comma: bool | None = None) -> tuple[pd.Series, pd.Series]:
    """Exact decimals from text; the separator decided from this column's values unless given.

    Returns:
        (values: object Series of Decimal or None for blank, bad: bool mask of unparseable cells).
    """
    numbers = factorize_numbers(text)
    if decimal_comma is None:
        dot, comma = separator_votes(numbers)
        decimal_comma = comma > dot
    return parse_numbers(numbers, decimal_comma)
