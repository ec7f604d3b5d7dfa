"""Typed frames from raw text: Decimal money, real dates, keys for matching, and rejects.

Each function returns a new `Typed` value and never changes its input. Bad cells are
collected as rejects (file, row, column, value, what was expected) and their rows leave the
data: every input row ends in exactly one of the two.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from recon_cli.errors import InputError
from recon_cli.formats import DATE, GUID, MONEY, NUMBER, TableFormat, charge_type_key, resolve_columns
from recon_cli.formats.conventions import decide_date_order, decide_decimal_styles
from recon_cli.formats.damage import excel_damage_notes
from recon_cli.formats.dates import DateEvidence, factorize_dates, parse_date, parse_dates
from recon_cli.formats.nce import KNOWN_CHARGE_TYPES
from recon_cli.formats.numbers import factorize_numbers, parse_decimal, parse_numbers
from recon_cli.formats.subscriptions import FREQUENCY_WORDS, STATUS_CANCELLED, STATUS_WORDS, USAGE
from recon_cli.frames import concat_rejects, decimal_test, reject_rows
from recon_cli.records import Kind, RejectCode

if TYPE_CHECKING:
    import pandas as pd

    from recon_cli.load import RawTable

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
    # A format that derives the effective price from the subtotal cannot have its arithmetic checked.
    frame["price_derived"] = fmt.derive is not None
    notes = [*typed.notes, *_damage_notes(typed, table, fmt)]
    row_text = frame["row"].astype("str")
    invoice = frame["invoice_number"]
    frame["line_id"] = invoice.where(invoice != "", file_stem(source)) + "-" + row_text
    frame["invoice_file"] = source.name
    frame["charge_type_key"] = _charge_type_keys(frame["charge_type"])
    frame["currency"] = frame["currency"].str.upper()
    frame["kind"], frame["frequency"] = _kinds(frame)
    cancel = frame["charge_type_key"].isin(list(fmt.cancel_charge_types))
    if fmt.cancel_contains:
        cancel |= frame["charge_type_key"].str.contains(fmt.cancel_contains, regex=False)
    frame["is_cancel"] = cancel
    frame["event_rank"] = np.where(cancel, 2, frame["charge_type_key"].map(fmt.event_ranks).fillna(1)).astype("int8")
    frame["charge_type_known"] = frame["charge_type_key"].isin(list(fmt.known_charge_types))
    # The negative half of an addQuantity/removeQuantity pair, refunds and credits: never a seat count.
    frame["negative"] = decimal_test(frame["subtotal"], lambda amount: amount < 0)
    frame["product"] = frame["sku_name"].where(frame["sku_name"] != "", frame["product_name"])
    frame["product"] = frame["product"].where(frame["product"] != "", frame["subscription_description"])
    # A seat line without a readable seat count can never be compared: a reject, not a silent match.
    countless = (frame["kind"] == Kind.SEAT.value) & frame["quantity"].isna()
    rejects = typed.rejects
    if countless.any():
        header = resolve_columns(table.headers, table.where, fmt).get("quantity", "Quantity")
        rejects = concat_rejects([rejects, reject_rows(
            table.where, frame.loc[countless, "row"], header, "", RejectCode.REQUIRED_VALUE,
            f"'{header}' is blank on a seat line; a seat line needs its seat count")])
        frame = frame.loc[~countless].reset_index(drop=True)
    return Typed(frame, rejects, tuple(notes))


def _kinds(frame: pd.DataFrame) -> tuple[Any, pd.Series]:
    """Each line's kind and billing plan (rule 2).

    A seat line carries a commitment term and is neither a meter, a reservation, nor a trial without
    a billing plan; a billing plan with no term text is a seat line too. A blank BillingFrequency
    takes the plan the term names, else the length of the line's charge cycle (a year, three years,
    a month): it never makes a seat line one-time.
    """
    import numpy as np

    term = frame["term"].str.lower()
    frequency = _frequency(frame["billing_frequency"])
    frequency = frequency.where(frequency != USAGE, "")
    commitment = term.str.contains(COMMITMENT, regex=True)
    meter = frame["meter_description"] != ""
    # Partner Center API samples fill ReservationOrderId on licence and meter rows too: a reservation is a
    # row with that id that is neither a licence product (CFQ7TTC...) nor a meter.
    reservation = (frame["reservation_order_id"] != "") & ~meter & ~frame["product_id"].str.upper().str.startswith(
        "CFQ7TTC")
    metered = meter | (~reservation & (((frame["unit_type"] != "") & ~commitment) | (
        (term != "") & ~commitment & ~term.str.contains("one-time|onetime|one time|perpetual", regex=True))))
    trial = frame["product_qualifiers"].str.lower().str.contains("trial", regex=False) | term.str.contains(
        "trial", regex=False)
    named = np.where(term.str.contains("for monthly billing", regex=False), "monthly",
                     np.where(term.str.contains("for yearly billing|for annual billing|for 3 years billing",
                                                regex=True), "annual", ""))
    frequency = frequency.where(frequency != "", named)
    seat = ~metered & ~reservation & ((commitment & ~(trial & (frequency == ""))) | ((term == "") & (frequency != "")))
    cycle_days = (frame["charge_end"] - frame["charge_start"]).dt.days + 1
    by_cycle = np.where(cycle_days >= 1000, "triennial", np.where(cycle_days >= 300, "annual", "monthly"))
    frequency = frequency.where((frequency != "") | ~seat, by_cycle)
    kind = np.where(seat, Kind.SEAT.value, np.where(metered, Kind.USAGE.value, Kind.ONE_TIME.value))
    return kind, frequency.astype("str")


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
    """Typed subscriptions, one row per subscription id, with the quantity in force (rule 4).

    The quantity in force is the export's quantity, or 0 for a cancelled subscription. Several rows
    with one subscription id (a subscription split over agreement lines) add up, with a note. The
    rejects carry `subscription_key`, the id of each rejected row, so that a line whose subscription
    row was rejected says so instead of "never re-billed".
    """
    typed = normalize_table(table, fmt, date_format=date_format)
    frame = typed.frame
    notes = [*typed.notes, *_damage_notes(typed, table, fmt)]
    # Blank currency means "the invoice's": compared line by line, so a two-currency invoice is fine.
    frame["currency"] = frame["currency"].str.upper()
    frequency = _frequency(frame["billing_frequency"])
    frame["frequency"] = frequency.where(frequency != "", "monthly")
    status = frame["status"].str.strip().str.lower()
    status = status.map(lambda word: STATUS_WORDS.get(word, word)).astype("str")
    # A PSA export without a status column (ConnectWise additions) marks cancellation by a date.
    status = status.where((status != "") | frame["cancelled_date"].isna(), STATUS_CANCELLED)
    frame["status_key"] = status.where(status != "", "active")
    cancelled = frame["status_key"] == STATUS_CANCELLED
    frame["quantity_in_force"] = frame["quantity"].where(~cancelled, Decimal(0))
    frame, merged = _merge_split_subscriptions(frame)
    if merged:
        notes.append(merged)
    rejects = typed.rejects.assign(subscription_key=_rejected_keys(table, fmt, typed.rejects))
    return Typed(frame, rejects if len(rejects) else rejects.iloc[0:0], tuple(notes))


def _rejected_keys(table: RawTable, fmt: TableFormat, rejects: pd.DataFrame) -> pd.Series:
    """The subscription id key of each rejected export row ("" when the row had none)."""
    import pandas as pd

    header = resolve_columns(table.headers, table.where, fmt).get("subscription_id")
    if header is None or rejects.empty:
        return pd.Series([""] * len(rejects), index=rejects.index, dtype="str")
    ids = table.frame.set_index("__row__")[header]
    ids = ids[~ids.index.duplicated()]
    return id_key(rejects["row"].map(ids).fillna("").astype("str"))


def _merge_split_subscriptions(frame: pd.DataFrame) -> tuple[pd.DataFrame, str | None]:
    """One row per subscription id: quantities in force add up; prices are averaged by seats when they differ."""
    import pandas as pd

    repeated = frame["subscription_id_key"].duplicated(keep=False)
    if not repeated.any():
        return frame, None
    parts = frame.loc[repeated]
    merged = []
    for _key, rows in parts.groupby("subscription_id_key", sort=False):
        first = rows.iloc[0].copy()
        seats = [q for q in rows["quantity_in_force"] if q is not None and q == q]
        total = sum(seats, Decimal(0))
        first["quantity"] = sum((q for q in rows["quantity"] if q is not None and q == q), Decimal(0))
        first["quantity_in_force"] = total
        for price in ("unit_price", "unit_cost"):
            first[price] = _seat_average(rows[price].tolist(), rows["quantity_in_force"].tolist())
        active = rows.loc[rows["status_key"] != STATUS_CANCELLED, "status_key"]
        first["status_key"] = active.iloc[0] if len(active) else STATUS_CANCELLED
        merged.append(first)
    combined = pd.DataFrame(merged).astype(frame.dtypes.to_dict())
    out = pd.concat([frame.loc[~repeated], combined]).sort_values("row", kind="stable")
    keys = parts["subscription_id_key"].drop_duplicates()
    example = parts.loc[parts["subscription_id_key"] == keys.iloc[0]]
    note = (f"{len(parts)} subscription export rows share {len(keys)} subscription id(s) (e.g. "
            f"{example['subscription_id'].iloc[0]}, rows {', '.join(str(r) for r in example['row'].head(5))}): "
            "each read as one subscription split over several lines; their quantities were added up.")
    return out.reset_index(drop=True), note


def _seat_average(prices: list[Any], seats: list[Any]) -> Decimal | None:
    """One price for rows of one subscription: the same price, or the average weighted by seats."""
    given = [(p, q) for p, q in zip(prices, seats, strict=True) if p is not None and p == p]
    if not given:
        return None
    if len({p for p, _ in given}) == 1:
        return Decimal(given[0][0])
    weight = sum((q for _, q in given if q is not None and q == q), Decimal(0))
    if weight == 0:
        return None
    return (sum((p * q for p, q in given if q is not None and q == q), Decimal(0)) / weight).quantize(
        Decimal("0.0001"))


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

