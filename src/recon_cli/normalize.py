"""Typed frames from raw text: Decimal money, real dates, keys for matching, and rejects.

Each function returns a new `Typed` value and never changes its input. Bad cells are
collected as rejects (file, row, column, value, what was expected) and their rows leave the
data: every input row ends in exactly one of the two.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from recon_cli.decimals import decimal_test
from recon_cli.formats import DATE, GUID, MONEY, NUMBER, TableFormat, charge_type_key, header_key, resolve_columns
from recon_cli.formats.conventions import decide_date_order, decide_decimal_styles
from recon_cli.formats.damage import excel_damage_notes
from recon_cli.formats.dates import DateEvidence, factorize_dates, parse_date, parse_dates
from recon_cli.formats.nce import KNOWN_CHARGE_TYPES
from recon_cli.formats.numbers import EXPECTED_RANGE, factorize_numbers, parse_decimal, parse_numbers
from recon_cli.formats.vocabularies import FREQUENCY, NO_PLAN, USAGE
from recon_cli.frames import concat_rejects, distinct_texts, empty_rejects, reject_rows, strip_text
from recon_cli.outputs.inert import ID_NOISE
from recon_cli.records import Kind, RejectCode
from recon_cli.vocabulary import read_currencies, read_words

if TYPE_CHECKING:
    import pandas as pd

    from recon_cli.load import RawTable

_ID_NOISE = f"[{ID_NOISE}]"
# A term naming a commitment: Partner Center's text, or an ISO duration / "1 Year" from distributors.
COMMITMENT = r"commitment|subscription|^p\d+[my]$|^(?:1|one|3|three)[ -]?(?:year|month)s?$"


@dataclass(frozen=True)
class Typed:
    """A normalized table: typed rows, the rows that failed, what the user should know, and the cells read
    with a doubt (an optional cell that could not be read is left blank, and warned about)."""

    frame: pd.DataFrame
    rejects: pd.DataFrame
    notes: tuple[str, ...] = ()
    warnings: pd.DataFrame = field(default_factory=lambda: empty_rejects())

    def without_rows(self) -> Typed:
        """The same with no rows (their columns and types kept): what a run keeps of a file once its
        rows are matched. A zero-row slice would keep every buffer alive, so the frame is new."""
        import pandas as pd

        empty = pd.DataFrame({name: pd.Series(dtype=dtype) for name, dtype in self.frame.dtypes.items()})
        return replace(self, frame=empty)


_BRACES = ("{", "}")


def _beyond_ascii(text: pd.Series) -> bool:
    """Whether any id holds a character beyond ASCII, as every one of ID_NOISE is: one pass over the
    column instead of a regex per id (0.15 s a million ids)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    return pc.all(pc.string_is_ascii(pa.array(text, pa.large_string(), from_pandas=True))).as_py() is not True


