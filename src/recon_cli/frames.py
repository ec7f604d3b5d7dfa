"""The few column-wise helpers every stage shares: positional joins, exact sums, rejects, texts.

A million-line run cannot afford a merge that copies every column, nor a Python loop over
Decimals: these helpers join by positions, and work once per distinct value.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from recon_cli.records import REJECT_FIELDS, RejectCode
from recon_cli.textscan import text_bytes

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd
    import pyarrow as pa


def positions(table_keys: pd.Series, wanted: pd.Series) -> np.ndarray:
    """Position of each wanted key in table_keys (unique), -1 when absent: a join without a merge.

    Text keys are looked up by Arrow's hash join (`index_in`, blank matching blank as in pandas), twice as
    fast as a pandas index over a million strings.
    """
    import numpy as np
    import pandas as pd
    import pyarrow as pa
    import pyarrow.compute as pc

    if isinstance(table_keys.dtype, pd.StringDtype) and isinstance(wanted.dtype, pd.StringDtype):
        table, keys = (whole(pa.array(column, type=pa.large_string(), from_pandas=True))
                       for column in (table_keys, wanted))
        at: np.ndarray = pc.index_in(keys, value_set=table, skip_nulls=False).fill_null(-1).to_numpy()
        return at.astype(np.int64)
    found: np.ndarray = pd.Index(table_keys).get_indexer(wanted)
    return found


def whole(array: Any) -> pa.Array:
    """One contiguous array from a ChunkedArray (a frame built by concat keeps its pieces)."""
    import pyarrow as pa

    return array.combine_chunks() if isinstance(array, pa.ChunkedArray) else array


def carry(column: pd.Series, at: np.ndarray, index: pd.Index, fill: object = None) -> pd.Series:
    """column's values at positions `at`, `fill` where a position is -1, on `index`.

    Joining by positions copies only the columns asked for, where a merge would copy all.
    """
    import numpy as np
    import pandas as pd

    found = at >= 0
    if len(column) == 0:
        if pd.api.types.is_datetime64_any_dtype(column.dtype):
            return pd.Series(pd.NaT, index=index, dtype=column.dtype)
        return pd.Series([fill] * len(at), index=index, dtype=object if not isinstance(fill, str) else "str")
    taken = column.take(np.where(found, at, 0))
    taken.index = index
    if found.all():
        return taken
    if pd.api.types.is_datetime64_any_dtype(column.dtype) or pd.api.types.is_bool_dtype(column.dtype):
        return taken.where(found, fill)
    if isinstance(fill, str):
        return taken.where(found, fill)
    if isinstance(column.dtype, pd.StringDtype):  # one object per distinct text, not one per cell
        codes, uniques = pd.factorize(taken, use_na_sentinel=False)
        taken = pd.Series(np.asarray(uniques, dtype=object)[codes], index=index, dtype=object)
    return taken.astype(object).where(found, fill)


def group_positions(table_groups: pd.Series, line_groups: pd.Series) -> np.ndarray:
    """Row of the per-subscription table for each line's group code, -1 when it has none.

    Group codes are small integers (pd.factorize of the subscription key), so this join is
    plain array indexing: no hashing of a million strings.
    """
    import numpy as np

    wanted = line_groups.to_numpy(dtype=np.int64)
    groups = table_groups.to_numpy(dtype=np.int64)
    size = int(max(wanted.max(initial=-1), groups.max(initial=-1))) + 1
    slot = np.full(size, -1, dtype=np.int64)
    slot[groups] = np.arange(len(groups))
    found: np.ndarray = slot[wanted]
    return found


def distinct_texts(values: pd.Series) -> tuple[np.ndarray, pd.Series]:
    """(each row's code, the distinct values as text): a vectorised test of the distinct values,
    indexed by the codes, is that test of every row, done once per distinct value."""
    import pandas as pd

    codes, uniques = pd.factorize(values, use_na_sentinel=False)
    return codes, pd.Series(uniques, dtype="str")


def picked(frame: pd.DataFrame, positions: np.ndarray, names: Sequence[str]) -> dict[str, list[Any]]:
    """The values of columns `names` at row `positions`, as lists: what a loop over the few lines with a
    difference reads, one take per column (a row of a wide frame costs ~0.4 ms, a cell ~20 µs)."""
    return {name: frame[name].iloc[positions].tolist() for name in names}


def picked_values(series: pd.Series, labels: pd.Index) -> list[Any]:
    """A Series' values at index `labels`, as a list (a repeated label raises rather than misaligns)."""
    return series.reindex(labels).tolist()


def distinct_objects(values: Sequence[Any] | np.ndarray) -> tuple[np.ndarray | None, Sequence[Any] | np.ndarray]:
    """(each cell's code, the distinct objects) when cells share objects, so that a per-value conversion
    runs once per object; (None, `values`) when most cells hold their own.

    A column read from a file holds one Decimal per distinct amount, and sums made per group share
    theirs, so most money columns have a few thousand objects for a million cells. Objects, not
    values: 0 and 0.00 are equal Decimals with different text. Identities are unique while `values`
    holds the objects.
    """
    import numpy as np
    import pandas as pd

    codes, objects = pd.factorize(object_addresses(values))
    if not len(values) or len(objects) * 2 > len(values):
        return None, values
    seen = np.maximum.accumulate(codes)  # codes count up from 0 in order of first appearance
    return codes, [values[i] for i in np.flatnonzero(np.r_[True, seen[1:] > seen[:-1]]).tolist()]


def object_addresses(values: Sequence[Any] | np.ndarray) -> np.ndarray:
    """Each cell's object identity (`id`, its address) as integers. An object array already holds the
    addresses: they are read from its buffer, a million in milliseconds, where `map(id, ...)` makes a
    Python int per cell (50 ms a million; a run's save and writers did it for ~30 million cells)."""
    import ctypes

    import numpy as np

    cells = values if isinstance(values, np.ndarray) and values.dtype == object and values.flags.c_contiguous \
        else np.fromiter(values, dtype=object, count=len(values))
    if not len(cells):
        return np.zeros(0, dtype=np.intp)
    pointers = (ctypes.c_ssize_t * len(cells)).from_address(cells.ctypes.data)
    return np.ctypeslib.as_array(pointers).astype(np.intp, copy=True)  # a copy: `cells` may go


def factorized(values: pd.Series) -> tuple[np.ndarray, Any]:
    """pd.factorize(values, sort=False, use_na_sentinel=True), the same codes and the same first objects
    as uniques. A column of shared objects (Decimals read from a file, sums shared per group) is
    factorized by address first and by value only over its distinct objects: 3-4x faster a million."""
    codes, uniques, _objects = factorized_objects(values)
    return codes, uniques


def factorized_objects(values: pd.Series) -> tuple[np.ndarray, Any, Any]:
    """`factorized`, and every object the column holds at least once (its distinct objects, or all its
    cells when most hold their own): what a question about each value's own form (its digits) reads,
    since equal values (0.0 and 0.00) share one unique."""
    import numpy as np
    import pandas as pd

    if values.dtype != object or not len(values):
        typed_codes, typed_uniques = pd.factorize(values, sort=False, use_na_sentinel=True)
        return typed_codes, typed_uniques, typed_uniques
    cells = values.to_numpy(dtype=object)
    object_codes, objects = distinct_objects(cells)  # the objects in order of first appearance, as by value
    if object_codes is None:  # most cells hold their own object: by value at once
        cell_codes, cell_uniques = pd.factorize(cells, sort=False, use_na_sentinel=True)
        return cell_codes, cell_uniques, cells
    value_codes, uniques = pd.factorize(np.fromiter(objects, dtype=object, count=len(objects)), sort=False,
                                        use_na_sentinel=True)
    return value_codes[object_codes], uniques, objects


def pairwise(left: np.ndarray, right: np.ndarray, operation: Callable[[Any, Any], Any]) -> np.ndarray:
    """operation(left[i], right[i]) for every cell, computed once per distinct pair of objects and
    shared: cells drawn from a few hundred Decimals make a few hundred results, not a new object per
    cell (80 MB at a million). Objects, not values, so that the digits are those of the cell's own."""
    import numpy as np
    import pandas as pd

    identities = [pd.Series(np.fromiter(map(id, side), dtype=np.int64, count=len(side))) for side in (left, right)]
    first, pair = distinct_rows(identities)
    results = np.empty(len(first), dtype=object)
    results[:] = [operation(left[i], right[i]) for i in first.tolist()]
    shared: np.ndarray = results[pair]
    return shared


def strip_text(text: pd.Series) -> pd.Series:
    """`text.str.strip()`, skipped when no value starts or ends with a byte that could be white space
    (ASCII white space, or any byte of a non-ASCII character): one numpy pass over the values' first
    and last bytes instead of a copy of the column."""
    import numpy as np
    import pandas as pd
    import pyarrow as pa

    if not isinstance(text.dtype, pd.StringDtype) or text.dtype.storage != "pyarrow":
        return text.str.strip()
    maybe_space = np.zeros(256, dtype=bool)
    maybe_space[[9, 10, 11, 12, 13, 28, 29, 30, 31, 32]] = True
    maybe_space[128:] = True
    arrow = pa.array(text.array)
    for chunk in arrow.chunks if isinstance(arrow, pa.ChunkedArray) else [arrow]:
        data, offsets = text_bytes(chunk)
        filled = offsets[1:] > offsets[:-1]
        if maybe_space[data[offsets[:-1][filled]]].any() or maybe_space[data[offsets[1:][filled] - 1]].any():
            return text.str.strip()
    return text


def distinct_rows(columns: list[pd.Series]) -> tuple[np.ndarray, np.ndarray]:
    """The distinct rows of several columns, as a tuple per row would tell them apart (equal values
    alike, None apart from NaN), without hashing a tuple per row: each column factorised once, the
    codes combined into one integer per row.

    Returns:
        (position of each distinct row's first occurrence, each row's distinct-row number).
    """
    import numpy as np

    key = np.zeros(len(columns[0]) if columns else 0, dtype=np.int64)
    span = 1
    for column in columns:
        codes, uniques = factorized(column)
        size = len(uniques) + 2
        blank = np.flatnonzero(codes < 0)
        if len(blank):  # None and NaN stay apart, as they do in a tuple
            values = column.to_numpy(dtype=object)
            codes = codes.copy()
            codes[blank] = [len(uniques) if values[i] is None else len(uniques) + 1 for i in blank.tolist()]
        if span * size >= 2**62:  # too many combinations for one integer: number the rows so far
            _, key = np.unique(key, return_inverse=True)
            span = int(key.max(initial=0)) + 1
        key = key * size + codes
        span *= size
    _, first, inverse = np.unique(key, return_index=True, return_inverse=True)
    return first, inverse.reshape(-1)


def mapped_texts(values: pd.Series, text: Callable[[Any], str], missing: str = "") -> pd.Series:
    """text(value) of each cell, computed once per distinct value (`missing` for None/NaN/NaT)."""
    import pandas as pd

    codes, uniques = pd.factorize(values, sort=False, use_na_sentinel=True)
    return pd.Series([*(text(u) for u in uniques), missing], dtype="str").take(codes).set_axis(values.index)


def date_column(values: pd.Series) -> pd.Series:
    """ISO dates as text, formatted once per distinct date ("" for none)."""
    import pandas as pd

    codes, uniques = pd.factorize(values, sort=False, use_na_sentinel=True)
    texts = [*pd.DatetimeIndex(uniques).strftime("%Y-%m-%d"), ""]
    return pd.Series(texts, dtype="str").take(codes).set_axis(values.index)


def reject_rows(file: str, rows: Any, column: str, values: Any, code: RejectCode, message: Any) -> pd.DataFrame:
    """The one constructor of reject rows: (file, row, column, value, code, message).

    `rows`, `values` and `message` may be Series, arrays or scalars (a scalar message is
    repeated); the code is a RejectCode so every reject is of a documented kind.
    """
    import numpy as np
    import pandas as pd

    rows = np.asarray(rows)
    frame = pd.DataFrame({
        "file": file, "row": rows, "column": column,
        "value": values.to_numpy() if hasattr(values, "to_numpy") else values,
        "code": str(code), "message": message.to_numpy() if hasattr(message, "to_numpy") else message,
    }, index=range(len(rows)))
    return frame[list(REJECT_FIELDS)]


def empty_rejects() -> pd.DataFrame:
    import pandas as pd

    return pd.DataFrame({name: pd.Series(dtype="object") for name in REJECT_FIELDS})


def concat_rejects(parts: list[pd.DataFrame]) -> pd.DataFrame:
    """All reject frames as one (empty ones skipped, so dtypes stay as they were)."""
    import pandas as pd

    present = [p for p in parts if len(p)]
    return pd.concat(present, ignore_index=True) if present else empty_rejects()


def as_series(values: Any, index: Any) -> pd.Series:
    """`values` as a Series on `index` (a stage may hand back a numpy array)."""
    import pandas as pd

    return values if isinstance(values, pd.Series) else pd.Series(values, index=index)


def repeats(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """(`values.duplicated(keep=False)`, the first of each repeated value) from one hashing pass: each
    `duplicated` call hashes the column again (0.9 s at 2.6 million subscription ids)."""
    import numpy as np
    import pandas as pd

    codes, uniques = pd.factorize(values, use_na_sentinel=False)  # NA, like duplicated, as a value
    at = np.arange(len(codes))
    first_at = np.full(len(uniques), len(codes), dtype=np.int64)
    np.minimum.at(first_at, codes, at)
    repeated = np.bincount(codes, minlength=len(uniques))[codes] > 1
    return (pd.Series(repeated, index=values.index),
            pd.Series(repeated & (first_at[codes] == at), index=values.index))


def is_in(values: pd.Series, table: Any) -> pd.Series:
    """values.isin(table), for text through pyarrow's is_in with the table as one array.

    pandas' text isin turns each value of the table into a pyarrow scalar first: seconds for a
    million subscription ids, where one array takes milliseconds.
    """
    import pandas as pd
    import pyarrow as pa
    import pyarrow.compute as pc

    if not isinstance(values.dtype, pd.StringDtype):
        return values.isin(table)
    choices = pd.Series(table, dtype="str") if not isinstance(table, pd.Series) else table.astype("str")
    found = pc.is_in(pa.array(values, from_pandas=True, type=pa.large_string()),
                     value_set=pa.array(choices, from_pandas=True, type=pa.large_string()), skip_nulls=False)
    return pd.Series(found.fill_null(False).to_numpy(zero_copy_only=False), index=values.index, dtype=bool)
