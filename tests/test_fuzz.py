"""A fuzz run of the loaders: random bytes and mutated CSV, xlsx and jsonl.gz files through read_table and
normalize. Each must load or stop with an InputError (exit 2), in seconds; nothing else may escape.

Skipped in `make test`; `RECON_FUZZ=1 pytest tests/test_fuzz.py` runs it (RECON_FUZZ_EXAMPLES sets the
examples per test, 2,000 by default; about ten minutes in all on a 2-core machine).
"""

from __future__ import annotations

import gzip
import io
import json
import os
import signal
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from builders import NCE_COLUMNS, SUBSCRIPTION_COLUMNS, seat, subscription
from corpus.make_corpus import raw_xlsx, sheet_rows
from recon_cli.errors import ReconError
from recon_cli.exports import normalize_subscriptions
from recon_cli.formats.detect import choose_invoice_format
from recon_cli.formats.subscriptions import SUBSCRIPTIONS
from recon_cli.load import read_subscription_tables, read_table
from recon_cli.normalize import normalize_invoice

pytestmark = pytest.mark.skipif(not os.environ.get("RECON_FUZZ"), reason="the fuzz run: set RECON_FUZZ=1")

LONG = settings(max_examples=int(os.environ.get("RECON_FUZZ_EXAMPLES", "2000")), deadline=None, database=None,
                suppress_health_check=list(HealthCheck), derandomize=False)
SECONDS = 20
# Text that breaks readers: quotes, delimiters, line ends, NUL, BOMs, numbers out of range, XML and JSON syntax.
TOKENS = ['"', '""', ",", ";", "\t", "|", "\r", "\n", "\r\n", "\x00", "\ufeff", "\u202e", "\x1b[2J", "NaN", "-Infinity",
          "1E+999999999", "1e308", "9" * 400, "0." + "1" * 40, "=HYPERLINK(\"x\")", "10/32/2026", "2026-02-30",
          "<", ">", "&", "&lol;", "]]>", "<row r=\"99999999\">", "{", "}", "[", "]", ":", "null", "\\", "\\u0000",
          "sep=;", " " * 50, "\n" * 50, "x" * 5000]


def _invoice_rows() -> list[list[str]]:
    rows = [seat("s1", 5), seat("s2", 3, charge_type="addQuantity"), seat("s3", 2, "4.20", frequency="Annual")]
    return [NCE_COLUMNS, *[[str(r.get(c, "")) for c in NCE_COLUMNS] for r in rows]]


def _csv_text(rows: list[list[str]]) -> str:
    import csv

    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    return buffer.getvalue()


VALID_CSV = _csv_text(_invoice_rows())
VALID_SUBS = _csv_text([SUBSCRIPTION_COLUMNS, *[[str(subscription(f"s{i}", 5).get(c, "")) for c in SUBSCRIPTION_COLUMNS]
                                                for i in (1, 2, 3)]])
VALID_SHEET = sheet_rows(_invoice_rows())
VALID_JSONL = "\n".join(json.dumps({"subscriptionId": f"s{i}", "chargeType": "cycleCharge", "subtotal": 50,
                                    "quantity": 5, "unitPrice": 10, "effectiveUnitPrice": "10.000000",
                                    "orderDate": "2026-10-05", "chargeStartDate": "2026-10-05",
                                    "chargeEndDate": "2026-11-04", "currency": "USD", "billableQuantity": 5,
                                    "termAndBillingCycle": "One-Year commitment for monthly/yearly billing",
                                    "productQualifiers": ["AddOn"], "pcToBCExchangeRate": 1}) for i in (1, 2, 3))


@st.composite
def mutated(draw: Any, text: str) -> str:
    """`text` with a few random edits: tokens inserted, spans deleted or repeated, characters replaced."""
    for _ in range(draw(st.integers(1, 6))):
        at = draw(st.integers(0, len(text)))
        edit = draw(st.sampled_from(["insert", "delete", "repeat", "replace"]))
        if edit == "insert":
            text = text[:at] + draw(st.sampled_from(TOKENS) | st.text(max_size=8)) + text[at:]
        elif edit == "delete":
            text = text[:at] + text[at + draw(st.integers(1, 40)):]
        elif edit == "repeat":
            span = text[at:at + draw(st.integers(1, 200))]
            text = text[:at] + span * draw(st.integers(2, 50)) + text[at:]
        else:
            text = text[:at] + draw(st.characters()) + text[at + 1:]
    return text


