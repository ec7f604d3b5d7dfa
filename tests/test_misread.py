"""Never silently misread an export (PRODUCT.md §2, issue 10): each quirk gives the right answer or a named note.

The exports are written from the documented layouts: Work 365's subscription and License Change Log
fields (formats/partner-center.md §6.1: Name, Subscription, Provisioning Status, Invoice, Status
Reason, Effective Date, Quantity as a delta; "subscription 10, existing LCLs 6 → new LCL 4"),
ConnectWise agreement additions and common PSA headers (§6.2), and the Partner Center invoice
(the builders' NCE rows). The expected answers are worked out by hand in each docstring.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from builders import NCE_COLUMNS, SUBSCRIPTION_COLUMNS, change, month, seat, subscription, write_csv
from recon_cli.cli import cli
from recon_cli.errors import ExitCode, InputError
from recon_cli.pipeline import RunInputs, reconcile
from recon_cli.result import ReconResult

AS_OF = "2026-11-02"


def write_rows(path: Path, header: list[str], rows: list[list[Any]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows([header, *rows])
    return path


def run(invoice: Path, subscriptions: Path, changes: Path | None = None, **options: Any) -> ReconResult:
    from recon_cli.options import parse_as_of

    return reconcile(RunInputs(invoices=(invoice,), subscriptions=subscriptions, changes=changes,
                               as_of=parse_as_of(AS_OF), **options), run_id="t")


def notes_about(result: ReconResult, text: str) -> list[str]:
    return [note for note in result.summary.notes if text in note]


def cli_run(folder: Path, *args: str) -> tuple[int, str]:
    outcome = CliRunner().invoke(cli, ["run", *args, "--as-of", AS_OF, "--store", str(folder / "recon.db")],
                                 catch_exceptions=False)
    return outcome.exit_code, outcome.output


def test_currency_names_are_read_as_their_iso_code(tmp_path: Path) -> None:
    """Currency "US Dollar" on every subscription: read as USD, so 3 lines at 12.00 match and price `ok`
    (not 3 × currency_mismatch); one note says 3 cells were mapped. "Zorkmid" matches no invoice
    currency: that line is a currency_mismatch, and a note names the unknown word."""
    invoice = write_csv(tmp_path / "invoice.csv", NCE_COLUMNS,
                        [seat(s, 5, "10.00") for s in ("s1", "s2", "s3", "s4")])
    subs = write_csv(tmp_path / "subs.csv", SUBSCRIPTION_COLUMNS,
                     [*(subscription(s, 5, currency="US Dollar") for s in ("s1", "s2", "s3")),
                      subscription("s4", 5, currency="Zorkmid")])
    result = run(invoice, subs)
    assert result.lines["price_status"].tolist() == ["ok", "ok", "ok", "currency_mismatch"]
    assert notes_about(result, "3 cell(s) name a currency") and "'US Dollar' as USD" in result.summary.notes[0]
    assert notes_about(result, "'Zorkmid'")


def test_work365_status_reason_suspended_is_not_missing(tmp_path: Path) -> None:
    """Work 365 exports "Status" (Active/Inactive) and "Status Reason" (Active/Suspended): the reason is read.
    s2 is Suspended and absent from the invoice: not due, so not missing (0 missing, exit 0). With only
    "Status" read (Active), it would be missing."""
    invoice = write_csv(tmp_path / "invoice.csv", NCE_COLUMNS, [seat("s1", 5, "10.00")])
    subs = write_rows(tmp_path / "subs.csv",
                      ["Subscription ID", "Customer", "Product", "Quantity", "Selling Price", "Status",
                       "Status Reason"],
                      [["s1", "Contoso", "Microsoft 365 Business Basic", "5", "12.00", "Active", "Active"],
                       ["s2", "Contoso", "Microsoft 365 E3", "4", "36.00", "Active", "Suspended"]])
    result = run(invoice, subs)
    assert result.summary.missing_count == 0
    code, _ = cli_run(tmp_path, str(invoice), str(subs))
    assert code == ExitCode.OK


def test_enabled_is_active_so_an_absent_subscription_is_missing(tmp_path: Path) -> None:
    """Status "Enabled" is a synonym of active: s2 (4 seats at 12.00, absent from the invoice) is missing,
    expected price 48.00. Status "Frobbed" is unknown: read as active (missing too), with a note."""
    invoice = write_csv(tmp_path / "invoice.csv", NCE_COLUMNS, [seat("s1", 5, "10.00")])
    subs = write_csv(tmp_path / "subs.csv", SUBSCRIPTION_COLUMNS,
                     [subscription("s1", 5, status="Enabled"), subscription("s2", 4, status="Enabled"),
                      subscription("s3", 2, status="Frobbed")])
    result = run(invoice, subs)
    assert sorted(result.missing["subscription_id"]) == ["s2", "s3"]
    assert str(result.missing.set_index("subscription_id").loc["s2", "expected_price"]) == "48.00"
    assert notes_about(result, "'Frobbed'") and "read as active" in notes_about(result, "'Frobbed'")[0]


@pytest.mark.parametrize("price, cost", [("Sale Price", "Partner Cost"), ("Unit Price", "Unit Cost"),
                                         ("unitPrice", "unitCost")])
def test_psa_price_headers_are_read(tmp_path: Path, price: str, cost: str) -> None:
    """"Sale Price"/"Partner Cost" (PSA), "Unit Price"/"Unit Cost", ConnectWise's unitPrice/unitCost, with
    "Seats" or "Licenses" for the quantity: 12.00 over a 10.00 cost is `ok`, never `no_price`."""
    invoice = write_csv(tmp_path / "invoice.csv", NCE_COLUMNS, [seat("s1", 5, "10.00"), seat("s2", 3, "10.00")])
    subs = write_rows(tmp_path / "subs.csv", ["Vendor Subscription ID", "Seats", price, cost],
                      [["s1", "5", "12.00", "10.00"], ["s2", "3", "12.00", "10.00"]])
    result = run(invoice, subs)
    assert result.lines["price_status"].tolist() == ["ok", "ok"]
    assert result.lines["status"].tolist() == ["matched", "matched"]


def test_columns_not_used_and_repeated_headers_are_named(tmp_path: Path) -> None:
    """A column no alias knows ("Internal Notes") and a header written twice ("Quantity", "quantity"):
    each named in a note; the first Quantity (5) is the one read."""
    invoice = write_csv(tmp_path / "invoice.csv", NCE_COLUMNS, [seat("s1", 5, "10.00")])
    subs = write_rows(tmp_path / "subs.csv", ["subscription_id", "Quantity", "quantity", "Internal Notes"],
                      [["s1", "5", "7", "call back"]])
    result = run(invoice, subs)
    assert result.lines["status"].tolist() == ["matched"]
    assert notes_about(result, "columns not used: Internal Notes")
    assert notes_about(result, "appear more than once ('Quantity' / 'quantity')")


def test_bad_optional_cell_keeps_the_subscription_and_warns(tmp_path: Path) -> None:
    """start_date "not a date" on s1: the subscription stays (its line is matched, not "never re-billed"),
    start_date is left blank, and one warning names subscriptions.csv, row 2, start_date."""
    paths = month(tmp_path, [seat("s1", 5, "10.00")], [subscription("s1", 5, start_date="not a date")])
    result = run(paths["invoice"], paths["subscriptions"])  # type: ignore[arg-type]
    assert result.lines["status"].tolist() == ["matched"]
    assert result.rejects.empty
    assert result.warnings[["file", "row", "column", "value"]].to_dict("records") == [
        {"file": "subscriptions.csv", "row": 2, "column": "start_date", "value": "not a date"}]
    assert result.summary.warning_count == 1


def test_warnings_reach_the_terminal_and_json(tmp_path: Path) -> None:
    """The same warning in the terminal (count + example) and in --json's `warnings`."""
    import json

    paths = month(tmp_path, [seat("s1", 5, "10.00")], [subscription("s1", 5, unit_cost="n/a")])
    _, out = cli_run(tmp_path, str(paths["invoice"]), str(paths["subscriptions"]))
    assert "Warnings (row kept, cell left blank): 1" in out and "unit_cost" in out
    outcome = CliRunner().invoke(cli, ["run", str(paths["invoice"]), str(paths["subscriptions"]), "--as-of", AS_OF,
                                       "--store", str(tmp_path / "recon.db"), "--json", "-", "--quiet"],
                                 catch_exceptions=False)
    warnings = json.loads(outcome.stdout)["warnings"]
    assert [(w["row"], w["column"], w["value"]) for w in warnings] == [(2, "unit_cost", "n/a")]


