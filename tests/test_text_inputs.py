"""Real-world text: encodings, delimiters, European numbers and dates, stray rows, bad cells."""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from builders import NCE_COLUMNS, SUBSCRIPTION_COLUMNS, seat, subscription, write_csv
from recon_cli import load
from recon_cli.cli import cli
from recon_cli.errors import ExitCode, InputError
from recon_cli.exports import normalize_subscriptions
from recon_cli.formats.dates import parse_date
from recon_cli.formats.detect import choose_invoice_format as detect_invoice_format
from recon_cli.formats.numbers import parse_decimal
from recon_cli.formats.subscriptions import SUBSCRIPTIONS
from recon_cli.load import read_table
from recon_cli.normalize import normalize_invoice
from recon_cli.pipeline import RunInputs, reconcile

D = Decimal
DATES = ("OrderDate", "ChargeStartDate", "ChargeEndDate")
AMOUNTS = ("UnitPrice", "Subtotal", "Total", "EffectiveUnitPrice")


def write_text(path: Path, rows: list[list[str]], *, delimiter: str = ",", encoding: str = "utf-8") -> Path:
    """Rows written as a spreadsheet would save them, quotes where needed."""
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    path.write_bytes(buffer.getvalue().encode(encoding))
    return path


def invoice_rows(lines: list[dict[str, Any]]) -> list[list[str]]:
    return [NCE_COLUMNS, *[[line.get(c, "") for c in NCE_COLUMNS] for line in lines]]


def european(line: dict[str, Any]) -> dict[str, Any]:
    """The same line as a European Excel saves it: D/M/YYYY dates and 1.234,56 amounts."""
    out = dict(line)
    for column in DATES:
        if out.get(column):
            month, day, year = out[column].split("/")
            out[column] = f"{day}/{month}/{year}"
    for column in AMOUNTS:
        if out.get(column):
            whole, _, cents = f"{D(out[column]):,.2f}".partition(".")
            out[column] = whole.replace(",", ".") + "," + cents
    return out


def load_invoice(path: Path, date_format: str | None = None) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    table = read_table(path)
    typed = normalize_invoice(table, detect_invoice_format(table), path, date_format=date_format)
    return typed.frame, typed.rejects, [*table.notes, *typed.notes]


# --- encodings and delimiters ----------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16", "cp1252"])
@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_every_encoding_and_delimiter_reads_the_same_lines(tmp_path: Path, encoding: str, delimiter: str) -> None:
    """UTF-8 ± BOM, Excel's Unicode text (UTF-16), Windows-1252; `,` `;` tab `|`: the same typed lines."""
    lines = [seat("s1", 5, "12.50", CustomerName="Société Générale; Zürich, \"HQ\""),
             seat("s2", 1200, "4.00", order="10/20/2026", PriceAdjustmentDescription='["A", "B"]')]
    path = write_text(tmp_path / "invoice.csv", invoice_rows(lines), delimiter=delimiter, encoding=encoding)
    frame, rejects, notes = load_invoice(path)
    assert rejects.empty
    assert frame["customer_name"].tolist()[0] == "Société Générale; Zürich, \"HQ\""
    assert frame["subtotal"].tolist() == [D("62.50"), D("4800.00")]
    assert frame["price_adjustment"].tolist()[1] == '["A", "B"]'
    assert frame["order_date"].tolist()[1] == pd.Timestamp("2026-10-20")
    assert any("cp1252" in n for n in notes) == (encoding == "cp1252")


def test_utf16_without_bom_is_still_text(tmp_path: Path) -> None:
    """A UTF-16 file whose BOM was lost is recognised by its NUL pattern, not refused as binary."""
    path = tmp_path / "invoice.txt"
    path.write_bytes("\t".join(NCE_COLUMNS).encode("utf-16-le") + b"\r\x00\n\x00"
                     + "\t".join(seat("s1", 5).get(c, "") for c in NCE_COLUMNS).encode("utf-16-le"))
    frame, rejects, _ = load_invoice(path)
    assert frame["subscription_id"].tolist() == ["s1"] and rejects.empty


def test_excel_sep_hint_line_names_the_delimiter(tmp_path: Path) -> None:
    """Excel's `sep=;` first line sets the delimiter and is not a row: the header stays row 1."""
    path = tmp_path / "invoice.csv"
    path.write_bytes(b"sep=;\r\n" + write_text(tmp_path / "x.csv", invoice_rows([seat("s1", 5)]), delimiter=";")
                     .read_bytes())
    frame, rejects, _ = load_invoice(path, date_format="MDY")
    assert frame["row"].tolist() == [2] and frame["subtotal"].tolist() == [D("50.00")] and rejects.empty


