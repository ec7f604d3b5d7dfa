"""What kind of file this is, from its first bytes: encoding, delimiter, or another container.

Real exports arrive as UTF-8 with or without a BOM, as Excel's "Unicode text" (UTF-16 with a
BOM, tab-separated), as Windows-1252 from older tools, with `,`, `;`, tab or `|` between cells,
and sometimes as a workbook or a gzip file whatever their extension says.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from dataclasses import dataclass, field

from recon_cli.errors import InputError

DELIMITERS = (",", ";", "\t", "|")
SNIFF_LINES = 200
GZIP_MAGIC = b"\x1f\x8b"
ZIP_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # the old binary .xls (and other OLE documents)
# Excel writes (and honours) a first line "sep=;" naming the delimiter.
SEP_HINT = re.compile(r"sep=([,;\t|])[ \t]*\r?\n")
# Characters no text table holds; a few in a real export are damage, many mean binary data.
CONTROL = {chr(c) for c in range(32)} - {"\t", "\n", "\r", "\x0c"}


@dataclass
class TextLayout:
    """How a delimited text file is written."""

    encoding: str
    delimiter: str
    notes: list[str] = field(default_factory=list)
    # Lines before the header: Excel's "sep=;" hint, which Excel itself hides.
    skip: int = 0

    @property
    def is_utf8(self) -> bool:
        return self.encoding in ("utf-8", "utf-8-sig")


def container(head: bytes) -> str:
    """'gzip', 'xlsx', 'xls', 'json' or 'text', from the magic bytes."""
    if head.startswith(GZIP_MAGIC):
        return "gzip"
    if head.startswith(ZIP_MAGIC):
        return "xlsx"
    if head.startswith(OLE_MAGIC):
        return "xls"
    if head.lstrip(codecs.BOM_UTF8 + b" \t\r\n").startswith(b"{"):
        return "json"
    return "text"


def sniff_encoding(name: str, head: bytes) -> tuple[str, list[str]]:
    """The encoding of a text file, and a note when it is not UTF-8."""
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16", []
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig", []
    if b"\x00" in head:
        # UTF-16 without a BOM still has a NUL beside every ASCII character, on one side.
        odd, even = head[1::2], head[0::2]
        if len(head) >= 4 and odd.count(0) > 0.4 * len(odd) and even.count(0) == 0:
            return "utf-16-le", []
        if len(head) >= 4 and even.count(0) > 0.4 * len(even) and odd.count(0) == 0:
            return "utf-16-be", []
        # A stray NUL or two is damage in a text table (a reader keeps it in its cell); many are binary data.
        if head.count(0) > max(2, len(head) // 1000):
            raise InputError(f"{name}: this is not a text table (it holds binary data); "
                             "expected a CSV, an .xlsx workbook or a Graph export (.jsonl.gz)")
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 4:  # not just a multi-byte character cut by the sniff window
            return "cp1252", [f"{name}: not UTF-8; read as Windows-1252 (cp1252). "
                              "Check accented names in the report."]
    return "utf-8-sig", []


def decode_head(head: bytes, encoding: str) -> str:
    """The sniff window as text, without a character cut at its end."""
    if encoding.startswith("utf-16") and len(head) % 2:
        head = head[:-1]
    text = head.decode(encoding, errors="replace").lstrip("\ufeff")
    if CONTROL & set(text[:4096]):
        share = sum(ch in CONTROL for ch in text[:4096]) / max(1, len(text[:4096]))
        if share > 0.01:
            raise InputError("this is not a text table (it holds binary data); "
                             "expected a CSV, an .xlsx workbook or a Graph export (.jsonl.gz)")
    return text


def sniff_delimiter(text: str, complete: bool) -> str:
    """The delimiter that splits the first lines into the same number of cells as the header.

    Lines are parsed as CSV (quotes respected), so the commas inside a JSON cell such as
    `["AddOn", "Trial"]` or the `1,5` of a European amount never count.

    Args:
        text: the first part of the file.
        complete: the text is the whole file (else its last line may be cut and is ignored).
    """
    lines = text.splitlines(keepends=True)
    if not complete and len(lines) > 1:
        lines = lines[:-1]
    sample = "".join(lines[:SNIFF_LINES])
    best, best_score = ",", (0.0, 0)
    for delimiter in DELIMITERS:
        try:
            rows = [r for r in csv.reader(io.StringIO(sample), delimiter=delimiter) if any(c.strip() for c in r)]
        except csv.Error:
            continue
        if not rows or len(rows[0]) < 2:
            continue
        width = len(rows[0])
        # Rows as wide as the header (or narrower by trailing cells some exporters drop).
        fitting = sum(1 for r in rows[1:] if len(r) == width or (len(r) < width and len(r) > 1))
        score = (fitting / max(1, len(rows) - 1) if len(rows) > 1 else 1.0, width)
        if score > best_score:
            best, best_score = delimiter, score
    return best


def sniff_text(name: str, head: bytes, complete: bool) -> TextLayout:
    """Encoding and delimiter of a delimited text file, from its first bytes."""
    encoding, notes = sniff_encoding(name, head)
    try:
        text = decode_head(head, encoding)
    except InputError as exc:
        raise InputError(f"{name}: {exc}") from None
    hint = SEP_HINT.match(text)
    if hint:
        return TextLayout(encoding=encoding, delimiter=hint[1], notes=notes, skip=1)
    return TextLayout(encoding=encoding, delimiter=sniff_delimiter(text, complete), notes=notes)
