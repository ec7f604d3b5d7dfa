"""Frame cells as plain Python values, shared by the JSON, CSV and workbook writers.

Money stays exact (a Decimal becomes its own digits as text, never a float), missing values
become None, and the evidence column becomes lists of change ids whatever form it arrives in.
Column-wise and standard library only: pandas is only a type here.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd


def decimal_text(value: Decimal) -> str:
    """Fixed-point text of a Decimal ("720.00", never "7.2E+2")."""
    text = str(value)  # C-fast; only exponent forms need the slower format()
    return format(value, "f") if "E" in text else text


def scalar(value: Any) -> Any:
    """A JSON-ready scalar from whatever a frame cell holds (NaN, NA, numpy, Decimal...)."""
    if value is None or value.__class__ is str:
        return value
    if isinstance(value, Decimal):
        return decimal_text(value) if value.is_finite() else None
    if isinstance(value, float):
        return None if value != value or value in (float("inf"), float("-inf")) else value
    if isinstance(value, bool | int):
        return value
    if hasattr(value, "isoformat"):
        return None if str(value) == "NaT" else value.isoformat()
    if hasattr(value, "item") and getattr(value, "ndim", 1) == 0:
        return scalar(value.item())  # a numpy scalar
    if value.__class__.__name__ in ("NAType", "NaTType"):
        return None
    return str(value)


def plain_column(series: pd.Series) -> list[Any]:
    """A column as JSON-ready Python values: Decimal as text, NA as None, ints as int."""
    if series.dtype.kind in "iub" and not series.hasnans:  # nullable Int64 with NA goes below
        return series.tolist()
    values = series.tolist()
    # Most cells are str or Decimal: test those inline, call scalar() only for the rest.
    return [
        v if v.__class__ is str
        else (decimal_text(v) if v.__class__ is Decimal and v.is_finite() else scalar(v))
        for v in values
    ]


def evidence_lists(series: pd.Series) -> list[list[str]]:
    """The `evidence` column as lists of change ids (lists, arrays, or text joined by ","
    as the store keeps them, or ";")."""
    out: list[list[str]] = []
    for value in series.tolist():
        if isinstance(value, str):
            out.append([part.strip() for part in value.replace(";", ",").split(",") if part.strip()])
        elif value is None or isinstance(value, float):
            out.append([])
        else:
            out.append([str(v) for v in value])
    return out
