"""The Summary's customer table and its chart: the customers with something to look at.

One row per customer and currency with the fields of the Margin sheet (`records.MARGIN`):
selling value, provider cost, margin and margin % from `ReconResult.margin` (matched seat
subscriptions), money at risk, over-billed and lines needing a person from the lines
themselves, so a customer whose only line is unmatched is listed too, and a stored run
without a margin frame still gets its table. Only customers with money at risk, an
over-billed amount, a line needing a person or a negative margin are listed, most money at
risk first; the others are summed in one row per currency. Used by `summary.py` only.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any

from openpyxl.chart import BarChart, Reference
from openpyxl.chart.label import DataLabelList

from recon_cli.outputs.columns import large
from recon_cli.outputs.xlsx.cells import Col, columns_of, frame_columns, money_format
from recon_cli.records import MARGIN

if TYPE_CHECKING:
    import pandas as pd
    from openpyxl.worksheet._write_only import WriteOnlyWorksheet

ZERO = Decimal(0)
HUNDRED = Decimal(100)
CENT = Decimal("0.01")
MAX_CUSTOMERS = 100_000  # rows of the customer table; the Margin and Lines sheets have every customer
CHART_TOP = 10  # customers in the chart
CHART_ROWS = 17  # rows the chart covers on the Summary
CHART_COLOR = "C0504D"


def _summary_columns() -> tuple[Col, ...]:
    """The Margin sheet's columns with the customer name first and its other text fields
    (customer id, currency) last: the numbers stay beside the name."""
    columns = columns_of(MARGIN)
    text = [c for c in columns if c.kind == "text"]
    return (text[0], *(c for c in columns if c.kind != "text"), *text[1:])


COLUMNS = _summary_columns()
_FIELDS = tuple(c.field for c in COLUMNS)


@dataclass(frozen=True)
class CustomerTable:
    """The table's columns, its values column by column (`data`), and how many rows are listed
    customers (the rest are the summed "other customers" rows, one per currency)."""

    columns: tuple[Col, ...]
    data: list[list[Any]]
    listed: int
    with_something: int  # customers with something to look at, before the MAX_CUSTOMERS cap

    @property
    def rows(self) -> int:
        return len(self.data[0])

    def column(self, field: str) -> int:
        """The 1-based column of `field`."""
        return _FIELDS.index(field) + 1

    def at_risk_rows(self) -> int:
        """How many of the first listed rows have money at risk (they come first)."""
        risk = self.data[_FIELDS.index("money_at_risk")]
        return next((i for i in range(self.listed) if not risk[i]), self.listed)


def _text(value: Any) -> str:
    return value if isinstance(value, str) and value not in ("nan", "None", "<NA>") else ""


def _key(name: Any, customer_id: Any, currency: Any) -> tuple[str, str, str]:
    """Customer name, id and currency, blanks (however a frame held them) as ""."""
    return _text(name), _text(customer_id), _text(currency)


def _line_groups(cells: Mapping[str, Any], lines: pd.DataFrame) -> dict[tuple[str, str, str], list[Any]]:
    """(customer name, id, currency) -> [money at risk, over-billed, lines needing a person], in the
    order customers first appear; grouped by Arrow and summed exactly by `decimals.group_totals`."""
    import numpy as np
    import pandas as pd
    import pyarrow as pa
    import pyarrow.compute as pc

    from recon_cli.decimals import group_totals

    blanks = pa.array(["nan", "None", "<NA>"], pa.large_string())
    parts = []
    for field in ("customer_name", "customer_id", "currency"):
        text = pc.fill_null(cells[field], large(""))
        parts.append(pc.if_else(pc.is_in(text, value_set=blanks), large(""), text))
    encoded = pc.dictionary_encode(pc.binary_join_element_wise(*parts, large("\x1f")))
    codes, count = encoded.indices.to_numpy(zero_copy_only=False), len(encoded.dictionary)
    sums = []
    for field in ("money_at_risk", "over_billed"):
        values = lines[field] if field in lines.columns else pd.Series([None] * len(lines), dtype="object")
        sums.append([total if total else ZERO for total in group_totals(values, codes, count)])
    needing = lines["needs_person"].fillna(False).astype(bool).to_numpy() if "needs_person" in lines.columns \
        else np.zeros(len(lines), dtype=bool)
    needs = np.bincount(codes, weights=needing, minlength=count).astype(np.int64).tolist()
    keys = [tuple(key.split("\x1f")) for key in encoded.dictionary.to_pylist()]
    return {(k[0], k[1], k[2]): [risk, over, n] for k, risk, over, n in zip(keys, *sums, needs, strict=True)}


def customer_table(cells: Mapping[str, Any], lines: pd.DataFrame, margin: pd.DataFrame) -> CustomerTable:
    """The customer table from the Lines sheet's cells (Arrow text by field), the lines and the margin frame.

    Listed customers are ordered by money at risk, then over-billed, then lines needing a
    person, then margin (most negative first), then name; amounts of different currencies
    are compared as numbers.
    """
    rows: dict[tuple[str, str, str], dict[str, Any]] = {}
    for values in zip(*frame_columns(margin, COLUMNS), strict=True):
        row = dict(zip(_FIELDS, values, strict=True))
        rows[_key(row["customer_name"], row["customer_id"], row["currency"])] = row
    from_lines = _line_groups(cells, lines)
    for key, (risk, over, needs) in from_lines.items():
        if key not in rows:
            rows[key] = dict.fromkeys(_FIELDS)
            rows[key].update(customer_name=key[0] or None, customer_id=key[1] or None, currency=key[2] or None)
        rows[key].update(money_at_risk=risk, over_billed=over, needs_person=needs)

    def something(row: dict[str, Any]) -> bool:
        return bool(row["money_at_risk"] or row["over_billed"] or row["needs_person"]
                    or (row["margin"] is not None and row["margin"] < 0))

    listed = sorted((r for r in rows.values() if something(r)), key=lambda r: (
        -(r["money_at_risk"] or ZERO), -(r["over_billed"] or ZERO), -(r["needs_person"] or 0),
        r["margin"] if r["margin"] is not None else ZERO, r["customer_name"] or "", r["customer_id"] or "",
        r["currency"] or ""))
    shown = listed[:MAX_CUSTOMERS]
    others = [r for r in rows.values() if not something(r)] + listed[MAX_CUSTOMERS:]
    summed = _others(others, capped=len(listed) > MAX_CUSTOMERS)
    table = [[r[f] for r in shown + summed] for f in _FIELDS]
    name = table[0]
    table[0] = [n if n is not None else "(no customer name)" for n in name[:len(shown)]] + name[len(shown):]
    return CustomerTable(COLUMNS, table, len(shown), len(listed))


def _others(rows: list[dict[str, Any]], capped: bool) -> list[dict[str, Any]]:
    """The customers with nothing to look at (and, past MAX_CUSTOMERS, the ones not listed:
    `capped`), summed into one row per currency."""
    by_currency: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        by_currency.setdefault(row["currency"] or "", []).append(row)
    out = []
    for currency, group in sorted(by_currency.items()):
        priced = [r for r in group if r["margin"] is not None and r["revenue"] is not None]
        revenue = sum((r["revenue"] for r in priced), ZERO)
        margin = sum((r["margin"] for r in priced), ZERO)
        n = len(group)
        row = dict.fromkeys(_FIELDS)
        row.update(
            customer_name=f"{n:,} other customer{'s' if n != 1 else ''}"
                          + (" (not listed; see the Margin sheet)" if capped else ", nothing to look at"),
            currency=currency or None, subscriptions=sum(r["subscriptions"] or 0 for r in group),
            revenue=sum((r["revenue"] for r in group if r["revenue"] is not None), ZERO) if priced else None,
            cost=sum((r["cost"] for r in group if r["cost"] is not None), ZERO),
            margin=margin if priced else None,
            margin_pct=(margin / revenue * HUNDRED).quantize(CENT, ROUND_HALF_UP) if revenue else None,
            money_at_risk=sum((r["money_at_risk"] or ZERO for r in group), ZERO),
            over_billed=sum((r["over_billed"] or ZERO for r in group), ZERO),
            needs_person=sum(r["needs_person"] or 0 for r in group))
        out.append(row)
    return out


def add_chart(ws: WriteOnlyWorksheet, table: CustomerTable, header_row: int, anchor: str) -> bool:
    """A bar chart of money at risk by customer (the top CHART_TOP), its data the table's cells.

    Args:
        header_row: the table's header row on the sheet; its rows follow.
        anchor: the top-left cell of the chart.

    Returns:
        False, and no chart, when no customer has money at risk.
    """
    count = min(CHART_TOP, table.at_risk_rows())
    if not count:
        return False
    risk_col = table.column("money_at_risk")
    chart = BarChart()
    chart.type = "bar"  # horizontal bars: long customer names stay readable
    chart.title = f"Money at risk by customer (top {count})" if count > 1 else "Money at risk by customer"
    chart.add_data(Reference(ws, min_col=risk_col, min_row=header_row, max_row=header_row + count),
                   titles_from_data=True)
    chart.set_categories(Reference(ws, min_col=table.column("customer_name"), min_row=header_row + 1,
                                   max_row=header_row + count))
    chart.legend = None
    chart.x_axis.scaling.orientation = "maxMin"  # the customer with most at risk on top
    chart.y_axis.crosses = "max"  # keeps the amounts' axis at the bottom
    chart.x_axis.delete = chart.y_axis.delete = False
    currencies = {c for c in table.data[table.column("currency") - 1][:count] if c}
    chart.y_axis.number_format = money_format(next(iter(currencies))) if len(currencies) == 1 else "#,##0"
    chart.y_axis.majorGridlines = None
    series = chart.series[0]
    series.graphicalProperties.solidFill = CHART_COLOR
    series.graphicalProperties.line.solidFill = CHART_COLOR
    # The amount only, as its cell shows it ("300.00 USD"): no series or category name beside it.
    chart.dataLabels = DataLabelList(showVal=True, showSerName=False, showCatName=False, showLegendKey=False,
                                     showPercent=False)
    chart.width, chart.height = 24, 0.53 * (CHART_ROWS - 1)
    ws.add_chart(chart, anchor)
    return True
