"""The finance workbook: Summary, Exceptions, Lines, Missing, To bill, Margin, Usage,
Evidence, Rejects.

A write-only openpyxl workbook: openpyxl writes the workbook, styles, headers, notes, links
and the Summary's chart, and the rows are streamed into its sheets as ready XML
(`rows.rows_xml`; openpyxl's per-cell writer is too slow for 100,000 lines). Text is
written exactly, as inline strings that Excel never evaluates, and text that starts like a
formula gets a quote-prefix style, so no cell can ever run a formula and none shows a stray
apostrophe; money is written as the Decimal's own digits with the money format of its
currency, never through float; one fill marks each status; each Exceptions row links to its
line on the Lines sheet (a hyperlink with a location inside the workbook, not a formula).
openpyxl is imported at the top: only writing a workbook imports this module.
"""

from __future__ import annotations

import contextlib
import itertools
import math
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zipfile import ZIP_DEFLATED, ZipFile

import pyarrow as pa
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.comments import Comment
from openpyxl.comments.comment_sheet import CommentRecord
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.hyperlink import Hyperlink
from openpyxl.writer.excel import ExcelWriter

from recon_cli.outputs.columns import ColumnTexts
from recon_cli.outputs.files import atomic_path
from recon_cli.outputs.xlsx.cells import (
    NONE_TEXT,
    Col,
    ColumnValues,
    RowXml,
    Styles,
    clean_note,
    frame_columns,
    safe_sheet_title,
    widths,
)
from recon_cli.outputs.xlsx.rows import rows_xml, table_column
from recon_cli.outputs.xlsx.stream import SplicingArchive, splice_rows
from recon_cli.outputs.xlsx.summary import write_summary
from recon_cli.outputs.xlsx.tables import (
    DIFF_COLUMNS,
    EVIDENCE_COLUMNS,
    EXCEPTION_COLUMNS,
    LINE_COLUMNS,
    MARGIN_COLUMNS,
    MISMATCH_COLUMNS,
    MISSING_COLUMNS,
    REJECT_COLUMNS,
    TO_BILL_COLUMNS,
    USAGE_CHECK_COLUMNS,
    USAGE_COLUMNS,
    exception_order,
    reject_values,
    usage_check_rows,
)
from recon_cli.records import Status

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd
    from openpyxl.worksheet._write_only import WriteOnlyWorksheet

    from recon_cli.result import ReconResult

MAX_SHEET_ROWS = 1_048_576  # Excel's limit, header row included
MAX_COMMENTS = 10_000  # VML notes are slow to write and to open; the column has every text
MAX_COMMENT_TEXT = 2_000
# wb.save() deflates at level 6: 2 s of a 100,000-line workbook for a file 25% smaller.
ZIP_LEVEL = 1
XML_CHUNK = 50_000  # rows rendered per Arrow pass: bounded memory on a million-line run
LINK_TIP = "Go to this line on the Lines sheet"


def _sheet_titles(title: str, rows: int) -> list[str]:
    per_sheet = MAX_SHEET_ROWS - 1
    parts = max(1, math.ceil(rows / per_sheet))
    return [safe_sheet_title(title if i == 0 else f"{title} ({i + 1})") for i in range(parts)]


