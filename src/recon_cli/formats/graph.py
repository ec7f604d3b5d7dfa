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
import zlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

from recon_cli.errors import InputError
from recon_cli.formats import TableFormat
from recon_cli.formats.nce import NCE
from recon_cli.records import RejectCode

if TYPE_CHECKING:
    import pandas as pd

# Keys that mark a line as a billed-reconciliation record.
GRAPH_KEYS = ("subscriptionId", "chargeType", "subtotal")
BLOB_SUFFIXES = (".gz", ".jsonl", ".json", ".ndjson")

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
    """The first non-blank line of a (possibly gzip-compressed) JSON Lines file."""
    try:
        with _open(path) as handle:
            for line in handle:
                if line.strip():
                    return bytes(line).lstrip(b"\xef\xbb\xbf")
    except (OSError, EOFError, zlib.error):
        return b""
    return b""


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

    rows: list[dict[str, str]] = []
    numbers: list[int] = []
    rejects: list[dict[str, Any]] = []
    notes: list[str] = []
    files = blobs(path)
    record_number = 0
    for blob in files:
        start = record_number + 1
        try:
            with _open(blob) as handle:
                for raw in handle:
                    if not raw.strip():
                        continue
                    record_number += 1
                    try:
                        # Numbers stay text: a float would lose the exact amount.
                        record = json.loads(raw.lstrip(b"\xef\xbb\xbf"), parse_float=str, parse_int=str)
                    except ValueError as exc:
                        record = exc
                    if not isinstance(record, dict):
                        rejects.append({"file": _where(path, blob), "row": record_number, "column": "",
                                        "value": raw[:80].decode("utf-8", "replace"),
                                        "code": RejectCode.NOT_A_RECORD.value,
                                        "message": "not a JSON object: expected one record per line"})
                        continue
                    rows.append({key: _cell(value) for key, value in record.items()})
                    numbers.append(record_number)
        except (OSError, EOFError, zlib.error) as exc:
            raise InputError(f"{blob.name}: not a readable gzip JSON Lines blob ({exc}); "
                             "download the export again") from exc
        if len(files) > 1:
            notes.append(f"{blob.name}: records {start:,}–{record_number:,}")
    if record_number == 0:
        raise InputError(f"{path.name}: the export holds no records; expected one JSON object per line")
    frame = pd.DataFrame.from_records(rows) if rows else pd.DataFrame()
    frame = frame.fillna("").astype("str")
    frame["__row__"] = pd.array(numbers, dtype="int64")
    return frame, rejects, notes


def _open(blob: Path) -> Any:
    with blob.open("rb") as handle:
        compressed = handle.read(2) == b"\x1f\x8b"
    return gzip.open(blob, "rb") if compressed else blob.open("rb")


def _where(path: Path, blob: Path) -> str:
    return f"{path.name}/{blob.name}" if path.is_dir() else blob.name
