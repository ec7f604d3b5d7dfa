"""The reseller's billing exports, typed: subscriptions and the licence change log (PRODUCT.md §2).

Subscriptions come out one row per subscription id with the quantity in force (rule 4); their
words (status, billing plan, currency) are read through the vocabularies, an unknown word the
cautious way. Change-log records come out with the subscription each one changed: by id, or
failing that by a name the subscriptions export holds once (a Work 365 "Subscription" lookup
exports the subscription's name).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from recon_cli.errors import InputError
from recon_cli.formats import TableFormat, resolve_columns
from recon_cli.formats.detect import looks_like_invoice
from recon_cli.formats.subscriptions import CHANGE_LOG, SUBSCRIPTIONS
from recon_cli.formats.vocabularies import CANCELLED, FREQUENCY, MONTHLY, PROVISIONING, STATUS
from recon_cli.frames import is_in, repeats
from recon_cli.load import read_subscription_tables
from recon_cli.log_mismatch import change_log_mismatch
from recon_cli.normalize import Typed, damage_notes, id_key, normalize_table
from recon_cli.vocabulary import read_currencies, read_words

if TYPE_CHECKING:
    import pandas as pd

    from recon_cli.load import RawTable


# What separates the words of a name: anything but digits, a-z and the letters from U+00C0 on.
NAME_SEPARATORS = "[^0-9a-z\u00c0-\uffff]+"


@dataclass(frozen=True)
class Exports:
    """The reseller's side of the month.

    Attributes:
        subscriptions: typed subscriptions, one row per id.
        changes: typed change-log records resolved to their subscriptions; None without a change log.
        changes_file: the change log actually used: its file, or the workbook and sheet it came from.
        mismatch: Work 365's "License Change Log Mismatch" (log_mismatch.py); None without a change log.
        notes: what reading them taught (encodings, vocabularies, names resolved, the mismatch).
    """

    subscriptions: Typed
    changes: Typed | None
    changes_file: str | None
    mismatch: pd.DataFrame | None
    notes: tuple[str, ...]

    def matched(self) -> Exports:
        """The same without the subscription rows, once the lines are matched and the missing found:
        their rejects, warnings and notes stay (the rows are ~300 MB at a million lines)."""
        return replace(self, subscriptions=self.subscriptions.without_rows())


def read_exports(subscriptions: Path, changes: Path | None, as_of: datetime, date_format: str | None = None
                 ) -> Exports:
    """Read the subscriptions export and the change log (a file, or the workbook's change-log sheet)."""
    subscription_table, change_table = read_subscription_tables(subscriptions, changes)
    for table, role in ((subscription_table, "the subscriptions export"), (change_table, "the change log")):
        layout = looks_like_invoice(table.headers) if table is not None else None
        if table is not None and layout:
            raise InputError(f"{table.where}: this looks like {layout}, not {role}; give "
                             "the provider's invoice first, then the billing-system export: "
                             "recon run INVOICE SUBSCRIPTIONS [--changes CHANGE_LOG]")
    typed = normalize_subscriptions(subscription_table, SUBSCRIPTIONS, date_format=date_format)
    notes = [*subscription_table.notes, *typed.notes]
    if change_table is None:
        return Exports(typed, None, None, None, tuple(notes))
    records = resolve_subscription_names(normalize_changes(change_table, CHANGE_LOG, date_format=date_format),
                                         typed.frame, change_table.where)
    mismatch, note = change_log_mismatch(typed.frame, records.frame, as_of, change_table.where)
    notes += [*change_table.notes, *records.notes, *([note] if note else [])]
    used = change_table.where if changes is None or change_table.sheet is None else f"{changes} [{change_table.sheet}]"
    return Exports(typed, records, str(changes) if changes and change_table.sheet is None else used, mismatch,
                   tuple(notes))


def normalize_subscriptions(table: RawTable, fmt: TableFormat, *, date_format: str | None = None) -> Typed:
    """Typed subscriptions, one row per subscription id, with the quantity in force (rule 4).

    The quantity in force is the export's quantity, or 0 for a cancelled subscription. Several rows
    with one subscription id (a subscription split over agreement lines) add up, with a note. The
    rejects carry `subscription_key`, the id of each rejected row, so that a line whose subscription
    row was rejected says so instead of "never re-billed".
    """
    typed = normalize_table(table, fmt, date_format=date_format)
    frame = typed.frame
    headers = resolve_columns(table.headers, table.where, fmt)
    notes = [*typed.notes, *damage_notes(typed, table, fmt)]
    rows = frame["row"]
    # Blank currency means "the invoice's": compared line by line, so a two-currency invoice is fine.
    currency = read_currencies(frame["currency"], rows, where=table.where, header=headers.get("currency"))
    frequency = read_words(frame["billing_frequency"], rows, FREQUENCY, where=table.where,
                           header=headers.get("billing_frequency"), unknown_as=MONTHLY,
                           reading="read as monthly, so the subscription is due every month")
    status = read_words(frame["status"], rows, STATUS, where=table.where, header=headers.get("status"),
                        unknown_as="active", reading="read as active, so the subscription is still due")
    notes += [*currency.notes, *frequency.notes, *status.notes]
    frame["currency"] = currency.read
    frame["frequency"] = frequency.read.where(frequency.read != "", MONTHLY)
    # A PSA export without a status column (ConnectWise additions) marks cancellation by a date.
    status_key = status.read.where((status.read != "") | frame["cancelled_date"].isna(), CANCELLED)
    frame["status_key"] = status_key.where(status_key != "", "active")
    cancelled = frame["status_key"] == CANCELLED
    frame["quantity_in_force"] = frame["quantity"].where(~cancelled, Decimal(0))
    frame, merged = _merge_split_subscriptions(frame)
    if merged:
        notes.append(merged)
    rejects = typed.rejects.assign(subscription_key=_rejected_keys(table, fmt, typed.rejects))
    return Typed(frame, rejects if len(rejects) else rejects.iloc[0:0], tuple(notes), typed.warnings)


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
    import numpy as np
    import pandas as pd

    repeated, firsts = repeats(frame["subscription_id_key"])
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
        active = rows.loc[rows["status_key"] != CANCELLED, "status_key"]
        first["status_key"] = active.iloc[0] if len(active) else CANCELLED
        merged.append(first)
    combined = pd.DataFrame(merged).astype(frame.dtypes.to_dict())
    if frame["row"].is_monotonic_increasing and frame["row"].is_unique:
        # Rows in file order (the usual case): each merged row takes its first row's place, the others go;
        # what the sort below gives, without copying and sorting a million-row frame for a few rows.
        kept = (~repeated | firsts).to_numpy()
        out = frame.loc[kept].reset_index(drop=True)
        at = np.flatnonzero(firsts.to_numpy()[kept])  # in file order, as groupby(sort=False) met them
        for name in ("quantity", "quantity_in_force", "unit_price", "unit_cost", "status_key"):
            values = out[name].to_numpy(dtype=object, copy=True)
            values[at] = combined[name].to_numpy(dtype=object)
            out[name] = pd.Series(values, dtype=out[name].dtype)
    else:
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
        raise InputError(f"{table.where}: column 'quantity_delta' (or both 'old_quantity' and "
                         f"'new_quantity') not found; the columns are: {', '.join(table.headers)}")
    typed = normalize_table(table, fmt, date_format=date_format)
    frame, rejects = typed.frame, typed.rejects
    if not has_delta:
        both = frame["old_quantity"].notna() & frame["new_quantity"].notna()
        frame["quantity_delta"] = [n - o if ok else None for n, o, ok in
                                   zip(frame["new_quantity"], frame["old_quantity"], both, strict=True)]
    missing = frame["quantity_delta"].isna()
    if missing.any():
        from recon_cli.frames import concat_rejects, reject_rows
        from recon_cli.records import RejectCode

        rejects = concat_rejects([rejects, reject_rows(
            table.where, frame.loc[missing, "row"], headers.get("quantity_delta", "new_quantity"), "",
            RejectCode.REQUIRED_VALUE, "a quantity change is required (seats added or removed)")])
        frame = frame.loc[~missing].reset_index(drop=True)
    provisioning = read_words(frame["provisioning_status"], frame["row"], PROVISIONING, where=table.where,
                              header=headers.get("provisioning_status"), unknown_as=None,
                              reading="read as provisioned, so the record does not explain a difference the "
                              "provider should already bill")
    frame["provisioning_key"] = provisioning.read
    return Typed(frame, rejects, (*typed.notes, *provisioning.notes), typed.warnings)


def name_key(text: pd.Series) -> pd.Series:
    """A name as names are compared: lower case, any run of punctuation and spaces as one space.

    The pattern holds the characters themselves, not `\\u` escapes, which pandas hands to Python's `re`
    one value at a time instead of pyarrow's RE2 over the column (1.2 s at 2.6 million subscriptions).
    """
    return text.str.lower().str.replace(NAME_SEPARATORS, " ", regex=True).str.strip()


def resolve_subscription_names(changes: Typed, subscriptions: pd.DataFrame, where: str) -> Typed:
    """Give each change-log record the subscription it changed, by id or, failing that, by name.

    A record whose `subscription_id` is no subscription's id is looked up by the subscription's
    name, by "customer product" (either order, any punctuation between), or by its product when
    the record names the customer too; a name held by two subscriptions resolves nothing. The
    note says how many records resolved by name and how many name no known subscription.
    """
    import pandas as pd

    frame = changes.frame
    known = is_in(frame["subscription_id_key"], subscriptions["subscription_id_key"])
    if known.all() or frame.empty:
        return changes
    unknown = frame.loc[~known]
    given = name_key(unknown["subscription_id"])
    with_customer = name_key(unknown["customer_name"] + " " + unknown["subscription_id"])
    names = _subscription_names(subscriptions, pd.concat([given, with_customer]))
    found = given.map(names).where(lambda keys: keys.notna(), with_customer.map(names))
    resolved = found.notna()
    notes = list(changes.notes)
    out = frame.copy()
    if resolved.any():
        ids = subscriptions[["subscription_id_key", "subscription_id"]].drop_duplicates("subscription_id_key") \
            .set_index("subscription_id_key")["subscription_id"]
        keys = found[resolved].astype("str")
        example = unknown.loc[resolved].iloc[0]
        out.loc[keys.index, "subscription_id"] = keys.map(ids).astype("str")
        out.loc[keys.index, "subscription_id_key"] = keys
        notes.append(f"{where}: {int(resolved.sum())} change-log record(s) name their subscription rather than "
                     f"give its id; resolved through the subscriptions export (e.g. '{example['subscription_id']}' "
                     f"at row {example['row']} as {ids[keys.iloc[0]]}).")
    lost = unknown.loc[~resolved]
    if len(lost):
        shown = ", ".join(repr(str(v)) for v in pd.unique(lost["subscription_id"])[:3])
        notes.append(f"{where}: {len(lost)} change-log record(s) name no subscription in the export ({shown}, "
                     f"first at row {lost['row'].iloc[0]}): they explain nothing. A name must be held by exactly "
                     "one subscription.")
    return replace(changes, frame=out, notes=tuple(notes))


def _subscription_names(subscriptions: pd.DataFrame, wanted: pd.Series) -> dict[str, str]:
    """{name key: subscription id key} for each `wanted` name held by exactly one subscription."""
    import pandas as pd

    keys = subscriptions["subscription_id_key"]
    # name_key(a + " " + b) is name_key(a) and name_key(b) joined by a space: each computed once per
    # distinct customer and product, not once per subscription.
    customer = _distinct_name_keys(subscriptions["customer_name"])
    product = _distinct_name_keys(subscriptions["product"])
    candidates = pd.concat([
        pd.DataFrame({"name": name_key(subscriptions["subscription_name"]), "key": keys}),
        pd.DataFrame({"name": (customer + " " + product).str.strip(), "key": keys}),
        pd.DataFrame({"name": (product + " " + customer).str.strip(), "key": keys}),
    ])
    # Only the names asked about are counted: a few records' names, not three per subscription.
    candidates = candidates.loc[is_in(candidates["name"], wanted.dropna()).to_numpy()].drop_duplicates()
    candidates = candidates.loc[candidates["name"] != ""]
    held = candidates.groupby("name")["key"].nunique()
    unique = candidates.loc[is_in(candidates["name"], held.index[held == 1].to_series())].drop_duplicates("name")
    return dict(zip(unique["name"], unique["key"], strict=True))


def _distinct_name_keys(text: pd.Series) -> pd.Series:
    """name_key of each value, worked out once per distinct value (blank stays blank)."""
    import pandas as pd

    codes, uniques = pd.factorize(text, use_na_sentinel=True)
    keyed = name_key(pd.Series(uniques, dtype="str")).tolist()
    return pd.Series(pd.array([*keyed, None], dtype="str").take(codes), index=text.index, dtype="str")
