"""The column-wise text of the writers equals the cell-by-cell rules it replaces.

`write_csv_batches` must quote exactly as Python's csv module does, `formula_safe` must neutralise
exactly what `files.safe_text` does, and `arrow_text` must give each Decimal's own digits, for any
text: property tests over arbitrary cells, including the characters that force quoting.
"""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pandas as pd
import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from recon_cli.outputs import columns
from recon_cli.outputs.files import safe_text
from recon_cli.outputs.values import plain_column

CELL = st.one_of(st.none(), st.text(alphabet=st.sampled_from('ab,"\r\n =+-@#\t\'1.é'), max_size=8),
                 st.sampled_from(["#N/A", "-5.00", "+3", "1e-4", "=SUM(A1)", "", " "]))


def _python_csv(rows: list[list[str | None]]) -> bytes:
    buffer = io.StringIO(newline="")
    csv.writer(buffer, lineterminator="\r\n").writerows([["" if v is None else v for v in row] for row in rows])
    return buffer.getvalue().encode("utf-8")


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(CELL, min_size=3, max_size=3), min_size=1, max_size=12), st.integers(1, 5))
def test_csv_rows_are_quoted_as_the_csv_module_quotes_them(rows: list[list[str | None]], chunk: int) -> None:
    out = io.BytesIO()
    previous, columns.CSV_CHUNK = columns.CSV_CHUNK, chunk
    try:
        arrays = [pa.array([row[j] for row in rows], pa.large_string()) for j in range(3)]
        columns.write_csv_batches(out, columns.sliced(arrays))
    finally:
        columns.CSV_CHUNK = previous
    assert out.getvalue() == _python_csv(rows)


@settings(max_examples=200, deadline=None)
@given(st.lists(CELL, min_size=1, max_size=20))
def test_formula_safe_is_safe_text(cells: list[str | None]) -> None:
    text = pa.array(cells, pa.large_string())
    assert columns.formula_safe(text).to_pylist() == [None if c is None else safe_text(c) for c in cells]


def test_formula_safe_leaves_numbers_of_an_input_as_numbers() -> None:
    cells = ["-5.00", "+3", "1e-4", "-x", "=1+1", "#N/A", None]
    safe = columns.formula_safe(pa.array(cells, pa.large_string()), keep_numbers=True).to_pylist()
    assert safe == ["-5.00", "+3", "1e-4", "'-x", "'=1+1", "'#N/A", None]


@given(st.lists(st.one_of(st.none(), st.decimals(allow_nan=True, allow_infinity=True, places=None),
                          st.text(max_size=5)), min_size=1, max_size=20))
def test_arrow_text_is_the_plain_value_of_each_cell(values: list[object]) -> None:
    series = pd.Series(values, dtype="object")
    assert columns.arrow_text(series).to_pylist() == plain_column(series)  # type: ignore[union-attr]


@settings(max_examples=150, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=3), min_size=1, max_size=40))
def test_arrow_text_of_shared_objects_is_each_cells_own(picks: list[int]) -> None:
    """Text is made once per distinct object: cells sharing one object share its text, and equal Decimals
    that are different objects keep their own digits (0.00 and 0)."""
    objects: list[object] = [Decimal("0.00"), Decimal("0"), None, Decimal("7.5")]
    values = [objects[i] for i in picks] * 3  # each object in several cells: the shared path
    text = columns.arrow_text(pd.Series(values, dtype=object))
    assert text is not None and text.to_pylist() == plain_column(pd.Series(values, dtype=object))
    assert columns.arrow_text(pd.Series([], dtype=object)).to_pylist() == []  # type: ignore[union-attr]


def test_arrow_text_leaves_other_values_to_the_writers() -> None:
    assert columns.arrow_text(pd.Series([1, 2])) is None
    assert columns.arrow_text(pd.Series([True, None], dtype="object")) is None
    assert columns.arrow_text(pd.Series([Decimal("720.00"), Decimal("7.2E+2")], dtype="object")).to_pylist() == [
        "720.00", "720"]


def test_id_lists_join_and_text_ids_are_split_first() -> None:
    assert columns.ids_text(pd.Series([["A", "B"], [], None], dtype="object"), ";").to_pylist() == ["A;B", "", ""]
    assert columns.ids_text(pd.Series(["A,B", None], dtype="object"), "; ").to_pylist() == ["A; B", ""]
