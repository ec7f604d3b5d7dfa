"""Loading real layouts: every row comes out, or is rejected with file, row, column and reason."""

from __future__ import annotations

import csv
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from builders import NCE_COLUMNS, SUBSCRIPTION_COLUMNS, month, seat, subscription, write_csv
from recon_cli.errors import InputError
from recon_cli.formats.detect import choose_invoice_format as detect_invoice_format
from recon_cli.formats.nce import NCE, seat_subtotal, usage_subtotal
from recon_cli.load import RawTable, read_table, split_workbook
from recon_cli.normalize import normalize_invoice
from recon_cli.pipeline import RunInputs, reconcile

SAMPLES = Path(__file__).resolve().parents[2] / "shared" / "samples" / "partner-center"
MS_DOCS_NCE = SAMPLES / "nce-invoice-recon.from-ms-docs.csv"
needs_samples = pytest.mark.skipif(not MS_DOCS_NCE.exists(), reason="shared/ samples not beside the repo")


@needs_samples
def test_microsoft_documentation_rows_all_load_with_their_subtotals(tmp_path: Path) -> None:
    """Every row of Microsoft's documentation sample comes out, with its subtotal, and nothing is rejected."""
    subs = write_csv(tmp_path / "subs.csv", SUBSCRIPTION_COLUMNS, [subscription("none", 1)])
    result = reconcile(RunInputs(invoices=(MS_DOCS_NCE,), subscriptions=subs), run_id="t")
    with MS_DOCS_NCE.open(encoding="utf-8-sig", newline="") as handle:
        source = list(csv.DictReader(handle))
    assert len(result.lines) == len(source) == 8
    assert result.rejects.empty
    assert [str(v) for v in result.lines["subtotal"]] == [row["Subtotal"] for row in source]
    assert result.summary.subtotal_total == {"USD": str(sum(Decimal(r["Subtotal"]) for r in source))}
    assert result.lines["sku_id"].tolist()[:2] == ["0002", "0001"]
    assert result.lines["line_id"].tolist()[:4] == ["G000773581-2", "G000773581-3", "T000773581-4",
                                                     "1234000000-5"]
    # Rows without an invoice number fall back to the file stem.
    assert result.lines["line_id"].iloc[4] == "nce-invoice-recon.from-ms-docs-6"
    assert result.lines["kind"].tolist()[:4] == ["one_time", "seat", "usage", "seat"]


def test_bom_crlf_and_json_cells(tmp_path: Path) -> None:
    """A UTF-8 BOM, CRLF line ends and JSON arrays inside cells are read as the portal writes them."""
    path = tmp_path / "invoice.csv"
    row = seat("s1", 5, PriceAdjustmentDescription='["15.0% Partner earned credit for services managed"]')
    with path.open("w", newline="", encoding="utf-8-sig") as handle:
        writer = csv.DictWriter(handle, fieldnames=NCE_COLUMNS, lineterminator="\r\n")
        writer.writeheader()
        writer.writerow({c: row.get(c, "") for c in NCE_COLUMNS})
    table = read_table(path)
    assert table.headers[0] == "PartnerId"
    typed = normalize_invoice(table, detect_invoice_format(table), path)
    frame, rejects = typed.frame, typed.rejects
    assert rejects.empty
    assert frame["price_adjustment"].iloc[0] == '["15.0% Partner earned credit for services managed"]'


def test_tier2_mpn_id_is_an_alias(tmp_path: Path) -> None:
    """`Tier2MpnId` is read as `ResellerMpnId`."""
    columns = [("Tier2MpnId" if c == "ResellerMpnId" else c) for c in NCE_COLUMNS]
    path = write_csv(tmp_path / "invoice.csv", columns, [seat("s1", 5, Tier2MpnId="6048879")])
    table = read_table(path)
    typed = normalize_invoice(table, detect_invoice_format(table), path)
    frame, _ = typed.frame, typed.rejects
    assert frame["reseller_mpn_id"].iloc[0] == "6048879"


def test_bad_cells_are_rejected_with_row_and_column(tmp_path: Path) -> None:
    """A row with Quantity 'abc' is rejected with file, row, column and what was expected."""
    paths = month(tmp_path, [seat("s1", 5), seat("s1", 5, Quantity="abc"), seat("s1", 5, OrderDate="31/31/2026")],
                  [subscription("s1", 5), subscription("s2", "many")])
    result = reconcile(RunInputs(invoices=(paths["invoice"],), subscriptions=paths["subscriptions"]), run_id="t")
    assert result.lines["row"].tolist() == [2]
    rejects = result.rejects.sort_values(["file", "row"]).to_dict("records")
    assert [(r["file"], r["row"], r["column"], r["code"]) for r in rejects] == [
        ("invoice.csv", 3, "Quantity", "not_a_number"), ("invoice.csv", 4, "OrderDate", "not_a_date"),
        ("subscriptions.csv", 3, "quantity", "not_a_number")]
    assert "expected a number" in rejects[0]["message"] and "'abc'" in rejects[0]["message"]


