"""The library calls behind `recon run` and `recon export`: reconcile, save, write the outputs.

The CLI makes one call here and renders what comes back; nothing here prints.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from recon_cli import pipeline, store

if TYPE_CHECKING:
    from recon_cli.pipeline import RunInputs
    from recon_cli.result import ReconResult

STDOUT = "-"


@dataclass(frozen=True)
class Outputs:
    """Where to write a run: the workbook, the annotated invoice CSV, the JSON document ("-": stdout)."""

    xlsx: Path | None = None
    csv: Path | None = None
    json: str | None = None

    def __bool__(self) -> bool:
        return any((self.xlsx, self.csv, self.json))


@dataclass(frozen=True)
class Outcome:
    """A finished run and where it went: label -> path or id ("store", "run", "xlsx", "csv", "json")."""

    result: ReconResult
    saved: dict[str, str] = field(default_factory=dict)


def write_outputs(result: ReconResult, outputs: Outputs, progress: Callable[[str], None]) -> dict[str, str]:
    """Write each output asked for; returns label -> where it went."""
    from recon_cli.outputs.csv import write_csv
    from recon_cli.outputs.json import write_json

    written: dict[str, str] = {}
    if outputs.xlsx is not None:
        from recon_cli.outputs.xlsx.workbook import write_xlsx

        progress("writing xlsx")
        write_xlsx(result, outputs.xlsx)
        written["xlsx"] = str(outputs.xlsx)
    if outputs.csv is not None:
        progress("writing csv")
        write_csv(result, outputs.csv)
        written["csv"] = str(outputs.csv)
    if outputs.json is not None:
        write_json(result, outputs.json if outputs.json == STDOUT else Path(outputs.json))
        written["json"] = "stdout" if outputs.json == STDOUT else outputs.json
    return written


def run_month(inputs: RunInputs, outputs: Outputs, store_path: Path,
              progress: Callable[[str], None] = lambda _message: None) -> Outcome:
    """Reconcile a month with the store's confirmations, save the run, write its outputs."""
    connection = store.open_store(store_path)
    try:
        result = pipeline.reconcile(inputs, store.load_confirmations(connection), run_id=store.new_run_id(),
                                    progress=progress)
        progress("saving the run")
        store.save_run(connection, result)
        saved = {"store": str(store_path), "run": result.summary.run_id}
        return Outcome(result, {**saved, **write_outputs(result, outputs, progress)})
    finally:
        connection.close()


def export_run(connection: sqlite3.Connection, run_id: str | None, outputs: Outputs) -> Outcome:
    """Re-render a stored run (the newest by default) without reading its inputs again."""
    try:
        result = store.load_result(connection, run_id)
    finally:
        connection.close()
    return Outcome(result, write_outputs(result, outputs, lambda _message: None))
