"""What every terminal view shares: value formatting, status colours, plain tables.

Every value from an input file goes into a `Text`, never a markup string, so a customer
called "[bold]" stays text.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from rich import box
from rich.table import Table
from rich.text import Text

from recon_cli.outputs.inert import inert
from recon_cli.records import PriceStatus, Status

STATUS_STYLES: dict[str, str] = {
    Status.MATCHED: "green", Status.EXPLAINED: "cyan", Status.PARTIALLY_EXPLAINED: "yellow",
    Status.UNEXPLAINED: "bold red", Status.UNMATCHED: "magenta", Status.CONFIRMED: "blue",
}
PRICE_STYLES: dict[str, str] = {
    PriceStatus.CURRENCY_MISMATCH: "bold red", PriceStatus.BELOW_COST: "bold red",
    PriceStatus.COST_CHANGED: "yellow", PriceStatus.LOW_MARGIN: "yellow",
}
BLANK = Text("")


def to_decimal(value: Any) -> Decimal | None:
    """A Decimal from a frame cell or a stored string; None for blanks, NaN and text."""
    if value is None or value == "":
        return None
    try:
        number = value if isinstance(value, Decimal) else Decimal(str(value))
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def money(value: Any) -> str:
    """1,234.50; blank when absent."""
    number = to_decimal(value)
    return "" if number is None else f"{number:,.2f}"


def quantity(value: Any, sign: bool = False) -> str:
    """Seats without trailing zeros (10, 2.5); `sign` adds + to positive deltas."""
    number = to_decimal(value)
    if number is None:
        return ""
    text = format(number.normalize(), ",f")
    return f"+{text}" if sign and number > 0 else text


def plain(value: Any) -> str:
    """A value from a frame as inert text: no escape sequence or bidi override in it reaches the terminal."""
    if value is None:
        return ""
    if isinstance(value, float) and value != value:  # NaN from a frame
        return ""
    return inert(str(value))


def status_text(value: Any, styles: Mapping[str, str] = STATUS_STYLES) -> Text:
    """A status or price-status code in its colour."""
    text = plain(value)
    return Text(text, style=styles.get(text, ""))


def amounts_text(amounts: Mapping[str, str]) -> str:
    """"USD 1,234.50, EUR 10.00"; "none" when empty."""
    return ", ".join(f"{currency} {money(amount)}" for currency, amount in sorted(amounts.items())) or "none"


def counted(n: int, word: str) -> str:
    return f"{n:,} {word}" + ("" if n == 1 else "s")


def more_note(shown: int, total: int, what: str) -> Text | None:
    """"... and N more <what>s; see --xlsx" when a list was cut, else None."""
    if total <= shown:
        return None
    return Text(f"... and {total - shown:,} more {what}{'' if total - shown == 1 else 's'}; see --xlsx",
                style="dim")


def new_table(*headers: str, right: Iterable[str] = (), keep: Iterable[str] = (),
              title: str | None = None) -> Table:
    """A plain table; `right` columns align right, `keep` columns (ids, codes) never wrap."""
    table = Table(box=box.SIMPLE_HEAD, title=Text(title, style="bold") if title else None,
                  title_justify="left", pad_edge=False, show_edge=False, collapse_padding=True)
    right, keep = set(right), set(keep)
    for header in headers:
        table.add_column(header, justify="right" if header in right else "left",
                         overflow="fold", no_wrap=header in keep)
    return table


def facts(rows: list[tuple[str, Text | str]]) -> Table:
    """Label / value pairs, labels bold, values folded when long."""
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column(overflow="fold")
    for label, value in rows:
        grid.add_row(label, value if isinstance(value, Text) else Text(value))
    return grid