def test_rows_sharing_a_subscription_id_add_up_with_a_note(tmp_path: Path) -> None:
    """PRODUCT.md v2 rule 4: export rows with one subscription id (one subscription split over agreement
    lines) add up, with a note; the invoice line is matched once. 3 + 2 = the 5 seats billed."""
    paths = month(tmp_path, [seat("s1", 5)], [subscription("s1", 3), subscription("S1", 2)])
    result = reconcile(RunInputs(invoices=(paths["invoice"],), subscriptions=paths["subscriptions"]), run_id="t")
    assert len(result.lines) == 1 and result.lines["status"].iloc[0] == "matched"
    assert result.lines["subscription_quantity"].iloc[0] == 5
    assert result.rejects.empty
    assert any("share 1 subscription id" in note and "added up" in note for note in result.summary.notes)


def test_a_cancelled_row_adds_no_seats(tmp_path: Path) -> None:
    """Rule 4: a cancelled row of a split subscription is 0 seats in force; 5 active + 4 cancelled = 5."""
    paths = month(tmp_path, [seat("s1", 5)], [subscription("s1", 5), subscription("s1", 4, status="Cancelled")])
    result = reconcile(RunInputs(invoices=(paths["invoice"],), subscriptions=paths["subscriptions"]), run_id="t")
    assert (result.lines["status"].iloc[0], result.lines["subscription_quantity"].iloc[0]) == ("matched", 5)


def test_blank_rows_keep_spreadsheet_row_numbers(tmp_path: Path) -> None:
    """Blank lines are skipped without shifting the row numbers a spreadsheet shows."""
    path = write_csv(tmp_path / "invoice.csv", NCE_COLUMNS, [seat("s1", 5)])
    text = path.read_text()
    header, first = text.splitlines()[:2]
    path.write_text(f"{header}\n\n{first}\n\n")
    table = read_table(path)
    assert table.frame["__row__"].tolist() == [3]


@pytest.mark.parametrize("content, message", [
    (b"", "empty"),
    (b"\x00\x01\x02\x03binary\xff\xfe", "not a text table"),
    (b"Foo,Bar\n1,2\n", "not a recognised invoice"),
])
def test_unusable_invoice_files_are_refused_clearly(tmp_path: Path, content: bytes, message: str) -> None:
    """An empty, binary or unknown file stops the run with a message naming the file."""
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    with pytest.raises(InputError, match=message) as caught:
        detect_invoice_format(read_table(path))
    assert "bad.csv" in str(caught.value)


def test_missing_required_column_lists_the_columns(tmp_path: Path) -> None:
    """A subscriptions file without 'quantity' names the missing column and the ones that exist."""
    paths = month(tmp_path, [seat("s1", 5)], [])
    subs = tmp_path / "subs.csv"
    subs.write_text("subscription_id,customer_name\ns1,Contoso\n")
    with pytest.raises(InputError, match=r"'quantity' not found; the columns are: subscription_id, customer_name"):
        reconcile(RunInputs(invoices=(paths["invoice"],), subscriptions=subs), run_id="t")


def test_legacy_export_is_named_when_refused(tmp_path: Path) -> None:
    """A legacy licence-based export is recognised and the message says what to do."""
    path = tmp_path / "legacy.csv"
    path.write_text("PartnerId,SyndicationPartnerSubscriptionNumber,DurableOfferId,Subtotal\n1,2,3,4\n")
    with pytest.raises(InputError, match="legacy licence-based"):
        detect_invoice_format(read_table(path))


def test_change_log_with_old_and_new_quantity(tmp_path: Path) -> None:
    """A change log may give old and new quantity instead of the delta."""
    paths = month(tmp_path, [seat("s1", 10)], [subscription("s1", 12)])
    changes = tmp_path / "changes.csv"
    changes.write_text("Change ID,Subscription,Effective Date,Old Quantity,New Quantity,Provisioning Status\n"
                       "LCL-1,s1,2026-10-12T09:30:00,10,12,Provisioned\n")
    result = reconcile(RunInputs(invoices=(paths["invoice"],), subscriptions=paths["subscriptions"],
                                 changes=changes), run_id="t")
    assert result.lines["status"].tolist() == ["explained"]
    assert result.evidence["quantity_delta"].tolist() == ["+2"]


