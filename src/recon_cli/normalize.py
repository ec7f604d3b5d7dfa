"""Typed frames from raw text: Decimal money, real dates, keys for matching, and rejects.

Each function returns a new `Typed` value and never changes its input. Bad cells are
collected as rejects (file, row, column, value, what was expected) and their rows leave the
data: every input row ends in exactly one of the two.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from recon_cli.errors import InputError
from recon_cli.formats import DATE, GUID, MONEY, NUMBER, TableFormat, charge_type_key, resolve_columns
from recon_cli.formats.conventions import decide_date_order, decide_decimal_styles
from recon_cli.formats.damage import excel_damage_notes
from recon_cli.formats.dates import DateEvidence, factorize_dates, parse_date, parse_dates
from recon_cli.formats.nce import KNOWN_CHARGE_TYPES
from recon_cli.formats.numbers import factorize_numbers, parse_decimal, parse_numbers
from recon_cli.frames import concat_rejects, decimal_test, reject_rows
from recon_cli.records import Kind, RejectCode

if TYPE_CHECKING:
    import pandas as pd

    from recon_cli.load import RawTable

FREQUENCY_WORDS = {
    "monthly": "monthly", "month": "monthly", "p1m": "monthly", "1 month": "monthly",
    "annual": "annual", "annually": "annual", "yearly": "annual", "year": "annual", "p1y": "annual",
    "1 year": "annual", "triennial": "triennial", "p3y": "triennial", "3 years": "triennial",
}
# A term naming a commitment: Partner Center's text, or an ISO duration / "1 Year" from distributors.
COMMITMENT = r"commitment|subscription|^p\d+[my]$|^(?:1|one|3|three)[ -]?(?:year|month)s?$"


@dataclass(frozen=True)
class Typed:
    """A normalized table: typed rows, the rows that failed, and what the user should know."""

    frame: pd.DataFrame
    rejects: pd.DataFrame
    notes: tuple[str, ...] = ()


def id_key(text: pd.Series) -> pd.Series:
    """Matching key of an id: GUIDs compare case-insensitively, without braces or an `org:` prefix."""
    return (text.str.strip().str.lower().str.replace(r"^org:", "", regex=True)
            .str.strip("{}").str.strip())


def normalize_table(table: RawTable, fmt: TableFormat, *, date_format: str | None = None) -> Typed:
    """Rename declared columns, parse each by its type, and split off rows that fail.

    The decimal separator and the order of day and month are decided once for the whole file
    (formats/conventions.py) before any cell is parsed.

    Args:
        date_format: "MDY" or "DMY" from `--date-format`, for a file whose dates do not tell.

    Returns:
        the typed frame (our column names plus `row`; declared columns absent from the file are
        present and blank), the rejects, and notes on how the file was read.
    """
    import pandas as pd

    headers = resolve_columns(table.headers, table.where, fmt)
    raw = table.frame
    where = table.where
    texts: dict[str, pd.Series] = {}
    for column in fmt.columns:
        header = headers.get(column.name)
        default = fmt.defaults.get(column.name)
        if header is None:
            text = pd.Series(default or "", index=raw.index, dtype="str")
        elif column.type in (MONEY, NUMBER, DATE) and default is None:
            # Parsed from their distinct values, which are stripped there: a million-row strip saved.
            text = raw[header]
        else:
            text = raw[header].str.strip()
            text = text if default is None else text.where(text != "", default)
        texts[column.name] = text
    numbers = {c.name: factorize_numbers(texts[c.name]) for c in fmt.columns
               if c.type in (MONEY, NUMBER) and c.name in headers}
    styles = decide_decimal_styles(numbers, fmt, where, table.delimiter)
    dates = {c.name: factorize_dates(texts[c.name]) for c in fmt.columns if c.type == DATE and c.name in headers}
    evidence = DateEvidence({}, {}, {})
    for name, date_texts in dates.items():
        evidence.add(headers[name], date_texts)
    order, date_notes = decide_date_order(evidence, fmt, where, date_format or fmt.declared_date_order,
                                          styles.european)
    notes = [*([styles.note] if styles.note else []), *date_notes]

    out: dict[str, pd.Series] = {"row": raw["__row__"]}
    rejects: list[pd.DataFrame] = [pd.DataFrame(table.rejects)] if table.rejects else []
    bad_rows = pd.Series(False, index=raw.index)
    for column in fmt.columns:
        header = headers.get(column.name)
        text = texts[column.name]
        if column.nonblank and column.type not in (MONEY, NUMBER, DATE):
            bad_rows |= _blank_rejects(text, text == "", raw, where, header or column.source, rejects)
        if column.name in numbers:
            values, bad = parse_numbers(numbers[column.name], styles.comma[column.name])
            expected = "an amount like 1234.56" if column.type == MONEY else "a number like 12 or 1,200"
            code = RejectCode.NOT_A_NUMBER
        elif column.name in dates:
            values, bad = parse_dates(dates[column.name], order)
            example = "10/31/2026" if order == "MDY" else "31/10/2026"
            expected, code = f"a date like {example} or 2026-10-31", RejectCode.NOT_A_DATE
        elif column.type in (MONEY, NUMBER, DATE):
            # Absent from the file (or filled by a default): blank, or the default parsed.
            values = (parse_decimal(text)[0] if column.type != DATE else parse_date(text)[0])
            bad = pd.Series(False, index=raw.index)
        else:
            out[column.name] = text
            if column.type == GUID:
                out[f"{column.name}_key"] = id_key(text)
            continue
        if column.nonblank:
            bad_rows |= _blank_rejects(text, values.isna() & ~bad, raw, where, header or column.source, rejects)
        if bad.any():
            found = text[bad].str.strip()
            rejects.append(reject_rows(
                where, raw.loc[bad, "__row__"], header or column.source, found, code,
                f"'{header}': expected {expected}, found " + found.map(repr).astype("str")))
            bad_rows |= bad
        out[column.name] = values
    for name, other in fmt.fallbacks.items():
        if name in out and other in out:
            given = out[name].notna()
            if fmt.column(name).type not in (MONEY, NUMBER, DATE):
                given &= out[name] != ""
            out[name] = out[name].where(given, out[other])
    frame = pd.DataFrame(out)
    if bad_rows.any():
        notes += _line_break_notes(raw.loc[bad_rows], where)
    return Typed(frame.loc[~bad_rows].reset_index(drop=True), concat_rejects(rejects), tuple(notes))


def _line_break_notes(rows: pd.DataFrame, where: str) -> list[str]:
    """A rejected row with a line break inside a cell: most likely an unbalanced quote, which also
    swallowed the rows after it. Only rejected rows are searched, so a clean file costs nothing."""
    for column in rows.columns:
        if column == "__row__":
            continue
        broken = rows.loc[rows[column].str.contains("\n", regex=False).to_numpy(dtype=bool, na_value=False)]
        if len(broken):
            return [f"{where}: row {broken['__row__'].iloc[0]}: the cell '{column}' holds a line break; if a quote "
                    "is unbalanced there, the rows after it were read into this one. Check the file at that row."]
    return []


def _blank_rejects(text: pd.Series, blank: pd.Series, raw: pd.DataFrame, where: str, header: str,
                   rejects: list[pd.DataFrame]) -> pd.Series:
    """Rejects for the blank cells of a column that needs a value; returns the mask."""
    if blank.any():
        rejects.append(reject_rows(where, raw.loc[blank, "__row__"], header, text[blank], RejectCode.REQUIRED_VALUE,
                                   f"'{header}' is blank; a value is required"))
    return blank


def _frequency(text: pd.Series) -> pd.Series:
    key = text.str.strip().str.lower()
    return key.map(FREQUENCY_WORDS).fillna("").astype("str")


def _damage_notes(typed: Typed, table: RawTable, fmt: TableFormat) -> list[str]:
    """What Excel did to the file, if it went through Excel (formats/damage.py)."""
    return excel_damage_notes(typed.frame, fmt, resolve_columns(table.headers, table.where, fmt), table.where,
                              workbook=table.kind == "xlsx")


def normalize_invoice(table: RawTable, fmt: TableFormat, source: Path, *, date_format: str | None = None) -> Typed:
    """Typed invoice lines with line ids, kinds and matching keys (PRODUCT.md §3 rules 1–2).

    Args:
        date_format: `--date-format`, for a file whose dates do not tell their order.
    """
    import numpy as np

    typed = normalize_table(table, fmt, date_format=date_format)
    frame = typed.frame if fmt.derive is None else fmt.derive(typed.frame)
    notes = [*typed.notes, *_damage_notes(typed, table, fmt)]
    row_text = frame["row"].astype("str")
    invoice = frame["invoice_number"]
    frame["line_id"] = invoice.where(invoice != "", file_stem(source)) + "-" + row_text
    frame["charge_type_key"] = _charge_type_keys(frame["charge_type"])
    frame["currency"] = frame["currency"].str.upper()
    term = frame["term"].str.lower()
    frequency = _frequency(frame["billing_frequency"])
    # A term that names one billing plan settles an empty BillingFrequency; "monthly/yearly" does not.
    frequency = frequency.where(frequency != "", np.where(
        term.str.contains("for monthly billing", regex=False), "monthly",
        np.where(term.str.contains("for yearly billing", regex=False) | term.str.contains(
            "for annual billing", regex=False), "annual", "")))
    frame["frequency"] = frequency.astype("str")
    commitment = term.str.contains(COMMITMENT, regex=True)
    metered = (frame["meter_description"] != "") | (frame["unit_type"] != "") | (
        (term != "") & ~commitment & ~term.str.contains("one-time|onetime|one time|perpetual", regex=True))
    # A billing plan and no meter is a licence line even when the term text is left blank.
    seat = (frame["frequency"] != "") & (commitment | ((term == "") & ~metered))
    frame["kind"] = np.where(seat, Kind.SEAT.value, np.where(metered, Kind.USAGE.value, Kind.ONE_TIME.value))
    cancel = frame["charge_type_key"].isin(list(fmt.cancel_charge_types))
    if fmt.cancel_contains:
        cancel |= frame["charge_type_key"].str.contains(fmt.cancel_contains, regex=False)
    frame["is_cancel"] = cancel
    frame["charge_type_known"] = frame["charge_type_key"].isin(list(fmt.known_charge_types))
    # The negative half of an addQuantity/removeQuantity pair, refunds and credits: never a seat count.
    frame["negative"] = decimal_test(frame["subtotal"], lambda amount: amount < 0)
    frame["product"] = frame["sku_name"].where(frame["sku_name"] != "", frame["product_name"])
    frame["product"] = frame["product"].where(frame["product"] != "", frame["subscription_description"])
    return Typed(frame, typed.rejects, tuple(notes))


def file_stem(path: Path) -> str:
    """The file name without its extensions: `G123.jsonl.gz` -> `G123` (line ids without an invoice number)."""
    name = path.name
    for suffix in (".gz", ".jsonl", ".json", ".ndjson", ".csv", ".txt", ".tsv", ".xlsx", ".xlsm"):
        if name.lower().endswith(suffix) and len(name) > len(suffix):
            name = name[: -len(suffix)]
    return name


def _charge_type_keys(charge_types: pd.Series) -> pd.Series:
    """charge_type_key of each line, computed once per distinct ChargeType (a dozen in a million lines)."""
    import pandas as pd

    codes, uniques = pd.factorize(charge_types, sort=False)
    keys = [charge_type_key(str(u)) for u in uniques]
    return pd.Series([*keys, ""], dtype="str").take(codes).set_axis(charge_types.index)


def unknown_charge_types(invoice: pd.DataFrame) -> list[str]:
    """ChargeType values the invoice's format does not document: kept, and reported."""
    keys = invoice["charge_type_key"]
    known = invoice["charge_type_known"] if "charge_type_known" in invoice else keys.isin(list(KNOWN_CHARGE_TYPES))
    unknown = invoice.loc[~known & (keys != ""), "charge_type"]
    return sorted(unknown.unique().tolist())


