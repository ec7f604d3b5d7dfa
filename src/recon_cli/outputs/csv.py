"""`--csv`: the invoice's own columns, unchanged, with the `recon_` result columns appended.

Which result columns, in which order, and which of them are numbers all come from the field
catalogue (`records.LINES`, the fields carried to `Output.CSV`). Our text is formula-safe;
numbers are never prefixed, so a -5.00 credit stays a number. The provider's own cells are
written exactly as read. pandas is imported inside the functions.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from recon_cli.outputs.files import atomic_write, safe_cell_column, safe_text, safe_text_column
from recon_cli.outputs.values import evidence_lists, plain_column
from recon_cli.records import LINES, Field, FieldKind, Output, carried
from recon_cli.result import FILE_COLUMN

if TYPE_CHECKING:
    import pandas as pd

    from recon_cli.result import ReconResult

_CSV_FIELDS = carried(LINES, Output.CSV)
# (csv column, line field): what the CSV appends to the provider's own columns.
CSV_RESULT_COLUMNS: tuple[tuple[str, str], ...] = tuple((f.csv_name, f.name) for f in _CSV_FIELDS)
_BY_NAME = {f.name: f for f in _CSV_FIELDS}
# Where a row rejected at load says so (a KeyError here if the catalogue drops either field).
STATUS_COLUMN = _BY_NAME["status"].csv_name
EXPLANATION_COLUMN = _BY_NAME["explanation"].csv_name
REJECTED_STATUS = "rejected"


def _csv_columns(lines: pd.DataFrame, columns: Iterable[tuple[str, Field]]) -> pd.DataFrame:
    """(CSV column, line field) pairs as text: exact decimals, evidence ids joined by ";",
    and our text formula-safe (numbers never prefixed, so a -5.00 credit stays a number)."""
    import pandas as pd

    data = {}
    for column, field in columns:
        if field.name not in lines.columns:
            data[column] = pd.Series([None] * len(lines), dtype="object")
            continue
        if field.kind is FieldKind.IDS:
            values: list[Any] = [";".join(ids) for ids in evidence_lists(lines[field.name])]
        elif field.kind is FieldKind.BOOL:
            values = ["true" if v is True or v == 1 else "false" for v in lines[field.name].tolist()]
        else:
            values = plain_column(lines[field.name])
        series = pd.Series(values, dtype="object")
        data[column] = series if field.is_number else safe_text_column(series)
    return pd.DataFrame(data)


ROW_SPAN = 10**9  # row key = file position x ROW_SPAN + spreadsheet row


def _file_positions(raw: pd.DataFrame) -> dict[str, int]:
    files = raw[FILE_COLUMN].drop_duplicates().tolist() if FILE_COLUMN in raw.columns else []
    return {str(name): position for position, name in enumerate(files)}


def _row_keys(files: Any, rows: Any, positions: dict[str, int]) -> Any:
    """One integer per (file, row): rows repeat across a run's invoice files."""
    import numpy as np
    import pandas as pd

    codes, names = pd.factorize(pd.Series(files).astype("str"))  # a few files: each looked up once
    found = np.array([positions.get(Path(str(f).split(" [")[0]).name, 0) for f in names] + [0], dtype=np.int64)
    return found[codes] * ROW_SPAN + np.asarray(rows, dtype=np.int64)


def _reject_messages(result: ReconResult, positions: dict[str, int]) -> dict[int, str]:
    """Row key -> why the invoice row was rejected (rejects of other files excluded)."""
    rejects = result.rejects
    if rejects.empty:
        return {}
    invoices = {Path(f).name for f in (result.summary.invoice_files or [result.summary.invoice_file])}
    mine = rejects[rejects["file"].astype("str").map(lambda f: Path(f.split(" [")[0]).name in invoices)]
    messages: dict[int, str] = {}
    keys = _row_keys(mine["file"], mine["row"].astype("int64"), positions)
    for key, column, message in zip(keys.tolist(), mine["column"].tolist(), mine["message"].tolist(), strict=True):
        text = f"{column}: {message}" if column else str(message)
        messages[key] = f"{messages[key]}; {text}" if key in messages else text
    return messages


def write_csv(result: ReconResult, target: Path) -> None:
    """Write the invoices' own columns, unchanged, with the recon_ result columns appended.

    Rows that were rejected at load have no line: they get recon_status "rejected" and the
    reject message as recon_explanation. A run re-rendered from the store has no invoice
    (`invoice_raw` is None): then the columns are LINE_FIELDS.
    """
    import pandas as pd

    raw = result.invoice_raw
    if raw is None:
        frame = _csv_columns(result.lines, ((f.name, f) for f in carried(LINES, Output.JSON)))
    else:
        positions = _file_positions(raw)
        appended = _csv_columns(result.lines, ((f.csv_name, f) for f in _CSV_FIELDS))
        files = result.lines["invoice_file"] if "invoice_file" in result.lines.columns else [""] * len(result.lines)
        appended.index = _row_keys(files, result.lines["row"].astype("int64"), positions)
        # One line per invoice row by construction; keep the first if a caller repeats a row.
        appended = appended[~appended.index.duplicated()]
        raw_files = raw[FILE_COLUMN] if FILE_COLUMN in raw.columns else [""] * len(raw)
        rows = _row_keys(raw_files, raw["__row__"].astype("int64"), positions)
        appended = appended.reindex(rows)
        unmatched = appended[STATUS_COLUMN].isna().to_numpy()
        if unmatched.any():
            messages = _reject_messages(result, positions)
            fallback = "rejected at load; see the rejects"
            appended.loc[unmatched, STATUS_COLUMN] = REJECTED_STATUS
            appended.loc[unmatched, EXPLANATION_COLUMN] = [
                safe_text(messages.get(int(r), fallback)) for r in rows[unmatched]
            ]
        provider = raw.drop(columns=[c for c in ("__row__", FILE_COLUMN) if c in raw.columns]).reset_index(drop=True)
        # The provider's own text is neutralised too (`=HYPERLINK(...)` in a name); its numbers stay numbers.
        provider = provider.apply(safe_cell_column)
        frame = pd.concat([provider, appended.reset_index(drop=True)], axis=1)
    with atomic_write(Path(target), "w", encoding="utf-8", newline="") as handle:
        # CRLF records (RFC 4180): the csv writer then quotes every cell holding a CR or an LF, so a
        # lone CR inside a name can never end a record for the reader.
        frame.to_csv(handle, index=False, lineterminator="\r\n")