def test_work365_display_names_are_aliases(tmp_path: Path) -> None:
    """Work 365's display names ('Subscription ID', 'Selling Price'...) are read as our columns."""
    paths = month(tmp_path, [seat("s1", 1200, "10.00")], [])
    subs = tmp_path / "subs.csv"
    subs.write_text('Subscription ID,Customer,Product,Quantity,Selling Price,Billing Frequency\n'
                    's1,Contoso,M365,"1,200",12.00,Monthly\n')
    result = reconcile(RunInputs(invoices=(paths["invoice"],), subscriptions=subs), run_id="t")
    assert result.lines["status"].tolist() == ["matched"]
    assert result.lines["unit_price"].tolist() == [Decimal("12.00")]


def test_provider_rounding_truncates_toward_zero() -> None:
    """ROUNDDOWN truncates toward zero, credits included."""
    assert seat_subtotal(Decimal("14.4"), Decimal("0.846202666"), Decimal(3)) == Decimal("36.54")
    assert seat_subtotal(Decimal("-3.875"), Decimal(1), Decimal(2)) == Decimal("-7.74")
    assert usage_subtotal(Decimal("0.0209496384791679"), Decimal(1), Decimal("23.200004")) == Decimal("0.48")


def test_nce_declares_all_47_documented_columns() -> None:
    """The NCE format declares the 47 documented columns in order."""
    assert [c.source for c in NCE.columns] == NCE_COLUMNS


def _sheet(name: str, headers: list[str]) -> RawTable:
    return RawTable(frame=pd.DataFrame({h: ["x"] for h in headers}).assign(__row__=[2]), file="book.xlsx",
                    sheet=name, kind="xlsx")


@pytest.mark.parametrize("sheets, subscriptions, changes", [
    ({"Subscriptions": ["subscription_id"], "License Change Logs": ["change_id"]}, "Subscriptions",
     "License Change Logs"),
    ({"Read me": ["note"], "Export": ["Subscription ID", "Quantity"], "LCL": ["Name"]}, "Export", "LCL"),
    ({"Change Log": ["change_id"], "Sheet2": ["a"], "My subscriptions": ["b"]}, "My subscriptions", "Change Log"),
    ({"Sheet1": ["subscription_id"]}, "Sheet1", None),
])
def test_split_workbook_matches_sheet_names_loosely(sheets: dict[str, list[str]], subscriptions: str,
                                                    changes: str | None) -> None:
    """The change log is the sheet named like one; subscriptions by name, else by a subscription id column."""
    found_subs, found_changes = split_workbook({name: _sheet(name, headers) for name, headers in sheets.items()})
    assert found_subs.sheet == subscriptions
    assert (found_changes.sheet if found_changes else None) == changes


def test_gzip_csv_reads_like_the_csv(tmp_path: Path) -> None:
    """invoice.csv.gz is decompressed and read as the CSV inside; messages keep the file's own name."""
    import gzip

    plain = write_csv(tmp_path / "invoice.csv", NCE_COLUMNS, [seat("s1", 5)])
    packed = tmp_path / "invoice.csv.gz"
    packed.write_bytes(gzip.compress(plain.read_bytes()))
    table = read_table(packed)
    typed = normalize_invoice(table, detect_invoice_format(table), packed)
    frame, rejects = typed.frame, typed.rejects
    assert table.file == "invoice.csv.gz" and rejects.empty
    assert frame["line_id"].tolist() == ["G000000001-2"] and frame["subtotal"].tolist() == [Decimal("50.00")]


def test_nce_file_missing_its_subscription_column_names_it(tmp_path: Path) -> None:
    """An NCE export without SubscriptionId is refused naming that column, not as an unknown file."""
    columns = [c for c in NCE_COLUMNS if c != "SubscriptionId"]
    path = write_csv(tmp_path / "invoice.csv", columns, [{k: v for k, v in seat("s1", 5).items()
                                                          if k != "SubscriptionId"}])
    with pytest.raises(InputError, match="'SubscriptionId' not found") as caught:
        detect_invoice_format(read_table(path))
    assert "the columns are: PartnerId" in str(caught.value)


@pytest.mark.parametrize(("text", "blank"), [
    ("a,b\n1,2\n3,4\n", 0), ("a,b\r\n1,2\r\n\r\n3,4\r\n", 1), ("a,b\n1,2\n\n\n3,4\n", 2),
    ("a,b\n1,2\n \t\n3,4\n", 1), ("a,b\n1,2\n3,4\n\n\n", 0), ("a,b\n1,2\n x\n", 0),
])
def test_interior_blank_lines_are_counted(tmp_path: Path, text: str, blank: int) -> None:
    """The pre-scan only decides whether the exact count runs: blank lines between rows are counted,
    trailing ones and lines merely starting with a space are not."""
    from recon_cli.formats import textrows

    path = tmp_path / "invoice.csv"
    path.write_bytes(text.encode("utf-8"))
    assert textrows.interior_blank_lines(path, "utf-8") == blank


