"""Invariants that hold for any month (hypothesis)."""

from __future__ import annotations

import random
import re
import tempfile
from decimal import Decimal
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from builders import change, month, seat, subscription
from recon_cli.errors import InputError
from recon_cli.formats.numbers import SHORT, bounded
from recon_cli.pipeline import RunInputs, reconcile
from recon_cli.result import ReconResult

SUBS = [f"sub-{i}" for i in range(6)]
BAD_QUANTITIES = ["abc", "1.2.3", "--4", "12x"]


@st.composite
def months(draw: st.DrawFn) -> dict[str, Any]:
    """Random small months: seat lines with distinct event days per subscription, some bad cells."""
    lines = []
    for index in range(draw(st.integers(1, 14))):
        sub = draw(st.sampled_from([*SUBS, "unknown-1"]))
        quantity = draw(st.integers(0, 30))
        price = draw(st.sampled_from(["1.00", "4.80", "12.50", "0.03"]))
        day = index + 1  # distinct days keep the event order independent of row order
        negative = draw(st.booleans()) and quantity > 0
        row = seat(sub, quantity, price, order=f"10/{day}/2026", start=f"10/{day}/2026", end=f"11/{day}/2026",
                   charge_type="addQuantity" if negative else "cycleCharge",
                   subtotal=f"-{Decimal(price) * quantity}" if negative else None)
        if draw(st.integers(0, 9)) == 0:
            row["Quantity"] = draw(st.sampled_from(BAD_QUANTITIES))
        lines.append(row)
    subs = [subscription(s, draw(st.integers(0, 30))) for s in SUBS if draw(st.booleans())]
    changes = [change(f"LCL-{i}", draw(st.sampled_from(SUBS)), f"2026-{draw(st.integers(9, 11))}-15",
                      str(draw(st.integers(-5, 5))),
                      status=draw(st.sampled_from(["Provisioned", "Awaiting Provisioning", "Failed Provisioning"])))
               for i in range(draw(st.integers(0, 6)))]
    return {"lines": lines, "subs": subs, "changes": changes}


RANK_ONE = ("add", "remove", "free_add", "leave")


@st.composite
def event_months(draw: st.DrawFn) -> dict[str, Any]:
    """Months of charge events as Partner Center lists them (rule 3): several events a day per subscription
    (a cycle charge, then one seat change: an add/remove pair, a 0.00 add-on pair or seats leaving by
    convert, then a cancellation), each day's events in a distinct rank so their order is defined."""
    lines: list[dict[str, Any]] = []
    expected: dict[str, int | None] = {}
    for sub in SUBS[: draw(st.integers(1, len(SUBS)))]:
        count: int | None = None
        for day in sorted(draw(st.lists(st.integers(1, 25), min_size=1, max_size=3, unique=True))):
            date = f"10/{day}/2026"

            def line(quantity: int, charge_type: str, subtotal: str, date: str = date, sub: str = sub
                     ) -> dict[str, Any]:
                return seat(sub, quantity, "4.00", charge_type=charge_type, order=date, start=date, end="11/25/2026",
                            subtotal=subtotal)

            if draw(st.booleans()):
                count = draw(st.integers(1, 20))
                lines.append(line(count, "cycleCharge", f"{4 * count}.00"))
            change = draw(st.sampled_from([None, *RANK_ONE]))
            before = count if count else draw(st.integers(1, 20))
            if change in ("add", "free_add"):
                after = before + draw(st.integers(1, 5))
                zero = change == "free_add"
                lines += [line(before, "addQuantity", "0.00" if zero else f"-{2 * before}.00"),
                          line(after, "addQuantity", "0.00" if zero else f"{2 * after}.00")]
                count = after
            elif change == "remove" and before > 1:
                after = draw(st.integers(1, before - 1))
                lines += [line(before, "removeQuantity", f"-{2 * before}.00"),
                          line(after, "removeQuantity", f"{2 * after}.00")]
                count = after
            elif change == "leave" and count:
                leaving = draw(st.integers(1, count))
                lines.append(line(leaving, "convert", f"-{2 * leaving}.00"))
                count -= leaving
            if count and draw(st.integers(0, 4)) == 0:
                lines.append(line(count, "cancelImmediate", f"-{count}.00"))
                count = 0
        expected[sub] = count
    subs = [subscription(s, draw(st.integers(0, 25))) for s in SUBS if draw(st.booleans())]
    return {"lines": lines, "subs": subs, "changes": [], "expected": expected}


