"""The hostile-file corpus of issue 11, generated: nothing binary is committed.

Each case writes its files into a folder and returns the arguments of `recon run` that use them,
with what the run may end in. `python tests/corpus/make_corpus.py OUT` writes every case into
OUT/<case>/ to try by hand; tests/test_corpus.py runs each one with a time and memory bound.
"""

from __future__ import annotations

import gzip
import io
import os
import sys
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # builders.py, when run as a script

from builders import NCE_COLUMNS, SUBSCRIPTION_COLUMNS, seat, subscription, write_csv

MIB = 1024**2
NUMBER_CASES = {"huge_exponent": "1E+999999999", "float_max": "1e308", "nan": "NaN", "inf": "inf",
                "minus_infinity": "-Infinity", "forty_decimals": "0." + "1234567890" * 4, "digits_500": "9" * 500}
ESCAPES = ("\x1b[31mred\x1b[0m \x1b]8;;http://evil.example\x1b\\link\x1b]8;;\x1b\\ \x1b[8mhidden\x1b[28m "
           "\x1b[2J\u202eevil")


@dataclass(frozen=True)
class Case:
    """One hostile input: how to write it, and what `recon run` may end in.

    Attributes:
        make: writes the files into a folder; returns `recon run`'s arguments (paths and options).
        exits: the exit codes allowed.
        names: what the one-line error must name on exit 2 (the file, and row and column where there is one).
        limits: caps to run with instead of the defaults (field of Limits -> value).
    """

    name: str
    make: Callable[[Path], list[str]]
    exits: frozenset[int] = frozenset({0, 1, 2})
    names: tuple[str, ...] = ()
    limits: dict[str, int] = field(default_factory=dict)


def _rows(count: int = 3) -> list[dict[str, Any]]:
    return [seat(f"s{i}", 5) for i in range(1, count + 1)]


def _subs(folder: Path, count: int = 3) -> Path:
    return write_csv(folder / "subscriptions.csv", SUBSCRIPTION_COLUMNS, [subscription(f"s{i}", 5)
                                                                         for i in range(1, count + 1)])


def _lines(rows: list[dict[str, Any]]) -> list[str]:
    """The invoice as CSV lines (header first), each without its line break."""
    buffer = io.StringIO()
    write_csv_to(buffer, rows)
    return buffer.getvalue().splitlines()