def test_work365_change_log_naming_subscriptions(tmp_path: Path) -> None:
    """A Work 365 LCL export: "Subscription" holds the subscription's name. The provider bills 7 seats on
    s1 ("Contoso - Microsoft 365 E3"), the subscription has 5: LCL-1 (−2, effective 2026-10-20, after the
    provider's as-of 2026-10-05) names it by "Contoso Microsoft 365 E3": resolved, so the line is
    explained (7 − 2 = 5). LCL-2 names "Fabrikam Visio" (no such subscription): a note, and it explains nothing."""
    invoice = write_csv(tmp_path / "invoice.csv", NCE_COLUMNS,
                        [seat("s1", 7, "36.00", product="Microsoft 365 E3", customer="c-9")])
    subs = write_rows(tmp_path / "subs.csv",
                      ["Subscription ID", "Subscription Name", "Customer", "Product", "Quantity", "Selling Price"],
                      [["s1", "Contoso - Microsoft 365 E3", "Contoso", "Microsoft 365 E3", "5", "40.00"],
                       ["s2", "Contoso - Visio Plan 2", "Contoso", "Visio Plan 2", "1", "15.00"]])
    lcl = write_rows(tmp_path / "lcl.csv",
                     ["Name", "Subscription", "Effective Date", "Quantity", "Provisioning Status", "Invoice",
                      "Status Reason"],
                     [["LCL-1", "Contoso Microsoft 365 E3", "2026-10-20", "-2", "Provisioned", "", "Active"],
                      ["LCL-2", "Fabrikam Visio", "2026-10-21", "1", "Provisioned", "", "Active"]])
    result = run(invoice, subs, lcl)
    assert result.lines["status"].tolist() == ["explained"]
    assert result.lines["evidence"].tolist() == [["LCL-1"]]
    resolved = notes_about(result, "name their subscription")
    assert resolved and "1 change-log record(s)" in resolved[0] and "as s1" in resolved[0]
    lost = notes_about(result, "name no subscription")
    assert lost and "'Fabrikam Visio'" in lost[0] and "row 3" in lost[0]


