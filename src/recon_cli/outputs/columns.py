"""Result columns as Arrow text, made once per column and shared by the writers of one run.

A million-line run has some twenty Decimal columns, and turning them into text was most of what
the CSV and JSON writers cost. Here each column becomes an Arrow string array once (`ColumnTexts`),
column-wise: `str` of every Decimal through `map` (C speed), the blanks found by Arrow, and a column
holding an exponent, a NaN or an infinity redone cell by cell (`plain_column`). The CSV cells of a
row are then quoted and joined by Arrow, chunk by chunk, instead of by Python's csv module per cell.
pandas and pyarrow are imported inside the functions, so importing this module stays light.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from decimal import Decimal
from typing import IO, TYPE_CHECKING, Any

from recon_cli.frames import distinct_objects, whole
from recon_cli.outputs.files import ERROR_LITERALS, FORMULA_PATTERN, FORMULA_START, write_alongside
from recon_cli.outputs.values import evidence_lists, plain_column
from recon_cli.textscan import byte_table, has_bytes, text_bytes

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

_PLAIN_TYPES = frozenset({Decimal, str, type(None)})
_LISTS = frozenset({list, type(None)})  # an id-list column Arrow can take as it is
# str(Decimal) shows an exponent ("7.2E+2"), NaN or Infinity with one of these capitals.
_NOT_FIXED_POINT = "[EIN]"
# A cell that is a plain number ("-5.00", "+3", "1e-4"): Excel reads it as that number, never a formula.
NUMBER_PATTERN = r"^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$"
# What makes Python's csv module (QUOTE_MINIMAL, CRLF records) quote a cell; the same here.
_CSV_SPECIAL = ',"\r\n'
_CSV_QUOTED = f"[{_CSV_SPECIAL}]"
_FORMULA_FIRST = "".join(FORMULA_START) + "#"  # first characters of a formula or an error literal ("#N/A")
CSV_CHUNK = 50_000  # rows joined per Arrow pass: bounded memory on a million-line run


def arrow_text(series: pd.Series, combine: bool = True) -> Any:
    """A column of text, Decimals and blanks as an Arrow large_string array (blank: null).

    Args:
        combine: make one contiguous array of a text column read in pieces (a copy); False leaves
            its pieces (a ChunkedArray) for a caller that goes through it a slice at a time.

    Returns:
        None when the column holds anything else (integers, booleans, lists): the writers show
        those their own way.
    """
    import numpy as np
    import pandas as pd
    import pyarrow as pa
    import pyarrow.compute as pc

    if isinstance(series.dtype, pd.StringDtype):
        text = pa.array(series.array, type=pa.large_string(), from_pandas=True)
        return whole(text) if combine else text
    if series.dtype != object:
        return None
    codes, values = distinct_objects(series.to_numpy(dtype=object))  # one text per distinct object, not per cell
    kinds = set(map(type, values))
    if not kinds <= _PLAIN_TYPES:
        return None
    if str in kinds:
        blank = np.fromiter((v is None for v in values), dtype=bool, count=len(values))
        text = pa.array(list(map(str, values)), type=pa.large_string(), mask=blank)
    else:  # only Decimals and None: "None" can only be a blank
        text = pa.array(list(map(str, values)), type=pa.large_string())
        text = pc.if_else(pc.equal(text, large("None")), pa.nulls(len(text), pa.large_string()), text)
    if Decimal in kinds and pc.any(pc.match_substring_regex(text, _NOT_FIXED_POINT)).as_py():
        return pa.array(plain_column(series), type=pa.large_string())
    return text if codes is None else text.take(pa.array(codes))


def large(text: str) -> pa.Scalar:
    """An Arrow large_string scalar: Arrow's joins want every part of one string type."""
    import pyarrow as pa

    return pa.scalar(text, pa.large_string())


def id_lists(series: pd.Series) -> pa.Array | None:
    """An id-list column (evidence, scheduled) as an Arrow list array, when it holds only lists of
    text and blanks; None for any other form (text joined by "," as the store keeps it)."""
    import pyarrow as pa

    values = series.tolist()
    if not set(map(type, values)) <= _LISTS:  # Arrow would take a text "LCL-1,LCL-2" for a list of its characters
        return None
    try:
        return pa.array(values, pa.list_(pa.large_string()))
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return None


def ids_text(series: pd.Series, separator: str) -> pa.Array:
    """An id-list column as text, the ids joined by `separator` ("" for none): lists through Arrow in
    one pass, any other form through `evidence_lists`."""
    import pyarrow as pa
    import pyarrow.compute as pc

    lists = id_lists(series)
    if lists is None:
        return pa.array([separator.join(ids) for ids in evidence_lists(series)], pa.large_string())
    return pc.fill_null(pc.binary_join(lists, large(separator)), large(""))


