"""`recon.toml`: defaults for `recon run`, validated strictly; command-line flags always win."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from recon_cli.errors import ConfigError

DEFAULT_CONFIG = Path("recon.toml")


class RunConfig(BaseModel):
    """The `[run]` table of recon.toml (every key optional)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    changes: Path | None = None
    invoice_format: str | None = None
    period: str | None = None
    as_of: str | None = None
    min_margin: str | None = None
    fail_on: Literal["unexplained", "any", "never"] | None = None
    store: Path | None = None
    xlsx: Path | None = None
    csv: Path | None = None
    json_path: str | None = None


def load_config(path: Path | None) -> RunConfig:
    """Read recon.toml (the given path, or ./recon.toml when present); relative paths resolve beside it."""
    if path is None:
        if not DEFAULT_CONFIG.is_file():
            return RunConfig()
        path = DEFAULT_CONFIG
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be read ({exc.strerror})") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from exc
    unknown_tables = sorted(set(data) - {"run"})
    if unknown_tables:
        raise ConfigError(f"{path}: unknown table(s) {', '.join(unknown_tables)}; valid: [run]")
    table = dict(data.get("run", {}))
    if "json" in table:
        table["json_path"] = table.pop("json")
    try:
        config = RunConfig.model_validate(table)
    except ValidationError as exc:
        problems = "; ".join(
            f"[run].{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
        valid = ", ".join(k if k != "json_path" else "json" for k in RunConfig.model_fields)
        raise ConfigError(f"{path}: {problems} (valid keys: {valid})") from exc
    base = path.parent
    updates = {name: base / value for name in ("changes", "store", "xlsx", "csv")
               if (value := getattr(config, name)) is not None and not value.is_absolute()}
    return config.model_copy(update=updates)
