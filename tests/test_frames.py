"""The column-wise helpers the stages group and sum with agree with the plain Python they replace."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from recon_cli.decimals import decimal_sums, decimal_totals, group_totals, sum_by
from recon_cli.frames import distinct_rows

AMOUNT = st.one_of(st.none(), st.decimals(min_value=-10**6, max_value=10**6, places=2, allow_nan=False))
BLANK = st.sampled_from([None, float("nan")])
LABEL = st.one_of(st.none(), st.sampled_from(["seat", "usage", ""]))


@given(st.lists(st.tuples(LABEL, AMOUNT, st.one_of(AMOUNT, BLANK)), min_size=1, max_size=40))
def test_distinct_rows_number_equal_rows_alike(rows: list[tuple[object, ...]]) -> None:
    columns = [pd.Series([row[j] for row in rows], dtype="object") for j in range(3)]
    first, codes = distinct_rows(columns)
    assert len(codes) == len(rows) and len(set(codes.tolist())) == len(first)
    for i, row in enumerate(rows):  # a row has the number of the first row equal to it
        assert rows[first[codes[i]]] == row
    for i in range(len(rows)):
        for j in range(len(rows)):
            assert (codes[i] == codes[j]) == (rows[i] == rows[j])


@given(st.lists(st.tuples(st.integers(0, 4), AMOUNT), min_size=1, max_size=40))
def test_group_totals_are_the_exact_sums(rows: list[tuple[int, Decimal | None]]) -> None:
    codes = np.array([code for code, _ in rows], dtype=np.int64)
    values = pd.Series([value for _, value in rows], dtype="object")
    expected = [sum((v for c, v in rows if c == group and v is not None), Decimal(0)) for group in range(5)]
    assert group_totals(values, codes, 5) == expected
    fast = decimal_totals(values, codes, 5)
    assert fast is None or fast == expected


def test_group_totals_sum_one_by_one_beyond_twelve_decimals() -> None:
    values = pd.Series([Decimal("1E-20"), Decimal("2"), None], dtype="object")
    assert decimal_totals(values, np.array([0, 0, 1]), 2) is None
    assert group_totals(values, np.array([0, 0, 1]), 2) == [Decimal("2.00000000000000000001"), Decimal(0)]


@given(st.lists(st.one_of(st.none(), st.text(alphabet=st.sampled_from("ab \t\u00a0é\n\x1f"), max_size=6)), max_size=30))
def test_strip_text_is_str_strip(values: list[str | None]) -> None:
    from recon_cli.frames import strip_text

    text = pd.Series(values, dtype="str")
    assert strip_text(text).tolist() == text.str.strip().tolist()


MIXED = st.one_of(*(st.decimals(min_value=-1000, max_value=1000, places=places, allow_nan=False, allow_infinity=False)
                    for places in (0, 1, 2)))


@given(st.lists(st.tuples(st.integers(0, 3), MIXED), min_size=1, max_size=30))
def test_group_totals_as_summed_keep_the_exponent_sum_gives(rows: list[tuple[int, Decimal]]) -> None:
    codes = np.array([code for code, _ in rows], dtype=np.int64)
    values = pd.Series([value for _, value in rows], dtype="object")
    expected = [str(sum((v for c, v in rows if c == group), Decimal(0))) for group in range(4)]
    assert [str(t) for t in group_totals(values, codes, 4, as_summed=True)] == expected


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["EUR", "USD", "a|b", "a", None, ""]),
                          st.sampled_from(["b", "b|c", "c", None]),
                          st.one_of(st.none(), st.decimals(min_value=-1000, max_value=1000, places=2,
                                                           allow_nan=False))), max_size=30))
def test_sum_by_is_the_sum_per_joined_key(rows: list[tuple[str | None, str | None, Decimal | None]]) -> None:
    """Per '|'-joined key, the exact sum as `sum()` gives it; a blank key is left out; keys that read
    alike once joined are one group; in key order."""
    frame = pd.DataFrame({"currency": pd.Series([r[0] for r in rows], dtype="str"),
                          "status": pd.Series([r[1] for r in rows], dtype="str"),
                          "amount": pd.Series([r[2] for r in rows], dtype=object)})
    expected: dict[str, Decimal] = {}
    if any(r[2] is not None for r in rows):
        for currency, status, amount in rows:
            if currency is not None and status is not None:
                key = f"{currency}|{status}"
                expected[key] = expected.get(key, Decimal(0)) + (amount if amount is not None else Decimal(0))
    got = sum_by(frame, ["currency", "status"], "amount")
    assert list(got) == sorted(expected) and got == expected
    # Digit for digit as the '|'-joined text grouped it before (each total in the column's finest exponent).
    joined = decimal_sums(frame["amount"], frame["currency"].astype("str") + "|" + frame["status"].astype("str"))
    assert {k: str(v) for k, v in got.items()} == {k: str(v) for k, v in joined.items()}


def test_picked_reads_the_rows_asked_for_column_by_column() -> None:
    """The values of a few rows, by position (frame) and by label (an aligned Series); a Series whose
    index repeats a label refuses rather than hand back misaligned values."""
    from recon_cli.frames import picked, picked_values

    frame = pd.DataFrame({"a": pd.Series(["x", None, "z"], dtype="str"), "b": [Decimal("1.0"), None, Decimal(3)]})
    frame.index = pd.Index([10, 11, 12])
    assert picked(frame, np.array([2, 0]), ["a", "b"]) == {"a": ["z", "x"], "b": [Decimal(3), Decimal("1.0")]}
    aligned = pd.Series([Decimal("0.00"), Decimal(5), None], index=frame.index, dtype=object)
    assert picked_values(aligned, frame.index[[2, 0]]) == [None, Decimal("0.00")]
    with pytest.raises(ValueError):
        picked_values(pd.Series([1, 2], index=[10, 10]), frame.index[[0]])


def test_the_collector_resumes_after_a_paused_run_even_on_an_error() -> None:
    """paused_collection turns the cycle collector off inside, nested or not, and back on afterwards
    (also when the run fails); a collector the caller had turned off stays off."""
    import gc

    from recon_cli.collection import paused_collection

    assert gc.isenabled()
    with pytest.raises(RuntimeError), paused_collection():
        with paused_collection():
            assert not gc.isenabled()
        assert not gc.isenabled()
        raise RuntimeError("a failed run")
    assert gc.isenabled()
    gc.disable()
    try:
        with paused_collection():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["0", "0.00", "1", "1.0", "-2", "3E+1"]),
                          st.sampled_from(["0", "1", "1.00", "7"])), max_size=30))
def test_pairwise_is_the_operation_cell_by_cell_shared_per_pair_of_objects(pairs: list[tuple[str, str]]) -> None:
    """pairwise(left, right, op) holds op(left[i], right[i]) in every cell, digits included (0 and 0.00
    differ), and shares one result object per distinct pair of objects rather than one per cell."""
    import operator

    from recon_cli.frames import pairwise

    objects = {text: Decimal(text) for text in ["0", "0.00", "1", "1.0", "-2", "3E+1", "1.00", "7"]}
    left = np.array([objects[a] for a, _ in pairs] + [None], dtype=object)[:-1]
    right = np.array([objects[b] for _, b in pairs] + [None], dtype=object)[:-1]
    got = pairwise(left, right, operator.sub)
    assert got.dtype == object and len(got) == len(pairs)
    assert [str(g) for g in got] == [str(a - b) for a, b in zip(left, right, strict=True)]
    assert len({id(g) for g in got}) == len(set(pairs))


def test_carrying_text_with_a_blank_fill_shares_one_object_per_distinct_text() -> None:
    """A str column carried with None where a line has no row is the column's values as objects, one
    per distinct text (the per-cell strings were 60 MB a column at a million lines)."""
    from recon_cli.frames import carry

    column = pd.Series(["monthly", "annual", "", np.nan, "monthly"], dtype="str")
    at = np.array([0, 1, -1, 4, 2, 3, 0, -1, 1])
    got = carry(column, at, pd.RangeIndex(len(at)))
    expected = column.take(np.where(at >= 0, at, 0)).reset_index(drop=True).astype(object).where(at >= 0, None)
    assert got.dtype == object and got.equals(expected)
    assert got.map(type).tolist() == expected.map(type).tolist()
    texts = [value for value in got if isinstance(value, str)]
    assert len({id(value) for value in texts}) == len(set(texts))


SCANNED = "a,\"\r\n\x00\x1f\x1e\\é=<&"


@given(st.lists(st.one_of(st.none(), st.text(alphabet=st.sampled_from(SCANNED), max_size=5)), max_size=20),
       st.sets(st.sampled_from(",\"\r\n\x00\x1f\x1e\\=<&"), min_size=1), st.integers(0, 3))
def test_has_bytes_is_whether_any_value_holds_a_marked_character(values: list[str | None], marked: set[str],
                                                                  skip: int) -> None:
    """The buffer scan (memchr for printable bytes, the smallest byte for control ones) answers as a
    per-cell test would, on a slice too (its buffer holds other values' bytes before and after)."""
    import pyarrow as pa

    from recon_cli.textscan import byte_table, has_bytes

    text = pa.array(["x\r,\x00", *values, "\n\"=\x1f"], pa.large_string()).slice(1 + min(skip, len(values)),
                                                                               max(len(values) - skip, 0))
    kept = [v for v in text.to_pylist() if v]
    table = byte_table("".join(sorted(marked)))
    assert has_bytes(text, table) == any(c in v for v in kept for c in marked)
    assert has_bytes(text, table, first_only=True) == any(v[0] in marked for v in kept)


@settings(max_examples=80, deadline=None)
@given(st.lists(st.one_of(st.none(), st.sampled_from(["a", "b", "c", "", "A"])), max_size=30),
       st.sampled_from(["str", "object"]))
def test_repeats_are_duplicated_keep_false_and_the_first_of_each(values: list[str | None], dtype: str) -> None:
    from recon_cli.frames import repeats

    column = pd.Series(values, dtype=dtype, index=range(100, 100 + len(values)))
    repeated, firsts = repeats(column)
    pd.testing.assert_series_equal(repeated, column.duplicated(keep=False), check_names=False)
    pd.testing.assert_series_equal(firsts, repeated & ~column.duplicated(keep="first"), check_names=False)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.one_of(st.none(), st.text(max_size=12)), max_size=25))
