"""Invoice formats beyond the NCE CSV: legacy, .xlsx copies, the Graph export, profiles; and the
subscriptions side: billing-system aliases and one workbook holding both tables."""

from __future__ import annotations

import csv
import gzip
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
import pandas as pd
import pytest
from click.testing import CliRunner

from builders import CHANGE_COLUMNS, NCE_COLUMNS, SUBSCRIPTION_COLUMNS, change, seat, subscription, write_csv
from recon_cli.cli import cli
from recon_cli.errors import ConfigError, ExitCode, InputError
from recon_cli.formats.detect import choose_invoice_format as detect_invoice_format
from recon_cli.formats.detect import invoice_formats
from recon_cli.formats.legacy import LEGACY
from recon_cli.formats.nce import NCE
from recon_cli.formats.profiles import Profile, load_profile
from recon_cli.load import read_table
from recon_cli.normalize import normalize_invoice
from recon_cli.pipeline import RunInputs, reconcile

D = Decimal
SAMPLES = Path(__file__).resolve().parents[2] / "shared" / "samples" / "partner-center"
LEGACY_SAMPLE = SAMPLES / "legacy-license-based.from-ms-docs.csv"
DOCS_JSON = SAMPLES / "ms-docs-line-items.json"
needs_samples = pytest.mark.skipif(not LEGACY_SAMPLE.exists(), reason="shared/ samples not beside the repo")
LEGACY_SUB_1 = "1F58ACD7-FE51-4705-9567-D009C9ADA150"
LEGACY_SUB_2 = "D8A8F773-9D3E-4244-8797-3182075F09FA"


def run(*args: str) -> Any:
    return CliRunner().invoke(cli, list(args))


def subs_file(tmp_path: Path, *rows: dict[str, Any]) -> Path:
    return write_csv(tmp_path / "subs.csv", SUBSCRIPTION_COLUMNS, list(rows))


# --- legacy licence-based ---------------------------------------------------------------------------


@needs_samples
def test_legacy_sample_is_detected_and_matched_on_the_syndication_number(tmp_path: Path) -> None:
    """Microsoft's legacy rows: the subscription is SyndicationPartnerSubscriptionNumber, ids use the file stem."""
    subs = subs_file(tmp_path, subscription(LEGACY_SUB_1.lower(), 3), subscription(LEGACY_SUB_2, 2))
    result = reconcile(RunInputs(invoices=(LEGACY_SAMPLE,), subscriptions=subs), run_id="t")
    lines = result.lines
    assert result.summary.invoice_format == "legacy" and result.rejects.empty
    assert lines["subscription_id"].tolist() == [LEGACY_SUB_1, LEGACY_SUB_2]
    assert lines["line_id"].tolist() == ["legacy-license-based.from-ms-docs-2", "legacy-license-based.from-ms-docs-3"]
    assert lines["status"].tolist() == ["matched", "unexplained"]
    assert lines["provider_quantity"].tolist() == [D(3), D(1)]
    assert lines["order_date"].tolist() == ["2017-05-12", "2017-05-13"]  # no OrderDate: ChargeStartDate
    assert lines["billing_frequency"].tolist() == ["monthly", "monthly"]
    assert lines["kind"].tolist() == ["seat", "seat"]
    assert result.summary.unknown_charge_types == []


@needs_samples
def test_legacy_columns_keep_the_billing_platform_id_apart() -> None:
    """The file's own SubscriptionId is kept as billing_subscription_id, never as the match key."""
    table = read_table(LEGACY_SAMPLE)
    typed = normalize_invoice(table, detect_invoice_format(table, "legacy"), LEGACY_SAMPLE)
    frame, _ = typed.frame, typed.rejects
    assert frame["billing_subscription_id"].tolist() == ["4KIKawEAAAAAAAEA", "Ik4YawEAAAAAAAEA"]
    assert frame["product_id"].tolist()[0] == "2F707C7C-2433-49A5-A437-9CA7CF40D3EB"  # DurableOfferId
    assert set(NCE.column(c.name).name for c in NCE.columns) <= set(frame.columns)


