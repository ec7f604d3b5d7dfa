"""What `recon run`'s options accept: a billing period, an as-of date, a percentage.

Plain parsers that raise ValueError with what was expected; the CLI wraps each in a click
parameter type, so a bad value is a usage error naming the flag (exit 2).
"""

from __future__ import annotations

import re
from datetime import datetime, time
from decimal import Decimal, InvalidOperation
from typing import Any

AS_OF_FORMATS = ("%Y-%m-%d", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S", "%m/%d/%Y")


def parse_period(value: Any) -> str:
    """YYYY-MM."""
    text = str(value).strip()
    if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", text):
        raise ValueError(f"expected YYYY-MM like 2026-10, found {value!r}")
    return text


def parse_as_of(value: Any) -> datetime:
    """A date (meaning the end of that day, so a change made on it counts) or a date and time."""
    if isinstance(value, datetime):
        return value
    text = str(value).strip()
    for fmt in AS_OF_FORMATS:
        try:
            parsed = datetime.strptime(text, fmt)
        except ValueError:
            continue
        return datetime.combine(parsed.date(), time.max) if len(text) <= 10 else parsed
    raise ValueError(f"expected a date like 2026-10-31, found {value!r}")


def parse_percent(value: Any) -> Decimal:
    """15, 15.5 or 15%."""
    try:
        number = Decimal(str(value).strip().rstrip("%"))
    except InvalidOperation:
        number = Decimal("NaN")
    if not number.is_finite():
        raise ValueError(f"expected a number like 15 (percent), found {value!r}")
    return number
