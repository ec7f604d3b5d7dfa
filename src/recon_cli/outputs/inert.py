"""Text from input files, made inert for a terminal: nothing in a name or an id is ever interpreted.

A customer name can hold an escape sequence (colour, an OSC 8 link, clear-screen, concealed text),
a right-to-left override that makes an id read backwards, or a zero-width space that makes two
different ids look the same. `inert` shows each such character as a visible escape instead.
Standard library only: the light commands use it.
"""

from __future__ import annotations

import re

# Characters that reorder text (bidi embeddings, overrides and isolates) or are invisible.
BIDI = "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
INVISIBLE = "\u00ad\u180e\u200b\u200c\u200d\u2060\u2061\u2062\u2063\u2064\ufeff"


def _visible(code: int) -> str:
    return f"\\x{code:02x}" if code < 0x100 else f"<U+{code:04X}>"


# C0 controls but the line break, DEL, C1 controls (0x9b is a one-byte CSI), bidi and invisible characters.
_TABLE = {code: _visible(code) for code in [*range(0x00, 0x20), 0x7F, *range(0x80, 0xA0)] if code != 0x0A}
_TABLE.update({ord(ch): _visible(ord(ch)) for ch in BIDI + INVISIBLE})
_TABLE[0x09] = " "  # a tab is harmless: shown as a space, so columns stay aligned
_RISKY = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f" + BIDI + INVISIBLE + "]")
# Characters an id never means: removed before ids are compared (normalize.id_key).
ID_NOISE = BIDI + INVISIBLE


def inert(text: str) -> str:
    """`text` with every control, bidi and invisible character shown as an escape ("\\x1b", "<U+202E>")."""
    return text.translate(_TABLE) if _RISKY.search(text) else text