def normalize_subscriptions(table: RawTable, fmt: TableFormat, *, date_format: str | None = None) -> Typed:
    """Typed subscriptions; a repeated subscription id is rejected, never matched twice."""
    typed = normalize_table(table, fmt, date_format=date_format)
    frame = typed.frame
    notes = [*typed.notes, *_damage_notes(typed, table, fmt)]
    # Blank currency means "the invoice's": compared line by line, so a two-currency invoice is fine.
    frame["currency"] = frame["currency"].str.upper()
    frequency = _frequency(frame["billing_frequency"])
    frame["frequency"] = frequency.where(frequency != "", "monthly")
    status = frame["status"].str.strip().str.lower()
    # A PSA export without a status column (ConnectWise additions) marks cancellation by a date.
    status = status.where((status != "") | frame["cancelled_date"].isna(), "cancelled")
    frame["status_key"] = status.where(status != "", "active")
    rejects = typed.rejects
    duplicate = frame["subscription_id_key"].duplicated(keep="first")
    if duplicate.any():
        first_row = frame.drop_duplicates("subscription_id_key").set_index("subscription_id_key")["row"]
        dupes = frame.loc[duplicate]
        message = ("subscription id repeats row " + dupes["subscription_id_key"].map(first_row).astype("str")
                   + "; only the first is used, so an invoice line is never matched twice")
        rejects = concat_rejects([rejects, reject_rows(
            table.file, dupes["row"], "subscription_id", dupes["subscription_id"],
            RejectCode.DUPLICATE_SUBSCRIPTION, message)])
        frame = frame.loc[~duplicate].reset_index(drop=True)
    return Typed(frame, rejects, tuple(notes))