class ColumnTexts:
    """`arrow_text` of a frame's columns, each made once: the CSV and the JSON of a run share them."""

    def __init__(self, frame: pd.DataFrame) -> None:
        self.frame = frame
        self._made: dict[str, pa.Array | None] = {}

    def get(self, name: str) -> pa.Array | None:
        """The column as text, or None when the frame lacks it or it holds other values."""
        if name not in self._made:
            self._made[name] = arrow_text(self.frame[name]) if name in self.frame.columns else None
        return self._made[name]

    def made(self, name: str) -> pa.Array | None:
        """The column as text if a writer has made it already (`get`), else None."""
        return self._made.get(name)


def formula_cells(text: pa.Array) -> pa.Array | None:
    """Per cell, whether it is text a spreadsheet would evaluate if typed (`files.safe_text`'s rule);
    None when no value even starts like one (one numpy pass over the first bytes)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if not has_bytes(text, byte_table(_FORMULA_FIRST), first_only=True):
        return None
    starts = pc.match_substring_regex(text, FORMULA_PATTERN)
    literal = pc.is_in(text, value_set=pa.array(sorted(ERROR_LITERALS), pa.large_string()))
    risky: pa.Array = pc.fill_null(pc.or_(starts, literal), False)
    return risky


def formula_safe(text: pa.Array, keep_numbers: bool = False) -> pa.Array:
    """`files.safe_text` over an Arrow column: text a spreadsheet would evaluate gets a leading `'`.

    Args:
        keep_numbers: leave a cell that is a plain number ("-5.00") as it is, so it stays a number
            (cells copied from an input, whose credits start with "-").
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    risky = formula_cells(text)
    if risky is None or not pc.any(risky).as_py():
        return text
    if keep_numbers:
        risky = pc.and_(risky, pc.invert(pc.fill_null(pc.match_substring_regex(text, NUMBER_PATTERN), False)))
    quote = pa.scalar("'", pa.large_string())
    return pc.if_else(risky, pc.binary_join_element_wise(quote, text, large("")), text)


def csv_header(names: Sequence[str]) -> bytes:
    """The header record, quoted by Python's csv module exactly as the rows are by `write_csv_batches`."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerow(names)
    return buffer.getvalue().encode("utf-8")


def _csv_cells(text: pa.Array) -> pa.Array:
    """A column's cells as CSV: blank for null, quoted (inner quotes doubled) where the csv module would."""
    import pyarrow as pa
    import pyarrow.compute as pc

    text = pc.fill_null(text, large(""))
    if not has_bytes(text, byte_table(_CSV_SPECIAL)):
        return text
    needs = pc.match_substring_regex(text, _CSV_QUOTED)
    quote = pa.scalar('"', pa.large_string())
    quoted = pc.binary_join_element_wise(quote, pc.replace_substring(text, '"', '""'), quote, large(""))
    return pc.if_else(needs, quoted, text)


def sliced(columns: Sequence[pa.Array]) -> Iterator[list[pa.Array]]:
    """Whole columns as batches of CSV_CHUNK rows (views, no copy)."""
    for start in range(0, len(columns[0]) if columns else 0, CSV_CHUNK):
        yield [column.slice(start, CSV_CHUNK) for column in columns]


def write_csv_batches(out: IO[bytes], batches: Iterable[Sequence[pa.Array]]) -> None:
    """Write CRLF records of each batch's columns (Arrow text of equal length, null for blank), as Python's
    csv module would.

    Each batch's rows are built by one Arrow join and written straight from its buffer, by a second
    thread while the next batch is built (`files.write_alongside`).
    """
    write_alongside(out, _csv_pieces(batches))


def _csv_pieces(batches: Iterable[Sequence[pa.Array]]) -> Iterator[memoryview]:
    import pyarrow as pa
    import pyarrow.compute as pc

    end = pa.scalar("\r\n", pa.large_string())
    for batch in batches:
        if not batch:
            return
        cells = [_csv_cells(column) for column in batch]
        # The record's end joined to its last cell, so the whole row is joined (copied) once.
        cells[-1] = pc.binary_join_element_wise(cells[-1], end, large(""))
        yield from text_pieces(pc.binary_join_element_wise(*cells, large(",")) if len(cells) > 1 else cells[0])


def text_pieces(text: Any, skip: int = 0) -> Iterator[memoryview]:
    """An Arrow text array's values end to end, as views of its data buffer (no copy).

    Args:
        skip: bytes of the first value to leave out (a leading separator).
    """
    import pyarrow as pa

    for chunk in text.chunks if isinstance(text, pa.ChunkedArray) else [text]:
        if not len(chunk):
            continue
        if chunk.null_count:
            raise ValueError("text_pieces needs text without nulls")
        data, offsets = text_bytes(chunk)
        yield memoryview(data[int(offsets[0]) + skip:int(offsets[-1])])
        skip = 0