def _flip(data: bytes, draw: Any) -> bytes:
    """A few bytes of `data` overwritten at random (a damaged download)."""
    out = bytearray(data)
    for _ in range(draw(st.integers(0, 4))):
        if out:
            out[draw(st.integers(0, len(out) - 1))] = draw(st.integers(0, 255))
    return bytes(out)


@st.composite
def invoice_files(draw: Any) -> tuple[str, bytes]:
    """(file name, bytes): random bytes, or a mutated CSV, workbook or gzip JSON Lines invoice."""
    kind = draw(st.sampled_from(["bytes", "csv", "csv-encoded", "xlsx", "jsonl", "jsonl.gz"]))
    if kind == "bytes":
        name = draw(st.sampled_from(["invoice.csv", "invoice.xlsx", "invoice.jsonl.gz"]))
        return name, draw(st.binary(max_size=4096))
    if kind == "csv":
        return "invoice.csv", draw(mutated(VALID_CSV)).encode("utf-8", "surrogatepass")
    if kind == "csv-encoded":
        encoding = draw(st.sampled_from(["utf-16", "utf-16-le", "cp1252", "utf-8-sig"]))
        return "invoice.csv", draw(mutated(VALID_CSV)).encode(encoding, "replace")
    if kind == "xlsx":
        buffer = io.BytesIO()
        raw_xlsx(buffer, draw(mutated(VALID_SHEET)), dimension=draw(st.sampled_from(["A1", "A1:XFD1048576", "Z"])))
        return "invoice.xlsx", _flip(buffer.getvalue(), draw) if draw(st.booleans()) else buffer.getvalue()
    text = draw(mutated(VALID_JSONL)).encode("utf-8", "surrogatepass")
    if kind == "jsonl":
        return "invoice.jsonl", text
    packed = gzip.compress(text)
    return "invoice.jsonl.gz", _flip(packed, draw) if draw(st.booleans()) else packed


@contextmanager
def bounded(seconds: int) -> Iterator[None]:
    """Fail an example that runs past `seconds` (hypothesis' deadline only reports after the fact)."""
    def stop(_signal: int, _frame: Any) -> None:
        raise TimeoutError(f"the loader ran past {seconds} s")

    previous = signal.signal(signal.SIGALRM, stop)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def load_invoice(path: Path) -> None:
    table = read_table(path)
    normalize_invoice(table, choose_invoice_format(table, "auto", None), path)


@LONG
@given(invoice_files())
def test_an_invoice_loads_or_is_refused_with_an_input_error(tmp_path_factory: Any, case: tuple[str, bytes]) -> None:
    """Whatever the bytes, read_table + normalize_invoice succeed or raise a ReconError (exit 2)."""
    name, data = case
    path = tmp_path_factory.mktemp("fuzz") / name
    path.write_bytes(data)
    with bounded(SECONDS), suppress(ReconError):
        load_invoice(path)


@LONG
@given(st.sampled_from(["csv", "xlsx"]), mutated(VALID_SUBS))
def test_a_subscription_export_loads_or_is_refused(tmp_path_factory: Any, kind: str, text: str) -> None:
    """A mutated subscription export (CSV, or a workbook sheet) normalizes or raises a ReconError."""
    folder = tmp_path_factory.mktemp("fuzz")
    if kind == "csv":
        path = folder / "subscriptions.csv"
        path.write_text(text, encoding="utf-8", errors="surrogatepass")
    else:
        import csv

        try:
            rows = list(csv.reader(io.StringIO(text.replace("\x00", ""), newline="")))
        except csv.Error:  # the harness's own reading of the text, not the loader's
            rows = [line.split(",") for line in text.replace("\x00", "").splitlines()]
        path = raw_xlsx(folder / "subscriptions.xlsx", sheet_rows(rows))
    with bounded(SECONDS), suppress(ReconError):
        table, _ = read_subscription_tables(path, None)
        normalize_subscriptions(table, SUBSCRIPTIONS)


def test_the_zip_writer_takes_a_buffer() -> None:
    """raw_xlsx writes into a buffer as into a file (the fuzz strategies rely on it)."""
    buffer = io.BytesIO()
    raw_xlsx(buffer, sheet_rows([["a"]]))
    assert zipfile.ZipFile(buffer).namelist()