def legacy_row(sub: str, charge_type: str, quantity: int, amount: str, start: str, **extra: str) -> dict[str, str]:
    row = {"PartnerId": "p", "CustomerId": "c-1", "CustomerName": "Contoso", "SubscriptionId": "usCBMgAAAAAAAAIA",
           "SyndicationPartnerSubscriptionNumber": sub, "OfferName": "Office 365 E3", "ChargeStartDate": start,
           "ChargeEndDate": "2/28/2019 23:59", "ChargeType": charge_type, "UnitPrice": "20", "Quantity": str(quantity),
           "Amount": amount, "TotalOtherDiscount": "0", "Subtotal": amount, "Tax": "0", "TotalForCustomer": amount,
           "Currency": "EUR", "BillingCycleType": "Monthly"}
    row.update(extra)
    return row


def test_legacy_cancellation_and_prorates(tmp_path: Path) -> None:
    """'Prorate fees when cancel' ends the subscription; the derived unit price is Subtotal / Quantity."""
    columns = LEGACY_COLUMNS.split(",")
    rows = [legacy_row("sub-a", "Cycle fee", 10, "200", "2/1/2019 0:00"),
            legacy_row("sub-a", "Prorate fees when cancel", 10, "-120", "2/13/2019 0:00"),
            legacy_row("sub-b", "Cycle instance prorate", 4, "50", "2/15/2019 0:00"),
            legacy_row("sub-b", "Mystery fee", 4, "1", "2/15/2019 0:00")]
    invoice = write_csv(tmp_path / "D000123.csv", columns, rows)
    subs = subs_file(tmp_path, subscription("sub-a", 0, currency="EUR"), subscription("sub-b", 4, currency="EUR"))
    result = reconcile(RunInputs(invoices=(invoice,), subscriptions=subs, invoice_format="legacy"), run_id="t")
    assert result.lines["provider_quantity"].tolist() == [D(0), D(0), D(4), D(4)]
    assert result.lines["status"].tolist() == ["matched"] * 4
    assert result.lines["line_id"].tolist()[0] == "D000123-2"
    assert result.summary.unknown_charge_types == ["Mystery fee"]
    assert result.summary.subtotal_total == {"EUR": "131"}
    table = read_table(invoice)
    typed = normalize_invoice(table, LEGACY, invoice)
    frame, _ = typed.frame, typed.rejects
    assert frame["effective_unit_price"].tolist()[2] == D("12.500000")


LEGACY_COLUMNS = ("PartnerId,CustomerId,CustomerName,MpnId,Tier2MpnId,OrderId,SubscriptionId,"
                  "SyndicationPartnerSubscriptionNumber,OfferId,DurableOfferId,OfferName,SubscriptionStartDate,"
                  "SubscriptionEndDate,ChargeStartDate,ChargeEndDate,ChargeType,UnitPrice,Quantity,Amount,"
                  "TotalOtherDiscount,Subtotal,Tax,TotalForCustomer,Currency,DomainName,SubscriptionName,"
                  "SubscriptionDescription,BillingCycleType")


def test_legacy_header_missing_a_column_is_named(tmp_path: Path) -> None:
    """A legacy header without ChargeType is refused naming the format, the column and the columns present."""
    path = tmp_path / "legacy.csv"
    path.write_text("PartnerId,SyndicationPartnerSubscriptionNumber,Quantity,Subtotal,Currency\n1,2,3,4,EUR\n")
    with pytest.raises(InputError, match=r"legacy\.csv: required column 'ChargeType' not found; the columns are: "
                                         r"PartnerId, SyndicationPartnerSubscriptionNumber.*legacy licence-based"):
        detect_invoice_format(read_table(path))


# --- .xlsx copies --------------------------------------------------------------------------------------


def write_xlsx(path: Path, header: list[str], rows: list[list[Any]], title: str = "Sheet1") -> Path:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = title
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    workbook.save(path)
    return path


