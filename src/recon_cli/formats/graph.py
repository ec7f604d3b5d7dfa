"""Graph billed-reconciliation export (formats/partner-center.md §3.3): gzip JSON Lines blobs.

`POST /reports/partners/billing/reconciliation/billed/export` yields one or more blobs, each
gzip-compressed, one JSON object per line, with the NCE reconciliation columns as camelCase
keys (`subscriptionId`, `pcToBCExchangeRate`, `totalForCustomer`...). Numbers are kept as the
text JSON wrote them (never floats), arrays become the JSON text the CSV would hold, and the
records become rows numbered 1, 2, 3... across the blobs in name order.
"""

from __future__ import annotations

import gzip
import json
import re
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from recon_cli.errors import InputError
from recon_cli.formats import TableFormat
from recon_cli.formats.nce import NCE
from recon_cli.limits import Limits, active_limits, over_limit, show_size
from recon_cli.records import RejectCode

if TYPE_CHECKING:
    import pandas as pd

# Keys that mark a line as a billed-reconciliation record.
GRAPH_KEYS = ("subscriptionId", "chargeType", "subtotal")
BLOB_SUFFIXES = (".gz", ".jsonl", ".json", ".ndjson")
CHUNK_BYTES = 4 * 1024**2
FIRST_LINE_BYTES = 64 * 1024
# Under this many inflated bytes the ratio is not checked: a tiny blob may compress very well.
RATIO_FLOOR = 1024**2
# A record line may be this many times max_cell_chars long (a record has about 60 cells).
LINE_CELLS = 64
BATCH_RECORDS = 50_000
# A non-blank line: from its first non-space byte to its end.
_LINE = re.compile(rb"[^\s][^\n]*")

GRAPH = TableFormat(
    name="graph",
    title="Graph billed-reconciliation export (gzip JSON Lines)",
    columns=NCE.columns,
    signature=GRAPH_KEYS,
    description="POST /reports/partners/billing/reconciliation/billed/export: one .jsonl.gz blob or a folder "
                "of them; keys are the nce headers in camelCase (subscriptionId, totalForCustomer...).",
    base=NCE,
    known_charge_types=NCE.known_charge_types,
    cancel_charge_types=NCE.cancel_charge_types,
    event_ranks=NCE.event_ranks,
    vital=NCE.vital,
    date_order="MDY",
)


def first_line(path: Path) -> bytes:
    """The first non-blank line of a (possibly gzip-compressed) JSON Lines file (its first 64 KiB at most).

    Raises:
        InputError: the file inflates past the caps before a non-blank line appears (a bomb of blank lines).
    """
    try:
        for chunk in inflated_chunks(path, active_limits()):
            text = chunk.lstrip()
            if text:
                return text[:FIRST_LINE_BYTES].split(b"\n", 1)[0].lstrip(b"\xef\xbb\xbf")
    except (OSError, EOFError, zlib.error):
        return b""
    return b""


def inflated_chunks(path: Path, limits: Limits) -> Iterator[bytes]:
    """The bytes of a file, inflated when it is gzip-compressed, a few MiB at a time.

    Raises:
        InputError: the inflated bytes pass `max_input_size`, or `max_inflate_ratio` times the file's size.
        OSError, EOFError, zlib.error: not a readable gzip file.
    """
    packed = max(1, path.stat().st_size)
    if packed > limits.max_input_size:
        raise over_limit(path.name, f"a file of {show_size(packed)}", "max_input_size",
                         show_size(limits.max_input_size))
    cap = min(limits.max_input_size, max(RATIO_FLOOR, packed * limits.max_inflate_ratio))
    with _open(path) as handle:
        compressed = isinstance(handle, gzip.GzipFile)
        total = 0
        while chunk := handle.read(CHUNK_BYTES):
            total += len(chunk)
            if compressed and total > cap:
                ratio = cap < limits.max_input_size
                raise over_limit(path.name, f"it inflates past {show_size(cap)}"
                                 + (f", {limits.max_inflate_ratio} times its size (a gzip bomb?)" if ratio else ""),
                                 "max_inflate_ratio" if ratio else "max_input_size",
                                 f"{limits.max_inflate_ratio} times" if ratio else show_size(limits.max_input_size))
            yield chunk


