"""Resource caps for reading input files: a hostile or broken file is refused in seconds, not after
gigabytes of memory.

One small value, `Limits`, holds every cap. The defaults fit a real 10,000,000-line Partner Center
month (a 1,000,000-line NCE CSV is about 600 MB) with room to spare; `[limits]` in recon.toml and
`recon run --max-input-size` raise them. Standard library only: `recon --help` imports this.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields, replace
from typing import Any

from recon_cli.errors import ConfigError, InputError

GIB = 1024**3
_UNITS = {"": 1, "B": 1, "K": 1024, "KB": 1024, "KIB": 1024, "M": 1024**2, "MB": 1024**2, "MIB": 1024**2,
          "G": GIB, "GB": GIB, "GIB": GIB, "T": 1024**4, "TB": 1024**4, "TIB": 1024**4}
# How each cap is named in messages, and the recon.toml key (and flag) that raises it.
_HOW_TO_RAISE = {
    "max_input_size": "--max-input-size or max_input_size under [limits] in recon.toml",
    "max_inflate_ratio": "max_inflate_ratio under [limits] in recon.toml",
    "max_cell_chars": "max_cell_chars under [limits] in recon.toml",
    "max_columns": "max_columns under [limits] in recon.toml",
    "max_xlsx_cells": "max_xlsx_cells under [limits] in recon.toml",
}


@dataclass(frozen=True)
class Limits:
    """The caps on what an input file may hold.

    Attributes:
        max_input_size: bytes of one input file on disk, and of what a .gz or an .xlsx inflates to.
            10 GiB: a 10,000,000-line NCE month is about 6 GB of CSV.
        max_inflate_ratio: inflated size over compressed size of a .gz or an .xlsx. Billing CSV and
            sheet XML compress 5 to 30 times; a zip or gzip bomb (blank lines, one repeated byte)
            compresses 1,000 times and is refused after inflating 200 times its size.
        max_cell_chars: characters in one cell. Excel itself holds at most 32,767; no billing field
            comes near 100,000, and a name of millions of characters only slows every later step.
        max_columns: cells in the header row, or keys across a Graph export's records. An invoice has
            about 60 and no billing export 200; every column costs each step a little, so 20,000
            would take a minute.
        max_xlsx_cells: non-empty cells read from one workbook: a full 1,048,576-row sheet of 95 columns.
    """

    max_input_size: int = 10 * GIB
    max_inflate_ratio: int = 200
    max_cell_chars: int = 100_000
    max_columns: int = 1_024
    max_xlsx_cells: int = 100_000_000

    def with_input_size(self, size: int | None) -> Limits:
        """The same caps with `--max-input-size` applied (None: unchanged)."""
        return self if size is None else replace(self, max_input_size=size)

    @classmethod
    def from_table(cls, table: dict[str, Any], where: str) -> Limits:
        """Caps from recon.toml's `[limits]` table: sizes as bytes or text ("20GB", "512 MB"), counts as integers.

        Raises:
            ConfigError: an unknown key or a value that is not a positive size or count.
        """
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(table) - known)
        if unknown:
            raise ConfigError(f"{where}: unknown key(s) {', '.join(unknown)} under [limits]; valid: "
                              + ", ".join(sorted(known)))
        values: dict[str, int] = {}
        for key, value in table.items():
            try:
                values[key] = parse_size(value) if key == "max_input_size" else _positive(value)
            except ValueError as exc:
                raise ConfigError(f"{where}: [limits].{key}: {exc}") from None
        return cls(**values)


def _positive(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"expected a positive whole number, found {value!r}")
    return value


def parse_size(value: Any) -> int:
    """Bytes from 1073741824, "1GB", "1.5 GiB" or "512M" (units are powers of 1024)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return _positive(value)
    found = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([A-Za-z]*)\s*", str(value))
    unit = found[2].upper() if found else ""
    if not found or unit not in _UNITS or float(found[1]) * _UNITS[unit] < 1:
        raise ValueError(f"expected a size like 20GB, 512MB or a number of bytes, found {value!r}")
    return int(float(found[1]) * _UNITS[unit])


def show_size(size: int) -> str:
    """1073741824 -> '1 GiB', 524288 -> '512 KiB': sizes in messages, in the units parse_size reads."""
    for unit, scale in (("TiB", 1024**4), ("GiB", GIB), ("MiB", 1024**2), ("KiB", 1024)):
        if size >= scale:
            return f"{size / scale:.3g} {unit}"
    return f"{size} bytes"


def over_limit(where: str, found: str, cap: str, limit: str) -> InputError:
    """The one-line error for an input past a cap: what was found, the cap, and how to raise it.

    Args:
        where: the file, with the row and column when there is one ("invoice.csv, row 5, column 'X'").
        found: what the file holds ("a cell of 10,485,760 characters").
        cap: the field of Limits that refused it.
        limit: the cap's value as shown to a person.
    """
    return InputError(f"{where}: refused: {found}; the limit is {limit} ({cap}); if the file is genuine, "
                      f"raise it with {_HOW_TO_RAISE[cap]}")


_active = Limits()


def set_limits(limits: Limits) -> None:
    """Make `limits` the caps every reader applies from now on (the CLI calls this once per run)."""
    global _active
    _active = limits


def active_limits() -> Limits:
    """The caps in force: the defaults unless set_limits() was called."""
    return _active