def line_location(titles: list[str], index: int) -> str:
    """Where line number `index` (0-based, in Lines order) is: "'Lines (2)'!A5"."""
    per_sheet = MAX_SHEET_ROWS - 1
    title = titles[index // per_sheet].replace("'", "''")
    return f"'{title}'!A{index % per_sheet + 2}"


def _note(ws: WriteOnlyWorksheet, row: int, column: int, text: str) -> None:
    """Attach a note to a streamed cell, as openpyxl records one from a cell it writes."""
    text = clean_note(text, MAX_COMMENT_TEXT)
    height = min(400, 30 + 15 * math.ceil(len(text) / 50))
    cell = WriteOnlyCell(ws)
    cell.row, cell.column = row, column
    cell.comment = Comment(text, "recon", height=height, width=320)
    ws._comments.append(CommentRecord.from_cell(cell))


def _write_table(wb: Workbook, styles: Styles, titles: list[str], columns: tuple[Col, ...],
                 values: list[list[Any]] | list[pa.Array], comments: dict[int, str] | None = None,
                 links: list[str] | None = None, freeze: str = "A2",
                 after: Callable[[int], tuple[Iterator[RowXml], list[float]]] | None = None) -> None:
    """Write one table onto as many sheets as `titles` names: header, freeze, filter, rows.

    openpyxl writes each sheet's frame (widths, frozen pane, bold header, filter, notes on
    the status cell from `comments`, and the links of the "link" column to the places in
    `links`, one per row); the data rows are streamed into it by `rows_xml`. An empty table
    gets one row saying "none". `after(last_row)` adds rows under the table on the last
    sheet, with the column widths they need.
    """
    fitted = widths(columns, values)
    status_col = next((j + 1 for j, c in enumerate(columns) if c.kind == "status"), None)
    link_col = next((get_column_letter(j + 1) for j, c in enumerate(columns) if c.kind == "link"), None)
    total = len(values[0]) if values else 0
    per_sheet = MAX_SHEET_ROWS - 1
    for part, title in enumerate(titles):
        start, stop = part * per_sheet, min(total, (part + 1) * per_sheet)
        last_row = max(2, stop - start + 1)
        rows = _rows(columns, values, start, stop, styles)
        if not total:
            rows = iter([f'<row r="2"><c r="A2"{styles.none_attr} t="inlineStr"><is><t>{NONE_TEXT}</t></is></c>'
                         "</row>"])
        sheet_widths = fitted
        if after is not None and part == len(titles) - 1:
            more, more_widths = after(last_row)
            rows = itertools.chain(rows, more)
            sheet_widths = [max(pair) for pair in itertools.zip_longest(fitted, more_widths, fillvalue=0)]
        ws = wb.create_sheet(title)
        # Widths and the frozen pane come before the rows in the sheet XML: set them first.
        for j, width in enumerate(sheet_widths, start=1):
            ws.column_dimensions[get_column_letter(j)].width = width
        ws.freeze_panes = freeze
        ws.append(styles.headers(ws, columns))
        ws.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{last_row}"
        if comments and status_col:
            for index in sorted(i for i in comments if start <= i < stop):
                _note(ws, index - start + 2, status_col, comments[index])
        if links and link_col:
            # Internal links (a location, no relationship): written by openpyxl after the rows.
            ws._hyperlinks.extend(Hyperlink(ref=f"{link_col}{i - start + 2}", location=links[i], tooltip=LINK_TIP)
                                  for i in range(start, stop))
        ws.close()
        splice_rows(ws, rows)


def _rows(columns: tuple[Col, ...], values: list[list[Any]] | list[pa.Array], start: int, stop: int,
          styles: Styles) -> Iterator[RowXml]:
    """Rows `start`..`stop` of a table as XML, rendered a chunk at a time when the sheet is saved."""
    for i in range(start, stop, XML_CHUNK):
        yield rows_xml(columns, [c[i:min(stop, i + XML_CHUNK)] for c in values], i - start + 2, styles)


def _comment_rows(status: list[Any], needs_person: list[Any], explanation: list[Any]) -> dict[int, str]:
    """Line index -> note text: lines needing a person first, then other non-matched ones."""
    needs = [i for i, flag in enumerate(needs_person) if flag and explanation[i]]
    others = [i for i, st in enumerate(status)
              if not needs_person[i] and st != Status.MATCHED and explanation[i]]
    return {i: explanation[i] for i in (needs + others)[:MAX_COMMENTS]}


def exceptions_and_notes(lines: pd.DataFrame) -> tuple[list[int], dict[int, str], int]:
    """The Exceptions sheet's lines in order (`exception_order`), the notes on status cells
    (`_comment_rows`), and how many lines are not matched. Python values are read only for the lines
    needing a person or not matched: a million-line month converted whole cost ~5 s."""
    looked_at, unmatched = _to_look_at(lines)
    subset = ColumnValues(lines.iloc[looked_at], LINE_COLUMNS)
    exceptions = looked_at[exception_order(subset)].tolist()
    comments = {int(looked_at[i]): note for i, note in
                _comment_rows(subset["status"], subset["needs_person"], subset["explanation"]).items()}
    return exceptions, comments, unmatched


def _to_look_at(lines: pd.DataFrame) -> tuple[np.ndarray, int]:
    """The lines needing a person or not matched, and how many are not matched."""
    import numpy as np

    # As ColumnValues reads them: a flag is 1 or True, and a field the frame lacks is blank.
    flagged = (lines["needs_person"].eq(1).fillna(False).to_numpy(dtype=bool) if "needs_person" in lines.columns
               else np.zeros(len(lines), dtype=bool))
    unmatched = (lines["status"].ne(Status.MATCHED).fillna(True).to_numpy(dtype=bool) if "status" in lines.columns
                 else np.ones(len(lines), dtype=bool))
    return np.flatnonzero(flagged | unmatched), int(unmatched.sum())


def write_xlsx(result: ReconResult, target: Path, texts: ColumnTexts | None = None) -> None:
    """Write the finance workbook to `target`, atomically.

    Sheets: Summary (money figures, chart, customers to look at, the run), Exceptions (lines
    needing a person, most money at risk first, each linked to its row on Lines), Lines
    (continued on "Lines (2)"... past Excel's row limit), Since last month (only when the store holds
    the month before: exceptions new, changed, still open and resolved), Missing, To bill, Margin, Usage
    (only when the run re-bills usage or checked a daily-rated usage file), Evidence, Change log
    mismatch (only when the change log's records do not add up, log_mismatch.py), Rejects
    (with the warnings). A frame that is empty (an older stored run) makes a sheet saying "none".
    """
    lines = result.lines
    # The Lines sheet's cells as Arrow text, straight from the frame; Python values only where read.
    texts = texts or ColumnTexts(lines)
    cells = {c.field: table_column(lines[c.field], c.kind, texts) if c.field in lines.columns
             else pa.nulls(len(lines), pa.large_string()) for c in LINE_COLUMNS}
    converted = ColumnValues(lines, LINE_COLUMNS)
    exceptions, comments, unmatched = exceptions_and_notes(lines)
    usage = not result.usage_billing.empty or result.summary.usage_check is not None
    since = {} if result.since_last is None else {"Since last month": (result.since_last, DIFF_COLUMNS)}
    tables = {**since, "Missing": (result.missing, MISSING_COLUMNS), "To bill": (result.to_bill, TO_BILL_COLUMNS),
              "Margin": (result.margin, MARGIN_COLUMNS),
              **({"Usage": (result.usage_billing, USAGE_COLUMNS)} if usage else {}),
              "Evidence": (result.evidence, EVIDENCE_COLUMNS),
              **({"Change log mismatch": (result.change_log_mismatch, MISMATCH_COLUMNS)}
                 if not result.change_log_mismatch.empty else {})}
    values = {name: frame_columns(frame, columns) for name, (frame, columns) in tables.items()}
    values["Rejects"] = reject_values(result.rejects, result.warnings)
    titles = {"Exceptions": _sheet_titles("Exceptions", len(exceptions)),
              "Lines": _sheet_titles("Lines", len(lines)),
              **{name: _sheet_titles(name, len(v[0])) for name, v in values.items()}}
    notes = [f"{name} continues on sheets: {', '.join(parts)}."
             for name, parts in titles.items() if len(parts) > 1]
    if len(comments) < unmatched:
        notes.append(f"Notes on the status cell: {len(comments):,} lines (most urgent first); "
                     "the Explanation column has every line's text.")

    wb = Workbook(write_only=True)
    try:
        summary_ws = wb.create_sheet("Summary")
        styles = Styles(wb, summary_ws)
        # Closed inside, so a failure later leaves no half-written sheet stream.
        write_summary(summary_ws, styles, result, notes, cells)
        chosen = pa.array(exceptions, pa.int64())
        exception_values = [cells[c.field].take(chosen) for c in EXCEPTION_COLUMNS]
        links = [line_location(titles["Lines"], i) for i in exceptions]
        _write_table(wb, styles, titles["Exceptions"], EXCEPTION_COLUMNS, exception_values, links=links,
                     freeze="B2")
        _write_table(wb, styles, titles["Lines"], LINE_COLUMNS, [cells[c.field] for c in LINE_COLUMNS],
                     comments, freeze="B2")

        def usage_check(last_row: int) -> tuple[Iterator[RowXml], list[float]]:
            rows, check_values = usage_check_rows(result.summary, converted, last_row + 1, styles)
            return rows, widths(USAGE_CHECK_COLUMNS, check_values)

        for name, columns in ((n, t[1]) for n, t in tables.items()):
            after = usage_check if name == "Usage" and result.summary.usage_check is not None else None
            _write_table(wb, styles, titles[name], columns, values[name], after=after)
        _write_table(wb, styles, titles["Rejects"], REJECT_COLUMNS, values["Rejects"])
        with atomic_path(Path(target)) as tmp, ZipFile(tmp, "w", ZIP_DEFLATED, allowZip64=True,
                                                        compresslevel=ZIP_LEVEL) as archive:
            ExcelWriter(wb, SplicingArchive(archive, wb.worksheets)).save()
    except BaseException:
        _discard(wb)
        raise


def _discard(wb: Workbook) -> None:
    """Remove the sheets' temporary XML files (in the system temp folder) a failure leaves."""
    for ws in wb.worksheets:
        with contextlib.suppress(Exception):  # already failing: clean up what can be
            if not ws.closed:
                ws.close()
        writer = ws._writer
        if writer is not None and Path(writer.out).exists():
            writer.cleanup()
