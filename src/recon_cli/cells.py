"""The invoices' own cells, held for `--csv` as compressed Arrow record batches.

`--csv` writes every provider cell back exactly as read, once the whole run is done. Held as a frame
of text they were 1.2 GB of a million-line run's peak memory; compressed with zstd in Arrow's IPC
stream format they take about an eighth of that (101 MiB against 842 MiB of Arrow text for the 1M
sample month), cost about a second to compress, and the CSV writer decompresses one batch at a time.
Reading the files again when the CSV is written was measured too, and rejected: it took longer
than the whole read (6 s at 1M) and its transient memory came on top of the finished run's.
pandas and pyarrow are imported inside the functions.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from recon_cli.result import FILE_COLUMN, ROW_COLUMN

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd
    import pyarrow as pa

BATCH_ROWS = 50_000  # rows per compressed batch: what the CSV writer decompresses at a time
CODEC = "zstd"  # 8x smaller than the text on the sample month, and faster to write than lz4 there


@dataclass(frozen=True)
class HeldCells:
    """A month's invoice cells as read, compressed.

    Attributes:
        columns: the provider's columns, in order (a column of one file only is blank in the others').
        names: the files' names; `file_codes` holds each row's position in it.
        file_codes: per row, its file (int64).
        rows: per row, its spreadsheet row (int64).
        streams: per file, an Arrow IPC stream of its rows' text, in row order.
    """

    columns: tuple[str, ...]
    names: tuple[str, ...]
    file_codes: np.ndarray
    rows: np.ndarray
    streams: tuple[pa.Buffer, ...]

    def __len__(self) -> int:
        return len(self.rows)

    def batches(self) -> Iterator[tuple[int, dict[str, pa.Array]]]:
        """Every row's cells, a batch at a time in row order: (rows, text per column; null: blank)."""
        import pyarrow as pa
        import pyarrow.ipc as ipc

        for stream in self.streams:
            for batch in ipc.open_stream(stream):
                names = batch.schema.names
                yield batch.num_rows, {name: batch.column(names.index(name)) if name in names else
                                       pa.nulls(batch.num_rows, pa.large_string()) for name in self.columns}


def hold(frame: pd.DataFrame, name: str | None = None) -> HeldCells:
    """A frame of cells as read (ROW_COLUMN, the provider's columns, and FILE_COLUMN unless `name` gives
    the one file it came from), compressed."""
    import numpy as np
    import pandas as pd
    import pyarrow as pa
    import pyarrow.ipc as ipc

    provider = [c for c in frame.columns if c not in (ROW_COLUMN, FILE_COLUMN)]
    columns = tuple(str(c) for c in provider)
    if name is None and FILE_COLUMN in frame.columns:
        codes, found = pd.factorize(frame[FILE_COLUMN].astype("str"))
        names = tuple(str(n) for n in found)
    else:
        codes, names = np.zeros(len(frame), dtype=np.int64), (name or "",)
    table = pa.table({str(column): provider_text(frame[column]) for column in provider} if provider else
                     {"": pa.nulls(len(frame), pa.large_string())})
    sink = pa.BufferOutputStream()
    with ipc.new_stream(sink, table.schema, options=ipc.IpcWriteOptions(compression=CODEC)) as writer:
        for batch in table.to_batches(max_chunksize=BATCH_ROWS):
            writer.write_batch(batch)
    rows = frame[ROW_COLUMN].to_numpy(dtype=np.int64) if ROW_COLUMN in frame.columns else np.arange(len(frame)) + 2
    return HeldCells(columns, names, np.asarray(codes, dtype=np.int64), rows, (sink.getvalue(),))


def joined(parts: Sequence[HeldCells]) -> HeldCells:
    """Several files' cells as one month's, in order; columns in order of first appearance."""
    import numpy as np

    if len(parts) == 1:
        return parts[0]
    columns = tuple(dict.fromkeys(c for part in parts for c in part.columns))
    names = tuple(dict.fromkeys(n for part in parts for n in part.names))
    where = {n: i for i, n in enumerate(names)}
    codes = [np.array([where[n] for n in part.names], dtype=np.int64)[part.file_codes] for part in parts]
    return HeldCells(columns, names, np.concatenate(codes), np.concatenate([part.rows for part in parts]),
                     tuple(s for part in parts for s in part.streams))


def provider_text(series: pd.Series) -> Any:
    """A provider column as Arrow text (read as text; any other values, from a caller, as str)."""
    import pyarrow as pa

    from recon_cli.outputs.columns import arrow_text

    text = arrow_text(series, combine=False)
    if text is not None:
        return text
    return pa.array([None if v is None or v != v else str(v) for v in series.tolist()], pa.large_string())
