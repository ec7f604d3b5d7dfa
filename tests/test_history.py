"""One row per subscription (history.subscription_states, column-wise) against the plain Python rule it
implements: key order, the most urgent line speaking for its subscription, exact sums."""

from __future__ import annotations

from decimal import Decimal

import pandas as pd
from hypothesis import example, given, settings
from hypothesis import strategies as st

from recon_cli.history import MISSING_KIND, STATUS_URGENCY, subscription_states
from recon_cli.records import SUBSCRIPTION_STATE_FIELDS

TEXT_FIELDS = ("customer_id", "customer_name", "product", "currency", "kind", "reason", "price_status",
               "open_since", "line_id")
# Ids that differ only by case or spaces are one subscription; non-ASCII ids sort by code point.
ID = st.sampled_from(["", " ", "A", "a ", "b", "B", "é", "É", "z", "\u00e9t\u00e9", "\U0001f600", "ÿ"])
STATUS = st.one_of(st.none(), st.sampled_from([*STATUS_URGENCY, "unknown"]))
AMOUNT = st.one_of(st.none(), st.decimals(min_value=-10**4, max_value=10**4, places=2, allow_nan=False),
                   st.sampled_from([Decimal("5"), Decimal("0.0"), Decimal("-1.250")]))
LINE = st.tuples(ID, ID, st.booleans(), STATUS, AMOUNT, AMOUNT)


def _lines(rows: list[tuple[str, str, bool, str | None, Decimal | None, Decimal | None]]) -> pd.DataFrame:
    count = len(rows)
    text = {name: pd.Series([f"{name}-{i}" for i in range(count)], dtype="str") for name in TEXT_FIELDS}
    return pd.DataFrame({
        "subscription_id": pd.Series([row[0] for row in rows], dtype="str"),
        "matched_subscription_id": pd.Series([row[1] for row in rows], dtype="str"),
        "needs_person": [row[2] for row in rows],
        "status": pd.Series([row[3] for row in rows], dtype="str"),
        "money_at_risk": pd.Series([row[4] for row in rows], dtype="object"),
        "over_billed": pd.Series([row[5] for row in rows], dtype="object"),
        "price_effect": pd.Series([Decimal(i) for i in range(count)], dtype="object"),
        "provider_quantity": pd.Series([Decimal(i) for i in range(count)], dtype="object"),
        "subscription_quantity": pd.Series([None] * count, dtype="object"),
        "quantity_delta": pd.Series([None] * count, dtype="object"),
        **text,
    })


NO_MISSING = pd.DataFrame({name: pd.Series(dtype="str") for name in (
    "subscription_id", "customer_id", "customer_name", "product", "currency", "reason", "open_since")}
).assign(needs_person=pd.Series(dtype=bool), quantity=pd.Series(dtype="object"))


def _finest(values: list[Decimal | None]) -> int:
    return min([int(v.as_tuple().exponent) for v in values if v is not None] + [0])


@settings(max_examples=150, deadline=None)
@given(st.lists(LINE, max_size=25))
# Found by this property: 0.0 and 0.00 are equal, and the sum took the first one's places.
@example([("", "", False, None, None, None)] * 3 + [("", "", False, None, None, Decimal("0.0")),
                                                    ("", "", False, None, None, Decimal("0.00"))])
def test_each_subscription_is_its_most_urgent_line_with_exact_sums(rows: list[tuple]) -> None:
    lines = _lines(rows)
    states = subscription_states(lines, NO_MISSING)
    assert list(states.columns) == list(SUBSCRIPTION_STATE_FIELDS)

    keys = [(matched.strip().lower() or own.strip().lower()) for own, matched, *_ in rows]
    expected_keys = sorted(set(keys))
    assert states["subscription_key"].tolist() == expected_keys
    for column in ("money_at_risk", "over_billed"):
        finest = _finest(list(lines[column]))
        for key, total in zip(expected_keys, states[column], strict=True):
            exact = sum((v for k, v in zip(keys, lines[column], strict=True) if k == key and v is not None),
                        Decimal(0))
            assert total == exact and str(total) == str(exact.quantize(Decimal(1).scaleb(finest)))
    for key, state in zip(expected_keys, states.to_dict("records"), strict=True):
        mine = [i for i, k in enumerate(keys) if k == key]
        first = min(mine, key=lambda i: (not rows[i][2], STATUS_URGENCY.get(rows[i][3] or "", 9), i))
        assert state["line_id"] == f"line_id-{first}" and state["customer_name"] == f"customer_name-{first}"
        assert state["provider_quantity"] == Decimal(first)
        assert state["line_count"] == len(mine)
        assert state["needs_person"] == any(rows[i][2] for i in mine)
        assert state["subscription_id"] == (rows[first][1] or rows[first][0])
        assert state["kind"] != MISSING_KIND


def test_amounts_too_fine_for_integers_are_summed_one_by_one() -> None:
    rows = [("S", "", False, "matched", Decimal("1E-20"), None), ("s", "", True, "unmatched", Decimal("2"), None)]
    states = subscription_states(_lines(rows), NO_MISSING)
    assert states["money_at_risk"].tolist() == [Decimal("2.00000000000000000001")]
    assert states["line_id"].tolist() == ["line_id-1"]  # the line needing a person speaks


def test_no_lines_and_no_missing_gives_the_empty_frame() -> None:
    states = subscription_states(_lines([]), NO_MISSING)
    assert states.empty and list(states.columns) == list(SUBSCRIPTION_STATE_FIELDS)
