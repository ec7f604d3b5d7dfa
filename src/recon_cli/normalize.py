"""Typed frames from raw text: Decimal money, real dates, keys for matching, and rejects.

Each stage returns new frames and never changes its input. Bad cells are collected as
rejects (file, row, column, value, what was expected) and their rows leave the data:
every input row ends in exactly one of the two.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

from recon_cli.formats import DATE, GUID, MONEY, NUMBER, TableFormat, charge_type_key
from recon_cli.formats.conventions import decide_date_order, decide_decimal_styles
from recon_cli.formats.damage import excel_damage_notes
from recon_cli.formats.dates import DateEvidence, factorize_dates, parse_date, parse_dates
from recon_cli.formats.nce import KNOWN_CHARGE_TYPES
from recon_cli.formats.numbers import factorize_numbers, parse_decimal, parse_numbers
from recon_cli.load import RawTable, resolve_columns
from recon_cli.models import REJECT_FIELDS, Kind

if TYPE_CHECKING:
    import pandas as pd

FREQUENCY_WORDS = {
    "monthly": "monthly", "month": "monthly", "p1m": "monthly", "1 month": "monthly",
    "annual": "annual", "annually": "annual", "yearly": "annual", "year": "annual", "p1y": "annual",
    "1 year": "annual", "triennial": "triennial", "p3y": "triennial", "3 years": "triennial",
}
# A term naming a commitment: Partner Center's text, or an ISO duration / "1 Year" from distributors.
COMMITMENT = r"commitment|subscription|^p\d+[my]$|^(?:1|one|3|three)[ -]?(?:year|month)s?$"


def empty_rejects() -> pd.DataFrame:
    import pandas as pd

    return pd.DataFrame({name: pd.Series(dtype="object") for name in REJECT_FIELDS})


def _reject_frame(file: str, rows: pd.Series, column: str, values: pd.Series, code: str,
                  message: str | pd.Series) -> pd.DataFrame:
    import pandas as pd

    return pd.DataFrame({
        "file": file, "row": rows.to_numpy(), "column": column, "value": values.to_numpy(),
        "code": code, "message": message,
    })


def decimal_test(values: pd.Series, predicate: Callable[[Decimal], bool]) -> pd.Series:
    """A bool mask of predicate(value) over a Decimal column (False for None), evaluated once per distinct value."""
    import numpy as np
    import pandas as pd

    codes, uniques = pd.factorize(values, sort=False, use_na_sentinel=True)
    answers = np.array([bool(predicate(u)) for u in uniques] + [False], dtype=bool)
    return pd.Series(answers[np.where(codes < 0, len(answers) - 1, codes)], index=values.index)


def decimal_sums(values: pd.Series, groups: pd.Series) -> dict[str, Decimal]:
    """Exact Σ values per group: distinct Decimals become scaled integers, summed by numpy.

    A million Decimals summed one by one in Python takes seconds; this takes milliseconds.
    """
    import numpy as np
    import pandas as pd

    codes, uniques = pd.factorize(values, sort=False, use_na_sentinel=True)
    if len(uniques) == 0:
        return {}
    exponent = min(min(int(u.as_tuple().exponent) for u in uniques), 0)
    scaled = [int(u.scaleb(-exponent)) for u in uniques]
    if exponent < -12 or max(abs(v) for v in scaled) * len(values) >= 2**62:
        sums: dict[str, Decimal] = {}
        for group, value in zip(groups, values, strict=True):
            if value is not None and value == value:
                sums[group] = sums.get(group, Decimal(0)) + value
        return sums
    integers = np.array([*scaled, 0], dtype=np.int64)[np.where(codes < 0, len(scaled), codes)]
    totals = pd.Series(integers, index=values.index).groupby(groups.to_numpy(), sort=True).sum()
    return {str(group): Decimal(int(total)).scaleb(exponent) for group, total in totals.items()}


def id_key(text: pd.Series) -> pd.Series:
    """Matching key of an id: GUIDs compare case-insensitively, without braces or an `org:` prefix."""
    return (text.str.strip().str.lower().str.replace(r"^org:", "", regex=True)
            .str.strip("{}").str.strip())


def normalize_table(table: RawTable, fmt: TableFormat, *, date_format: str | None = None,
                    notes: list[str] | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Rename declared columns, parse each by its type, and split off rows that fail.

    The decimal separator and the order of day and month are decided once for the whole file
    (formats/conventions.py) before any cell is parsed.

    Args:
        date_format: "MDY" or "DMY" from `--date-format`, for a file whose dates do not tell.
        notes: collects what the user should know about how the file was read.

    Returns:
        (typed frame with our column names plus `row`, rejects frame). Declared columns
        absent from the file are present and blank.
    """
    import pandas as pd

    headers = resolve_columns(table, fmt)
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
    if notes is not None:
        notes.extend([styles.note] if styles.note else [])
        notes.extend(date_notes)

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
            code = "not_a_number"
        elif column.name in dates:
            values, bad = parse_dates(dates[column.name], order)
            example = "10/31/2026" if order == "MDY" else "31/10/2026"
            expected, code = f"a date like {example} or 2026-10-31", "not_a_date"
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
            rejects.append(_reject_frame(
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
    reject_frame = pd.concat(rejects, ignore_index=True) if rejects else empty_rejects()
    if notes is not None and bad_rows.any():
        notes.extend(_line_break_notes(raw.loc[bad_rows], where))
    return frame.loc[~bad_rows].reset_index(drop=True), reject_frame


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
        rejects.append(_reject_frame(where, raw.loc[blank, "__row__"], header, text[blank], "required_value",
                                     f"'{header}' is blank; a value is required"))
    return blank


def _frequency(text: pd.Series) -> pd.Series:
    key = text.str.strip().str.lower()
    return key.map(FREQUENCY_WORDS).fillna("").astype("str")


def normalize_invoice(table: RawTable, fmt: TableFormat, source: Path, *, date_format: str | None = None,
                      notes: list[str] | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Typed invoice lines with line ids, kinds and matching keys (PRODUCT.md §3 rules 1–2).

    Args:
        date_format: `--date-format`, for a file whose dates do not tell their order.
        notes: collects what the user should know (how dates were read, Excel damage...).
    """
    import numpy as np

    frame, rejects = normalize_table(table, fmt, date_format=date_format, notes=notes)
    if fmt.derive is not None:
        frame = fmt.derive(frame)
    if notes is not None:
        notes.extend(excel_damage_notes(frame, fmt, resolve_columns(table, fmt), table.where,
                                        workbook=table.kind == "xlsx"))
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
    return frame, rejects


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


def normalize_subscriptions(table: RawTable, fmt: TableFormat, default_currency: str, *,
                            date_format: str | None = None, notes: list[str] | None = None
                            ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Typed subscriptions; a repeated subscription id is rejected, never matched twice."""
    import pandas as pd

    frame, rejects = normalize_table(table, fmt, date_format=date_format, notes=notes)
    if notes is not None:
        notes.extend(excel_damage_notes(frame, fmt, resolve_columns(table, fmt), table.where,
                                        workbook=table.kind == "xlsx"))
    # Blank currency means "the invoice's": compared line by line, so a two-currency invoice is fine.
    frame["currency"] = frame["currency"].str.upper()
    frequency = _frequency(frame["billing_frequency"])
    frame["frequency"] = frequency.where(frequency != "", "monthly")
    status = frame["status"].str.strip().str.lower()
    # A PSA export without a status column (ConnectWise additions) marks cancellation by a date.
    status = status.where((status != "") | frame["cancelled_date"].isna(), "cancelled")
    frame["status_key"] = status.where(status != "", "active")
    duplicate = frame["subscription_id_key"].duplicated(keep="first")
    if duplicate.any():
        first_row = frame.drop_duplicates("subscription_id_key").set_index("subscription_id_key")["row"]
        dupes = frame.loc[duplicate]
        message = ("subscription id repeats row " + dupes["subscription_id_key"].map(first_row).astype("str")
                   + "; only the first is used, so an invoice line is never matched twice")
        rejects = pd.concat([rejects, pd.DataFrame({
            "file": table.file, "row": dupes["row"].to_numpy(), "column": "subscription_id",
            "value": dupes["subscription_id"].to_numpy(), "code": "duplicate_subscription",
            "message": message.to_numpy()})], ignore_index=True)
        frame = frame.loc[~duplicate].reset_index(drop=True)
    return frame, rejects


def normalize_changes(table: RawTable, fmt: TableFormat, *, date_format: str | None = None,
                      notes: list[str] | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Typed change-log records; the delta comes from quantity_delta or new − old quantity."""
    import pandas as pd

    headers = resolve_columns(table, fmt)
    has_delta = "quantity_delta" in headers
    if not has_delta and not {"old_quantity", "new_quantity"} <= headers.keys():
        from recon_cli.errors import InputError

        raise InputError(f"{table.file}: column 'quantity_delta' (or both 'old_quantity' and "
                         f"'new_quantity') not found; the columns are: {', '.join(table.headers)}")
    frame, rejects = normalize_table(table, fmt, date_format=date_format, notes=notes)
    if not has_delta:
        both = frame["old_quantity"].notna() & frame["new_quantity"].notna()
        frame["quantity_delta"] = [n - o if ok else None for n, o, ok in
                                   zip(frame["new_quantity"], frame["old_quantity"], both, strict=True)]
    missing = frame["quantity_delta"].isna()
    if missing.any():
        rejects = pd.concat([rejects, pd.DataFrame({
            "file": table.file, "row": frame.loc[missing, "row"].to_numpy(),
            "column": headers.get("quantity_delta", "new_quantity"), "value": "",
            "code": "required_value", "message": "a quantity change is required (seats added or removed)"})],
            ignore_index=True)
        frame = frame.loc[~missing].reset_index(drop=True)
    frame["provisioning_key"] = frame["provisioning_status"].str.strip().str.lower()
    return frame, rejects