def record_lines(path: Path, limits: Limits) -> Iterator[bytes]:
    """The non-blank lines of a JSON Lines blob, without their leading blanks.

    Blank lines are skipped inside the regular expression engine, so a blob of millions of them
    costs one pass over its bytes, not one Python step per line.
    """
    longest = LINE_CELLS * limits.max_cell_chars
    carry = b""
    for chunk in inflated_chunks(path, limits):
        data = carry + chunk if carry else chunk
        cut = data.rfind(b"\n") + 1
        carry = data[cut:]
        if len(carry) > longest:
            raise over_limit(path.name, f"a line longer than {show_size(longest)}", "max_cell_chars",
                             f"{show_size(longest)} per line ({LINE_CELLS} cells of max_cell_chars)")
        for found in _LINE.finditer(data, 0, cut):
            yield found.group()
    for found in _LINE.finditer(carry):
        yield found.group()


def blobs(path: Path) -> list[Path]:
    """The blob files of an export: the file itself, or every blob in the folder, by name."""
    if not path.is_dir():
        return [path]
    # The export's manifest (blob list, eTag...) may sit beside the blobs: it holds no records.
    found = sorted(p for p in path.iterdir() if p.is_file() and p.name.lower().endswith(BLOB_SUFFIXES)
                   and not p.name.lower().startswith("manifest"))
    if not found:
        raise InputError(f"{path}: a folder was given as the invoice, but it holds no Graph export blobs "
                         f"(*.json.gz, *.jsonl.gz); give the invoice file itself")
    return found


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def read_graph_records(path: Path) -> tuple[pd.DataFrame, list[dict[str, Any]], list[str]]:
    """Every record of the blob(s) as text cells.

    Returns:
        (frame with `__row__`, rejects for lines that are not JSON objects, notes).
    """
    import pandas as pd

    limits = active_limits()
    batch: list[dict[str, str]] = []
    numbers: list[int] = []
    parts: list[pd.DataFrame] = []
    keys: set[str] = set()
    rejects: list[dict[str, Any]] = []
    notes: list[str] = []
    files = blobs(path)
    record_number = 0
    for blob in files:
        start = record_number + 1
        try:
            for raw in record_lines(blob, limits):
                record_number += 1
                record = _record(raw)
                if not isinstance(record, dict):
                    rejects.append({"file": _where(path, blob), "row": record_number, "column": "",
                                    "value": raw[:80].decode("utf-8", "replace"),
                                    "code": RejectCode.NOT_A_RECORD.value,
                                    "message": "not a JSON object: expected one record per line"})
                    continue
                keys.update(record)
                if len(keys) > limits.max_columns:
                    # Each new key is a column of every row: a few thousand would make the frame huge.
                    raise over_limit(f"{_where(path, blob)}, record {record_number}",
                                     f"the records name more than {limits.max_columns:,} different keys",
                                     "max_columns", f"{limits.max_columns:,} columns")
                batch.append({key: _cell(value) for key, value in record.items()})
                numbers.append(record_number)
                if len(batch) == BATCH_RECORDS:
                    parts.append(_frame(batch, numbers))
                    batch, numbers = [], []
        except (OSError, EOFError, zlib.error) as exc:
            raise InputError(f"{blob.name}: not a readable gzip JSON Lines blob ({exc}); "
                             "download the export again") from exc
        if len(files) > 1:
            notes.append(f"{blob.name}: records {start:,}–{record_number:,}")
    if record_number == 0:
        raise InputError(f"{path.name}: the export holds no records; expected one JSON object per line")
    parts.append(_frame(batch, numbers))
    frame = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]
    # A key missing from some records is a blank cell there.
    columns = [c for c in frame.columns if c != "__row__"]
    frame[columns] = frame[columns].fillna("").astype("str")
    return frame, rejects, notes


def _record(raw: bytes) -> Any:
    """One line parsed; the exception when it is not JSON (a reject, not a crash)."""
    try:
        # Numbers and NaN/Infinity stay text: a float would lose the exact amount.
        return json.loads(raw.lstrip(b"\xef\xbb\xbf"), parse_float=str, parse_int=str, parse_constant=str)
    except (ValueError, RecursionError) as exc:  # RecursionError: arrays nested thousands deep
        return exc


def _frame(records: list[dict[str, str]], numbers: list[int]) -> pd.DataFrame:
    import pandas as pd

    frame = pd.DataFrame.from_records(records) if records else pd.DataFrame()
    frame["__row__"] = pd.array(numbers, dtype="int64")
    return frame


def _open(blob: Path) -> Any:
    with blob.open("rb") as handle:
        compressed = handle.read(2) == b"\x1f\x8b"
    return gzip.open(blob, "rb") if compressed else blob.open("rb")


def _where(path: Path, blob: Path) -> str:
    return f"{path.name}/{blob.name}" if path.is_dir() else blob.name