def id_key(text: pd.Series) -> pd.Series:
    """Matching key of an id: GUIDs compare case-insensitively, without braces or an `org:` prefix.

    The prefix and the braces are taken off only when some id has them: each is a pass over a million
    ids that changes none of them in most files."""
    key = text.str.strip().str.lower()
    if key.str.startswith("org:").any():
        key = key.str.replace(r"^org:", "", regex=True)
    elif not (key.str.startswith(_BRACES).any() or key.str.endswith(_BRACES).any()):  # a regex: 4x slower
        return key  # stripped already, and neither braces nor a prefix to take off
    return key.str.strip("{}").str.strip()


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
            text = strip_text(raw[header])
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

    repeated = repeated_headers(table.headers)
    if repeated:
        shown = "; ".join(" / ".join(repr(h) for h in group) for group in repeated[:4])
        notes.append(f"{where}: {len(repeated)} header(s) appear more than once ({shown}): the first of each "
                     "was read, the others are not used. Check which column holds the values you mean.")
    copies = {h for group in repeated for h in group[1:]}
    unused = [h for h in table.headers if h not in set(headers.values()) and h not in copies]
    if unused:
        notes.append(f"{where}: columns not used: {', '.join(unused[:12])}{' ...' if len(unused) > 12 else ''}")
    out: dict[str, pd.Series] = {"row": raw["__row__"]}
    rejects: list[pd.DataFrame] = [pd.DataFrame(table.rejects)] if table.rejects else []
    warnings: list[pd.DataFrame] = []
    bad_rows = pd.Series(False, index=raw.index)
    for column in fmt.columns:
        header = headers.get(column.name)
        text = texts[column.name]
        if column.nonblank and column.type not in (MONEY, NUMBER, DATE):
            bad_rows |= _blank_rejects(text, text == "", raw, where, header or column.source, rejects)
        if column.name in numbers:
            values, bad = parse_numbers(numbers[column.name], styles.comma[column.name])
            expected = ("an amount like 1234.56" if column.type == MONEY else "a number like 12 or 1,200") + (
                f" ({EXPECTED_RANGE})")
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
                # A zero-width space or a bidi override: two ids that look alike must match.
                noisy = text.str.contains(_ID_NOISE, regex=True) if _beyond_ascii(text) else None
                if noisy is not None and noisy.any():
                    notes.append(f"{where}: column '{header}': {int(noisy.sum())} id(s) hold invisible or "
                                 f"text-direction characters (first at row {raw.loc[noisy, '__row__'].iloc[0]}): "
                                 "ignored for matching, shown escaped.")
                    text = text.str.replace(_ID_NOISE, "", regex=True)
                out[f"{column.name}_key"] = id_key(text)
            continue
        if column.nonblank:
            bad_rows |= _blank_rejects(text, values.isna() & ~bad, raw, where, header or column.source, rejects)
        if bad.any():
            found = text[bad].str.strip()
            message = f"'{header}': expected {expected}, found " + found.map(repr).astype("str")
            if fmt.rejects_bad(column):
                rejects.append(reject_rows(where, raw.loc[bad, "__row__"], header or column.source, found, code,
                                           message))
                bad_rows |= bad
            else:  # an optional cell: the row stays, the field is left blank (PRODUCT.md §2)
                warnings.append(reject_rows(where, raw.loc[bad, "__row__"], header or column.source, found, code,
                                            message + "; left blank"))
                values = values.where(~bad, None)
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
    kept = ~bad_rows
    warned = concat_rejects(warnings)
    if len(warned):  # a row rejected for another cell is not warned about too
        warned = warned.loc[warned["row"].isin(set(raw.loc[kept, "__row__"]))].reset_index(drop=True)
    return Typed(frame.loc[kept].reset_index(drop=True), concat_rejects(rejects), tuple(notes), warned)


def repeated_headers(headers: list[str]) -> list[list[str]]:
    """Headers that name one column more than once, grouped: "Quantity" and "quantity", or the
    "unit_price.1" a reader makes of a second "unit_price"."""
    groups: dict[str, list[str]] = {}
    present = set(headers)
    for header in headers:
        base = re.sub(r"\.\d+$", "", header)
        groups.setdefault(header_key(base if base in present else header), []).append(header)
    return [group for group in groups.values() if len(group) > 1]


def _line_break_notes(rows: pd.DataFrame, where: str) -> list[str]:
    """A rejected row with a line break inside a cell: most likely an unbalanced quote, which also
    swallowed the rows after it. Only rejected rows are searched, so a clean file costs nothing."""
    for column in rows.columns:
        if column == "__row__":
            continue
        broken = rows[column].str.contains("\n", regex=False).to_numpy(dtype=bool, na_value=False)
        if broken.any():  # one column's cells only: a wide file of many rejected rows stays cheap
            first = rows["__row__"].to_numpy()[broken.argmax()]
            return [f"{where}: row {first}: the cell '{column}' holds a line break; if a quote "
                    "is unbalanced there, the rows after it were read into this one. Check the file at that row."]
    return []


