"""The library calls behind `recon run` and `recon export`: reconcile, save, write the outputs.

The CLI makes one call here and renders what comes back; nothing here prints.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from recon_cli import pipeline, store

if TYPE_CHECKING:
    from recon_cli.outputs.columns import ColumnTexts
    from recon_cli.outputs.files import Staging
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


def check_outputs(outputs: Outputs) -> None:
    """Refuse, before any work, an output path that cannot be written (exit 2 naming it)."""
    from recon_cli.outputs.files import check_output

    for flag, target in (("--xlsx", outputs.xlsx), ("--csv", outputs.csv), ("--json", outputs.json)):
        if target is not None and str(target) != STDOUT:
            check_output(Path(target), flag)


def write_outputs(result: ReconResult, outputs: Outputs, progress: Callable[[str], None],
                  texts: ColumnTexts | None = None) -> dict[str, str]:
    """Write each output asked for; returns label -> where it went.

    Inside a `Staging` (run_month, export_run) the files only appear at its commit, all together.
    `texts`: the lines' columns as text, made once for every output and the store.
    """
    from recon_cli.outputs.columns import ColumnTexts
    from recon_cli.outputs.csv import write_csv
    from recon_cli.outputs.json import write_json

    written: dict[str, str] = {}
    texts = texts or ColumnTexts(result.lines)  # each column's text made once, for every output
    if outputs.xlsx is not None:
        from recon_cli.outputs.xlsx.workbook import write_xlsx

        progress("writing xlsx")
        with _writing("--xlsx", outputs.xlsx):
            write_xlsx(result, outputs.xlsx, texts)
        written["xlsx"] = str(outputs.xlsx)
    if outputs.csv is not None:
        progress("writing csv")
        with _writing("--csv", outputs.csv):
            write_csv(result, outputs.csv, texts)
        written["csv"] = str(outputs.csv)
    if outputs.json is not None:
        with _writing("--json", outputs.json):
            write_json(result, outputs.json if outputs.json == STDOUT else Path(outputs.json), texts)
        written["json"] = "stdout" if outputs.json == STDOUT else outputs.json
    return written


@contextmanager
def _writing(flag: str, target: Path | str) -> Iterator[None]:
    """A write that fails for the disk's sake (full, gone, read-only): exit 2 naming the output."""
    from recon_cli.errors import OutputError

    try:
        yield
    except OSError as exc:
        raise OutputError(f"{flag} {target}: cannot be written ({exc.strerror or exc})") from exc


def run_month(inputs: RunInputs, outputs: Outputs, store_path: Path,
              progress: Callable[[str], None] = lambda _message: None, *, save: bool = True,
              label: str | None = None) -> Outcome:
    """Reconcile a month with the store's confirmations, write its outputs, save the run (`_run_month`),
    with the cycle collector paused throughout (collection.py)."""
    from recon_cli.collection import paused_collection, reuse_freed_pages

    reuse_freed_pages()
    with paused_collection():
        return _run_month(inputs, outputs, store_path, progress, save=save, label=label)


def _run_month(inputs: RunInputs, outputs: Outputs, store_path: Path, progress: Callable[[str], None], *,
               save: bool, label: str | None) -> Outcome:
    """Every output path is checked before the work starts. The outputs are written to temporary
    files while the run is saved in one transaction, and only then are the files renamed into place,
    together: an interrupted or failed run leaves no temporary file, no half run, and never a mix
    of old and new outputs. The store is opened (and a read-only or foreign one refused) before the
    work too; with `save=False` (`--no-store`) it is only read, for the confirmations.
    """
    from recon_cli.outputs.files import Staging

    check_outputs(outputs)
    inputs = replace(inputs, keep_raw=outputs.csv is not None)
    if not save:
        result = _labelled(pipeline.reconcile(inputs, store.stored_confirmations(store_path),
                                              run_id=store.new_run_id(), progress=progress,
                                              earlier=lambda period: _stored_exceptions(store_path, period)), label)
        with Staging() as staging:
            written = write_outputs(result, outputs, progress)
            staging.commit()
        return Outcome(result, {"store": "not saved (--no-store)", "run": result.summary.run_id, **written})
    connection = store.open_store(store_path)
    try:
        result = _labelled(pipeline.reconcile(
            inputs, store.load_confirmations(connection), run_id=store.new_run_id(), progress=progress,
            earlier=lambda period: store.open_exceptions(connection, period)), label)
        result = with_since_last(connection, result)
        from recon_cli.outputs.columns import ColumnTexts

        texts = ColumnTexts(result.lines)  # the lines' text, made once for the outputs and the store
        with Staging() as staging:
            written = _write_while_saving(connection, result, outputs, progress, texts, staging)
            staging.commit()
        return Outcome(result, {"store": str(store_path), "run": result.summary.run_id, **written})
    finally:
        connection.close()


