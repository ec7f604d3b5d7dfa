"""Atomic writes and formula-safe text: the one low module every writer goes through.

`atomic_write` / `atomic_path`: the output appears whole or not at all, and an existing file
is only replaced once the new one is complete (STYLE rule 19). `safe_text`: text a
spreadsheet would evaluate is shown as text (rule 20). Standard library only, so `recon --help`
stays light.
"""

from __future__ import annotations

import contextlib
import contextvars
import os
import queue
import shutil
import stat
import tempfile
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Any

# Text Excel (or a CSV opened in Excel) could run as a formula: OWASP's "CSV injection" list.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# Literals Excel turns into error values rather than text; quoted for the same reason.
ERROR_LITERALS = frozenset({"#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A"})
# The same starts as a regular expression (RE2 and Python alike), for the column-wise writers.
FORMULA_PATTERN = r"^[=+\-@\t\r]"


def _default_mode() -> int:
    """Permissions a plain open() would give: temp files start at 0600, which surprises."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def real_target(target: Path) -> Path:
    """Where writing `target` lands: a symlink is followed (the link stays, its file is replaced)."""
    target = Path(target)
    return target.resolve() if target.is_symlink() else target


def is_stream(target: Path) -> bool:
    """A device, FIFO or socket (`/dev/null`, `/dev/stdout`, a named pipe): written directly, never
    replaced by a regular file."""
    try:
        mode = Path(target).stat().st_mode  # follows links: /dev/stdout -> /proc/self/fd/1 -> a pipe
    except OSError:
        return False
    return not stat.S_ISREG(mode) and not stat.S_ISDIR(mode)


def check_output(target: Path, flag: str) -> None:
    """Refuse, before any work, an output that cannot be written: a folder, a missing or read-only
    folder, a path whose parent is a file. Exit 2 naming the flag and the path (PRODUCT.md §4)."""
    from recon_cli.errors import OutputError

    if is_stream(target):
        return
    real = real_target(target)
    if real.is_dir():
        raise OutputError(f"{flag} {target}: is a folder; give a file name")
    folder = real.parent
    if not folder.exists():
        raise OutputError(f"{flag} {target}: the folder {folder} does not exist")
    if not folder.is_dir():
        raise OutputError(f"{flag} {target}: {folder} is not a folder")
    try:  # a real probe: permission bits say nothing when running as root, or on a read-only mount
        with tempfile.NamedTemporaryFile(dir=folder, prefix=f".{real.name}.", suffix=".probe"):
            pass
    except OSError as exc:
        raise OutputError(f"{flag} {target}: cannot write in {folder} ({exc.strerror or exc})") from exc
    if real.exists() and not os.access(real, os.W_OK):
        raise OutputError(f"{flag} {target}: the file is read-only")


class Staging:
    """Outputs written to temporary files, then renamed into place together (`commit`).

    While a staging is open, `atomic_write` and `atomic_path` leave their finished temporary file
    for it instead of renaming at once: an interrupted run leaves no temporary file and never a mix
    of old and new outputs. The renames run with SIGINT and SIGTERM held back.
    """

    def __init__(self) -> None:
        self.pending: list[tuple[Path, Path]] = []
        self.abandoned = threading.Event()  # set: a writer on another thread stops at its next piece

    def abandon(self) -> None:
        """Stop the writers still running on another thread (`write_alongside`): the run has failed and
        their files would be removed anyway."""
        self.abandoned.set()

    def __enter__(self) -> Staging:
        self._token = _STAGING.set(self)
        return self

    def __exit__(self, kind: object, error: object, trace: object) -> None:
        _STAGING.reset(self._token)
        for tmp, _target in self.pending:  # not committed: an error or an interrupt
            tmp.unlink(missing_ok=True)
        self.pending.clear()

    def commit(self) -> None:
        """Rename every finished output onto its target, signals held until all are in place."""
        import signal

        from recon_cli.errors import OutputError

        held = {signal.SIGINT, signal.SIGTERM}
        previous = signal.pthread_sigmask(signal.SIG_BLOCK, held)
        try:
            for tmp, target in self.pending:
                try:
                    _finish(tmp, target)
                except OSError as exc:
                    raise OutputError(f"{target}: cannot be written ({exc.strerror or exc})") from exc
            self.pending.clear()
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, previous)


class OutputAbandoned(Exception):
    """A writer stopped because the run it belongs to failed on another thread; never reaches the user,
    whose error is the run's own."""