def test_fast_path_reads_plain_utf8_comma_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A plain UTF-8 comma file goes through pyarrow's reader, not the slower engines."""
    path = write_csv(tmp_path / "invoice.csv", NCE_COLUMNS, [seat("s1", 5)])
    monkeypatch.setattr(load, "_read_with_pandas", lambda *_: pytest.fail("slow path used"))
    assert read_table(path).frame["SubscriptionId"].tolist() == ["s1"]


# --- numbers -------------------------------------------------------------------------------------


@pytest.mark.parametrize("texts, expected", [
    (["1,200", "12.50", "(3.00)", "$4", "-5"], ["1200", "12.50", "-3.00", "4", "-5"]),
    (["1.234,56", "12,5", "1.250", "0.045"], ["1234.56", "12.5", "1250", "0.045"]),
    (["1,250"], ["1250"]),
    (["1 234,56 €", "12.50-", "−3", "EUR 1.234,50", "1'234.50", "€-7,10"],
     ["1234.56", "-12.50", "-3", "1234.50", "1234.50", "-7.10"]),
])
def test_numbers_as_people_write_them(texts: list[str], expected: list[str]) -> None:
    """Thousands separators, decimal commas, currency symbols and credit signs give exact Decimals."""
    values, bad = parse_decimal(pd.Series(texts, dtype="str"))
    assert [str(v) for v in values] == expected and not bad.any()


@pytest.mark.parametrize("text", ["abc", "1.2.3", "--4", "12x", "1,2,3", "$"])
def test_not_a_number(text: str) -> None:
    """Malformed numbers are flagged, never guessed."""
    values, bad = parse_decimal(pd.Series([text, "1"], dtype="str"))
    assert bad.tolist() == [True, False] and values.iloc[0] is None


def test_decimal_comma_is_decided_per_file(tmp_path: Path) -> None:
    """A `;` file with 1.234,56 amounts: every amount column reads the comma as the decimal separator."""
    lines = [european(seat("s1", 5, "1234.50", order="10/13/2026", start="10/13/2026", end="11/12/2026")),
             european(seat("s2", 3, "10.00"))]
    path = write_text(tmp_path / "invoice.csv", invoice_rows(lines), delimiter=";", encoding="cp1252")
    frame, rejects, notes = load_invoice(path)
    assert rejects.empty
    assert frame["subtotal"].tolist() == [D("6172.50"), D("30.00")]
    assert frame["effective_unit_price"].tolist() == [D("1234.50"), D("10.00")]
    assert frame["order_date"].tolist() == [pd.Timestamp("2026-10-13"), pd.Timestamp("2026-10-05")]
    assert any("decimal comma" in n for n in notes) and any("day first" in n for n in notes)


# --- dates ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("text, order, expected", [
    ("10/3/2020", "MDY", "2020-10-03"),
    ("10/3/2020", "DMY", "2020-03-10"),
    ("2/1/2019 0:00", "MDY", "2019-02-01 00:00"),
    ("2/28/2019 23:59", "MDY", "2019-02-28 23:59"),
    ("1/31/2023 11:59:59 PM", "MDY", "2023-01-31 23:59:59"),
    ("2021-05-20T18:30:06.6045692Z", "MDY", "2021-05-20 18:30:06.604569"),
    ("2019-02-04T09:22:40.1767993-08:00", "MDY", "2019-02-04 09:22:40.176799"),
    ("2021-05-20 00:00:00", "MDY", "2021-05-20"),  # an xlsx date cell read as text
    ("13.10.2026", "MDY", "2026-10-13"),
    ("10/5/26", "MDY", "2026-10-05"),
    ("5-Oct-2026", "MDY", "2026-10-05"),
    ("October 5, 2026", "DMY", "2026-10-05"),
])
def test_dates_as_exports_write_them(text: str, order: str, expected: str) -> None:
    """Portal, legacy, API, xlsx and European date texts parse to the same instants."""
    values, bad = parse_date(pd.Series([text], dtype="str"), order)
    assert not bad.any() and values.iloc[0] == pd.Timestamp(expected)


def test_null_date_of_the_api_is_blank() -> None:
    """0001-01-01T00:00:00 is the API's way of saying "no date"."""
    values, bad = parse_date(pd.Series(["0001-01-01T00:00:00", "31/31/2026"], dtype="str"))
    assert values.isna().all() and bad.tolist() == [False, True]