def test_a_name_two_subscriptions_share_resolves_nothing(tmp_path: Path) -> None:
    """Two subscriptions are both named "Contoso E3": a record naming it (−2) cannot be placed, so the
    provider's 7 against the subscription's 5 stays unexplained."""
    invoice = write_csv(tmp_path / "invoice.csv", NCE_COLUMNS, [seat("s1", 7, "36.00")])
    subs = write_rows(tmp_path / "subs.csv", ["Subscription ID", "Subscription Name", "Quantity"],
                      [["s1", "Contoso E3", "5"], ["s2", "Contoso E3", "1"]])
    lcl = write_rows(tmp_path / "lcl.csv", ["Name", "Subscription", "Effective Date", "Quantity"],
                     [["LCL-1", "Contoso E3", "2026-10-20", "-2"]])
    result = run(invoice, subs, lcl)
    assert result.lines["status"].tolist() == ["unexplained"]
    assert notes_about(result, "name no subscription")


def test_license_change_log_mismatch(tmp_path: Path) -> None:
    """Work 365's own example: subscription 10 seats, its LCLs add up to 6 (0→4, 4→6): a mismatch of −4,
    in a note and in result.change_log_mismatch. s2's LCLs (0→3) add up to its 3 seats: not listed."""
    invoice = write_csv(tmp_path / "invoice.csv", NCE_COLUMNS, [seat("s1", 10, "10.00"), seat("s2", 3, "10.00")])
    subs = write_csv(tmp_path / "subs.csv", SUBSCRIPTION_COLUMNS, [subscription("s1", 10), subscription("s2", 3)])
    lcl = write_rows(tmp_path / "lcl.csv", ["change_id", "subscription_id", "effective_date", "old_quantity",
                                            "new_quantity"],
                     [["L1", "s1", "2025-01-10", "0", "4"], ["L2", "s1", "2025-06-01", "4", "6"],
                      ["L3", "s2", "2025-02-01", "0", "3"]])
    result = run(invoice, subs, lcl)
    rows = result.change_log_mismatch[["subscription_id", "quantity", "change_log_total", "difference", "records"]]
    assert [tuple(str(v) for v in row) for row in rows.itertuples(index=False)] == [("s1", "10", "6", "-4", "2")]
    assert notes_about(result, "License Change Log Mismatch: on 1 subscription(s)")
    from recon_cli.outputs.xlsx.workbook import write_xlsx

    write_xlsx(result, tmp_path / "out.xlsx")
    sheet = openpyxl.load_workbook(tmp_path / "out.xlsx")["Change log mismatch"]
    assert [cell.value for cell in sheet[2]][:7] == ["s1", "Customer c-1", "Microsoft 365 Business Basic", 10, 6, -4, 2]