def test_xlsx_copy_reads_like_the_csv_and_reports_excel_damage(tmp_path: Path) -> None:
    """An Excel copy (numbers, dates as cells, SkuId 1, OrderId as a number) loads and says what Excel broke."""
    rows = []
    for index, line in enumerate([seat("s1", 5, "12.50"), seat("s2", 3)]):
        line = dict(line, SkuId=1, OrderId=569142413664018751 + index, Quantity=int(line["Quantity"]),
                    Subtotal=float(line["Subtotal"]), OrderDate=pd.Timestamp("2026-10-05").to_pydatetime())
        rows.append([line.get(c) for c in NCE_COLUMNS])
    invoice = write_xlsx(tmp_path / "invoice.xlsx", NCE_COLUMNS, rows)
    result = reconcile(RunInputs(invoices=(invoice,), subscriptions=subs_file(
        tmp_path, subscription("s1", 5), subscription("s2", 3))), run_id="t")
    assert result.lines["status"].tolist() == ["matched", "matched"]
    assert result.lines["subtotal"].tolist() == [D("62.5"), D("30")]
    assert result.lines["order_date"].tolist() == ["2026-10-05", "2026-10-05"]
    notes = " ".join(result.summary.notes)
    assert "column 'SkuId' looks damaged by Excel: '1'" in notes
    assert "column 'OrderId' looks damaged by Excel" in notes


def test_csv_saved_from_excel_with_scientific_ids_is_reported(tmp_path: Path) -> None:
    """A CSV re-saved by Excel ('5.69142E+17', '569142413664018000') loads, with a note per column."""
    lines = [seat("s1", 5, OrderId="5.69142E+17", AlternateId="569142413664018000", SkuId="1")]
    invoice = write_csv(tmp_path / "invoice.csv", NCE_COLUMNS, lines)
    result = reconcile(RunInputs(invoices=(invoice,), subscriptions=subs_file(tmp_path, subscription("s1", 5))),
                       run_id="t")
    assert len(result.lines) == 1
    assert [n.split(": column ")[1].split(" ")[0] for n in result.summary.notes] == ["'SkuId'", "'OrderId'",
                                                                                     "'AlternateId'"]


# --- Graph billed-reconciliation export -------------------------------------------------------------


def docs_items() -> list[dict[str, Any]]:
    data = json.loads(DOCS_JSON.read_text())
    return [entry["item"] for entry in data["OneTimeInvoiceLineItem"]][:4]


def write_blob(path: Path, items: list[dict[str, Any]], extra_lines: tuple[str, ...] = ()) -> Path:
    with gzip.open(path, "wt", encoding="utf-8") as handle:
        for item in items:
            handle.write(json.dumps(item) + "\n")
        for line in extra_lines:
            handle.write(line + "\n")
    return path


@needs_samples
def test_graph_blob_is_detected_from_its_bytes_and_keys(tmp_path: Path) -> None:
    """A .jsonl.gz of billed-reconciliation records: camelCase keys map to the NCE columns, numbers exact."""
    items = docs_items()
    blob = write_blob(tmp_path / "G000773581.jsonl.gz", items, ("", "[1, 2]"))
    table = read_table(blob)
    fmt = detect_invoice_format(table)
    typed = normalize_invoice(table, fmt, blob)
    frame, rejects = typed.frame, typed.rejects
    assert fmt.name == "graph"
    assert frame["subtotal"].tolist() == [D(str(i["subtotal"])) for i in items]
    assert frame["total"].tolist()[1] == D("793")  # totalForCustomer
    assert frame["product_qualifiers"].tolist()[0] == '["AddOn", "Trial"]'
    assert frame["line_id"].tolist()[:2] == ["G000773581-1", "G000773581-2"]
    assert rejects[["row", "code"]].to_numpy().tolist() == [[5, "not_a_record"]]


@needs_samples
def test_graph_export_as_a_folder_of_blobs(tmp_path: Path) -> None:
    """Several blobs in a folder are one invoice; records are numbered across blobs in name order."""
    items = docs_items()
    folder = tmp_path / "export"
    folder.mkdir()
    write_blob(folder / "part-0001.json.gz", items[:2])
    write_blob(folder / "part-0002.json.gz", items[2:])
    subs = subs_file(tmp_path, subscription(items[1]["subscriptionId"], 50))
    result = run("run", str(folder), str(subs), "--json", str(tmp_path / "r.json"), "--quiet")
    assert result.exit_code == ExitCode.NEEDS_ATTENTION, result.output
    out = json.loads((tmp_path / "r.json").read_text())
    assert [line["row"] for line in out["lines"]] == [1, 2, 3, 4]
    assert out["summary"]["invoice_format"] == "graph"
    assert [line["status"] for line in out["lines"]][1] == "matched"
    assert any("part-0002.json.gz: records 3–4" in note for note in out["summary"]["notes"])


