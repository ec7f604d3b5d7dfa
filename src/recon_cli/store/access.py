"""Whether the store's file can be used: checks before a run, recognising a recon store, connecting.

Every check here happens before any SQLite write: a path that cannot hold a store, a store that
cannot be written, or another program's SQLite file is refused with a one-line message (exit 2)
before the reconciliation starts, and a file that is not ours is inspected without being opened for
writing. SQLite's own faults (busy past the timeout, read-only, disk full) become messages too.
Stdlib only: the light commands (`explain`, `runs`, `confirm`) come through here.
"""

from __future__ import annotations

import errno
import os
import sqlite3
import stat
from pathlib import Path
from typing import Any, Literal

from recon_cli.errors import ConfigError, InputError, RunNotFound

# PRAGMA application_id of every recon store, "RECN" in the file header: how a recon store is told
# from another program's SQLite file without reading its tables.
APPLICATION_ID = 0x5245434E
# How long a command waits for another recon writing the same store (a million-line save holds the
# lock for seconds) before saying so; RECON_STORE_TIMEOUT (seconds) changes it.
BUSY_TIMEOUT = 120.0
_LEGACY_TABLES = {"runs", "lines", "evidence", "missing", "rejects", "confirmations"}
_SQLITE_MAGIC = b"SQLite format 3\x00"
_READ_ONLY_FIX = "pass another --store, or --no-store to run without saving"

Kind = Literal["new", "recon", "unmarked"]


class ReadOnlyStore(InputError):
    """The store (or the folder SQLite writes its journal in) cannot be written."""


class StoreConnection(sqlite3.Connection):
    """A connection that reports SQLite's faults as recon errors naming the store."""

    store_path: Path
    busy_timeout: float

    def execute(self, sql: str, parameters: Any = (), /) -> sqlite3.Cursor:
        try:
            return super().execute(sql, parameters)
        except sqlite3.OperationalError as exc:
            self._raise_translated(exc)
            raise

    def executemany(self, sql: str, parameters: Any, /) -> sqlite3.Cursor:
        try:
            return super().executemany(sql, parameters)
        except sqlite3.OperationalError as exc:
            self._raise_translated(exc)
            raise

    def _raise_translated(self, exc: sqlite3.OperationalError) -> None:
        error = store_error(self.store_path, exc, self.busy_timeout)
        if error is not exc:
            raise error from exc


def store_error(path: Path, exc: sqlite3.OperationalError, timeout: float) -> Exception:
    """The recon error for a SQLite fault, or `exc` itself when it is not one a person can fix."""
    code = getattr(exc, "sqlite_errorcode", 0) & 0xFF  # the primary code of an extended one
    if code in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED):
        return InputError(f"the run store {path} is busy: another recon is writing to it and did not finish "
                          f"within {timeout:g} s; try again when it is done, or pass another --store")
    if code == sqlite3.SQLITE_READONLY:
        return ReadOnlyStore(f"the run store {path} is read-only; {_READ_ONLY_FIX}")
    if code == sqlite3.SQLITE_FULL:
        return InputError(f"the run store {path}: the disk is full; free some space or pass another --store")
    if code == sqlite3.SQLITE_CANTOPEN:
        return InputError(f"cannot open the run store {path} ({exc}); pass another --store")
    return exc


def busy_timeout(timeout: float | None) -> float:
    """`timeout`, else $RECON_STORE_TIMEOUT, else BUSY_TIMEOUT seconds."""
    if timeout is not None:
        return timeout
    text = os.environ.get("RECON_STORE_TIMEOUT", "").strip()
    try:
        return float(text) if text else BUSY_TIMEOUT
    except ValueError:
        raise ConfigError(f"RECON_STORE_TIMEOUT must be a number of seconds, got '{text}'") from None


def connect(target: Path | str, path: Path, timeout: float, uri: bool = False) -> StoreConnection:
    """A StoreConnection in autocommit mode: each write opens its own transaction."""
    try:
        conn = sqlite3.connect(target, timeout=timeout, isolation_level=None, uri=uri, factory=StoreConnection)
    except sqlite3.OperationalError as exc:
        raise store_error(path, exc, timeout) from exc
    conn.store_path, conn.busy_timeout = path, timeout
    return conn


