"""Atomic writes and formula-safe text: the one low module every writer goes through.

`atomic_write` / `atomic_path`: the output appears whole or not at all, and an existing file
is only replaced once the new one is complete (STYLE rule 19). `safe_text`: text a
spreadsheet would evaluate is shown as text (rule 20). Standard library only; pandas is
only a type here, so `recon --help` stays light.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

# Text Excel (or a CSV opened in Excel) could run as a formula: OWASP's "CSV injection" list.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# Literals Excel turns into error values rather than text; quoted for the same reason.
ERROR_LITERALS = frozenset({"#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A"})
_FORMULA_RE = re.compile(r"^[=+\-@\t\r]")


def _default_mode() -> int:
    """Permissions a plain open() would give: temp files start at 0600, which surprises."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def _finish(tmp: Path, target: Path) -> None:
    try:
        mode = target.stat().st_mode & 0o777
    except OSError:
        mode = _default_mode()
    os.chmod(tmp, mode)
    os.replace(tmp, target)


@contextlib.contextmanager
def atomic_write(target: Path, mode: str = "w", **open_kwargs: Any) -> Iterator[IO[Any]]:
    """Open a temporary file beside `target`; it replaces `target` only if the block succeeds.

    Args:
        target: the file to create or replace.
        mode: "w" or "wb"; `open_kwargs` (encoding, newline...) go to the temporary file.

    Yields:
        The open handle. On any error the temporary file is removed and an existing
        `target` is left untouched.
    """
    target = Path(target)
    handle = tempfile.NamedTemporaryFile(  # noqa: SIM115 - closed below, then renamed
        mode=mode, dir=target.parent, prefix=f".{target.name}.", suffix=".tmp", delete=False,
        **open_kwargs,
    )
    tmp = Path(handle.name)
    try:
        yield handle
        handle.flush()
        os.fsync(handle.fileno())
        handle.close()
        _finish(tmp, target)
    except BaseException:
        handle.close()
        tmp.unlink(missing_ok=True)
        raise


@contextlib.contextmanager
def atomic_path(target: Path) -> Iterator[Path]:
    """Like `atomic_write`, for writers that want a path (openpyxl's `wb.save(path)`).

    Yields:
        A temporary path in `target`'s folder; it is fsynced and renamed onto `target`
        when the block succeeds, removed when it fails.
    """
    target = Path(target)
    with tempfile.NamedTemporaryFile(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp",
                                     delete=False) as handle:
        tmp = Path(handle.name)
    try:
        yield tmp
        with tmp.open("rb+") as written:
            os.fsync(written.fileno())
        _finish(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def safe_text(value: str) -> str:
    """Make text that a spreadsheet would evaluate show as the same text instead.

    Text starting with `=`, `+`, `-`, `@`, tab or CR gets a leading `'`, as do Excel's
    error literals ("#N/A"...). Only for text: numbers are never passed here, so a -5.00
    credit stays a number.
    """
    if value.startswith(FORMULA_START) or value in ERROR_LITERALS:
        return "'" + value
    return value


def safe_text_column(series: pd.Series) -> pd.Series:
    """`safe_text` over a column of text or None at pandas speed (the same rule, vectorised)."""
    text = series.astype("str")
    risky = text.str.match(_FORMULA_RE, na=False) | text.isin(ERROR_LITERALS)
    return series.where(~risky.to_numpy(), "'" + text)