def write_csv_to(handle: io.StringIO, rows: list[dict[str, Any]]) -> None:
    import csv

    writer = csv.DictWriter(handle, fieldnames=NCE_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({c: row.get(c, "") for c in NCE_COLUMNS})


def _invoice(folder: Path, data: bytes | str, name: str = "invoice.csv") -> list[str]:
    """Write the invoice bytes; the arguments for it and a clean subscription export."""
    path = folder / name
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return [str(path), str(_subs(folder))]


# --- workbooks --------------------------------------------------------------------------------------

_CONTENT_TYPES = ('<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
                  'content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
                  'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName='
                  '"/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.'
                  'main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.'
                  'openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>{shared}</Types>')
_SHARED_TYPE = ('<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-'
                'officedocument.spreadsheetml.sharedStrings+xml"/>')
_ROOT_RELS = ('<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/'
              '2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/'
              '2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>')
_WORKBOOK = ('<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/'
             '2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets>'
             '<sheet name="Invoice" sheetId="1" r:id="rId1"/></sheets></workbook>')
_WORKBOOK_RELS = ('<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/'
                  'package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/'
                  'officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>{shared}'
                  '</Relationships>')
_SHARED_REL = ('<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
               'sharedStrings" Target="sharedStrings.xml"/>')
_SHEET = ('<?xml version="1.0" encoding="UTF-8"?>{doctype}<worksheet xmlns="http://schemas.openxmlformats.org/'
          'spreadsheetml/2006/main"><dimension ref="{dimension}"/><sheetData>{rows}</sheetData></worksheet>')


def _column(index: int) -> str:
    letters = ""
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def sheet_rows(rows: list[list[str]], extra: str = "") -> str:
    """Rows of inline-string cells as sheet XML, then `extra` (more <row> elements)."""
    out = []
    for number, cells in enumerate(rows, start=1):
        out.append(f'<row r="{number}">' + "".join(
            f'<c r="{_column(i)}{number}" t="inlineStr"><is><t>{_escape(v)}</t></is></c>'
            for i, v in enumerate(cells, start=1) if v != "") + "</row>")
    return "".join(out) + extra


def raw_xlsx(path: Any, rows_xml: str, *, dimension: str = "A1", doctype: str = "", shared: str | None = None,
             junk: tuple[str, bytes] | None = None) -> Any:
    """A minimal workbook written part by part, so each part can be made hostile (into a path or a buffer)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as book:
        book.writestr("[Content_Types].xml", _CONTENT_TYPES.format(shared=_SHARED_TYPE if shared else ""))
        book.writestr("_rels/.rels", _ROOT_RELS)
        book.writestr("xl/workbook.xml", _WORKBOOK)
        book.writestr("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS.format(shared=_SHARED_REL if shared else ""))
        book.writestr("xl/worksheets/sheet1.xml", _SHEET.format(doctype=doctype, dimension=dimension, rows=rows_xml))
        if shared:
            book.writestr("xl/sharedStrings.xml", shared)
        if junk:
            book.writestr(junk[0], junk[1])
    return path


def _invoice_cells(rows: list[dict[str, Any]]) -> list[list[str]]:
    return [NCE_COLUMNS, *[[str(r.get(c, "")) for c in NCE_COLUMNS] for r in rows]]


def _xlsx_case(folder: Path, **options: Any) -> list[str]:
    extra = options.pop("extra", "")
    path = raw_xlsx(folder / "invoice.xlsx", sheet_rows(_invoice_cells(_rows()), extra), **options)
    return [str(path), str(_subs(folder))]


def zip_bomb(folder: Path) -> list[str]:
    # 64 MiB of spaces deflate to about 64 KiB: a thousand times, past max_inflate_ratio.
    return _xlsx_case(folder, junk=("xl/media/padding.xml", b" " * (64 * MIB)))


BILLION_LAUGHS = ('<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;'
                  '&lol;">' + "".join(f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(2, 10)) + "]>")


def entity_bomb(folder: Path) -> list[str]:
    rows = sheet_rows(_invoice_cells(_rows())).replace("<t>s1</t>", "<t>&lol9;</t>")
    path = raw_xlsx(folder / "invoice.xlsx", rows, doctype=BILLION_LAUGHS)
    return [str(path), str(_subs(folder))]


def xxe(folder: Path) -> list[str]:
    doctype = '<!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
    shared = ('<?xml version="1.0" encoding="UTF-8"?>' + doctype + '<sst xmlns="http://schemas.openxmlformats.org/'
              'spreadsheetml/2006/main" count="1" uniqueCount="1"><si><t>&xxe;</t></si></sst>')
    extra_cell = '<row r="5"><c r="B5" t="s"><v>0</v></c></row>'
    return _xlsx_case(folder, shared=shared, extra=extra_cell)


def far_cell(folder: Path) -> list[str]:
    # One cell at the last cell of a sheet: the real extent is the table, not 1,048,576 x 16,384.
    return _xlsx_case(folder, dimension="A1:XFD1048576",
                      extra='<row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t>x</t></is></c></row>')


def huge_dimension(folder: Path) -> list[str]:
    return _xlsx_case(folder, dimension="A1:XFD1048576")


def row_past_excel(folder: Path) -> list[str]:
    # A row number no sheet can have: read sparsely, it is one more row, far away.
    return _xlsx_case(folder, extra='<row r="99999999999"><c r="A99999999999" t="inlineStr"><is><t>x</t></is>'
                                    '</c></row>')


def bad_cell_reference(folder: Path) -> list[str]:
    return _xlsx_case(folder, extra='<row r="6"><c r="ZZZZZ6"><v>1</v></c></row>')


def xlsx_infinite_number(folder: Path) -> list[str]:
    # A numeric cell of 1E+999 is a float infinity to the XML reader: a reject, not a crash.
    cells = _invoice_cells(_rows())
    subtotal = NCE_COLUMNS.index("Subtotal") + 1
    rows = sheet_rows(cells).replace(f'<c r="{_column(subtotal)}2" t="inlineStr"><is><t>50.00</t></is></c>',
                                     f'<c r="{_column(subtotal)}2"><v>1E+999</v></c>')
    path = raw_xlsx(folder / "invoice.xlsx", rows)
    return [str(path), str(_subs(folder))]


def xlsx_cells_cap(folder: Path) -> list[str]:
    return _xlsx_case(folder)


# --- compressed --------------------------------------------------------------------------------------


def _members(block: bytes, count: int) -> bytes:
    """`count` gzip members of the same block: a file of KiB that inflates to `count` blocks."""
    return gzip.compress(block, compresslevel=9) * count


def gz_bomb(folder: Path) -> list[str]:
    header = ("\n".join(_lines(_rows())) + "\n").encode()
    return _invoice(folder, gzip.compress(header) + _members(b"0," * (MIB // 2), 600), "invoice.csv.gz")


def jsonl_gz_blank_lines(folder: Path) -> list[str]:
    # 262 KiB of gzip that inflates to 256 MiB of blank lines (the finding: past 2 minutes).
    return _invoice(folder, _members(b"\n" * MIB, 256), "invoice.jsonl.gz")


def _graph_record(sub: str) -> str:
    import json

    return json.dumps({"subscriptionId": sub, "chargeType": "cycleCharge", "subtotal": 50, "quantity": 5,
                       "customerName": "c", "unitPrice": 10, "effectiveUnitPrice": 10, "billableQuantity": 5,
                       "orderDate": "2026-10-05", "chargeStartDate": "2026-10-05", "chargeEndDate": "2026-11-04",
                       "termAndBillingCycle": "One-Year commitment for monthly/yearly billing",
                       "billingFrequency": "Monthly", "currency": "USD", "invoiceNumber": "G1",
                       "pcToBCExchangeRate": 1})


def jsonl_blank_lines(folder: Path) -> list[str]:
    # Not compressed, inside the ratio: 32 MiB of blank lines between two records are skipped cheaply.
    text = _graph_record("s1") + "\n" + "\n" * (32 * MIB) + _graph_record("s2") + "\n"
    return _invoice(folder, text, "invoice.jsonl")


def jsonl_nested(folder: Path) -> list[str]:
    text = _graph_record("s1") + "\n" + "[" * 100_000 + "]" * 100_000 + "\n" + _graph_record("s2") + "\n"
    return _invoice(folder, text, "invoice.jsonl")


def jsonl_many_keys(folder: Path) -> list[str]:
    import json

    lines = [_graph_record("s1")] + [json.dumps({f"k{i}_{j}": "x" for j in range(100)}) for i in range(400)]
    return _invoice(folder, "\n".join(lines) + "\n", "invoice.jsonl")


def jsonl_numbers(folder: Path) -> list[str]:
    lines = [_graph_record("s1").replace('"subtotal": 50', f'"subtotal": {value}')
             for value in ("1e999999999", "NaN", "-Infinity", "9" * 500)]
    return _invoice(folder, "\n".join([*lines, _graph_record("s2")]) + "\n", "invoice.jsonl")


# --- text --------------------------------------------------------------------------------------------


def csv_blank_lines(folder: Path) -> list[str]:
    header, first, second, third = _lines(_rows())
    return _invoice(folder, f"{header}\n{first}\n" + "\n" * (2 * MIB) + f"{second}\n\n{third}\n")


def csv_blank_cells_lines(folder: Path) -> list[str]:
    header, first, second, third = _lines(_rows())
    empty = "," * (len(NCE_COLUMNS) - 1) + "\n"
    return _invoice(folder, f"{header}\n{first}\n" + empty * (2 * MIB // len(empty)) + f"{second}\n{third}\n")


def cell_10mb(folder: Path) -> list[str]:
    rows = _rows()
    rows[1]["CustomerName"] = "A" * (10 * MIB)
    return _invoice(folder, "\n".join(_lines(rows)) + "\n")


def nul_bytes(folder: Path) -> list[str]:
    rows = _rows()
    rows[0]["CustomerName"] = "Con\x00toso"
    return _invoice(folder, "\n".join(_lines(rows)) + "\n")


def invalid_utf8(folder: Path) -> list[str]:
    data = ("\n".join(_lines(_rows())) + "\n").encode().replace(b"Customer c-1", b"Customer \xff\xfe\xc3\x28", 1)
    return _invoice(folder, data)


def utf16_without_bom(folder: Path) -> list[str]:
    return _invoice(folder, ("\r\n".join(line.replace(",", "\t") for line in _lines(_rows())) + "\r\n")
                    .encode("utf-16-le"))


def mixed_delimiters(folder: Path) -> list[str]:
    lines = _lines(_rows(4))
    lines[2] = lines[2].replace(",", ";")
    lines[4] = lines[4].replace(",", "\t")
    return _invoice(folder, "\n".join(lines) + "\n")


def unbalanced_quote(folder: Path) -> list[str]:
    lines = _lines(_rows(6))
    lines[2] = lines[2].replace("Customer c-1", '"Customer c-1', 1)
    return _invoice(folder, "\n".join(lines) + "\n")


def lone_cr(folder: Path) -> list[str]:
    rows = _rows()
    rows[0]["CustomerName"] = "Contoso\rLtd"
    return _invoice(folder, "\n".join(_lines(rows)) + "\n")


def ragged_rows(folder: Path) -> list[str]:
    lines = _lines(_rows(4))
    lines[1] = lines[1] + ",extra,cells"
    lines[2] = ",".join(lines[2].split(",")[:10])
    return _invoice(folder, "\n".join(lines) + "\n")


def header_only(folder: Path) -> list[str]:
    return _invoice(folder, _lines(_rows())[0] + "\n")


def empty_file(folder: Path) -> list[str]:
    return _invoice(folder, b"")


def wide_header(folder: Path) -> list[str]:
    header = ",".join([*NCE_COLUMNS, *(f"c{i}" for i in range(100_000))])
    return _invoice(folder, header + "\n" + _lines(_rows())[1] + "\n")


def wide_rejected_rows(folder: Path) -> list[str]:
    # 2 MB: 1,000 columns and 1,000 rows whose Quantity is not a number (each row a reject).
    extra = [f"x{i}" for i in range(1000 - len(NCE_COLUMNS))]
    bad = [seat(f"s{i}", 5, Quantity="bad") for i in range(1000)]
    lines = [",".join([*NCE_COLUMNS, *extra]), *(",".join([*(str(r.get(c, "")) for c in NCE_COLUMNS),
                                                           *("y" for _ in extra)]) for r in bad)]
    return _invoice(folder, "\n".join(lines) + "\n")


def formula_names(folder: Path) -> list[str]:
    rows = _rows()
    rows[0]["CustomerName"] = '=HYPERLINK("http://evil.example","click")'
    rows[1]["CustomerName"] = "=cmd|' /C calc'!A0"
    rows[2]["CustomerName"] = "@SUM(1+1)*cmd|' /C calc'!A0"
    return _invoice(folder, "\n".join(_lines(rows)) + "\n")


def terminal_escapes(folder: Path) -> list[str]:
    rows = _rows()
    rows[0]["CustomerName"] = ESCAPES
    rows[1]["SubscriptionId"] = "s2\u200b"
    return _invoice(folder, "\n".join(_lines(rows)) + "\n")


def number_case(value: str, column: str) -> Callable[[Path], list[str]]:
    def make(folder: Path) -> list[str]:
        rows = _rows()
        rows[1][column] = value
        return _invoice(folder, "\n".join(_lines(rows)) + "\n")
    return make


def huge_in_range(folder: Path) -> list[str]:
    # Each value is under the 10^15 bound; their product is not (exact Decimal arithmetic keeps 28 digits).
    big = "999999999999999"
    invoice = write_csv(folder / "invoice.csv", NCE_COLUMNS, [seat("s1", 5, big, rate=big, subtotal="1"), *_rows()[1:]])
    return [str(invoice), str(write_csv(folder / "subscriptions.csv", SUBSCRIPTION_COLUMNS,
                                        [subscription("s1", big, big), *[subscription(f"s{i}", 5) for i in (2, 3)]]))]


def subscription_numbers(folder: Path) -> list[str]:
    subs = [subscription(f"s{i}", 5, price) for i, price in enumerate(NUMBER_CASES.values(), start=1)]
    invoice = write_csv(folder / "invoice.csv", NCE_COLUMNS, _rows())
    return [str(invoice), str(write_csv(folder / "subscriptions.csv", SUBSCRIPTION_COLUMNS, subs))]


# --- not files ---------------------------------------------------------------------------------------


def directory_as_invoice(folder: Path) -> list[str]:
    (folder / "invoice").mkdir()
    return [str(folder / "invoice"), str(_subs(folder))]


def directory_as_subscriptions(folder: Path) -> list[str]:
    (folder / "subscriptions").mkdir()
    return [str(write_csv(folder / "invoice.csv", NCE_COLUMNS, _rows())), str(folder / "subscriptions")]


def fifo(folder: Path) -> list[str]:
    os.mkfifo(folder / "invoice.csv")  # nothing ever writes to it: opening it would wait for ever
    return [str(folder / "invoice.csv"), str(_subs(folder))]


def symlink_loop(folder: Path) -> list[str]:
    (folder / "invoice.csv").symlink_to(folder / "loop.csv")
    (folder / "loop.csv").symlink_to(folder / "invoice.csv")
    return [str(folder / "invoice.csv"), str(_subs(folder))]


def input_size_cap(folder: Path) -> list[str]:
    return _invoice(folder, "\n".join(_lines(_rows())) + "\n")


CASES: list[Case] = [
    Case("zip_bomb", zip_bomb, frozenset({2}), ("invoice.xlsx", "max_inflate_ratio")),
    Case("entity_bomb", entity_bomb, frozenset({2}), ("invoice.xlsx",)),
    Case("xxe", xxe, frozenset({0, 1, 2}), ("invoice.xlsx",)),
    Case("far_cell", far_cell, frozenset({0, 1})),
    Case("huge_dimension", huge_dimension, frozenset({0, 1})),
    Case("row_past_excel", row_past_excel, frozenset({0, 1})),
    Case("bad_cell_reference", bad_cell_reference, frozenset({2}), ("invoice.xlsx",)),
    Case("xlsx_infinite_number", xlsx_infinite_number, frozenset({0, 1})),
    Case("xlsx_cells_cap", xlsx_cells_cap, frozenset({2}), ("invoice.xlsx", "max_xlsx_cells"),
         {"max_xlsx_cells": 100}),
    Case("gz_bomb", gz_bomb, frozenset({2}), ("invoice.csv.gz", "max_inflate_ratio")),
    Case("jsonl_gz_blank_lines", jsonl_gz_blank_lines, frozenset({2}), ("invoice.jsonl.gz", "max_inflate_ratio")),
    Case("jsonl_blank_lines", jsonl_blank_lines, frozenset({0, 1})),
    Case("jsonl_nested", jsonl_nested, frozenset({0, 1})),
    Case("jsonl_many_keys", jsonl_many_keys, frozenset({2}), ("invoice.jsonl", "max_columns")),
    Case("jsonl_numbers", jsonl_numbers, frozenset({0, 1})),
    Case("csv_blank_lines", csv_blank_lines, frozenset({0, 1})),
    Case("csv_blank_cells_lines", csv_blank_cells_lines, frozenset({0, 1})),
    Case("cell_10mb", cell_10mb, frozenset({2}), ("invoice.csv", "row 3", "CustomerName", "max_cell_chars")),
    Case("nul_bytes", nul_bytes, frozenset({0, 1})),
    Case("invalid_utf8", invalid_utf8, frozenset({0, 1})),
    Case("utf16_without_bom", utf16_without_bom, frozenset({0, 1})),
    Case("mixed_delimiters", mixed_delimiters, frozenset({0, 1})),
    Case("unbalanced_quote", unbalanced_quote, frozenset({0, 1})),
    Case("lone_cr", lone_cr, frozenset({0, 1})),
    Case("ragged_rows", ragged_rows, frozenset({0, 1})),
    Case("header_only", header_only, frozenset({0, 1, 2}), ("invoice.csv",)),
    Case("empty_file", empty_file, frozenset({2}), ("invoice.csv", "empty")),
    Case("wide_header", wide_header, frozenset({2}), ("invoice.csv", "row 1", "max_columns")),
    Case("wide_rejected_rows", wide_rejected_rows, frozenset({0, 1, 2})),
    Case("formula_names", formula_names, frozenset({0, 1})),
    Case("terminal_escapes", terminal_escapes, frozenset({0, 1})),
    *(Case(f"number_{name}_{column.lower()}", number_case(value, column), frozenset({0, 1}))
      for name, value in NUMBER_CASES.items() for column in ("Subtotal", "Quantity")),
    Case("subscription_numbers", subscription_numbers, frozenset({0, 1})),
    Case("huge_in_range", huge_in_range, frozenset({0, 1})),
    Case("directory_as_invoice", directory_as_invoice, frozenset({2}), ("invoice",)),
    Case("directory_as_subscriptions", directory_as_subscriptions, frozenset({2}), ("subscriptions",)),
    Case("fifo", fifo, frozenset({2}), ("invoice.csv", "not a regular file")),
    Case("symlink_loop", symlink_loop, frozenset({2}), ("invoice.csv",)),
    Case("input_size_cap", input_size_cap, frozenset({2}), ("invoice.csv", "max_input_size"),
         {"max_input_size": 1024}),
]


def main(out: Path) -> None:
    for case in CASES:
        folder = out / case.name
        folder.mkdir(parents=True, exist_ok=True)
        print(case.name, " ".join(case.make(folder)))


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "corpus-out"))