def test_ambiguous_european_dates_need_the_flag(tmp_path: Path) -> None:
    """A European file whose dates never show a day over 12 stops with a message naming --date-format."""
    lines = [european(seat("s1", 5, "12.50"))]
    path = write_text(tmp_path / "invoice.csv", invoice_rows(lines), delimiter=";")
    with pytest.raises(InputError, match=r"invoice\.csv: dates like '5/10/2026'.*--date-format DMY"):
        load_invoice(path)
    frame, rejects, _ = load_invoice(path, date_format="DMY")
    assert frame["order_date"].tolist() == [pd.Timestamp("2026-10-05")] and rejects.empty


def test_dates_written_both_ways_are_refused_then_rejected_row_by_row(tmp_path: Path) -> None:
    """13/10 and 10/13 in one file: refused; with --date-format the rows that do not fit are rejected."""
    lines = [seat("s1", 5, order="13/10/2026"), seat("s2", 5, order="10/14/2026")]
    path = write_csv(tmp_path / "invoice.csv", NCE_COLUMNS, lines)
    with pytest.raises(InputError, match=r"both ways.*'13/10/2026'.*'10/14/2026'.*--date-format"):
        load_invoice(path)
    frame, rejects, _ = load_invoice(path, date_format="MDY")
    assert frame["subscription_id"].tolist() == ["s2"]
    assert rejects[["row", "column", "code"]].to_numpy().tolist() == [[2, "OrderDate", "not_a_date"]]


def test_us_invoice_with_early_days_reads_month_first_silently(tmp_path: Path) -> None:
    """Partner Center documents M/D/YYYY: a comma file whose dates do not tell reads month first."""
    frame, _, notes = load_invoice(write_csv(tmp_path / "invoice.csv", NCE_COLUMNS, [seat("s1", 5)]))
    assert frame["order_date"].tolist() == [pd.Timestamp("2026-10-05")] and notes == []


def test_subscription_dates_that_do_not_tell_are_read_month_first_with_a_note(tmp_path: Path) -> None:
    """A billing export with 05/10/2025 start dates reads month first and says how to change it."""
    path = write_csv(tmp_path / "subs.csv", SUBSCRIPTION_COLUMNS, [subscription("s1", 5, start_date="05/10/2025")])
    typed = normalize_subscriptions(read_table(path), SUBSCRIPTIONS)
    frame, notes = typed.frame, typed.notes
    assert frame["start_date"].tolist() == [pd.Timestamp("2025-05-10")]
    assert "--date-format DMY" in notes[0]
    frame = normalize_subscriptions(read_table(path), SUBSCRIPTIONS, date_format="DMY").frame
    assert frame["start_date"].tolist() == [pd.Timestamp("2025-10-05")]


def test_date_format_flag_on_the_command_line(tmp_path: Path) -> None:
    """`recon run --date-format DMY` reads an ambiguous European file; without it, exit 2 and the hint."""
    invoice = write_text(tmp_path / "invoice.csv", invoice_rows([european(seat("s1", 5))]), delimiter=";")
    subs = write_csv(tmp_path / "subs.csv", SUBSCRIPTION_COLUMNS, [subscription("s1", 5)])
    runner = CliRunner()
    failed = runner.invoke(cli, ["run", str(invoice), str(subs), "--quiet"])
    assert failed.exit_code == ExitCode.BAD_INPUT and "--date-format" in failed.stderr
    passed = runner.invoke(cli, ["run", str(invoice), str(subs), "--quiet", "--date-format", "dmy"])
    assert passed.exit_code == ExitCode.OK, passed.output


# --- stray rows and whole-file problems ---------------------------------------------------------


def test_repeated_headers_and_blank_rows_are_dropped_with_row_numbers_kept(tmp_path: Path) -> None:
    """Header rows pasted inside the data and blank trailing rows are skipped; rows keep their numbers."""
    second = [seat("s2", 3).get(c, "") for c in NCE_COLUMNS]
    rows = [*invoice_rows([seat("s1", 5)]), NCE_COLUMNS, second, [""] * len(NCE_COLUMNS), [], []]
    frame, rejects, notes = load_invoice(write_text(tmp_path / "invoice.csv", rows))
    assert frame["row"].tolist() == [2, 4] and rejects.empty
    assert "1 repeated header row(s) inside the data skipped (row 3)" in notes[0]