def test_a_folder_without_blobs_is_refused(tmp_path: Path) -> None:
    """A folder given as the invoice must hold export blobs."""
    (tmp_path / "empty").mkdir()
    result = run("run", str(tmp_path / "empty"), str(subs_file(tmp_path, subscription("s1", 1))), "--quiet")
    assert result.exit_code == ExitCode.BAD_INPUT and "no Graph export blobs" in result.stderr


# --- unknown charge types -----------------------------------------------------------------------------


def test_unknown_charge_types_are_kept_and_reported(tmp_path: Path) -> None:
    """A ChargeType no document lists stays on its line and is named in the summary."""
    invoice = write_csv(tmp_path / "invoice.csv", NCE_COLUMNS,
                        [seat("s1", 5), seat("s1", 5, charge_type="priceAdjustment", subtotal="-1.00")])
    result = reconcile(RunInputs(invoices=(invoice,), subscriptions=subs_file(tmp_path, subscription("s1", 5))),
                       run_id="t")
    assert len(result.lines) == 2 and result.summary.unknown_charge_types == ["priceAdjustment"]


# --- profiles -----------------------------------------------------------------------------------------

PAX8_HEADER = ["invoiceId", "companyName", "subscriptionId", "productName", "quantity", "cost", "costTotal",
               "billingPeriodStart", "billingPeriodEnd", "currencyCode", "billingTerm", "type"]


def test_built_in_distributor_profiles_are_detected(tmp_path: Path) -> None:
    """A Pax8 invoice-items file is recognised from its header and mapped onto our columns."""
    invoice = tmp_path / "pax8.csv"
    with invoice.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(PAX8_HEADER)
        writer.writerow(["INV-7", "Contoso", "s1", "M365 Business Basic", "5", "6.00", "30.00", "2026-10-01",
                         "2026-10-31", "USD", "Monthly", "Subscription"])
    result = reconcile(RunInputs(invoices=(invoice,), subscriptions=subs_file(tmp_path, subscription("s1", 5))),
                       run_id="t")
    assert result.summary.invoice_format == "pax8"
    assert result.lines[["line_id", "status", "kind", "subtotal", "provider_quantity"]].to_numpy().tolist() == [
        ["INV-7-2", "matched", "seat", D("30.00"), D(5)]]


@pytest.mark.parametrize("name, header", [
    ("msphub", ["PartnerInvoiceNumber", "CustomerId", "ChargeType", "Quantity", "PartnerSubTotal",
                "PartnerEffectiveUnitPrice", "PricingCurrency", "SubscriptionId", "ChargeStartDate", "BillingCycle"]),
    ("ingram", ["Customer Account ID", "End Customer Name", "Subscription ID", "Plan ID", "Quantity", "Net Price"]),
    ("td-synnex", ["Customer Name", "Vendor Subscription ID", "Seat Count", "Seller Cost", "Customer Cost"]),
])
def test_each_distributor_profile_reads_its_documented_header(tmp_path: Path, name: str, header: list[str]) -> None:
    """msphub, ingram and td-synnex are auto-detected and give a subscription id and an amount per row."""
    values = {"SubscriptionId": "s1", "Subscription ID": "s1", "Vendor Subscription ID": "s1", "Quantity": "2",
              "Seat Count": "2", "PartnerSubTotal": "20.00", "Net Price": "20.00", "Seller Cost": "20.00",
              "PricingCurrency": "USD", "ChargeStartDate": "10/5/2026", "BillingCycle": "Monthly",
              "PartnerEffectiveUnitPrice": "10.00"}
    invoice = write_csv(tmp_path / "invoice.csv", header, [{h: values.get(h, "x") for h in header}])
    table = read_table(invoice)
    fmt = detect_invoice_format(table)
    typed = normalize_invoice(table, fmt, invoice)
    frame, rejects = typed.frame, typed.rejects
    assert fmt.name == name and rejects.empty
    assert frame[["subscription_id", "subtotal", "quantity"]].to_numpy().tolist() == [["s1", D("20.00"), D(2)]]


def test_forcing_a_profile_on_another_file_names_the_flag(tmp_path: Path) -> None:
    """`--invoice-format pax8` on an NCE file: exit 2 naming the missing Pax8 column and the flag."""
    invoice = write_csv(tmp_path / "invoice.csv", NCE_COLUMNS, [seat("s1", 5)])
    result = run("run", str(invoice), str(subs_file(tmp_path, subscription("s1", 5))), "--invoice-format", "pax8")
    assert result.exit_code == ExitCode.BAD_INPUT
    assert "'costTotal' not found" in result.stderr and "(--invoice-format pax8)" in result.stderr


