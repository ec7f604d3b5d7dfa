"""Column-wise text for `recon sample`: numbers, dates and ids as CSV-ready pyarrow strings, and the
writers that turn columns (or a few hand-built rows) into CSV bytes.

A million lines are formatted with a few dozen vectorised calls: never one Python call per line.
"""

from __future__ import annotations

import csv
import io
from datetime import date
from typing import IO

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

NO_DATE = -(10**6)
EPOCH = date(1970, 1, 1).toordinal()

_HEX = np.array([f"{i:02x}".encode() for i in range(256)], dtype="S2")
_GUID_POSITIONS = [*range(8), *range(9, 13), *range(14, 18), *range(19, 23), *range(24, 36)]


def text(values: np.ndarray) -> pa.Array:
    return pc.cast(pa.array(values), pa.string())


def take(table: list[str] | tuple[str, ...], index: np.ndarray) -> pa.Array:
    return pc.take(pa.array(list(table), pa.string()), pa.array(index))


def pick(values: pa.Array, part: slice | np.ndarray) -> pa.Array:
    """Rows `part` of a pyarrow array: a zero-copy slice, or a gather."""
    if isinstance(part, slice):
        return values[part]
    return pc.take(values, pa.array(part))


def quoted(value: str) -> str:
    """A CSV cell for a value that holds quotes or commas (the JSON arrays)."""
    return '"' + value.replace('"', '""') + '"' if value else ""


def cents(values: np.ndarray) -> pa.Array:
    """Non-negative integer cents as "12.34"."""
    return pc.binary_join_element_wise(text(values // 100), pc.utf8_lpad(text(values % 100), 2, "0"), ".")


def signed_cents(values: np.ndarray) -> pa.Array:
    """Integer cents as "12.34" or "-12.34"."""
    negative = values < 0
    out = cents(np.abs(values))
    if not negative.any():
        return out
    return pc.if_else(pa.array(negative), pc.binary_join_element_wise("-", out, ""), out)


def micro(values: np.ndarray) -> pa.Array:
    """Non-negative micro-units as the shortest decimal ("23.200004", "744")."""
    whole, fraction = text(values // 10**6), pc.utf8_lpad(text(values % 10**6), 6, "0")
    joined = pc.binary_join_element_wise(whole, fraction, ".")
    return pc.utf8_rtrim(pc.utf8_rtrim(joined, characters="0"), characters=".")


def day_of(value: date) -> int:
    """A date as days since 1970-01-01, the unit of every date column."""
    return value.toordinal() - EPOCH


def date_of(days: int) -> date:
    return date.fromordinal(EPOCH + days)


def dates(days: np.ndarray, iso: bool = False) -> pa.Array:
    """Days since 1970-01-01 as M/D/YYYY (or YYYY-MM-DD); NO_DATE as an empty cell."""
    unique, inverse = np.unique(days, return_inverse=True)
    texts = []
    for value in unique.tolist():
        day = date_of(value) if value != NO_DATE else None
        texts.append("" if day is None else day.isoformat() if iso else f"{day.month}/{day.day}/{day.year}")
    return take(texts, inverse.ravel())


def month_day(base: np.datetime64, months: np.ndarray, day: np.ndarray) -> np.ndarray:
    """Days since epoch of (`base` month + `months`, `day`)."""
    first = (base + months.astype("timedelta64[M]")).astype("datetime64[D]")
    days: np.ndarray = first.astype(np.int64) + day - 1
    return days


def month_of(days: np.ndarray) -> np.ndarray:
    """The month of each day, as numpy months since 1970-01."""
    months: np.ndarray = days.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)
    return months


def hexes(rng: np.random.Generator, n: int, nbytes: int) -> np.ndarray:
    """n random lower-case hex strings of 2 x nbytes characters, as a (n, 2*nbytes) uint8 array."""
    raw = rng.integers(0, 256, size=(n, nbytes), dtype=np.uint8)
    if nbytes == 16:  # a version-4 GUID
        raw[:, 6] = (raw[:, 6] & 0x0F) | 0x40
        raw[:, 8] = (raw[:, 8] & 0x3F) | 0x80
    return np.ascontiguousarray(_HEX[raw]).view(np.uint8).reshape(n, 2 * nbytes)


def chars(values: np.ndarray) -> pa.Array:
    width = values.shape[1]
    array = pa.array(np.ascontiguousarray(values).view(f"S{width}").ravel(), pa.binary())
    if isinstance(array, pa.ChunkedArray):  # pyarrow splits big conversions
        array = array.combine_chunks()
    return pc.cast(array, pa.string())


def guids(rng: np.random.Generator, n: int) -> pa.Array:
    out = np.full((n, 36), ord("-"), dtype=np.uint8)
    out[:, _GUID_POSITIONS] = hexes(rng, n, 16)
    return chars(out)


def csv_text(columns: tuple[str, ...], rows: list[dict[str, str]], terminator: str) -> bytes:
    """The header and a few hand-built rows, through the csv module."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator=terminator)
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")


def write_columns(handle: IO[bytes], columns: list[pa.Array | str], terminator: str) -> None:
    """Join pre-quoted text columns into CSV lines and write the bytes as they lie in memory."""
    if not any(isinstance(c, pa.Array) and len(c) for c in columns):
        return
    lines = pc.binary_join_element_wise(pc.binary_join_element_wise(*columns, ","), terminator, "")
    if isinstance(lines, pa.ChunkedArray):
        lines = lines.combine_chunks()
    offsets = np.frombuffer(lines.buffers()[1], dtype=np.int32)
    data = lines.buffers()[2]
    handle.write(memoryview(data)[offsets[lines.offset]:offsets[lines.offset + len(lines)]])
