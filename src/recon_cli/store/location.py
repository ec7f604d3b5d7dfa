"""Where the run store lives: one store per user by default, so every folder sees the same runs.

The first of: `--store`, `$RECON_HOME/recon.db`, recon.toml's `[run] store` (in the current
folder), the user's data folder (platformdirs: `~/.local/share/recon/recon.db` on Linux,
`~/Library/Application Support/recon/recon.db` on macOS, `%LOCALAPPDATA%\\recon\\recon.db` on
Windows). Standard library and platformdirs only: the light commands use it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

STORE_NAME = "recon.db"
# Where stores lived before one per user: a store left there is pointed out, never used silently.
OLD_FOLDER_STORE = Path(".recon") / STORE_NAME


@dataclass(frozen=True)
class StoreLocation:
    """The store file and what chose it ("--store", "RECON_HOME", "recon.toml" or "default")."""

    path: Path
    source: str

    @property
    def is_default(self) -> bool:
        return self.source == "default"

    def note(self) -> str | None:
        """What to tell the user about the store used: where it is when not the default one, and an
        older per-folder store that is no longer read."""
        if not self.is_default:
            return f"Store: {self.path} (from {self.source})"
        if OLD_FOLDER_STORE.is_file() and OLD_FOLDER_STORE.resolve() != self.path.resolve():
            return (f"Store: {self.path}. A store from an older recon is in {OLD_FOLDER_STORE}; pass "
                    f"--store {OLD_FOLDER_STORE} to use its runs and confirmations.")
        return None


def default_store() -> Path:
    from platformdirs import user_data_dir

    return Path(user_data_dir("recon", appauthor=False)) / STORE_NAME


def locate_store(store: Path | None, source: str = "--store") -> StoreLocation:
    """The store to use; `source` names where an explicit `store` came from (recon.toml fills `--store`)."""
    if store is not None:
        return StoreLocation(Path(store).expanduser(), source)
    home = os.environ.get("RECON_HOME")
    if home:
        return StoreLocation(Path(home).expanduser() / STORE_NAME, "RECON_HOME")
    configured = _configured_store(Path("recon.toml"))
    if configured is not None:
        return StoreLocation(configured, "recon.toml")
    return StoreLocation(default_store(), "default")


def _configured_store(config: Path) -> Path | None:
    """recon.toml's `[run] store`, relative to the file; None without one (a broken file is `run`'s to report)."""
    import tomllib

    if not config.is_file():
        return None
    try:
        with config.open("rb") as handle:
            value = tomllib.load(handle).get("run", {}).get("store")
    except (OSError, tomllib.TOMLDecodeError):
        return None
    return (config.parent / value).expanduser() if isinstance(value, str) and value else None


def resolve_store_path(store: Path | None) -> Path:
    """The store file (see `locate_store`)."""
    return locate_store(store).path