def _write_while_saving(connection: sqlite3.Connection, result: ReconResult, outputs: Outputs,
                        progress: Callable[[str], None], texts: ColumnTexts, staging: Staging) -> dict[str, str]:
    """The outputs written by a second thread while this one saves the run: the writers spend their
    time in Arrow, zlib and the disk, the save in SQLite, so on two cores each mostly hides the other.
    The save's transaction commits only once the outputs are written: a failed output saves nothing."""
    import contextvars
    from concurrent.futures import ThreadPoolExecutor

    if not outputs:
        progress("saving the run")
        store.save_run(connection, result, texts)
        return {}
    progress("writing the outputs and saving the run")
    with ThreadPoolExecutor(1, thread_name_prefix="recon-outputs") as pool:
        # In this thread's context, so that the files wait for the Staging's commit. Progress stays on this
        # thread (the terminal's spinner), and the connection too (sqlite3's rule).
        writing = pool.submit(contextvars.copy_context().run, write_outputs, result, outputs,
                              lambda _message: None, texts)
        try:
            store.save_run(connection, result, texts, before_commit=writing.result)
        except BaseException:
            staging.abandon()  # the writer stops at its next piece; Staging removes what it wrote
            writing.exception()
            raise
    return writing.result()


def export_run(connection: sqlite3.Connection, run_id: str | None, outputs: Outputs) -> Outcome:
    """Re-render a stored run (the newest by default) without reading its inputs again."""
    from recon_cli.collection import paused_collection, reuse_freed_pages
    from recon_cli.outputs.files import Staging

    check_outputs(outputs)
    reuse_freed_pages()
    try:
        result = store.load_result(connection, run_id)
        result = with_since_last(connection, result) if outputs.xlsx is not None else result
    finally:
        connection.close()
    with paused_collection(), Staging() as staging:
        written = write_outputs(result, outputs, lambda _message: None)
        staging.commit()
    return Outcome(result, written)


def with_since_last(connection: sqlite3.Connection | None, result: ReconResult) -> ReconResult:
    """The run compared with the newest stored run of the month before (the "Since last month" sheet),
    with a note counting what is new, resolved and still open; the run as it is when there is none."""
    from recon_cli import history
    from recon_cli.periods import previous_period

    period = result.summary.period
    if connection is None or not period or result.subscriptions.empty:
        return result
    states = result.subscriptions
    needing = set(states.loc[states["needs_person"].astype(bool).to_numpy(), "subscription_key"])
    before, earlier = store.earlier_states(connection, previous_period(period), needing)
    if before is None:
        return result
    rows = history.since_last(states, earlier, period)
    counts = rows["change"].value_counts()
    note = (f"Since last month (run {before['run_id']}, {before['period']}): {counts.get('new', 0)} new, "
            f"{counts.get('resolved', 0)} resolved, {counts.get('changed', 0) + counts.get('open', 0)} still open "
            f"({counts.get('changed', 0)} changed); see `recon diff`.")
    summary = result.summary.model_copy(update={"notes": [*result.summary.notes, note]})
    return replace(result, since_last=rows, summary=summary)


def _labelled(result: ReconResult, label: str | None) -> ReconResult:
    if not label:
        return result
    return replace(result, summary=result.summary.model_copy(update={"label": label}))


def _stored_exceptions(store_path: Path, period: str) -> dict[str, str]:
    """The previous month's open exceptions, for a run that saves nothing: read only, none without a store."""
    from recon_cli.errors import RunNotFound

    try:
        connection = store.open_store(store_path, writing=False)
    except RunNotFound:
        return {}
    try:
        return store.open_exceptions(connection, period)
    finally:
        connection.close()