def test_a_months_change_log_is_not_called_a_mismatch(tmp_path: Path) -> None:
    """A change log of this month only (deltas, no old quantities, not adding up anywhere): no mismatch."""
    invoice = write_csv(tmp_path / "invoice.csv", NCE_COLUMNS, [seat(s, 10, "10.00") for s in ("s1", "s2", "s3")])
    subs = write_csv(tmp_path / "subs.csv", SUBSCRIPTION_COLUMNS, [subscription(s, 10) for s in ("s1", "s2", "s3")])
    changes = write_csv(tmp_path / "changes.csv", list(change("x", "s", "2026-10-01", "1")),
                        [change(f"L{i}", s, "2026-10-03", "+2") for i, s in enumerate(("s1", "s2", "s3"))])
    result = run(invoice, subs, changes)
    assert result.change_log_mismatch.empty
    assert not notes_about(result, "Mismatch")


def test_unknown_words_are_named_and_read_the_cautious_way(tmp_path: Path) -> None:
    """Billing frequency "fortnightly" (read as monthly) and provisioning "Stuck" (read as provisioned):
    a note each, with the count and the first row."""
    invoice = write_csv(tmp_path / "invoice.csv", NCE_COLUMNS, [seat("s1", 5, "10.00")])
    subs = write_csv(tmp_path / "subs.csv", SUBSCRIPTION_COLUMNS,
                     [subscription("s1", 5, billing_frequency="fortnightly")])
    changes = write_csv(tmp_path / "changes.csv", list(change("x", "s", "2026-10-01", "1")),
                        [change("L1", "s1", "2026-10-03", "+1", status="Stuck")])
    result = run(invoice, subs, changes)
    assert "read as monthly" in notes_about(result, "'fortnightly'")[0]
    assert "first at row 2" in notes_about(result, "'Stuck'")[0]


@pytest.mark.parametrize("rows", [[], [{"Quantity": "many"}]])
def test_an_invoice_with_no_usable_line_exits_2(tmp_path: Path, rows: list[dict[str, Any]]) -> None:
    """Only a header, or every line rejected: exit 2 with the file named, never "Nothing needs a person"."""
    invoice = write_csv(tmp_path / "invoice.csv", NCE_COLUMNS, [seat("s1", 5, **extra) for extra in rows])
    subs = write_csv(tmp_path / "subs.csv", SUBSCRIPTION_COLUMNS, [subscription("s1", 5)])
    code, out = cli_run(tmp_path, str(invoice), str(subs))
    assert code == ExitCode.BAD_INPUT
    assert "invoice.csv" in out and ("no invoice line" in out or "no usable invoice line" in out)
    assert "Nothing needs a person" not in out