def _blank_rejects(text: pd.Series, blank: pd.Series, raw: pd.DataFrame, where: str, header: str,
                   rejects: list[pd.DataFrame]) -> pd.Series:
    """Rejects for the blank cells of a column that needs a value; returns the mask."""
    if blank.any():
        rejects.append(reject_rows(where, raw.loc[blank, "__row__"], header, text[blank], RejectCode.REQUIRED_VALUE,
                                   f"'{header}' is blank; a value is required"))
    return blank


def damage_notes(typed: Typed, table: RawTable, fmt: TableFormat) -> list[str]:
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
    notes = [*typed.notes, *damage_notes(typed, table, fmt)]
    row_text = frame["row"].astype("str")
    invoice = frame["invoice_number"]
    frame["line_id"] = invoice.where(invoice != "", file_stem(source)) + "-" + row_text
    frame["invoice_file"] = source.name
    frame["charge_type_key"] = _charge_type_keys(frame["charge_type"])
    headers = resolve_columns(table.headers, table.where, fmt)
    currency = read_currencies(frame["currency"], frame["row"], where=table.where, header=headers.get("currency"))
    # OneTime, NA...: no billing plan, as a blank one; an unknown plan is read from the term and cycle.
    plan = read_words(frame["billing_frequency"], frame["row"], {**FREQUENCY, "": NO_PLAN}, where=table.where,
                      header=headers.get("billing_frequency"), unknown_as="",
                      reading="read as blank: the plan comes from the term or the charge cycle")
    notes += [*currency.notes, *plan.notes]
    frame["currency"] = currency.read
    frame["kind"], frame["frequency"] = _kinds(frame, plan.read)
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
    return Typed(frame, rejects, tuple(notes), typed.warnings)


def _kinds(frame: pd.DataFrame, frequency: pd.Series) -> tuple[Any, pd.Series]:
    """Each line's kind and billing plan (rule 2).

    A seat line carries a commitment term and is neither a meter, a reservation, nor a trial without
    a billing plan; a billing plan with no term text is a seat line too. A blank BillingFrequency
    takes the plan the term names, else the length of the line's charge cycle (a year, three years,
    a month): it never makes a seat line one-time.
    """
    import numpy as np

    # A month has a few dozen distinct terms, products and qualifiers: each text test runs once per
    # distinct value, not once per line.
    term_codes, terms = distinct_texts(frame["term"].str.lower())

    def per_line(flags: Any) -> Any:
        return np.asarray(flags, dtype=bool)[term_codes]

    term_blank = per_line(terms == "")
    frequency = frequency.where(frequency != USAGE, "")
    commitment = per_line(terms.str.contains(COMMITMENT, regex=True, na=False))
    meter = (frame["meter_description"] != "").to_numpy()
    # Partner Center API samples fill ReservationOrderId on licence and meter rows too: a reservation is a
    # row with that id that is neither a licence product (CFQ7TTC...) nor a meter.
    product_codes, products = distinct_texts(frame["product_id"])
    licence = products.str.upper().str.startswith("CFQ7TTC", na=False).to_numpy(dtype=bool)
    reservation = (frame["reservation_order_id"] != "").to_numpy() & ~meter & ~licence[product_codes]
    one_time = per_line(terms.str.contains("one-time|onetime|one time|perpetual", regex=True, na=False))
    metered = meter | (~reservation & (((frame["unit_type"] != "").to_numpy() & ~commitment) | (
        ~term_blank & ~commitment & ~one_time)))
    qualifier_codes, qualifiers = distinct_texts(frame["product_qualifiers"])
    trial = qualifiers.str.lower().str.contains("trial", regex=False, na=False).to_numpy(dtype=bool)[
        qualifier_codes] | per_line(terms.str.contains("trial", regex=False, na=False))
    named = np.where(per_line(terms.str.contains("for monthly billing", regex=False, na=False)), "monthly",
                     np.where(per_line(terms.str.contains("for yearly billing|for annual billing|for 3 years billing",
                                                          regex=True, na=False)), "annual", ""))
    frequency = frequency.where(frequency != "", named)
    seat = ~metered & ~reservation & ((commitment & ~(trial & (frequency == "").to_numpy())) | (
        term_blank & (frequency != "").to_numpy()))
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
