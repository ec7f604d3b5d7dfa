"""The hostile-file corpus (tests/corpus/make_corpus.py): each case ends in exit 0, 1 or 2, never 70, with a
one-line message naming the file on exit 2, within a time and a memory bound measured here.

Each case runs `recon run` through click's CliRunner in a child forked from a warm server
(tests/corpus/runner.py), so that its peak memory is its own and a runaway is killed at the bound.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest

from corpus import runner
from corpus.make_corpus import CASES, Case
from recon_cli.errors import ExitCode

pytestmark = pytest.mark.skipif(sys.platform == "win32" or not hasattr(os, "fork"), reason="needs fork")

SECONDS = 10.0
# The peak resident memory of a child, the server's imported modules (about 150 MiB) included.
PEAK_MIB = 500.0
MEASURED: dict[str, dict[str, Any]] = {}


@pytest.fixture(scope="module")
def server() -> Any:
    return runner.context()


def run_case(server: Any, case: Case, folder: Path) -> dict[str, Any]:
    args = [*case.make(folder), "--store", str(folder / "recon.db"), "--json", str(folder / "run.json")]
    outcome = runner.run(server, args, case.limits, timeout=SECONDS)
    MEASURED[case.name] = outcome
    return outcome


# Values under the bound whose products are not: the arithmetic stages round in Decimal's default 28 digits.
KNOWN: dict[str, Any] = {}


@pytest.mark.parametrize("case", [pytest.param(c, marks=KNOWN[c.name]) if c.name in KNOWN else c for c in CASES],
                         ids=[c.name for c in CASES])
def test_hostile_input_is_refused_or_read_within_bounds(server: Any, case: Case, tmp_path: Path) -> None:
    """The run ends in an allowed exit code, in seconds and a few hundred MiB; exit 2 says in one line what was
    refused, naming the file (and row and column where there is one)."""
    outcome = run_case(server, case, tmp_path)
    assert outcome["exit"] is not None, outcome["stderr"]
    assert outcome["exit"] != ExitCode.INTERNAL, outcome["stderr"]
    assert outcome["exit"] in case.exits, outcome
    assert outcome["seconds"] < SECONDS and outcome["peak_mib"] < PEAK_MIB, outcome
    if outcome["exit"] == ExitCode.BAD_INPUT:
        message = outcome["stderr"].strip()
        if message.startswith("Usage:"):  # click refused the path itself: its usage block, then one error line
            message = message.splitlines()[-1]
        assert message.startswith("Error:") and "\n" not in message, message
        assert len(message) < 1000, message
        for part in case.names:
            assert part in message, message
        assert "Traceback" not in message


def test_xxe_never_reads_the_local_file(server: Any, tmp_path: Path) -> None:
    """An external entity in a workbook is never resolved: nothing of /etc/passwd reaches any output."""
    case = next(c for c in CASES if c.name == "xxe")
    outcome = run_case(server, case, tmp_path)
    output = outcome["stdout"] + outcome["stderr"]
    saved = tmp_path / "run.json"
    output += saved.read_text(encoding="utf-8") if saved.exists() else ""
    assert "root:" not in output and outcome["exit"] in case.exits


def test_unbalanced_quote_keeps_the_other_rows(server: Any, tmp_path: Path) -> None:
    """The row where the quote opens is one reject naming the column and the rows it swallowed; those rows load."""
    outcome = run_case(server, next(c for c in CASES if c.name == "unbalanced_quote"), tmp_path)
    data = json.loads((tmp_path / "run.json").read_text(encoding="utf-8"))
    assert [r["row"] for r in data["rejects"]] == [3], data["rejects"]
    assert data["rejects"][0]["column"] == "CustomerName" and "rows 4–7" in data["rejects"][0]["message"]
    assert sorted(line["row"] for line in data["lines"]) == [2, 4, 5, 6, 7], outcome


@pytest.mark.parametrize("case", [c for c in CASES if c.name.startswith("number_")], ids=lambda c: c.name)
def test_a_number_out_of_range_is_a_reject_with_row_and_column(server: Any, case: Case, tmp_path: Path) -> None:
    """1E+999999999, 1e308, NaN, inf, 40 decimals, 500 digits: a reject naming the file, row and column."""
    run_case(server, case, tmp_path)
    rejects = json.loads((tmp_path / "run.json").read_text(encoding="utf-8"))["rejects"]
    column = "Subtotal" if case.name.endswith("subtotal") else "Quantity"
    assert [(r["file"], r["row"], r["column"]) for r in rejects] == [("invoice.csv", 3, column)], rejects


def test_blank_lines_keep_the_row_numbers(server: Any, tmp_path: Path) -> None:
    """2 MiB of blank lines between rows are skipped; the rows after them keep the numbers a spreadsheet shows."""
    run_case(server, next(c for c in CASES if c.name == "csv_blank_lines"), tmp_path)
    lines = json.loads((tmp_path / "run.json").read_text(encoding="utf-8"))["lines"]
    assert sorted(line["row"] for line in lines) == [2, 3 + 2 * 1024**2, 5 + 2 * 1024**2]


def test_report_measurements() -> None:
    """Prints the time and peak memory of every case run above (pytest -s shows the table)."""
    for name, outcome in sorted(MEASURED.items()):
        print(f"{name:40} exit {outcome['exit']!s:4} {outcome['seconds']:6.2f} s {outcome['peak_mib']:7.0f} MiB "
              + (outcome["stderr"].strip().splitlines() or [""])[-1][:300])


# --- the caps, their configuration, and the readers behind them ---------------------------------------


@pytest.fixture
def caps() -> Any:
    """Set caps for one test; the defaults come back after it."""
    from recon_cli.limits import Limits, set_limits

    yield lambda **values: set_limits(Limits(**values))
    set_limits(Limits())


@pytest.mark.parametrize("text, size", [("20GB", 20 * 1024**3), ("1.5 GiB", 3 * 1024**3 // 2), ("512M", 512 * 1024**2),
                                        (4096, 4096), ("4096", 4096)])
def test_sizes_read_as_people_write_them(text: Any, size: int) -> None:
    """max_input_size takes bytes or a size with a unit (powers of 1024)."""
    from recon_cli.limits import parse_size

    assert parse_size(text) == size


@pytest.mark.parametrize("table, message", [
    ({"max_input_size": "lots"}, "[limits].max_input_size: expected a size like 20GB"),
    ({"max_cell_chars": -1}, "[limits].max_cell_chars: expected a positive whole number"),
    ({"max_cell_chars": True}, "[limits].max_cell_chars: expected a positive whole number"),
    ({"max_rows": 5}, "unknown key(s) max_rows under [limits]; valid: max_cell_chars, max_columns"),
])
def test_a_bad_limits_table_is_a_config_error(tmp_path: Path, table: dict[str, Any], message: str) -> None:
    """recon.toml's [limits] is checked: an unknown key or a bad value is named, with what was expected."""
    from recon_cli.config import run_defaults
    from recon_cli.errors import ConfigError

    config = tmp_path / "recon.toml"
    config.write_text("[limits]\n" + "".join(f"{k} = {json.dumps(v)}\n" for k, v in table.items()))
    with pytest.raises(ConfigError) as caught:
        run_defaults(config)
    assert message in str(caught.value) and "recon.toml" in str(caught.value)