def normalize_changes(table: RawTable, fmt: TableFormat, *, date_format: str | None = None) -> Typed:
    """Typed change-log records; the delta comes from quantity_delta or new − old quantity."""
    headers = resolve_columns(table.headers, table.where, fmt)
    has_delta = "quantity_delta" in headers
    if not has_delta and not {"old_quantity", "new_quantity"} <= headers.keys():
        raise InputError(f"{table.file}: column 'quantity_delta' (or both 'old_quantity' and "
                         f"'new_quantity') not found; the columns are: {', '.join(table.headers)}")
    typed = normalize_table(table, fmt, date_format=date_format)
    frame, rejects = typed.frame, typed.rejects
    if not has_delta:
        both = frame["old_quantity"].notna() & frame["new_quantity"].notna()
        frame["quantity_delta"] = [n - o if ok else None for n, o, ok in
                                   zip(frame["new_quantity"], frame["old_quantity"], both, strict=True)]
    missing = frame["quantity_delta"].isna()
    if missing.any():
        rejects = concat_rejects([rejects, reject_rows(
            table.file, frame.loc[missing, "row"], headers.get("quantity_delta", "new_quantity"), "",
            RejectCode.REQUIRED_VALUE, "a quantity change is required (seats added or removed)")])
        frame = frame.loc[~missing].reset_index(drop=True)
    frame["provisioning_key"] = frame["provisioning_status"].str.strip().str.lower()
    return Typed(frame, rejects, typed.notes)