_STAGING: contextvars.ContextVar[Staging | None] = contextvars.ContextVar("staging", default=None)


def _finish(tmp: Path, target: Path) -> None:
    """Put a finished temporary file in place: renamed onto a file, copied into a device or FIFO."""
    if is_stream(target):
        with tmp.open("rb") as source, Path(target).open("wb") as sink:
            shutil.copyfileobj(source, sink, 1 << 20)
        tmp.unlink(missing_ok=True)
        return
    real = real_target(target)
    try:
        mode = real.stat().st_mode & 0o777
    except OSError:
        mode = _default_mode()
    os.chmod(tmp, mode)
    os.replace(tmp, real)


def _done(tmp: Path, target: Path) -> None:
    staging = _STAGING.get()
    if staging is not None:
        staging.pending.append((tmp, target))
    else:
        _finish(tmp, target)


def _temporary(target: Path, mode: str = "wb", **open_kwargs: Any) -> IO[Any]:
    stream = is_stream(target)
    real = Path(target) if stream else real_target(target)
    folder = Path(tempfile.gettempdir()) if stream else real.parent
    return tempfile.NamedTemporaryFile(
        mode=mode, dir=folder, prefix=f".{real.name}.", suffix=".tmp", delete=False, **open_kwargs)


@contextlib.contextmanager
def atomic_write(target: Path, mode: str = "w", **open_kwargs: Any) -> Iterator[IO[Any]]:
    """Open a temporary file beside `target`; it replaces `target` only if the block succeeds.

    Args:
        target: the file to create or replace. A symlink is followed; a device or FIFO is written
            directly (it cannot be replaced, and must not become a regular file).
        mode: "w" or "wb"; `open_kwargs` (encoding, newline...) go to the temporary file.

    Yields:
        The open handle. On any error the temporary file is removed and an existing
        `target` is left untouched. Inside a `Staging`, the rename waits for its commit.
    """
    target = Path(target)
    if is_stream(target):
        with target.open(mode, **open_kwargs) as stream:
            yield stream
        return
    handle = _temporary(target, mode, **open_kwargs)
    tmp = Path(handle.name)
    try:
        yield handle
        handle.flush()
        os.fsync(handle.fileno())
        handle.close()
        _done(tmp, target)
    except BaseException:
        handle.close()
        tmp.unlink(missing_ok=True)
        raise


@contextlib.contextmanager
def atomic_path(target: Path) -> Iterator[Path]:
    """Like `atomic_write`, for writers that want a path (openpyxl's `wb.save(path)`).

    Yields:
        A temporary path in `target`'s folder; it is fsynced and renamed onto `target`
        when the block succeeds (copied into it when `target` is a device or FIFO), removed
        when it fails.
    """
    target = Path(target)
    with _temporary(target) as handle:
        tmp = Path(handle.name)
    try:
        yield tmp
        with tmp.open("rb+") as written:
            os.fsync(written.fileno())
        _done(tmp, target)
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


AHEAD = 2  # pieces waiting for the writing thread: bounded memory


def write_alongside(out: IO[bytes], pieces: Iterable[bytes | memoryview | str]) -> None:
    """Write `pieces` into `out` from a second thread while the caller's iterator makes the next ones.

    File writes and zlib (a zip entry) release the GIL, as does Arrow, which renders the pieces: on two
    cores the writing hides behind the rendering. Pieces are written in order; a failure on either
    side is raised here (the other side stops), never lost.
    """
    waiting: queue.Queue[bytes | memoryview | None] = queue.Queue(maxsize=AHEAD)
    failed: list[BaseException] = []

    def write() -> None:
        try:
            while (piece := waiting.get()) is not None:
                out.write(piece)
        except BaseException as exc:  # raised by the caller's thread below
            failed.append(exc)
            while waiting.get() is not None:  # let the caller finish its puts
                pass

    writer = threading.Thread(target=write, name="recon-writer", daemon=True)
    writer.start()
    staging = _STAGING.get()
    try:
        for piece in pieces:
            if failed:
                break
            if staging is not None and staging.abandoned.is_set():
                raise OutputAbandoned("the run failed while this output was written")
            waiting.put(piece.encode("utf-8") if isinstance(piece, str) else piece)
    finally:
        waiting.put(None)
        writer.join()
    if failed:
        raise failed[0]