def _run(data: dict[str, Any]) -> tuple[ReconResult, dict[str, Path | None]]:
    folder = Path(tempfile.mkdtemp(prefix="recon-prop-"))
    paths = month(folder, data["lines"], data["subs"] or [subscription("placeholder", 1)], data["changes"])
    try:
        return reconcile(RunInputs(invoices=(paths["invoice"],), subscriptions=paths["subscriptions"],
                                   changes=paths["changes"]), run_id="prop"), paths
    except InputError as error:
        # A month with no usable invoice line is refused (tests/test_misread.py); nothing else may be.
        assume("no usable invoice line" not in str(error) and "no invoice line" not in str(error))
        raise


PROPERTY_SETTINGS = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY_SETTINGS
@given(st.one_of(months(), event_months()))
def test_every_invoice_row_is_a_line_or_a_reject_exactly_once(data: dict[str, Any]) -> None:
    """Loaded rows plus rejected rows equal the input rows, with no row in both."""
    result, _ = _run(data)
    rejected = set(result.rejects.loc[result.rejects["file"] == "invoice.csv", "row"])
    loaded = result.lines["row"].tolist()
    assert len(loaded) == len(set(loaded))
    assert set(loaded).isdisjoint(rejected)
    assert sorted([*loaded, *rejected]) == list(range(2, 2 + len(data["lines"])))


@PROPERTY_SETTINGS
@given(months())
def test_subtotal_total_equals_the_input_to_the_cent(data: dict[str, Any]) -> None:
    """The summary total equals the sum of the loaded rows' Subtotal cells, exactly."""
    result, _ = _run(data)
    rejected = set(result.rejects.loc[result.rejects["file"] == "invoice.csv", "row"])
    expected = sum((Decimal(r["Subtotal"]) for i, r in enumerate(data["lines"], start=2) if i not in rejected),
                   Decimal(0))
    assert Decimal(result.summary.subtotal_total.get("USD", "0")) == expected
    assert sum(result.lines["subtotal"], Decimal(0)) == expected


@PROPERTY_SETTINGS
@given(st.one_of(months(), event_months()), st.randoms(use_true_random=False))
def test_shuffling_rows_changes_no_decision(data: dict[str, Any], rng: random.Random) -> None:
    """The same lines in another order, same-day events included, get the same status and quantities per
    subscription: the file's row order carries no event order (rule 3)."""
    def decisions(result: ReconResult) -> list[tuple[Any, ...]]:
        frame = result.lines
        return sorted(zip(frame["subscription_id"], frame["status"], frame["provider_quantity"].astype(str),
                          frame["quantity_delta"].astype(str), frame["price_status"], strict=True))

    clean = {**data, "lines": [r for r in data["lines"] if r["Quantity"] not in BAD_QUANTITIES]}
    first, _ = _run(clean)
    shuffled = {**clean, "lines": rng.sample(clean["lines"], len(clean["lines"]))}
    second, _ = _run(shuffled)
    assert decisions(first) == decisions(second)
    assert sorted(first.missing["subscription_id"]) == sorted(second.missing["subscription_id"])


