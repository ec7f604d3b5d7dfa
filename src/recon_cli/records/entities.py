"""The small records `recon explain`, `confirm` and the store pass around, without pydantic.

`recon explain` imports these and nothing heavier, so they are dataclasses with the few
pydantic-style methods the code uses (`model_validate`, `model_dump`, `model_dump_json`,
`model_copy`): importing pydantic alone would cost `explain` ~80 ms.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Self


class Record:
    """pydantic-like conveniences for the plain dataclasses below."""

    model_fields: ClassVar[dict[str, None]]
    _int_fields: ClassVar[frozenset[str]] = frozenset()

    @classmethod
    def model_validate(cls, data: Mapping[str, Any]) -> Self:
        values = {k: v for k, v in data.items() if k in cls.model_fields}
        for name in cls._int_fields & values.keys():
            if values[name] is not None and values[name] != "":
                values[name] = int(values[name])
        return cls(**values)

    def model_dump(self) -> dict[str, Any]:
        return dataclasses.asdict(self)  # type: ignore[call-overload, no-any-return]

    def model_dump_json(self, indent: int | None = None) -> str:
        return json.dumps(self.model_dump(), indent=indent, ensure_ascii=False)

    def model_copy(self, update: Mapping[str, Any] | None = None) -> Self:
        return dataclasses.replace(self, **(update or {}))  # type: ignore[type-var]


def _fields(cls: type[Record]) -> type[Record]:
    cls.model_fields = {f.name: None for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    return cls


@_fields
@dataclass(frozen=True)
class Reject(Record):
    """An input row that could not be used, and why."""

    file: str
    row: int
    column: str
    value: str = ""
    code: str = ""
    message: str = ""
    _int_fields: ClassVar[frozenset[str]] = frozenset({"row"})


@_fields
@dataclass(frozen=True)
class EvidenceRecord(Record):
    """A change-log record used to explain a difference."""

    change_id: str
    subscription_id: str
    row: int | None = None
    effective_date: str = ""
    quantity_delta: str = ""
    provisioning_status: str = ""
    initiated_by: str = ""
    customer_invoice: str = ""
    status_reason: str = ""
    evidence_kind: str = ""
    _int_fields: ClassVar[frozenset[str]] = frozenset({"row"})


@_fields
@dataclass(frozen=True)
class Confirmation(Record):
    """A person's sign-off on a subscription's findings (PRODUCT.md §3 rule 9): it holds while the
    subscription shows the same quantities, provider unit cost and unit price."""

    subscription_id: str
    provider_quantity: str | None
    subscription_quantity: str | None
    note: str
    confirmed_by: str
    confirmed_at: str
    run_id: str
    line_id: str | None = None
    unit_cost: str | None = None
    unit_price: str | None = None


@_fields
@dataclass(frozen=True)
class Explanation(Record):
    """Everything `recon explain ID` shows, read from the store without pandas.

    `lines` holds one dict per invoice line with the fields of LINE_FIELDS (values as
    strings or None); `missing` the missing-subscription entry when the id is one.
    """

    run_id: str
    query: str
    matched_by: str  # "line_id" or "subscription_id"
    period: str | None = None
    invoice_file: str = ""
    lines: list[dict[str, str | int | None]] = field(default_factory=list)
    evidence: list[EvidenceRecord] = field(default_factory=list)
    missing: dict[str, str | int | None] | None = None
    confirmation: Confirmation | None = None
    # The subscription in each stored run, newest first (store/history.py HISTORY_COLUMNS).
    history: list[dict[str, Any]] = field(default_factory=list)
    # `recon explain CUSTOMER`: the customer and its subscriptions in the run (matched_by "customer").
    customer: dict[str, str] | None = None
    subscriptions: list[dict[str, Any]] = field(default_factory=list)
