"""Typed frames from raw text: Decimal money, real dates, keys for matching, and rejects.

Each stage returns new frames and never changes its input. Bad cells are collected as
rejects (file, row, column, value, what was expected) and their rows leave the data:
every input row ends in exactly one of the two.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING

from recon_cli.formats import DATE, GUID, MONEY, NUMBER, TableFormat
from recon_cli.formats.nce import CANCEL_CHARGE_TYPES, KNOWN_CHARGE_TYPES
from recon_cli.load import RawTable, resolve_columns
from recon_cli.models import REJECT_FIELDS, Kind

if TYPE_CHECKING:
    import pandas as pd

NUMBER_PATTERN = r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?"
THOUSANDS_PATTERN = r"[+-]?\d{1,3}(?:,\d{3})+(?:\.\d+)?"
# Timezone suffixes are dropped: the date as the provider wrote it is the date we use.
TZ_SUFFIX = r"(?:Z|[+-]\d\d:?\d\d)$"
US_DATE_FORMATS = ("%m/%d/%Y", "%m/%d/%Y %H:%M", "%m/%d/%Y %H:%M:%S", "%m/%d/%Y %I:%M:%S %p",
                   "%m/%d/%Y %I:%M %p")
FREQUENCY_WORDS = {
    "monthly": "monthly", "month": "monthly", "p1m": "monthly", "1 month": "monthly",
    "annual": "annual", "annually": "annual", "yearly": "annual", "year": "annual", "p1y": "annual",
    "1 year": "annual", "triennial": "triennial", "p3y": "triennial", "3 years": "triennial",
}


def empty_rejects() -> pd.DataFrame:
    import pandas as pd

    return pd.DataFrame({name: pd.Series(dtype="object") for name in REJECT_FIELDS})


def _reject_frame(file: str, rows: pd.Series, column: str, values: pd.Series, code: str,
                  message: str) -> pd.DataFrame:
    import pandas as pd

    return pd.DataFrame({
        "file": file, "row": rows.to_numpy(), "column": column, "value": values.to_numpy(),
        "code": code, "message": message,
    })


def parse_decimal(text: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Exact decimals from text; `1,200`, `$12.50` and `(12.50)` accepted.

    Returns:
        (values: object Series of Decimal or None for blank, bad: bool mask of unparseable cells).
        Unique texts are parsed once, so a million-line column costs what its distinct values cost.
    """
    import numpy as np
    import pandas as pd

    codes, uniques = pd.factorize(text, sort=False)
    cleaned = pd.Series(uniques, dtype="str").str.strip()
    valid = cleaned.str.fullmatch(NUMBER_PATTERN)
    negative = pd.Series(False, index=cleaned.index)
    # Only what is not already a plain number goes through the clean-up (symbols, parentheses, 1,200).
    odd = ~valid & (cleaned != "")
    if odd.any():
        fixed = cleaned[odd]
        negative[odd] = fixed.str.fullmatch(r"\(.*\)")
        fixed = fixed.str.replace(r"^\((.*)\)$", r"\1", regex=True)
        fixed = fixed.str.replace(r"^([+-]?)[$€£¥]\s*", r"\1", regex=True).str.replace(" ", "", regex=False)
        thousands = fixed.str.fullmatch(THOUSANDS_PATTERN)
        fixed = fixed.where(~thousands, fixed.str.replace(",", "", regex=False))
        cleaned[odd] = fixed
        valid[odd] = fixed.str.fullmatch(NUMBER_PATTERN)
    blank = cleaned == ""
    parsed: list[Decimal | None] = []
    for value, ok, minus in zip(cleaned.tolist(), valid.tolist(), negative.tolist(), strict=True):
        if not ok:
            parsed.append(None)
            continue
        try:
            number = Decimal(value)
        except InvalidOperation:  # cannot happen after the pattern, kept as a guard
            parsed.append(None)
            continue
        parsed.append(-number if minus else number)
    parsed_array = np.array([*parsed, None], dtype=object)
    bad_unique = np.array([*(~valid & ~blank).tolist(), False], dtype=bool)
    codes = np.where(codes < 0, len(parsed_array) - 1, codes)
    values = pd.Series(parsed_array[codes], index=text.index, dtype=object)
    bad = pd.Series(bad_unique[codes], index=text.index)
    return values, bad


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