ACME = '''name = "acme"
title = "ACME Cloud invoice"
decimal = "comma"
date_format = "DMY"
[columns]
subscription_id = "Vendor Sub"
subtotal = ["Net Amount", "Net"]
quantity = "Seats"
charge_start = "From"
[defaults]
currency = "EUR"
billing_frequency = "monthly"
'''


def test_a_profile_file_maps_any_provider(tmp_path: Path) -> None:
    """`--invoice-format acme.toml`: headers, decimal comma, D/M dates and a default currency from the profile."""
    profile = tmp_path / "acme.toml"
    profile.write_text(ACME)
    invoice = tmp_path / "acme.csv"
    invoice.write_text("Vendor Sub;Seats;Net;From\ns1;5;1.050,00;05/10/2026\n")
    result = run("run", str(invoice), str(subs_file(tmp_path, subscription("s1", 5, currency="EUR"))),
                 "--invoice-format", str(profile), "--json", str(tmp_path / "r.json"), "--quiet")
    assert result.exit_code in (ExitCode.OK, ExitCode.NEEDS_ATTENTION), result.output
    line = json.loads((tmp_path / "r.json").read_text())["lines"][0]
    assert (line["line_id"], line["status"], line["subtotal"], line["currency"], line["charge_start"], line["kind"]) \
        == ("acme-2", "matched", "1050.00", "EUR", "2026-10-05", "seat")


RECON_TOML = """[invoice_format]
decimal = "comma"
date_format = "DMY"
[invoice_format.columns]
subscription_id = "Vendor Sub"
subtotal = "Net Amount"
quantity = "Seats"
charge_start = "From"
[invoice_format.defaults]
currency = "EUR"
"""


