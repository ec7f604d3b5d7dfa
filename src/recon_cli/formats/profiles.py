"""Profiles: any provider's invoice read through a column mapping onto the NCE columns.

A profile is a small TOML table, validated strictly (unknown keys and unknown columns are
named, with the valid ones listed). By default it extends `nce`: a column it does not map keeps
the Partner Center header, so a profile lists only what its provider names differently.

    name = "acme"
    title = "ACME Cloud invoice"
    detect = ["ACME Invoice No", "Net Amount"]   # headers that identify the file (optional)
    date_format = "DMY"                          # optional; else decided from the values
    decimal = "comma"                            # optional; else decided from the values
    [columns]
    subscription_id = "Vendor Subscription"
    subtotal = ["Net Amount", "Net"]             # first header found wins
    [defaults]
    currency = "EUR"                             # for a file without a currency column
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from recon_cli.errors import ConfigError
from recon_cli.formats import Column, TableFormat, charge_type_key
from recon_cli.formats.nce import NCE

VALID_COLUMNS = tuple(c.name for c in NCE.columns)
DEFAULT_REQUIRED = ("subscription_id", "quantity", "subtotal")


def _check_columns(names: dict[str, object] | list[str]) -> dict[str, object] | list[str]:
    unknown = [name for name in names if name not in VALID_COLUMNS]
    if unknown:
        raise ValueError(f"unknown column {', '.join(repr(n) for n in unknown)}; valid columns: "
                         + ", ".join(VALID_COLUMNS))
    return names


class Profile(BaseModel):
    """A provider's invoice layout: our column name -> its header(s), plus its conventions."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    title: str | None = None
    description: str = ""
    extends: Literal["nce", "none"] = "nce"
    columns: dict[str, str | list[str]]
    required: list[str] = list(DEFAULT_REQUIRED)
    detect: list[str] = []
    date_format: Literal["MDY", "DMY"] | None = None
    decimal: Literal["dot", "comma"] | None = None
    charge_types: list[str] = []
    cancel_charge_types: list[str] = []
    defaults: dict[str, str] = {}

    @field_validator("columns", "defaults", "required")
    @classmethod
    def _known_columns(cls, value: dict[str, object] | list[str]) -> dict[str, object] | list[str]:
        return _check_columns(value)

    def table_format(self) -> TableFormat:
        """The profile as a declared format, ready for load and normalize."""
        required = set(self.required) - set(self.defaults)
        columns = []
        for column in NCE.columns:
            mapped = self.columns.get(column.name)
            if mapped is not None:
                headers = [mapped] if isinstance(mapped, str) else list(mapped)
                columns.append(Column(column.name, headers[0], column.type, required=column.name in required,
                                      nonblank=column.nonblank, aliases=tuple(headers[1:]), match_name=False))
            elif self.extends == "nce":
                columns.append(column if column.required == (column.name in required) else Column(
                    column.name, column.source, column.type, required=column.name in required,
                    nonblank=column.nonblank, aliases=column.aliases))
            else:
                columns.append(Column(column.name, "", column.type, match_name=False))
        known = {charge_type_key(t) for t in self.charge_types}
        cancels = {charge_type_key(t) for t in self.cancel_charge_types}
        return TableFormat(
            name=self.name, title=self.title or f"{self.name} (profile)", columns=tuple(columns),
            signature=tuple(self.detect), description=self.description,
            base=NCE if self.extends == "nce" else None,
            known_charge_types=frozenset(known) | (NCE.known_charge_types if self.extends == "nce" else frozenset()),
            cancel_charge_types=frozenset(cancels) | NCE.cancel_charge_types,
            event_ranks={**NCE.event_ranks, **dict.fromkeys(cancels, 2)},
            vital=NCE.vital,
            date_order=self.date_format,
            declared_date_order=self.date_format,
            decimal_comma=None if self.decimal is None else self.decimal == "comma",
            defaults=dict(self.defaults),
        )


def profile_from_table(table: dict[str, object], where: str) -> Profile:
    """Validate a profile table; errors name each key and list the valid ones."""
    try:
        return Profile.model_validate(table)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or '(profile)'}: "
                             + str(e["msg"]).removeprefix("Value error, ") for e in exc.errors())
        raise ConfigError(f"{where}: {problems} (valid keys: {', '.join(Profile.model_fields)})") from None


def read_toml(path: Path, flag: str = "") -> dict[str, Any]:
    """A TOML file as a dict (recon.toml or a profile); ConfigError naming the file (and the flag that gave it)."""
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"{flag}{path}: cannot be read ({exc.strerror})") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None


def load_profile(path: Path) -> Profile:
    """A profile from its own TOML file (`--invoice-format acme.toml`); `name` defaults to the file stem."""
    data = read_toml(path, "--invoice-format ")
    data.setdefault("name", path.stem)
    return profile_from_table(data, str(path))
