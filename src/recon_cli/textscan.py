"""Scans of Arrow text through its bytes: one pass over a column's buffer instead of a pass per cell.

A writer asks whether any cell holds a character it must treat (a quote, a separator, a control
character) before it runs a per-cell regex: on a million-line column the answer is almost always no.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pyarrow as pa


def text_bytes(text: pa.Array) -> Any:
    """The UTF-8 bytes of an Arrow text array's values, end to end, as a numpy view (no copy)."""
    import numpy as np
    import pyarrow as pa

    text = text.cast(pa.large_string())
    if not len(text) or text.buffers()[2] is None:
        return np.zeros(0, dtype=np.uint8), np.zeros(1, dtype=np.int64)
    offsets = np.frombuffer(text.buffers()[1], dtype=np.int64)[text.offset:text.offset + len(text) + 1]
    data = np.frombuffer(text.buffers()[2], dtype=np.uint8)
    return data, offsets


def has_bytes(text: pa.Array, table: Any, first_only: bool = False) -> bool:
    """Whether any value (or any value's first byte) is one of the bytes marked in `table` (256
    booleans): a pass over the column's buffer, so a clean column skips the per-cell regex. Each
    printable byte is looked for by `bytes.find` (memchr: 20x faster than indexing the table with every
    byte); control bytes only once the smallest byte shows there is one."""
    data, offsets = text_bytes(text)
    if first_only:
        starts = offsets[:-1][offsets[1:] > offsets[:-1]]
        return bool(table[data[starts]].any())
    span = data[int(offsets[0]):int(offsets[-1])]
    controls, printable = _marked_bytes(table.tobytes())
    if controls and len(span) and span.min() < 32 and table[span[span < 32]].any():
        return True
    found = span.tobytes()
    return any(found.find(byte) >= 0 for byte in printable)


@functools.cache
def _marked_bytes(table: bytes) -> tuple[bool, tuple[bytes, ...]]:
    """(whether a control byte, below 32, is marked; each marked byte from 32 up) of a `byte_table`."""
    return any(table[:32]), tuple(bytes([byte]) for byte in range(32, 256) if table[byte])


@functools.cache
def byte_table(characters: str) -> Any:
    """256 booleans, true at each of `characters`' bytes (ASCII), for `has_bytes`."""
    import numpy as np

    table = np.zeros(256, dtype=bool)
    table[[ord(c) for c in characters]] = True
    return table
