"""The workbook's Lines sheet written two ways, on the same reconciled month, for issue 13's choice of writer.

Usage:
    python bench/bench_xlsx_writers.py bench/out/lines-100000 [--only recon,xlsxwriter]

- recon: what `recon run --xlsx` does for the Lines sheet: openpyxl's write-only workbook for the
  frame (styles, widths, filter, frozen pane), the rows rendered column-wise by Arrow
  (`outputs/xlsx/rows.py`) and streamed into the sheet's zip entry at level 1 by a second thread
  (`outputs/xlsx/stream.py`).
- xlsxwriter: XlsxWriter in constant_memory mode, the fastest mode it documents, writing the same
  cells row by row with the same kinds of formats (money per currency, percent, status fills).
  Its numbers go through float (`write_number`); recon's are the Decimal's own digits.

Each writer writes one sheet of every line; the time of the reconciliation is not counted. Not a
test: a measurement for docs/scale.md (STYLE rule 22).
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any
from zipfile import ZIP_DEFLATED, ZipFile


def _recon(result: Any, target: Path) -> None:
    import pyarrow as pa
    from openpyxl import Workbook
    from openpyxl.writer.excel import ExcelWriter

    from recon_cli.outputs.columns import ColumnTexts
    from recon_cli.outputs.xlsx.cells import Styles
    from recon_cli.outputs.xlsx.rows import table_column
    from recon_cli.outputs.xlsx.stream import SplicingArchive
    from recon_cli.outputs.xlsx.tables import LINE_COLUMNS
    from recon_cli.outputs.xlsx.workbook import ZIP_LEVEL, _write_table

    lines, texts = result.lines, ColumnTexts(result.lines)
    cells = [table_column(lines[c.field], c.kind, texts) if c.field in lines.columns
             else pa.nulls(len(lines), pa.large_string()) for c in LINE_COLUMNS]
    wb = Workbook(write_only=True)
    styles = Styles(wb, wb.create_sheet("Summary"))
    _write_table(wb, styles, ["Lines"], LINE_COLUMNS, cells, freeze="B2")
    with ZipFile(target, "w", ZIP_DEFLATED, allowZip64=True, compresslevel=ZIP_LEVEL) as archive:
        ExcelWriter(wb, SplicingArchive(archive, wb.worksheets)).save()


def _xlsxwriter(result: Any, target: Path) -> None:
    import xlsxwriter

    from recon_cli.outputs.xlsx.cells import NUMBER_CELLS, PCT_FORMAT, STATUS_FILLS, ColumnValues, money_format
    from recon_cli.outputs.xlsx.tables import LINE_COLUMNS

    values = ColumnValues(result.lines, LINE_COLUMNS)
    columns = [values[c.field] for c in LINE_COLUMNS]
    currency = values["currency"]
    book = xlsxwriter.Workbook(str(target), {"constant_memory": True})
    book.use_zip64()  # a million-line sheet is over 4 GB of XML before compression
    sheet = book.add_worksheet("Lines")
    bold = book.add_format({"bold": True, "bg_color": "#D9D9D9"})
    pct = book.add_format({"num_format": PCT_FORMAT})
    fills = {status: book.add_format({"bg_color": f"#{color}"}) for status, color in STATUS_FILLS.items()}
    money: dict[Any, Any] = {}
    sheet.freeze_panes(1, 1)
    sheet.autofilter(0, 0, len(currency), len(LINE_COLUMNS) - 1)
    for j, col in enumerate(LINE_COLUMNS):
        sheet.write_string(0, j, col.header, bold)
    kinds = [c.kind for c in LINE_COLUMNS]
    for i in range(len(currency)):
        row = i + 1
        for j, kind in enumerate(kinds):
            value = columns[j][i]
            if value is None:
                continue
            if kind in NUMBER_CELLS:
                if kind == "money":
                    style = money.get(currency[i])
                    if style is None:
                        style = money[currency[i]] = book.add_format({"num_format": money_format(currency[i])})
                else:
                    style = pct if kind == "pct" else None
                sheet.write_number(row, j, float(value), style)
            else:
                sheet.write_string(row, j, str(value), fills.get(value) if kind == "status" else None)
    book.close()


WRITERS = {"recon": _recon, "xlsxwriter": _xlsxwriter}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("month", type=Path, help="a folder written by `recon sample DIR --lines N`")
    parser.add_argument("--only", default=",".join(WRITERS))
    args = parser.parse_args()
    from recon_cli.pipeline import RunInputs, reconcile

    month = args.month
    inputs = RunInputs(invoices=tuple(sorted(month.glob("invoice*.csv"))), subscriptions=month / "subscriptions.csv",
                       changes=month / "changes.csv", as_of=datetime(2026, 11, 9, 23, 59, 59), keep_raw=False)
    result = reconcile(inputs, run_id="bench")
    print(f"{len(result.lines):,} lines reconciled", flush=True)
    with tempfile.TemporaryDirectory() as folder:
        for name in args.only.split(","):
            target = Path(folder) / f"{name}.xlsx"
            wall, cpu = time.perf_counter(), time.process_time()
            WRITERS[name](result, target)
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            print(f"{name:>10}: {wall:6.1f} s wall, {cpu:6.1f} s CPU, {target.stat().st_size / 2**20:6.1f} MiB file, "
                  f"peak RSS so far {peak:,.0f} MiB", flush=True)


if __name__ == "__main__":
    sys.exit(main())
