"""Billing periods (YYYY-MM) counted in months: standard library only, for the light commands too."""

from __future__ import annotations


def months_between(first: str, last: str) -> int:
    """Whole months from period `first` to `last`, counting both: 2026-10 to 2026-12 is 3."""
    year_a, month_a = (int(part) for part in first.split("-"))
    year_b, month_b = (int(part) for part in last.split("-"))
    return (year_b - year_a) * 12 + month_b - month_a + 1


def previous_period(period: str) -> str:
    """The month before `period`: 2027-01 -> 2026-12."""
    year, month = (int(part) for part in period.split("-"))
    return f"{year - 1}-12" if month == 1 else f"{year}-{month - 1:02d}"