def test_name_keys_through_arrow_are_those_of_pythons_re(names: list[str | None]) -> None:
    """name_key's pattern runs on RE2 over the column; it must read every character as `re` does."""
    import re

    from recon_cli.exports import NAME_SEPARATORS, name_key

    column = pd.Series(names, dtype="str")
    assert not column.array._needs_python_regex(NAME_SEPARATORS)
    # lower() and strip() as pandas does them, as before; only the replacement is in question
    replaced = [None if name is None or name != name else re.sub(r"[^0-9a-z\u00c0-\uffff]+", " ", name)
                for name in column.str.lower().tolist()]
    pd.testing.assert_series_equal(name_key(column), pd.Series(replaced, dtype="str").str.strip())


@given(st.lists(st.sampled_from([0, 1, 2, 3]), max_size=50))
def test_object_addresses_are_the_cells_ids(picks: list[int]) -> None:
    from recon_cli.frames import distinct_objects, object_addresses

    pool = [Decimal("0"), Decimal("0.00"), None, "text"]  # equal values, different objects
    cells = [pool[i] for i in picks]
    strided = np.array([c for c in cells for _ in (0, 1)] + [[]], dtype=object)[:-1][::2]  # not contiguous
    for given_as in (cells, np.array([*cells, []], dtype=object)[:-1], pd.Series(cells, dtype=object).to_numpy(),
                     strided):
        assert object_addresses(given_as).tolist() == [id(v) for v in cells]
    codes, distinct = distinct_objects(np.array([*cells, []], dtype=object)[:-1])
    if codes is not None:  # each cell is its distinct object, the same object
        assert all(distinct[code] is cell for code, cell in zip(codes.tolist(), cells, strict=True))


