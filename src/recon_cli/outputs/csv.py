"""`--csv`: the invoice's own columns, unchanged, with the `recon_` result columns appended.

Which result columns, in which order, and which of them are numbers all come from the field
catalogue (`records.LINES`, the fields carried to `Output.CSV`). Our text is formula-safe;
numbers are never prefixed, so a -5.00 credit stays a number. The provider's own cells are
written exactly as read. pandas is imported inside the functions.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from recon_cli.cells import HeldCells, hold
from recon_cli.outputs.columns import ColumnTexts, csv_header, formula_safe, ids_text, sliced, write_csv_batches
from recon_cli.outputs.files import atomic_write, safe_text
from recon_cli.outputs.values import plain_column
from recon_cli.records import LINES, Field, FieldKind, Output, carried

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

    from recon_cli.result import ReconResult

_CSV_FIELDS = carried(LINES, Output.CSV)
# (csv column, line field): what the CSV appends to the provider's own columns.
CSV_RESULT_COLUMNS: tuple[tuple[str, str], ...] = tuple((f.csv_name, f.name) for f in _CSV_FIELDS)
_BY_NAME = {f.name: f for f in _CSV_FIELDS}
# Where a row rejected at load says so (a KeyError here if the catalogue drops either field).
STATUS_COLUMN = _BY_NAME["status"].csv_name
EXPLANATION_COLUMN = _BY_NAME["explanation"].csv_name
REJECTED_STATUS = "rejected"


def _csv_columns(lines: pd.DataFrame, columns: Iterable[tuple[str, Field]],
                 texts: ColumnTexts | None = None) -> dict[str, pa.Array]:
    """(CSV column, line field) pairs as Arrow text: exact decimals, evidence ids joined by ";",
    and our text formula-safe (numbers never prefixed, so a -5.00 credit stays a number)."""
    import pyarrow as pa

    texts = texts or ColumnTexts(lines)
    data: dict[str, pa.Array] = {}
    for column, field in columns:
        if field.name not in lines.columns:
            data[column] = pa.nulls(len(lines), pa.large_string())
            continue
        if field.kind is FieldKind.IDS:
            text = ids_text(lines[field.name], ";")
        else:
            text = None if field.kind is FieldKind.BOOL else texts.get(field.name)
        if text is None:
            values: list[Any]
            if field.kind is FieldKind.BOOL:
                values = ["true" if v is True or v == 1 else "false" for v in lines[field.name].tolist()]
            else:
                values = [None if v is None else str(v) for v in plain_column(lines[field.name])]
            text = pa.array(values, type=pa.large_string())
        data[column] = text if field.is_number else formula_safe(text)
    return data


ROW_SPAN = 10**9  # row key = file position x ROW_SPAN + spreadsheet row


def _row_keys(files: Any, rows: Any, positions: dict[str, int]) -> Any:
    """One integer per (file, row): rows repeat across a run's invoice files."""
    import pandas as pd

    codes, names = pd.factorize(pd.Series(files).astype("str"))  # a few files: each looked up once
    return _coded_row_keys(codes, names, rows, positions)


def _coded_row_keys(codes: Any, names: Any, rows: Any, positions: dict[str, int]) -> Any:
    """`_row_keys` of files given as codes into `names` (-1: none)."""
    import numpy as np

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


def write_csv(result: ReconResult, target: Path, texts: ColumnTexts | None = None) -> None:
    """Write the invoices' own columns, unchanged, with the recon_ result columns appended.

    Rows that were rejected at load have no line: they get recon_status "rejected" and the
    reject message as recon_explanation. A run re-rendered from the store has no invoice
    (`invoice_raw` is None): then the columns are LINE_FIELDS. `texts`: the lines' columns as
    text, when the JSON of the same run has made them already.
    """
    import numpy as np
    import pandas as pd
    import pyarrow as pa
    import pyarrow.compute as pc

    raw = result.invoice_raw
    if raw is None:
        columns = _csv_columns(result.lines, ((f.name, f) for f in carried(LINES, Output.JSON)), texts)
        batches: Iterable[list[pa.Array]] = sliced(list(columns.values()))
    else:
        held = raw if isinstance(raw, HeldCells) else hold(raw)
        positions = {str(name): position for position, name in enumerate(held.names)}
        appended = _csv_columns(result.lines, ((f.csv_name, f) for f in _CSV_FIELDS), texts)
        files = result.lines["invoice_file"] if "invoice_file" in result.lines.columns else [""] * len(result.lines)
        keys = pd.Index(_row_keys(files, result.lines["row"].astype("int64"), positions))
        rows = _coded_row_keys(held.file_codes, held.names, held.rows, positions)
        # One line per invoice row by construction; the first is kept if a caller repeats a row.
        first = ~keys.duplicated()
        where = pd.Index(keys[first]).get_indexer(rows)
        unmatched = where < 0
        taken = pa.array(np.flatnonzero(first)[np.where(unmatched, 0, where)] if len(keys) else
                         np.zeros(len(rows), dtype=np.int64), mask=unmatched)
        if unmatched.any() or not np.array_equal(np.flatnonzero(first)[where], np.arange(len(rows))):
            appended = {name: column.take(taken) for name, column in appended.items()}
        if unmatched.any():
            messages = _reject_messages(result, positions)
            fallback = "rejected at load; see the rejects"
            mask = pa.array(unmatched)
            status = pa.array(np.full(len(rows), REJECTED_STATUS, dtype=object), pa.large_string())
            why = pa.array([safe_text(messages.get(int(r), fallback)) if gone else None
                            for r, gone in zip(rows.tolist(), unmatched.tolist(), strict=True)], pa.large_string())
            appended[STATUS_COLUMN] = pc.if_else(mask, status, appended[STATUS_COLUMN])
            appended[EXPLANATION_COLUMN] = pc.if_else(mask, why, appended[EXPLANATION_COLUMN])
        columns = {**dict.fromkeys(held.columns), **appended}
        batches = _with_provider_cells(held, appended, list(columns))
    with atomic_write(Path(target), "wb") as handle:
        # CRLF records (RFC 4180), cells quoted as Python's csv module would: a cell holding a CR or
        # an LF is quoted, so a lone CR inside a name can never end a record for the reader.
        handle.write(csv_header(list(columns)))
        write_csv_batches(handle, batches)


def _with_provider_cells(held: HeldCells, appended: dict[str, pa.Array], names: list[str]) -> Iterator[list[pa.Array]]:
    """The CSV's columns (`names`) a batch at a time: the provider's cells, decompressed as they are
    written, and our columns' same rows (ours in place of a provider column of the same name).

    The provider's own text is neutralised too (`=HYPERLINK(...)` in a name); its numbers stay numbers.
    """
    start = 0
    for size, cells in held.batches():
        yield [appended[name].slice(start, size) if name in appended else formula_safe(cells[name], keep_numbers=True)
               for name in names]
        start += size