def test_the_limits_table_becomes_the_run_limits(tmp_path: Path) -> None:
    """[limits] in recon.toml gives the run's Limits (the CLI reads it as default `limits`); the rest default."""
    from recon_cli.config import run_defaults
    from recon_cli.limits import Limits

    config = tmp_path / "recon.toml"
    config.write_text('[limits]\nmax_input_size = "20GB"\nmax_cell_chars = 500000\n')
    limits = run_defaults(config)["limits"]
    assert limits == Limits(max_input_size=20 * 1024**3, max_cell_chars=500_000)
    assert limits.with_input_size(1024).max_input_size == 1024 and limits.with_input_size(None) == limits


def test_a_long_cell_is_refused_naming_row_and_column(tmp_path: Path, caps: Any) -> None:
    """A cell past max_cell_chars stops the read with the file, row, column, the cap and how to raise it."""
    from builders import NCE_COLUMNS, seat, write_csv
    from recon_cli.errors import InputError
    from recon_cli.load import read_table

    caps(max_cell_chars=50)
    path = write_csv(tmp_path / "invoice.csv", NCE_COLUMNS, [seat("s1", 5), seat("s2", 5, CustomerName="x" * 60)])
    with pytest.raises(InputError) as caught:
        read_table(path)
    assert str(caught.value).startswith("invoice.csv, row 3, column 'CustomerName': refused: a cell of 60 characters")
    assert "max_cell_chars under [limits] in recon.toml" in str(caught.value)


def test_a_sheet_is_read_at_its_real_extent(tmp_path: Path) -> None:
    """Blank rows keep the numbers the sheet shows, a stray far cell is left out with a note, and a number
    stored with binary noise reads as the sheet shows it."""
    from corpus.make_corpus import raw_xlsx, sheet_rows
    from recon_cli.load import read_table

    rows = sheet_rows([["Id", "Amount"], ["a", "1"]]) + sheet_rows([[], [], [], ["b", "2"]]).replace(
        '<c r="B4" t="inlineStr"><is><t>2</t></is></c>', '<c r="B4"><v>12.299999999999999</v></c>') + (
        '<row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t>x</t></is></c></row>')
    table = read_table(raw_xlsx(tmp_path / "book.xlsx", rows, dimension="A1:XFD1048576"))
    assert table.frame.to_dict("list") == {"Id": ["a", "b"], "Amount": ["1", "12.3"], "__row__": [2, 4]}
    assert "cells right of the header (first at row 1048576, column 16384)" in table.notes[0]


@pytest.mark.parametrize("text", ["1E+999999999", "1e308", "NaN", "inf", "-Infinity", "0." + "1234567890" * 4,
                                  "9" * 500, "1e-400", "1000000000000000"])
def test_numbers_out_of_range_are_not_numbers(text: str) -> None:
    """Out of range, not finite or over-precise: flagged like any text that is not a number."""
    import pandas as pd

    from recon_cli.formats.numbers import parse_decimal

    values, bad = parse_decimal(pd.Series([text, "1"], dtype="str"))
    assert bad.tolist() == [True, False] and values.iloc[0] is None


@pytest.mark.parametrize("text, value", [("1E+3", "1000"), ("1.5" + "0" * 40, "1.5"), ("0E+99", "0"),
                                         ("999999999999999.99", "999999999999999.99"),
                                         ("0.0209496384791679", "0.0209496384791679")])
def test_numbers_in_range_read_plain(text: str, value: str) -> None:
    """An exponent is written out and trailing zeros past the places cap dropped: values store as plain text."""
    import pandas as pd

    from recon_cli.formats.numbers import parse_decimal

    values, bad = parse_decimal(pd.Series([text], dtype="str"))
    assert not bad.any() and str(values.iloc[0]) == value