@given(st.lists(st.integers(0, 5), max_size=60), st.booleans())
def test_factorized_is_pandas_factorize_of_the_values(picks: list[int], shared: bool) -> None:
    from recon_cli.frames import factorized

    pool = [Decimal("0"), Decimal("0.00"), None, float("nan"), Decimal("2.5"), "x"]
    # Shared: cells point at a few objects (the fast path); not shared: each cell its own object.
    cells = [pool[i] if shared else (Decimal(str(pool[i])) if isinstance(pool[i], Decimal) else pool[i])
             for i in picks]
    values = pd.Series(cells, dtype=object)
    codes, uniques = factorized(values)
    expected_codes, expected_uniques = pd.factorize(values, sort=False, use_na_sentinel=True)
    assert codes.tolist() == expected_codes.tolist()
    assert [repr(u) for u in uniques] == [repr(u) for u in expected_uniques]


@given(st.lists(st.one_of(st.none(), st.text(alphabet=st.sampled_from(" \t{}oOrRgG:aB\u00a0É"), max_size=10)),
                max_size=20))
def test_id_key_is_the_full_pipeline_of_its_documented_steps(ids: list[str | None]) -> None:
    from recon_cli.normalize import id_key

    text = pd.Series(ids, dtype="str")
    full = text.str.strip().str.lower().str.replace(r"^org:", "", regex=True).str.strip("{}").str.strip()
    assert id_key(text).equals(full)