@settings(max_examples=120, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["a", "b", "c", "d", "e"]), st.integers(0, 9),
                          st.sampled_from(["active", "cancelled"])), min_size=1, max_size=12))
def test_split_subscriptions_merge_in_file_order_as_the_sort_did(rows: list[tuple[str, int, str]]) -> None:
    """Rows in file order take the fast path (each merged row in its first row's place, no sort of the
    whole export): the same frame as concatenating the merged rows and sorting by row, as before."""
    from recon_cli.exports import _merge_split_subscriptions

    frame = pd.DataFrame({
        "subscription_id_key": pd.Series([key for key, _, _ in rows], dtype="str"),
        "subscription_id": pd.Series([key.upper() for key, _, _ in rows], dtype="str"),
        "row": pd.Series(range(2, 2 + len(rows)), dtype="int64"),
        "quantity": pd.Series([Decimal(seats) for _, seats, _ in rows], dtype=object),
        "quantity_in_force": pd.Series([Decimal(seats) if status == "active" else Decimal(0)
                                        for _, seats, status in rows], dtype=object),
        "unit_price": pd.Series([Decimal(10 + seats) for _, seats, _ in rows], dtype=object),
        "unit_cost": pd.Series([Decimal(8) for _ in rows], dtype=object),
        "status_key": pd.Series([status for _, _, status in rows], dtype="str"),
    })
    merged, note = _merge_split_subscriptions(frame)
    repeated = frame["subscription_id_key"].duplicated(keep=False)
    assert (note is None) == (not repeated.any())
    # The rule as it was written before: merged rows appended, then everything sorted by row.
    groups = [rows_.iloc[0]["row"] for _, rows_ in frame.loc[repeated].groupby("subscription_id_key", sort=False)]
    expected_rows = sorted([*frame.loc[~repeated, "row"].tolist(), *groups])
    assert merged["row"].tolist() == expected_rows
    assert merged.index.tolist() == list(range(len(merged)))
    assert merged.dtypes.to_dict() == frame.dtypes.to_dict()
    for _, line in merged.iterrows():
        mine = frame.loc[frame["subscription_id_key"] == line["subscription_id_key"]]
        assert line["quantity"] == sum(mine["quantity"], Decimal(0))
        assert line["quantity_in_force"] == sum(mine["quantity_in_force"], Decimal(0))
        assert line["status_key"] == ("active" if (mine["status_key"] == "active").any() else "cancelled")


def test_a_read_invoice_keeps_only_the_columns_the_rules_use_and_matched_lets_the_rows_go(tmp_path: Path) -> None:
    """Columns read only to be checked (partner, publisher, promotion...) are let go once typed, and
    `matched()` leaves the invoices with no rows but every column and type, holding no buffer of the
    typed lines (a zero-row slice would keep all of them)."""
    from recon_cli.invoices import CHECKED_ONLY, read_invoices

    invoice = write_csv(tmp_path / "invoice.csv", NCE_COLUMNS, [seat(f"s{n}", 5) for n in range(40)])
    invoices = read_invoices((invoice,))
    frame = invoices.typed.frame
    assert len(frame) == 40 and not set(CHECKED_ONLY) & set(frame.columns)
    assert {"line_id", "subscription_id_key", "quantity", "subtotal", "currency", "kind"} <= set(frame.columns)
    matched = invoices.matched()
    assert matched.typed.frame.empty and matched.typed.frame.dtypes.to_dict() == frame.dtypes.to_dict()
    assert matched.typed.rejects is invoices.typed.rejects and matched.default_currency == invoices.default_currency
    texts = [name for name in frame.columns if isinstance(frame[name].dtype, pd.StringDtype)]
    assert texts and all(_buffer_bytes(matched.typed.frame[name]) <= 64 for name in texts)
    assert _buffer_bytes(frame.iloc[:0]["line_id"]) > 64  # what a slice would have kept


def _buffer_bytes(text: pd.Series) -> int:
    """Bytes of the Arrow buffers a text column holds on to, whatever its length."""
    import pyarrow as pa

    array = pa.array(text.array)
    chunks = array.chunks if isinstance(array, pa.ChunkedArray) else [array]
    return sum(buffer.size for chunk in chunks for buffer in chunk.buffers() if buffer is not None)