def test_swapped_files_are_refused(tmp_path: Path) -> None:
    """The invoice given as the subscriptions export, or the export as the invoice: exit 2 naming what was found."""
    paths = month(tmp_path, [seat("s1", 5)], [subscription("s1", 5)])
    invoice, subs = str(paths["invoice"]), str(paths["subscriptions"])
    code, out = cli_run(tmp_path, invoice, invoice)
    assert code == ExitCode.BAD_INPUT and "looks like a provider invoice" in out and "subscriptions export" in out
    code, out = cli_run(tmp_path, subs, invoice)
    assert code == ExitCode.BAD_INPUT and "looks like a subscriptions export" in out
    with pytest.raises(InputError, match="not the change log"):
        run(paths["invoice"], paths["subscriptions"], paths["invoice"])  # type: ignore[arg-type]


def test_a_period_far_from_the_charges_warns(tmp_path: Path) -> None:
    """--period 2025-03 on an October 2026 invoice: a note says no seat charge starts then, and when they do."""
    paths = month(tmp_path, [seat("s1", 5)], [subscription("s1", 5)])
    result = run(paths["invoice"], paths["subscriptions"], period="2025-03")  # type: ignore[arg-type]
    assert notes_about(result, "--period 2025-03: no seat charge") and "start in 2026-10" in result.summary.notes[-1]


def test_the_change_log_sheet_used_is_named(tmp_path: Path) -> None:
    """The change log read from the subscriptions workbook's "License Change Logs" sheet: the summary's
    changes_file names the workbook and the sheet. Its L1 (+1 after the provider's as-of) explains the
    provider's 4 seats against the subscription's 5."""
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Subscriptions"
    for row in [SUBSCRIPTION_COLUMNS, list(subscription("s1", 5).values())]:
        sheet.append(row)
    log = book.create_sheet("License Change Logs")
    for row in [["change_id", "subscription_id", "effective_date", "quantity_delta"], ["L1", "s1", "2026-10-20", "1"]]:
        log.append(row)
    book.save(tmp_path / "subs.xlsx")
    invoice = write_csv(tmp_path / "invoice.csv", NCE_COLUMNS, [seat("s1", 4)])
    result = run(invoice, tmp_path / "subs.xlsx")
    assert result.summary.changes_file == "subs.xlsx [License Change Logs]"
    assert result.lines["status"].tolist() == ["explained"]


# Optional typed cells of the subscriptions export and the invoice, each with a value that cannot be read.
OPTIONAL_SUBSCRIPTION_CELLS = {"unit_price": "twelve", "unit_cost": "n/a", "markup_percent": "lots",
                               "start_date": "not a date"}
OPTIONAL_INVOICE_CELLS = {"TaxTotal": "tax?", "Total": "#VALUE!", "SubscriptionStartDate": "someday",
                          "SubscriptionEndDate": "31/31/2026", "PCToBCExchangeRateDate": "yesterday"}


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.integers(1, 4), st.data())
def test_corrupting_an_optional_cell_keeps_the_line_and_warns_once(tmp_path: Path, count: int, data: Any) -> None:
    """Corrupting any one optional cell, in the invoice or the export, never removes a line from the output
    and yields exactly one warning naming that file, row and column."""
    where = data.draw(st.sampled_from(["invoice", "subscriptions"]))
    row = data.draw(st.integers(0, count - 1))
    cells = OPTIONAL_INVOICE_CELLS if where == "invoice" else OPTIONAL_SUBSCRIPTION_CELLS
    column = data.draw(st.sampled_from(sorted(cells)))
    lines = [seat(f"s{i}", 5, "10.00") for i in range(count)]
    subs = [subscription(f"s{i}", 5, markup_percent="") for i in range(count)]
    (lines if where == "invoice" else subs)[row][column] = cells[column]
    folder = tmp_path / f"{where}-{row}-{column}-{count}"
    folder.mkdir(exist_ok=True)
    invoice = write_csv(folder / "invoice.csv", NCE_COLUMNS, lines)
    export = write_csv(folder / "subscriptions.csv", [*SUBSCRIPTION_COLUMNS, "markup_percent"], subs)
    result = run(invoice, export)
    assert len(result.lines) == count and result.rejects.empty
    assert result.warnings[["file", "row", "column"]].to_dict("records") == [
        {"file": f"{where}.csv", "row": row + 2, "column": column}]