def parse_date(text: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Dates as the provider wrote them: M/D/YYYY (portal CSV, with or without a time) or ISO 8601.

    Returns:
        (datetime64 Series, NaT for blank or bad; bad: bool mask of unparseable cells).
    """
    import numpy as np
    import pandas as pd

    codes, uniques = pd.factorize(text, sort=False)
    cleaned = pd.Series(uniques, dtype="str").str.strip()
    result = pd.Series(pd.NaT, index=cleaned.index, dtype="datetime64[us]")
    todo = cleaned != ""
    for fmt in US_DATE_FORMATS:
        if not todo.any():
            break
        parsed = pd.to_datetime(cleaned[todo], format=fmt, errors="coerce").astype("datetime64[us]")
        result[parsed.index] = result[parsed.index].fillna(parsed)
        todo &= result.isna()
    if todo.any():
        iso = cleaned[todo].str.replace(TZ_SUFFIX, "", regex=True)
        iso = iso.str.replace(r"(\.\d{6})\d+", r"\1", regex=True)  # the API writes 7 digits
        parsed = pd.to_datetime(iso, format="ISO8601", errors="coerce").astype("datetime64[us]")
        result[parsed.index] = result[parsed.index].fillna(parsed)
        todo &= result.isna()
    # 0001-01-01 is the API's null date, not a date.
    result[result.dt.year <= 1] = pd.NaT
    bad_unique = np.array([*todo.tolist(), False], dtype=bool)
    values_unique = np.array([*result.to_numpy(), np.datetime64("NaT")], dtype="datetime64[us]")
    codes = np.where(codes < 0, len(values_unique) - 1, codes)
    return (pd.Series(values_unique[codes], index=text.index),
            pd.Series(bad_unique[codes], index=text.index))


def id_key(text: pd.Series) -> pd.Series:
    """Matching key of an id: GUIDs compare case-insensitively, without braces or an `org:` prefix."""
    return (text.str.strip().str.lower().str.replace(r"^org:", "", regex=True)
            .str.strip("{}").str.strip())


def normalize_table(table: RawTable, fmt: TableFormat) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Rename declared columns, parse each by its type, and split off rows that fail.

    Returns:
        (typed frame with our column names plus `row`, rejects frame). Declared columns
        absent from the file are present and blank.
    """
    import pandas as pd

    headers = resolve_columns(table, fmt)
    raw = table.frame
    where = table.file if table.sheet is None else f"{table.file} [{table.sheet}]"
    out: dict[str, pd.Series] = {"row": raw["__row__"]}
    rejects: list[pd.DataFrame] = []
    bad_rows = pd.Series(False, index=raw.index)
    for column in fmt.columns:
        header = headers.get(column.name)
        text = raw[header].str.strip() if header else pd.Series("", index=raw.index, dtype="str")
        if column.nonblank:
            blank = text == ""
            if blank.any():
                rejects.append(_reject_frame(where, raw.loc[blank, "__row__"], header or column.source,
                                             text[blank], "required_value",
                                             f"'{header}' is blank; a value is required"))
                bad_rows |= blank
        if column.type in (MONEY, NUMBER):
            values, bad = parse_decimal(text)
            expected = "an amount like 1234.56" if column.type == MONEY else "a number like 12 or 1,200"
            code = "not_a_number"
        elif column.type == DATE:
            values, bad = parse_date(text)
            expected, code = "a date like 10/31/2026 or 2026-10-31", "not_a_date"
        else:
            out[column.name] = text
            if column.type == GUID:
                out[f"{column.name}_key"] = id_key(text)
            continue
        if bad.any():
            found = text[bad]
            rejects.append(_reject_frame(
                where, raw.loc[bad, "__row__"], header or column.source, found, code,
                f"'{header}': expected {expected}, found " + found.map(repr).astype("str")))
            bad_rows |= bad
        out[column.name] = values
    frame = pd.DataFrame(out)
    reject_frame = pd.concat(rejects, ignore_index=True) if rejects else empty_rejects()
    return frame.loc[~bad_rows].reset_index(drop=True), reject_frame


def _frequency(text: pd.Series) -> pd.Series:
    key = text.str.strip().str.lower()
    return key.map(FREQUENCY_WORDS).fillna("").astype("str")


def normalize_invoice(table: RawTable, fmt: TableFormat, source: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Typed invoice lines with line ids, kinds and matching keys (PRODUCT.md §3 rules 1–2)."""
    import numpy as np

    frame, rejects = normalize_table(table, fmt)
    row_text = frame["row"].astype("str")
    invoice = frame["invoice_number"]
    frame["line_id"] = invoice.where(invoice != "", source.stem) + "-" + row_text
    frame["charge_type_key"] = frame["charge_type"].str.lower().str.replace(" ", "", regex=False)
    frame["currency"] = frame["currency"].str.upper()
    term = frame["term"].str.lower()
    frequency = _frequency(frame["billing_frequency"])
    # A term that names one billing plan settles an empty BillingFrequency; "monthly/yearly" does not.
    frequency = frequency.where(frequency != "", np.where(
        term.str.contains("for monthly billing", regex=False), "monthly",
        np.where(term.str.contains("for yearly billing", regex=False) | term.str.contains(
            "for annual billing", regex=False), "annual", "")))
    frame["frequency"] = frequency.astype("str")
    commitment = term.str.contains("commitment|subscription", regex=True)
    metered = (frame["meter_description"] != "") | (frame["unit_type"] != "") | (
        (term != "") & ~commitment & ~term.str.contains("one-time|onetime|one time|perpetual", regex=True))
    # A billing plan and no meter is a licence line even when the term text is left blank.
    seat = (frame["frequency"] != "") & (commitment | ((term == "") & ~metered))
    frame["kind"] = np.where(seat, Kind.SEAT.value, np.where(metered, Kind.USAGE.value, Kind.ONE_TIME.value))
    frame["is_cancel"] = frame["charge_type_key"].isin(list(CANCEL_CHARGE_TYPES))
    # The negative half of an addQuantity/removeQuantity pair, refunds and credits: never a seat count.
    frame["negative"] = decimal_test(frame["subtotal"], lambda amount: amount < 0)
    frame["product"] = frame["sku_name"].where(frame["sku_name"] != "", frame["product_name"])
    frame["product"] = frame["product"].where(frame["product"] != "", frame["subscription_description"])
    return frame, rejects


def unknown_charge_types(invoice: pd.DataFrame) -> list[str]:
    """ChargeType values not in the documented list: kept, and reported."""
    keys = invoice["charge_type_key"]
    unknown = invoice.loc[~keys.isin(list(KNOWN_CHARGE_TYPES)) & (keys != ""), "charge_type"]
    return sorted(unknown.unique().tolist())


def normalize_subscriptions(table: RawTable, fmt: TableFormat, default_currency: str
                            ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Typed subscriptions; a repeated subscription id is rejected, never matched twice."""
    import pandas as pd

    frame, rejects = normalize_table(table, fmt)
    # Blank currency means "the invoice's": compared line by line, so a two-currency invoice is fine.
    frame["currency"] = frame["currency"].str.upper()
    frequency = _frequency(frame["billing_frequency"])
    frame["frequency"] = frequency.where(frequency != "", "monthly")
    frame["status_key"] = frame["status"].str.strip().str.lower().where(frame["status"] != "", "active")
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


def normalize_changes(table: RawTable, fmt: TableFormat) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Typed change-log records; the delta comes from quantity_delta or new − old quantity."""
    import pandas as pd

    from recon_cli.load import resolve_columns

    headers = resolve_columns(table, fmt)
    has_delta = "quantity_delta" in headers
    if not has_delta and not {"old_quantity", "new_quantity"} <= headers.keys():
        from recon_cli.errors import InputError

        raise InputError(f"{table.file}: column 'quantity_delta' (or both 'old_quantity' and "
                         f"'new_quantity') not found; the columns are: {', '.join(table.headers)}")
    frame, rejects = normalize_table(table, fmt)
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