def test_recon_toml_invoice_format_table_is_the_profile(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An [invoice_format] table in recon.toml is used for the invoice; --invoice-format still wins."""
    monkeypatch.chdir(tmp_path)
    Path("recon.toml").write_text(RECON_TOML)
    Path("acme.csv").write_text("Vendor Sub;Seats;Net Amount;From\ns1;5;50,00;05/10/2026\n")
    subs = subs_file(tmp_path, subscription("s1", 5, currency="EUR"))
    assert run("run", "acme.csv", str(subs), "--quiet").exit_code == ExitCode.OK
    forced = run("run", "acme.csv", str(subs), "--quiet", "--invoice-format", "nce")
    assert forced.exit_code == ExitCode.BAD_INPUT and "--invoice-format nce" in forced.stderr
    Path("recon.toml").write_text(RECON_TOML.replace('subtotal = "Net Amount"', 'subtotal = "Net Amount"\nsku = "x"'))
    broken = run("run", "acme.csv", str(subs), "--quiet")
    assert broken.exit_code == ExitCode.BAD_INPUT and "[invoice_format]: columns: unknown column 'sku'" in broken.stderr


@pytest.mark.parametrize("text, message", [
    ('name = "x"\n[columns]\nsubtotl = "Net"\n', r"columns: unknown column 'subtotl'; valid columns: partner_id"),
    ('name = "x"\ncolumn = {}\n', r"column: Extra inputs are not permitted \(valid keys: name, title"),
    ('name = "x"\ndate_format = "YMD"\n[columns]\n', r"date_format: Input should be 'MDY' or 'DMY'"),
    ('name = "x"\n[columns\n', "not valid TOML"),
])
def test_profile_errors_name_the_key_and_the_valid_ones(tmp_path: Path, text: str, message: str) -> None:
    """A wrong profile key or column stops with exit 2, naming it and listing what is valid."""
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message):
        load_profile(path)


def test_profile_model_is_strict_and_frozen() -> None:
    """Profiles forbid extra keys and cannot be changed after validation."""
    profile = Profile.model_validate({"name": "p", "columns": {"subtotal": "Net"}})
    with pytest.raises(Exception, match="frozen"):
        profile.name = "q"  # type: ignore[misc]
    assert profile.table_format().column("subtotal").header_keys() == ("net",)


def test_formats_command_lists_invoices_distributors_and_billing_tables() -> None:
    """`recon formats` lists every invoice format with its columns, the profiles and the two billing tables."""
    result = run("formats")
    assert result.exit_code == ExitCode.OK
    for text in ("(nce)", "(legacy)", "(graph)", "(pax8)", "(msphub)", "(ingram)", "(td-synnex)",
                 "SyndicationPartnerS", "costTotal", "Seller Cost", "Other columns as in nce", "quantity_delta"):
        assert text in result.output, text
    assert list(invoice_formats())[:3] == ["nce", "legacy", "graph"]


# --- subscriptions side ----------------------------------------------------------------------------------


def test_connectwise_additions_and_autotask_adjustments_are_read(tmp_path: Path) -> None:
    """PSA exports: ConnectWise addition fields (unitPrice, effectiveDate, cancelledDate) and Autotask unitChange."""
    invoice = write_csv(tmp_path / "invoice.csv", NCE_COLUMNS, [seat("s1", 5), seat("s2", 3)])
    subs = tmp_path / "additions.csv"
    subs.write_text("Vendor Subscription ID,product,quantity,unitPrice,unitCost,effectiveDate,cancelledDate\n"
                    "s1,M365,7,12.00,10.00,2025-10-05,\n"
                    "s9,M365,2,12.00,10.00,2025-10-05,2026-09-30\n")
    changes = tmp_path / "adjustments.csv"
    changes.write_text("id,Subscription ID,effectiveDate,unitChange\nADJ-1,s1,2026-10-20,2\n")
    result = reconcile(RunInputs(invoices=(invoice,), subscriptions=subs, changes=changes), run_id="t")
    assert result.lines["status"].tolist() == ["explained", "unmatched"]
    assert result.missing.empty  # s9 was cancelled: not expected on the invoice


def test_one_workbook_holds_subscriptions_and_change_log(tmp_path: Path) -> None:
    """Sheets named loosely ("Read me", "Subscriptions", "License Change Logs") are told apart."""
    invoice = write_csv(tmp_path / "invoice.csv", NCE_COLUMNS, [seat("s1", 10)])
    workbook = openpyxl.Workbook()
    readme = workbook.active
    assert readme is not None
    readme.title = "Read me"
    readme.append(["Exported from Work 365"])
    subs = workbook.create_sheet("Subscriptions")
    subs.append(SUBSCRIPTION_COLUMNS)
    subs.append([subscription("s1", 12).get(c) for c in SUBSCRIPTION_COLUMNS])
    subs.append([subscription("s2", "three").get(c) for c in SUBSCRIPTION_COLUMNS])
    lcl = workbook.create_sheet("License Change Logs")
    lcl.append(CHANGE_COLUMNS)
    lcl.append([change("LCL-1", "s1", "2026-10-12", "+2").get(c) for c in CHANGE_COLUMNS])
    workbook.save(tmp_path / "billing.xlsx")
    result = reconcile(RunInputs(invoices=(invoice,), subscriptions=tmp_path / "billing.xlsx"), run_id="t")
    assert result.lines["status"].tolist() == ["explained"]
    assert result.summary.change_count == 1
    # v2: a repeated id would add up (rule 4), so the sheet's reject is an unreadable quantity.
    assert result.rejects[["file", "row", "code"]].to_numpy().tolist() == [
        ["billing.xlsx [Subscriptions]", 3, "not_a_number"]]


def test_separate_change_log_workbook_uses_its_change_sheet(tmp_path: Path) -> None:
    """`--changes log.xlsx` reads the sheet named like a change log, not the first one."""
    invoice = write_csv(tmp_path / "invoice.csv", NCE_COLUMNS, [seat("s1", 10)])
    workbook = openpyxl.Workbook()
    first = workbook.active
    assert first is not None
    first.title = "Summary"
    first.append(["nothing here"])
    log = workbook.create_sheet("Change Log")
    log.append(CHANGE_COLUMNS)
    log.append([change("LCL-1", "s1", "2026-10-12", "+2").get(c) for c in CHANGE_COLUMNS])
    workbook.save(tmp_path / "log.xlsx")
    result = reconcile(RunInputs(invoices=(invoice,), subscriptions=subs_file(tmp_path, subscription("s1", 12)),
                                 changes=tmp_path / "log.xlsx"), run_id="t")
    assert result.lines["status"].tolist() == ["explained"]
