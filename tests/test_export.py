"""Exports: the JSON contract, the annotated CSV, the finance workbook, atomic writes."""

from __future__ import annotations

import csv
import dataclasses
import json
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from builders import with_lines
from recon_cli import cells
from recon_cli.outputs import csv as csv_out
from recon_cli.outputs import files
from recon_cli.outputs import json as json_out
from recon_cli.outputs.csv import write_csv
from recon_cli.outputs.files import safe_text
from recon_cli.outputs.json import result_to_json, write_json
from recon_cli.outputs.xlsx import cells as xlsx_cells
from recon_cli.outputs.xlsx import workbook as xlsx
from recon_cli.outputs.xlsx.workbook import write_xlsx
from recon_cli.records import LINE_FIELDS
from recon_cli.result import ReconResult

D = Decimal
REQUIRED_LINE_KEYS = {
    "line_id", "row", "subscription_id", "customer_name", "product", "charge_type", "kind", "status",
    "price_status", "provider_quantity", "subscription_quantity", "quantity_delta", "unit_cost",
    "unit_price", "subtotal", "currency", "match_method", "reason", "explanation", "evidence",
}
HYPERLINK = '=HYPERLINK("http://evil","x")'


def invoice_raw() -> pd.DataFrame:
    """The provider's invoice as load.py reads it: text, own headers, rows 2-6 (row 6 rejected)."""
    return pd.DataFrame({
        "InvoiceNumber": ["G000123456"] * 5,
        "SubscriptionId": ["aaaa-1", "bbbb-2", "cccc-3", "dddd-4", "ffff-6"],
        "CustomerName": ["Contoso Ltd", "Fabrikam Inc", HYPERLINK, "Northwind", "Wide World"],
        "SkuId": ["0002", "0002", "0002", "0002", "0002"],
        "Quantity": ["10", "10", "5", "3", "abc"],
        "Subtotal": ["220.00", "125.00", "150.00", "-15.00", "1.00"],
        "__row__": [2, 3, 4, 5, 6],
    })


# --- JSON ---------------------------------------------------------------------------


def test_json_has_exactly_the_documented_top_level_keys(tiny_result: ReconResult) -> None:
    """The document's keys are those of PRODUCT.md §4 (v2), in order."""
    document = result_to_json(tiny_result)
    assert list(document) == ["run_id", "period", "as_of", "summary", "lines", "missing_subscriptions", "rejects",
                              "warnings"]
    assert document["run_id"] == "20261125T020000Z-abcd"
    assert document["summary"]["status_counts"]["unexplained"] == 1


def test_json_lines_carry_the_required_keys_with_exact_money(tiny_result: ReconResult) -> None:
    """Every line has the required keys; money is text that sums to the summary total."""
    lines = result_to_json(tiny_result)["lines"]
    assert len(lines) == 4
    for line in lines:
        assert set(line) >= REQUIRED_LINE_KEYS
        assert set(line) == set(LINE_FIELDS)
        assert isinstance(line["subtotal"], str)
        assert isinstance(line["row"], int)
        assert isinstance(line["evidence"], list)
    assert lines[0]["unit_price"] == "26.40"
    assert lines[1]["quantity_delta"] == "-2"
    assert lines[1]["evidence"] == ["LCL-1001"]
    assert lines[3]["provider_quantity"] is None
    assert lines[3]["as_of"] is None
    total = sum(D(line["subtotal"]) for line in lines)
    assert total == D(tiny_result.summary.subtotal_total["USD"])


def test_json_missing_and_rejects_entries(tiny_result: ReconResult) -> None:
    """Missing entries and rejects carry their documented fields."""
    document = result_to_json(tiny_result)
    missing = document["missing_subscriptions"][0]
    assert {"subscription_id", "customer_name", "product", "quantity", "reason"} <= set(missing)
    assert missing["quantity"] == "8"
    assert (missing["expected_cost"], missing["expected_price"], missing["needs_person"]) == ("32.00", "38.40", True)
    reject = document["rejects"][0]
    assert {k: reject[k] for k in ("file", "row", "column", "message")} == {
        "file": "invoice.csv", "row": 6, "column": "Quantity", "message": "expected a number, found 'abc'"}


