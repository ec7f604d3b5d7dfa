"""A month's invoices (PRODUCT.md §1): one or more files, read and normalized as one set of lines.

Partner Center issues one invoice per billing currency, so a month may come as several files.
Each keeps its own line ids (`<InvoiceNumber>-<row>`) and its raw rows, which `--csv` writes back
with the results appended (held compressed through the run: cells.py).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from recon_cli.cells import HeldCells, hold, joined
from recon_cli.errors import ConfigError, InputError
from recon_cli.formats.detect import choose_invoice_format
from recon_cli.frames import concat_rejects
from recon_cli.load import read_table
from recon_cli.normalize import Typed, normalize_invoice
from recon_cli.records import MAX_INVOICES

if TYPE_CHECKING:
    import pandas as pd

# Columns read and checked (a bad cell is rejected or warned about) that no rule uses after: let go
# once the lines are typed (about 0.4 GB at a million lines).
CHECKED_ONLY = (
    "partner_id", "partner_id_key", "customer_domain", "customer_country", "mpn_id", "reseller_mpn_id", "order_id",
    "availability_id", "publisher_name", "publisher_id", "list_unit_price", "pricing_currency", "exchange_rate_date",
    "price_adjustment", "reference_id", "reference_id_key", "promotion_id", "promotion_id_key", "credit_reason_code",
    "alternate_id", "subscription_start", "subscription_end", "meter_description", "product_qualifiers", "term",
    "unit_type", "reservation_order_id", "product_category")


@dataclass(frozen=True)
class Invoices:
    """The month's invoice lines.

    Attributes:
        typed: every file's lines, rejects and notes, together.
        raw: every file's cells as read, compressed (cells.py); None when not kept.
        format_name: the format of each file, joined by ", " when they differ.
        default_currency: the currency most lines are billed in: a subscription with no
            currency of its own is taken to be in it.
    """

    typed: Typed
    raw: HeldCells | None
    format_name: str
    default_currency: str

    def matched(self) -> Invoices:
        """The same without the typed lines, once matched: the matched lines carry what the rules use."""
        return replace(self, typed=self.typed.without_rows())


def read_invoices(paths: tuple[Path, ...], requested: str = "auto", profile: Any = None,
                  date_format: str | None = None, keep_raw: bool = True) -> Invoices:
    """Read, detect and normalize each invoice file; refuse two files whose line ids collide.

    Args:
        keep_raw: keep each file's cells as read, compressed (for `--csv`); otherwise they are let go.
    """
    import pandas as pd

    if not paths:
        raise ConfigError("give at least one invoice file")
    if len(paths) > MAX_INVOICES:
        raise ConfigError(f"{len(paths)} invoice files given; one run takes at most {MAX_INVOICES}")
    parts, raws, formats = [], [], []
    for path in paths:
        table = read_table(path)
        fmt = choose_invoice_format(table, requested, profile)
        typed = normalize_invoice(table, fmt, path, date_format=date_format)
        parts.append(Typed(typed.frame, typed.rejects, (*table.notes, *typed.notes), typed.warnings))
        if keep_raw:
            raws.append(hold(table.frame, path.name))
        del table
        formats.append(fmt.name)
    frame = pd.concat([p.frame for p in parts], ignore_index=True) if len(parts) > 1 else parts[0].frame
    frame = frame.drop(columns=list(CHECKED_ONLY), errors="ignore")
    repeated = _repeated_line_ids(frame, [len(p.frame) for p in parts])
    if repeated.any():
        first = frame.loc[repeated, "line_id"].iloc[0]
        files = ", ".join(sorted(set(frame.loc[frame["line_id"] == first, "invoice_file"])))
        raise InputError(f"line id {first} is in more than one invoice file ({files}): the same invoice given "
                         "twice? Give each invoice once.")
    typed = Typed(frame, concat_rejects([p.rejects for p in parts]), tuple(n for p in parts for n in p.notes),
                  concat_rejects([p.warnings for p in parts]))
    if frame.empty:
        raise InputError(_no_usable_line(paths, typed.rejects))
    raw = joined(raws) if raws else None
    currency = str(frame["currency"].mode().iloc[0]) if len(frame) else ""
    return Invoices(typed=typed, raw=raw, format_name=", ".join(dict.fromkeys(formats)), default_currency=currency)


def _repeated_line_ids(frame: pd.DataFrame, sizes: list[int]) -> Any:
    """Per line, whether its id is another line's too (`duplicated(keep=False)`); `sizes`: each file's
    count of lines, in the frame's order.

    A line id is `<invoice or file>-<row>`, and the row's digits follow the last '-': within one file
    whose rows rise strictly, no id repeats. So when every file's rows rise, the largest file's ids are
    not hashed, only looked up among the other files' (0.14-0.66 s a million lines -> a few ms)."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    rows = frame["row"].to_numpy()
    ends = np.cumsum(sizes, dtype=np.int64)
    starts = np.zeros(len(rows), dtype=bool)  # a line that opens a file need not follow the row before
    starts[ends[:-1][ends[:-1] < len(rows)]] = True
    rising = rows.dtype.kind in "iu" and bool(np.all(rows > 0)) and bool(np.all((rows[1:] > rows[:-1]) | starts[1:]))
    if not rising:
        return frame["line_id"].duplicated(keep=False).to_numpy()
    repeated = np.zeros(len(frame), dtype=bool)
    if len(sizes) < 2:
        return repeated
    largest = int(np.argmax(sizes))
    start, end = int(ends[largest]) - sizes[largest], int(ends[largest])
    others = np.r_[0:start, end:len(frame)]
    ids = pa.array(frame["line_id"], type=pa.large_string(), from_pandas=True)
    big, small = ids.slice(start, end - start), ids.take(pa.array(others))
    in_small = pc.is_in(big, value_set=small).to_numpy(zero_copy_only=False)
    repeated[start:end] = in_small
    repeated[others] = frame["line_id"].iloc[others].duplicated(keep=False).to_numpy() | pc.is_in(
        small, value_set=big.filter(pa.array(in_small))).to_numpy(zero_copy_only=False)
    return repeated


def _no_usable_line(paths: tuple[Path, ...], rejects: pd.DataFrame) -> str:
    """Why a month has no invoice line to reconcile: a reconciliation of nothing must not pass."""
    names = ", ".join(path.name for path in paths)
    if rejects.empty:
        return (f"{names}: no invoice line to reconcile: the file holds a header and no data rows; "
                "expected the month's reconciliation export with its lines")
    first = rejects.iloc[0]
    return (f"{names}: no usable invoice line: all {len(rejects):,} data row(s) were rejected; the first: "
            f"{first['file']} row {first['row']}, column '{first['column']}': {first['message']}")