def test_too_wide_rows_are_rejected_and_short_rows_padded(tmp_path: Path) -> None:
    """A row with more cells than the header is a reject; one missing trailing cells is read as blank."""
    rows = invoice_rows([seat("s1", 5), seat("s2", 3), seat("s3", 4)])
    rows[2] = [*rows[2], "stray", "cells"]
    rows[3] = rows[3][:30]
    frame, rejects, _ = load_invoice(write_text(tmp_path / "invoice.csv", rows, delimiter="|"))
    assert frame["row"].tolist() == [2, 4]
    assert rejects[["row", "code"]].to_numpy().tolist() == [[3, "too_many_cells"]]


def test_unbalanced_quote_is_pointed_at(tmp_path: Path) -> None:
    """A stray quote would merge rows: its row is rejected naming the column it opened in and the rows it
    swallowed, and those rows are read on their own."""
    path = write_csv(tmp_path / "invoice.csv", NCE_COLUMNS, [seat("s1", 5), seat("s2", 3), seat("s3", 4)])
    lines = path.read_text().splitlines()
    lines[2] = lines[2].replace("Customer c-1", '"Customer c-1', 1)
    path.write_text("\n".join(lines) + "\n")
    frame, rejects, notes = load_invoice(path)
    assert frame["row"].tolist() == [2, 4] and rejects["row"].tolist() == [3]
    assert rejects["column"].tolist() == ["CustomerName"]
    assert "a quote opens in column 'CustomerName'" in rejects["message"].iloc[0]
    assert "(rows 4–4)" in rejects["message"].iloc[0]
    assert any("unbalanced quote" in note for note in notes)


def test_recon_toml_sets_the_date_format(tmp_path: Path) -> None:
    """`date_format = "DMY"` under [run] in recon.toml reads an ambiguous European file; a bad value is named."""
    invoice = write_text(tmp_path / "invoice.csv", invoice_rows([european(seat("s1", 5))]), delimiter=";")
    subs = write_csv(tmp_path / "subs.csv", SUBSCRIPTION_COLUMNS, [subscription("s1", 5)])
    config = tmp_path / "recon.toml"
    config.write_text('[run]\ndate_format = "dmy"\n')
    args = ["run", str(invoice), str(subs), "--quiet", "--config", str(config)]
    assert CliRunner().invoke(cli, args).exit_code == ExitCode.OK
    config.write_text('[run]\ndate_format = "YMD"\n')
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == ExitCode.BAD_INPUT and "[run].date_format" in result.stderr


@pytest.mark.parametrize("content, message", [
    (b"", "the file is empty"),
    (b"\r\n \r\n", "the file is empty"),
    (bytes(range(256)) * 8, "not a text table"),
    (b"\xd0\xcf\x11\xe0" + b"\x00" * 60, "old binary .xls"),
    (b"Foo;Bar\r\n1;2\r\n", "not a recognised invoice"),
])
def test_whole_file_problems_exit_two_naming_the_file(tmp_path: Path, content: bytes, message: str) -> None:
    """Empty, binary, .xls or unknown invoices stop the run with exit 2 and the file's name."""
    invoice = tmp_path / "broken.csv"
    invoice.write_bytes(content)
    subs = write_csv(tmp_path / "subs.csv", SUBSCRIPTION_COLUMNS, [subscription("s1", 5)])
    result = CliRunner().invoke(cli, ["run", str(invoice), str(subs), "--quiet"])
    assert result.exit_code == ExitCode.BAD_INPUT
    assert "broken.csv" in result.stderr and message in result.stderr and "Traceback" not in result.stderr


def test_missing_column_names_file_column_and_the_columns_present(tmp_path: Path) -> None:
    """An invoice without Subtotal names the file, the column and the columns it has."""
    columns = [c for c in NCE_COLUMNS if c != "Subtotal"]
    path = write_text(tmp_path / "inv.csv", [columns, [seat("s1", 5).get(c, "") for c in columns]])
    subs = write_csv(tmp_path / "subs.csv", SUBSCRIPTION_COLUMNS, [subscription("s1", 5)])
    result = CliRunner().invoke(cli, ["run", str(path), str(subs), "--quiet"])
    assert result.exit_code == ExitCode.BAD_INPUT
    assert "inv.csv: required column 'Subtotal' not found; the columns are: PartnerId, CustomerId" in result.stderr