def test_written_json_equals_the_document_for_awkward_values(
        tiny_result: ReconResult, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The fast file writer gives the same document as result_to_json, across chunk edges."""
    monkeypatch.setattr(json_out, "JSON_CHUNK", 3)
    result = with_lines(
        tiny_result,
        customer_name={0: 'Quote " and back\\slash é −', 1: None},
        product={2: "tab\there, newline\nthere"},
        unit_price={0: D("1E+1"), 1: D("NaN")},
        evidence={1: "LCL-1,LCL-2", 2: None},
    )
    # Frames built by concat hold their text in several Arrow chunks.
    result = dataclasses.replace(result, lines=pd.concat([result.lines.iloc[:2], result.lines.iloc[2:]]))
    target = tmp_path / "run.json"
    write_json(result, target)
    written = json.loads(target.read_text(encoding="utf-8"))
    assert written == result_to_json(result)
    lines = written["lines"]
    assert lines[0]["unit_price"] == "10"
    assert lines[1]["unit_price"] is None
    assert lines[1]["evidence"] == ["LCL-1", "LCL-2"]
    assert lines[2]["product"] == "tab\there, newline\nthere"


def test_json_of_nullable_integers(tiny_result: ReconResult, tmp_path: Path) -> None:
    """A nullable integer column with a gap gives null, in the document and in the file."""
    lines = tiny_result.lines.copy()
    lines["row"] = pd.array([2, None, 4, 5], dtype="Int64")
    result = dataclasses.replace(tiny_result, lines=lines)
    assert [line["row"] for line in result_to_json(result)["lines"]] == [2, None, 4, 5]
    write_json(result, tmp_path / "rows.json")
    assert json.loads((tmp_path / "rows.json").read_text()) == result_to_json(result)


def test_json_to_stdout(tiny_result: ReconResult, capsys: pytest.CaptureFixture[str]) -> None:
    """Target "-" writes the document to standard output."""
    write_json(tiny_result, "-")
    assert json.loads(capsys.readouterr().out) == result_to_json(tiny_result)


def test_json_of_an_empty_run(tiny_result: ReconResult, tmp_path: Path) -> None:
    """A run without lines still writes a valid document."""
    empty = dataclasses.replace(tiny_result, lines=tiny_result.lines.iloc[0:0])
    write_json(empty, tmp_path / "empty.json")
    assert json.loads((tmp_path / "empty.json").read_text())["lines"] == []


# --- CSV --------------------------------------------------------------------------------


def read_csv_rows(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.reader(handle))


def test_csv_keeps_the_invoice_columns_and_appends_results(tiny_result: ReconResult, tmp_path: Path) -> None:
    """Provider columns come first, in order, unchanged but for formula-looking text (neutralised, PRODUCT.md
    §4); recon_ columns follow."""
    raw = invoice_raw()
    result = dataclasses.replace(tiny_result, invoice_raw=raw)
    target = tmp_path / "annotated.csv"
    write_csv(result, target)
    assert not target.read_bytes().startswith(b"\xef\xbb\xbf")
    header, *rows = read_csv_rows(target)
    provider = [c for c in raw.columns if c != "__row__"]
    assert header[:len(provider)] == provider
    assert header[len(provider):] == [column for column, _ in csv_out.CSV_RESULT_COLUMNS]
    expected = raw[provider].to_numpy().tolist()
    expected[2][provider.index("CustomerName")] = "'" + HYPERLINK
    assert [row[:len(provider)] for row in rows] == expected
    by_column = [dict(zip(header, row, strict=True)) for row in rows]
    assert by_column[2]["CustomerName"] == "'" + HYPERLINK  # the provider's formula, shown as text
    assert by_column[1]["recon_status"] == "explained"
    assert by_column[1]["recon_quantity_delta"] == "-2"
    assert by_column[1]["recon_evidence"] == "LCL-1001"
    assert by_column[3]["recon_unit_cost"] == "-5.00"  # a number, never prefixed
    assert by_column[4]["recon_status"] == "rejected"
    assert by_column[4]["recon_explanation"] == "Quantity: expected a number, found 'abc'"


def test_csv_result_text_is_formula_safe(tiny_result: ReconResult, tmp_path: Path) -> None:
    """Our appended text cannot start a formula; the provider's columns stay as they were."""
    result = dataclasses.replace(with_lines(tiny_result, explanation={0: "=1+1", 1: "@SUM(A1)"}),
                                 invoice_raw=invoice_raw())
    write_csv(result, tmp_path / "out.csv")
    header, *rows = read_csv_rows(tmp_path / "out.csv")
    explanation = header.index("recon_explanation")
    assert rows[0][explanation] == "'=1+1"
    assert rows[1][explanation] == "'@SUM(A1)"


def test_csv_of_a_stored_run_has_the_line_fields(tiny_result: ReconResult, tmp_path: Path) -> None:
    """Without the invoice (a run from the store), the CSV holds LINE_FIELDS."""
    write_csv(tiny_result, tmp_path / "lines.csv")
    header, *rows = read_csv_rows(tmp_path / "lines.csv")
    assert header == list(LINE_FIELDS)
    line = dict(zip(header, rows[2], strict=True))
    assert line["customer_name"] == "'" + HYPERLINK
    assert line["subtotal"] == "150.00"
    assert dict(zip(header, rows[3], strict=True))["unit_cost"] == "-5.00"


def test_csv_of_cells_held_per_file_is_the_csv_of_the_frame_of_all(tiny_result: ReconResult, tmp_path: Path) -> None:
    """A run holds each invoice file's cells compressed (cells.py): the CSV is the one the frame of all the
    files gives. A column of one file only is blank in the other's rows, and a provider column named
    like one of ours (recon_status) gives way to ours, in its place."""
    raw = invoice_raw().rename(columns={"SkuId": "recon_status"})
    first, second = raw.iloc[:3], raw.iloc[3:].drop(columns=["CustomerName"]).assign(Extra=["x", "y"])
    frame = pd.concat([first.assign(__file__="invoice.csv"), second.assign(__file__="b.csv")], ignore_index=True)
    held = cells.joined([cells.hold(first, "invoice.csv"), cells.hold(second, "b.csv")])
    write_csv(dataclasses.replace(tiny_result, invoice_raw=frame), tmp_path / "frame.csv")
    write_csv(dataclasses.replace(tiny_result, invoice_raw=held), tmp_path / "held.csv")
    assert (tmp_path / "held.csv").read_bytes() == (tmp_path / "frame.csv").read_bytes()
    header, *rows = read_csv_rows(tmp_path / "held.csv")
    provider = ["InvoiceNumber", "SubscriptionId", "CustomerName", "recon_status", "Quantity", "Subtotal", "Extra"]
    assert header == provider + [c for c, _ in csv_out.CSV_RESULT_COLUMNS if c != "recon_status"]
    by_column = [dict(zip(header, row, strict=True)) for row in rows]
    assert [row["Extra"] for row in by_column] == ["", "", "", "x", "y"]
    assert [row["CustomerName"] for row in by_column] == ["Contoso Ltd", "Fabrikam Inc", "'" + HYPERLINK, "", ""]
    assert by_column[1]["recon_status"] == "explained" and by_column[4]["recon_status"] == "rejected"


# --- xlsx (the workbook's own tests are in test_workbook.py) ---------------------------


def header_map(sheet: openpyxl.worksheet.worksheet.Worksheet) -> dict[str, int]:
    return {cell.value: cell.column for cell in sheet[1]}


def test_xlsx_money_carries_its_currency(tiny_result: ReconResult, tmp_path: Path) -> None:
    """Money cells are formatted in their line's currency on every sheet; a code that is not
    three letters gets the bare money format, never text inside the format."""
    result = with_lines(tiny_result, currency={1: "EUR", 3: 'US"D'})
    summary = result.summary.model_copy(update={"money_at_risk": {"USD": "30.00", "EUR": "1.00"}})
    write_xlsx(dataclasses.replace(result, summary=summary), tmp_path / "money.xlsx")
    book = openpyxl.load_workbook(tmp_path / "money.xlsx")
    lines = book["Lines"]
    columns = header_map(lines)
    formats = [lines.cell(row, columns["Subtotal"]).number_format for row in range(2, 6)]
    assert formats == ['#,##0.00 "USD"', '#,##0.00 "EUR"', '#,##0.00 "USD"', xlsx_cells.MONEY_FORMAT]
    assert lines.cell(3, columns["Unit price"]).number_format == '#,##0.00 "EUR"'
    missing = book["Missing"]
    assert missing.cell(2, header_map(missing)["Expected price"]).number_format == '#,##0.00 "USD"'
    exceptions = book["Exceptions"]
    assert exceptions.cell(2, header_map(exceptions)["At risk"]).number_format == '#,##0.00 "USD"'
    risk = next(row for row in book["Summary"].iter_rows() if row[0].value == "Money at risk")
    amounts = {cell.number_format: cell.value for cell in risk[1:] if cell.value is not None and cell.data_type == "n"}
    assert amounts == {'#,##0.00 "EUR"': 1, '#,##0.00 "USD"': 30}
    assert xlsx_cells.money_format(" usd ") == '#,##0.00 "USD"'


@pytest.mark.parametrize("text", ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx", "#N/A"])
def test_safe_text_quotes_what_a_spreadsheet_would_evaluate(text: str) -> None:
    """Each formula start (and an error literal) gets a leading quote."""
    assert safe_text(text) == "'" + text


@pytest.mark.parametrize("text", ["", "Contoso", "a=b", "−2 seats", "#1 customer"])
def test_safe_text_leaves_plain_text_alone(text: str) -> None:
    """Ordinary text is unchanged."""
    assert safe_text(text) == text


def test_safe_sheet_titles() -> None:
    """Sheet titles lose the characters Excel refuses and fit in 31 characters."""
    assert xlsx_cells.safe_sheet_title("a/b\\c*d?e:f[g]") == "a_b_c_d_e_f_g_"
    assert len(xlsx_cells.safe_sheet_title("x" * 40)) == 31


# --- atomic writes ------------------------------------------------------------------------


def _boom(*args: object, **kwargs: object) -> None:
    raise OSError("disk full")


@pytest.mark.parametrize("kind", ["csv", "json", "xlsx"])
def test_a_failed_write_leaves_the_old_file_and_no_temp(kind: str, tiny_result: ReconResult, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """When writing fails midway, the existing target is untouched and nothing is left over."""
    target = tmp_path / f"out.{kind}"
    target.write_text("previous run")

    def lines_then_fail(lines: object, out: object, *more: object) -> None:
        out.write(b"partial")  # type: ignore[attr-defined]
        raise OSError("disk full")

    if kind == "csv":
        monkeypatch.setattr(csv_out, "write_csv_batches", lambda out, batches: lines_then_fail(None, out))
        writer = write_csv
    elif kind == "json":
        monkeypatch.setattr(json_out, "_write_lines_json", lines_then_fail)
        writer = write_json
    else:
        monkeypatch.setattr(xlsx.ExcelWriter, "save", _boom)
        writer = write_xlsx
    with pytest.raises(OSError, match="disk full"):
        writer(tiny_result, target)
    assert target.read_text() == "previous run"
    assert list(tmp_path.iterdir()) == [target]


def test_atomic_write_replaces_and_keeps_the_mode(tmp_path: Path) -> None:
    """A successful write replaces the file and keeps its permissions."""
    target = tmp_path / "report.txt"
    target.write_text("old")
    os.chmod(target, 0o640)
    with files.atomic_write(target, "w", encoding="utf-8") as handle:
        handle.write("new")
    assert target.read_text() == "new"
    assert target.stat().st_mode & 0o777 == 0o640
    assert list(tmp_path.iterdir()) == [target]


def test_importing_export_loads_neither_pandas_nor_openpyxl() -> None:
    """`recon --help` imports this module: pandas and openpyxl load only when writing."""
    code = ("import sys, recon_cli.outputs.json, recon_cli.outputs.csv; "
            "print('pandas' in sys.modules, 'openpyxl' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]
