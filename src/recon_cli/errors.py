"""The one error family: what stops a run, and the exit code each means.

Row-level problems are not raised: they are collected as rejects (see normalize.py).
Only a problem that stops the run becomes an exception; the CLI turns it into a message.
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """Exit codes are a contract (PRODUCT.md §4)."""

    OK = 0
    NEEDS_ATTENTION = 1
    BAD_INPUT = 2
    INTERNAL = 70
    INTERRUPTED = 130
    TERMINATED = 143  # SIGTERM: 128 + 15, as shells report it


class ReconError(Exception):
    """Base of every error the CLI reports as a message rather than a traceback."""

    exit_code: int = ExitCode.BAD_INPUT


class InputError(ReconError):
    """An input file cannot be used as a whole: unreadable, empty, missing a required column."""


class ConfigError(ReconError):
    """A flag or configuration value is wrong."""


class OutputError(ReconError):
    """An output path cannot be written: a folder, a missing or read-only folder, a path that is no file."""


class Terminated(BaseException):
    """SIGTERM, raised where the program is, so that every `finally` and temporary file is cleaned up
    as for Ctrl-C (a BaseException, like KeyboardInterrupt: no `except Exception` swallows it)."""


class RunNotFound(ReconError):
    """No stored run (or no line or subscription in it) answers to the id asked for."""
