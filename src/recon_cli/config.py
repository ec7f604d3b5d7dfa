"""`recon.toml`: defaults for `recon run`, validated strictly, handed to click as its `default_map`
so that command-line flags always win."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from recon_cli.errors import ConfigError
from recon_cli.formats.profiles import profile_from_table, read_toml
from recon_cli.limits import Limits

DEFAULT_CONFIG = Path("recon.toml")
TABLES = ("run", "invoice_format", "limits")
# recon.toml keys whose `recon run` parameter has another name.
PARAMETERS = {"xlsx": "xlsx_path", "csv": "csv_path", "json": "json_target"}
PATHS = ("changes", "usage", "store", "xlsx", "csv")


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
    json_path: str | None = Field(default=None, alias="json")  # `json` would shadow BaseModel.json


def run_defaults(path: Path | None) -> dict[str, Any]:
    """recon.toml (the given path, or ./recon.toml when present) as defaults for `recon run`'s parameters.

    Relative paths resolve beside the file; an `[invoice_format]` table becomes the default
    `--invoice-format` (a Profile); a `[limits]` table becomes `limits`, a `Limits` for the run
    (no parameter has that name: `recon run` reads it with `ctx.lookup_default("limits")`).
    Values are still checked by each parameter's click type.
    """
    if path is None:
        if not DEFAULT_CONFIG.is_file():
            return {}
        path = DEFAULT_CONFIG
    data = read_toml(path)
    unknown_tables = sorted(set(data) - set(TABLES))
    if unknown_tables:
        raise ConfigError(f"{path}: unknown table(s) {', '.join(unknown_tables)}; valid: "
                          + ", ".join(f"[{t}]" for t in TABLES))
    table = dict(data.get("run", {}))
    if isinstance(table.get("date_format"), str):
        table["date_format"] = table["date_format"].upper()
    try:
        config = RunTable.model_validate(table)
    except ValidationError as exc:
        problems = "; ".join(f"[run].{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
        valid = ", ".join(f.alias or name for name, f in RunTable.model_fields.items())
        raise ConfigError(f"{path}: {problems} (valid keys: {valid})") from exc
    base = path.parent
    defaults: dict[str, Any] = {}
    for key, value in config.model_dump(exclude_none=True, by_alias=True).items():
        if key in PATHS and not Path(value).is_absolute():
            value = base / value
        defaults[PARAMETERS.get(key, key)] = value
    fmt = defaults.get("invoice_format")
    if isinstance(fmt, str) and fmt.lower().endswith(".toml") and not Path(fmt).is_absolute():
        defaults["invoice_format"] = str(base / fmt)
    if "limits" in data:
        if not isinstance(data["limits"], dict):
            raise ConfigError(f"{path}: [limits] must be a table of caps, like max_input_size = \"20GB\"")
        defaults["limits"] = Limits.from_table(data["limits"], str(path))
    if "invoice_format" in data:
        if fmt:
            raise ConfigError(f"{path}: give the invoice format either as [run].invoice_format or as an "
                              "[invoice_format] table, not both")
        profile_table = dict(data["invoice_format"])
        profile_table.setdefault("name", "recon.toml")
        defaults["invoice_format"] = profile_from_table(profile_table, f"{path}: [invoice_format]")
    return defaults
