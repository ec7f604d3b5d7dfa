"""`recon.toml`: defaults for `recon run`, validated strictly; command-line flags always win."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from recon_cli.errors import ConfigError

DEFAULT_CONFIG = Path("recon.toml")
TABLES = ("run", "invoice_format")


class RunTable(BaseModel):
    """The `[run]` table of recon.toml (every key optional)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    changes: Path | None = None
    usage: Path | None = None
    invoice_format: str | None = None
    date_format: Literal["MDY", "DMY"] | None = None
    period: str | None = None
    as_of: str | None = None
    min_margin: str | None = None
    fail_on: Literal["unexplained", "any", "never"] | None = None
    store: Path | None = None
    xlsx: Path | None = None
    csv: Path | None = None
    json_path: str | None = None


class RunConfig(RunTable):
    """Everything recon.toml sets for `recon run`: the `[run]` keys, plus `invoice_profile`, the
    `[invoice_format]` table (a column mapping for the provider's invoice, a
    recon_cli.formats.profiles.Profile)."""

    invoice_profile: Any = None


def read_toml(path: Path, flag: str = "") -> dict[str, Any]:
    """A TOML file as a dict; ConfigError naming the file (and the flag that gave it) otherwise."""
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"{flag}{path}: cannot be read ({exc.strerror})") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None


def load_config(path: Path | None) -> RunConfig:
    """Read recon.toml (the given path, or ./recon.toml when present); relative paths resolve beside it."""
    if path is None:
        if not DEFAULT_CONFIG.is_file():
            return RunConfig()
        path = DEFAULT_CONFIG
    data = read_toml(path)
    unknown_tables = sorted(set(data) - set(TABLES))
    if unknown_tables:
        raise ConfigError(f"{path}: unknown table(s) {', '.join(unknown_tables)}; valid: "
                          + ", ".join(f"[{t}]" for t in TABLES))
    table = dict(data.get("run", {}))
    if "json" in table:
        table["json_path"] = table.pop("json")
    if isinstance(table.get("date_format"), str):
        table["date_format"] = table["date_format"].upper()
    try:
        config = RunConfig.model_validate(RunTable.model_validate(table).model_dump())
    except ValidationError as exc:
        problems = "; ".join(
            f"[run].{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
        valid = ", ".join({"json_path": "json"}.get(k, k) for k in RunTable.model_fields)
        raise ConfigError(f"{path}: {problems} (valid keys: {valid})") from exc
    base = path.parent
    updates: dict[str, Any] = {name: base / value for name in ("changes", "usage", "store", "xlsx", "csv")
                               if (value := getattr(config, name)) is not None and not value.is_absolute()}
    if config.invoice_format and config.invoice_format.lower().endswith(".toml") and \
            not Path(config.invoice_format).is_absolute():
        updates["invoice_format"] = str(base / config.invoice_format)
    if "invoice_format" in data:
        if config.invoice_format:
            raise ConfigError(f"{path}: give the invoice format either as [run].invoice_format or as an "
                              "[invoice_format] table, not both")
        from recon_cli.formats.profiles import profile_from_table

        profile_table = dict(data["invoice_format"])
        profile_table.setdefault("name", "recon.toml")
        updates["invoice_profile"] = profile_from_table(profile_table, f"{path}: [invoice_format]")
    return config.model_copy(update=updates)