@PROPERTY_SETTINGS
@given(months())
def test_explained_part_plus_residual_is_the_difference(data: dict[str, Any]) -> None:
    """For every difference, Σ evidence deltas − residual = −delta: nothing is explained twice or lost."""
    result, _ = _run(data)
    evidence = {(r["subscription_id"].lower(), r["change_id"]): Decimal(r["quantity_delta"])
                for r in result.evidence.to_dict("records")}
    differing = result.lines.loc[result.lines["status"].isin(["explained", "partially_explained", "unexplained"])]
    for record in differing.to_dict("records"):
        if record["quantity_delta"] is None:  # seats left with no count before them: nothing to add up
            continue
        # Evidence belongs to the matched subscription (a fallback match has another id than the line's).
        explained = sum((evidence[(record["matched_subscription_id"].lower(), c)] for c in record["evidence"]),
                        Decimal(0))
        assert explained - record["residual"] == -record["quantity_delta"]
        assert (record["status"] == "explained") == (record["residual"] == 0 and bool(record["evidence"]))


@PROPERTY_SETTINGS
@given(event_months(), st.randoms(use_true_random=False))
def test_provider_quantity_is_the_count_after_the_last_event(data: dict[str, Any], rng: random.Random) -> None:
    """Whatever the row order, each subscription's provider quantity is the seats in force after its last
    event, as the month was built: pairs restate then set, seats leave, a cancellation leaves 0."""
    shuffled = {**data, "lines": rng.sample(data["lines"], len(data["lines"]))}
    result, _ = _run(shuffled)
    seats = result.lines.drop_duplicates("subscription_id")
    found = dict(zip(seats["subscription_id"], seats["provider_quantity"], strict=True))
    for sub, count in data["expected"].items():
        if sub in found:
            assert found[sub] == (None if count is None else Decimal(count)), sub


@settings(max_examples=400, deadline=None)
@given(st.one_of(st.from_regex(SHORT, fullmatch=True),
                 st.from_regex(r"[+-]?[1-9]\d{14}(\.\d{12})?|-?0\.0{11}[1-9]|-?0\.0{0,12}", fullmatch=True)))
def test_a_short_plain_number_is_within_every_bound_as_it_is(text: str) -> None:
    """parse_numbers skips `bounded` for SHORT text: there it must change nothing, not even the digits shown."""
    assert re.fullmatch(SHORT, text)  # the largest and smallest SHORT numbers drawn on purpose
    number = Decimal(text)
    kept = bounded(number)
    assert kept is not None and str(kept) == str(number) and kept.as_tuple() == number.as_tuple()


_FILE_LINES = st.lists(st.tuples(st.sampled_from(["", "G1", "G1-2", "G-1", "7", "G1-"]), st.integers(1, 30)),
                      max_size=10)


@given(st.lists(st.tuples(_FILE_LINES, st.booleans()), min_size=1, max_size=4))
def test_line_ids_repeat_exactly_where_the_check_says(files: list[tuple[list[tuple[str, int]], bool]]) -> None:
    """`_repeated_line_ids` gives `duplicated(keep=False)` of the month's line ids, built as normalize_invoice
    builds them (`<invoice or file>-<row>`), for files whose rows rise (their ids not hashed, the largest
    file's only looked up) or not, invoice numbers holding '-' and digits or blank, empty files too."""
    import pandas as pd

    from recon_cli.invoices import _repeated_line_ids

    parts = []
    for lines, rising in files:
        if rising:  # each row once, in order, as a reader numbers them
            lines = sorted({row: number for number, row in lines}.items())
            lines = [(number, row) for row, number in lines]
        parts.append(pd.DataFrame({"invoice_number": pd.Series([n for n, _ in lines], dtype="str"),
                                   "row": pd.Series([r for _, r in lines], dtype="int64")}))
    frame = pd.concat(parts, ignore_index=True)
    numbers = frame["invoice_number"]
    frame["line_id"] = numbers.where(numbers != "", "invoice") + "-" + frame["row"].astype("str")
    expected = frame["line_id"].duplicated(keep=False).to_numpy()
    assert (_repeated_line_ids(frame, [len(part) for part in parts]) == expected).all()
