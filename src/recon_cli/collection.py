"""How a run's process treats its memory: the cycle collector paused while a run is made, saved or
loaded; Arrow allocating from a pool that reuses the pages it frees.

A million-line run holds a million small lists (each line's evidence ids, its scheduled changes)
and makes many more on its way; the collector rescans every one of them each time it runs, which
measured about 10% of a run at a million lines (3 s of 32) and 20% of loading one back. The run
makes little cyclic garbage (its peak memory measured the same with the collector off), so nothing
is kept alive for long: the collector resumes at the end.
"""

from __future__ import annotations

import gc
import os
from collections.abc import Iterator
from contextlib import contextmanager, suppress


@contextmanager
def paused_collection() -> Iterator[None]:
    """No cyclic garbage collection inside; resumed afterwards only if it was on (nesting is safe)."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()


def return_freed_pages() -> None:
    """Have mimalloc, Arrow's allocator where it has no jemalloc (`reuse_freed_pages`), give freed pages
    back to the system at once rather than after its default delay: the run frees large columns stage
    after stage, and the delay let them add up. Measured at a million lines: peak memory 2,826 -> 2,709
    MiB (median of 3), wall time within the noise. Must run before pyarrow loads; the user's own setting
    wins.
    """
    os.environ.setdefault("MIMALLOC_PURGE_DELAY", "0")


def reuse_freed_pages() -> None:
    """Have Arrow allocate from jemalloc, which keeps pages it frees for a moment and reuses them, rather
    than mimalloc (pyarrow's default), whose fresh pages each cost a page fault: on this project's 2-core
    machine a run's system time was mostly those faults. Measured at a million lines (two rounds each):
    `recon run` 82-85 s -> 62-66 s, system time 28-38 s -> 17-19 s, peak 2,571-2,580 -> 2,169-2,209 MiB.
    Buffers made before keep their own pool. Nothing changes where pyarrow was built without jemalloc
    (Windows), or when the user chose a pool (ARROW_DEFAULT_MEMORY_POOL).
    """
    if os.environ.get("ARROW_DEFAULT_MEMORY_POOL"):
        return
    import pyarrow as pa

    with suppress(NotImplementedError):  # a build without jemalloc: mimalloc, returning pages at once (above)
        pa.set_memory_pool(pa.jemalloc_memory_pool())