def test_bad_cells_in_a_european_file_are_rejects(tmp_path: Path) -> None:
    """Quantity 'abc' in a `;` file is a reject with row and column; the other rows load."""
    lines = [european(seat("s1", 5, order="10/13/2026")), european(seat("s2", 5, Quantity="abc"))]
    frame, rejects, _ = load_invoice(write_text(tmp_path / "invoice.csv", invoice_rows(lines), delimiter=";"))
    assert frame["subscription_id"].tolist() == ["s1"]
    assert rejects[["row", "column", "code"]].to_numpy().tolist() == [[3, "Quantity", "not_a_number"]]


# --- property: every row accounted for, whatever the file looks like -------------------------------

BAD_CELLS = {"Quantity": ["abc", "1.2.3", "--4"], "Subtotal": ["x1", "12,,5"], "OrderDate": ["31/31/2026", "soon"]}


@st.composite
def messy_files(draw: st.DrawFn) -> dict[str, Any]:
    """A small invoice written with a random delimiter, encoding, number and date style, with blank
    rows, repeated headers and bad cells in random places."""
    delimiter = draw(st.sampled_from([",", ";", "\t", "|"]))
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "cp1252"]))
    europe = delimiter == ";" or draw(st.booleans())
    rows: list[list[str]] = [NCE_COLUMNS]
    data_rows: list[int] = []
    good: list[Decimal] = []
    for index in range(draw(st.integers(1, 12))):
        for _ in range(draw(st.integers(0, 1))):
            rows.append(draw(st.sampled_from([[], [""] * len(NCE_COLUMNS), NCE_COLUMNS])))
        day = 13 + index if index < 10 else 1 + index  # a day over 12 decides the order
        price = draw(st.sampled_from(["1.00", "4.80", "1234.50", "0.03"]))
        line = seat(f"s{index}", draw(st.integers(0, 2000)), price, order=f"10/{day}/2026",
                    start=f"10/{day}/2026", end=f"11/{day}/2026",
                    CustomerName=draw(st.sampled_from(["Contoso", "Zoë; \"Ltd\"", "A|B,C"])))
        written = european(line) if europe else line
        bad = draw(st.sampled_from([None, None, None, *BAD_CELLS]))
        if bad is not None:
            written[bad] = draw(st.sampled_from(BAD_CELLS[bad]))
        rows.append([written.get(c, "") for c in NCE_COLUMNS])
        data_rows.append(len(rows))  # the spreadsheet row: header is row 1
        if bad is None:
            good.append(D(line["Subtotal"]))
    rows += [[] for _ in range(draw(st.integers(0, 2)))]
    return {"rows": rows, "delimiter": delimiter, "encoding": encoding, "data_rows": data_rows, "good": good}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(messy_files())
def test_loaded_plus_rejected_rows_equal_input_rows(tmp_path: Path, data: dict[str, Any]) -> None:
    """Whatever the encoding, delimiter and stray rows: each data row is a line or a reject, once."""
    path = write_text(tmp_path / "invoice.csv", data["rows"], delimiter=data["delimiter"], encoding=data["encoding"])
    frame, rejects, _ = load_invoice(path)
    loaded, rejected = set(frame["row"].tolist()), set(rejects["row"].tolist())
    assert len(loaded) == len(frame) and not loaded & rejected
    assert loaded | rejected == set(data["data_rows"])
    assert sum(frame["subtotal"], D(0)) == sum(data["good"], D(0))


def test_a_messy_month_reconciles_end_to_end(tmp_path: Path) -> None:
    """UTF-16 tab invoice with a repeated header, cp1252 `;` subscriptions with 1.200 seats: all matched."""
    rows = [*invoice_rows([seat("s1", 1200, "4.00", order="10/20/2026")]), NCE_COLUMNS,
            [seat("s2", 3).get(c, "") for c in NCE_COLUMNS]]
    invoice = write_text(tmp_path / "invoice.txt", rows, delimiter="\t", encoding="utf-16")
    subs = write_text(tmp_path / "subs.csv", [["Subscription ID", "Customer", "Quantity", "Selling Price"],
                                              ["s1", "Société", "1.200", "5,00"], ["S2", "Zoë", "3", "5,00"]],
                      delimiter=";", encoding="cp1252")
    result = reconcile(RunInputs(invoices=(invoice,), subscriptions=subs), run_id="t")
    assert result.lines["status"].tolist() == ["matched", "matched"]
    assert result.lines["unit_price"].tolist() == [D("5.00"), D("5.00")]
    assert any("repeated header" in n for n in result.summary.notes)
    assert any("cp1252" in n for n in result.summary.notes)