def preflight(path: Path, writing: bool) -> None:
    """Check, before any work, that `path` can hold the run store; for `writing`, that it can be written.

    Writing creates the store's missing folders, and probes the store file and its folder with real
    writes (SQLite creates its journal beside the store): permission bits say nothing when running as
    root, and a read-only file system is only found by trying. Nothing is created when not writing.

    Raises:
        InputError: the path is a folder, a parent is a file, the store or its folder cannot be written.
        RunNotFound: not writing, and there is no store at `path` yet.
    """
    try:
        if path.is_dir():
            raise InputError(f"the run store {path} is a folder; pass a file path such as {path / 'recon.db'}")
        folder = path.parent
        existing = next((p for p in (folder, *folder.parents) if p.exists()), Path("."))
        if not existing.is_dir():
            raise InputError(f"the run store {path} cannot be created: {existing} is a file, not a folder; "
                             "pass another --store")
        present = path.exists()
        if present and not stat.S_ISREG(path.stat().st_mode):
            raise InputError(f"the run store {path} is not a regular file; pass a file path such as ./recon.db")
    except OSError as exc:  # a folder on the way we may not look into
        raise InputError(f"cannot reach the run store {path} ({exc.strerror}); pass another --store") from exc
    if not writing:
        if not present:
            raise RunNotFound(f"no runs stored yet in {path}; run `recon run INVOICE SUBSCRIPTIONS` first")
        return
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise _unwritable(path, folder, exc) from exc
    if present:
        _probe_file(path)
    _probe_folder(path, folder)


def _probe_file(path: Path) -> None:
    """Open the store for writing and close it: writes nothing, and leaves its times alone."""
    try:
        os.close(os.open(path, os.O_RDWR))
    except OSError as exc:
        if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
            raise ReadOnlyStore(f"the run store {path} is read-only; {_READ_ONLY_FIX}") from exc
        raise InputError(f"cannot write the run store {path} ({exc.strerror}); pass another --store") from exc


def _probe_folder(path: Path, folder: Path) -> None:
    """Create and remove a file beside the store, as SQLite does with its journal."""
    probe = folder / f".recon-probe-{os.getpid()}-{os.urandom(4).hex()}"
    try:
        os.close(os.open(probe, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
    except OSError as exc:
        raise _unwritable(path, folder, exc) from exc
    probe.unlink()


def _unwritable(path: Path, folder: Path, exc: OSError) -> InputError:
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return ReadOnlyStore(f"the run store {path} is read-only: its folder {folder} cannot be written "
                             f"(SQLite writes a journal beside the store); {_READ_ONLY_FIX}")
    if exc.errno in (errno.ENOTDIR, errno.EEXIST):
        return InputError(f"the run store {path} cannot be created: a part of {folder} is a file, not a folder; "
                          "pass another --store")
    return InputError(f"cannot write the run store {path} in {folder} ({exc.strerror}); pass another --store")


def inspect(path: Path, timeout: float) -> Kind:
    """What `path` holds, without writing to it: "new" (missing, empty, an empty SQLite file), "recon"
    (marked with APPLICATION_ID) or "unmarked" (SQLite with tables and a user_version: a store made
    before the mark, which schema checks); InputError for anything else.

    The header is read as bytes; only an unmarked rollback-journal file is opened, and read-only.
    """
    try:
        with open(path, "rb") as file:
            header = file.read(100)
    except FileNotFoundError:
        return "new"
    except OSError as exc:
        raise InputError(f"cannot read the run store {path} ({exc.strerror}); pass another --store") from exc
    if not header:
        return "new"
    if len(header) < 100 or not header.startswith(_SQLITE_MAGIC):
        raise _not_ours(path, "it is not a SQLite database")
    application_id = int.from_bytes(header[68:72], "big", signed=True)
    if application_id == APPLICATION_ID:
        return "recon"
    if application_id:
        raise _not_ours(path, f"its application id is {application_id:#x}: another program's database")
    if header[18] == 2:  # a recon store never uses WAL; even a read-only look would leave -wal and -shm files
        raise _not_ours(path, "it is a write-ahead-log database of another program")
    tables, version = _peek(path, timeout)
    if not tables and not version:
        return "new"  # an empty SQLite file: nothing to harm
    if version > 0 and tables >= _LEGACY_TABLES:
        return "unmarked"
    reason = f"it holds the tables {', '.join(sorted(tables)[:5])}" if tables else f"its user_version is {version}"
    raise _not_ours(path, f"{reason}, and no recon application id")


def _peek(path: Path, timeout: float) -> tuple[set[str], int]:
    """The table names and user_version of an unmarked file, read through a read-only connection."""
    conn = connect(f"{path.absolute().as_uri()}?mode=ro", path, timeout, uri=True)
    try:
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        return tables, int(conn.execute("PRAGMA user_version").fetchone()[0])
    except sqlite3.DatabaseError as exc:  # corrupt, encrypted, or a journal to roll back first
        raise _not_ours(path, str(exc)) from exc
    finally:
        conn.close()


def _not_ours(path: Path, reason: str) -> InputError:
    return InputError(f"{path} is not a recon run store ({reason}); recon leaves it untouched: pass another "
                      "--store, or move the file aside")
