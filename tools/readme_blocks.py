"""The parts of README.md written from the code, so the README never drifts from it.

Each block sits between `<!-- generated: NAME -->` and `<!-- end: NAME -->`. Run
`python tools/readme_blocks.py` to rewrite them; tests/test_readme.py fails when one is stale.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def money_figures() -> str:
    from recon_cli.records import MONEY_FIGURES

    rows = [f"| `{name}` | {label} | {meaning} |" for name, (label, meaning) in MONEY_FIGURES.items()]
    return "\n".join(["| Figure | In the workbook | Meaning |", "|---|---|---|", *rows])


def csv_columns() -> str:
    from recon_cli.records import LINES, Output, carried

    return ", ".join(f"`{field.csv_name}`" for field in carried(LINES, Output.CSV))


def line_fields() -> str:
    from recon_cli.records import LINE_FIELDS

    return ", ".join(f"`{name}`" for name in LINE_FIELDS)


def missing_fields() -> str:
    from recon_cli.records import MISSING_FIELDS

    return ", ".join(f"`{name}`" for name in MISSING_FIELDS)


def _columns(fmt_name: str) -> str:
    from recon_cli.formats import subscriptions

    fmt = getattr(subscriptions, fmt_name)
    rows = ["| Column | Required | Meaning | Also read from |", "|---|---|---|---|"]
    for column in fmt.columns:
        required = "yes" if column.required or column.nonblank else "no"
        required = "yes*" if column.name == "quantity_delta" else required
        headers = [column.source, *column.aliases] if column.source != column.name else list(column.aliases)
        rows.append(f"| `{column.name}` | {required} | {column.meaning} | {', '.join(headers)} |")
    return "\n".join(rows)


def subscription_columns() -> str:
    return _columns("SUBSCRIPTIONS")


def change_log_columns() -> str:
    return _columns("CHANGE_LOG")


def vocabularies() -> str:
    from recon_cli.formats import vocabularies as words

    rows = ["| Column | Read as | Written in exports as |", "|---|---|---|"]
    for column, vocabulary in (("status", words.STATUS), ("billing_frequency", words.FREQUENCY),
                               ("provisioning_status", words.PROVISIONING)):
        for key, synonyms in vocabulary.items():
            rows.append(f"| `{column}` | `{key}` | {', '.join(synonyms)} |")
    rows.append(f"| invoice `BillingFrequency` | (no plan) | {', '.join(words.NO_PLAN)} |")
    return "\n".join(rows)


BLOCKS: dict[str, Callable[[], str]] = {
    "money-figures": money_figures, "csv-columns": csv_columns, "line-fields": line_fields,
    "missing-fields": missing_fields, "subscription-columns": subscription_columns,
    "change-log-columns": change_log_columns, "vocabularies": vocabularies,
}


def render(text: str) -> str:
    """`text` with every generated block rewritten from the code."""
    for name, build in BLOCKS.items():
        pattern = re.compile(rf"(<!-- generated: {name} -->\n)(?:.*?\n)?(<!-- end: {name} -->)", re.DOTALL)
        found = pattern.search(text)
        if found is None:
            raise SystemExit(f"README.md has no block {name!r}")
        text = text[:found.start()] + found.group(1) + build() + "\n" + found.group(2) + text[found.end():]
    return text


if __name__ == "__main__":
    current = README.read_text(encoding="utf-8")
    wanted = render(current)
    if "--check" in sys.argv:
        sys.exit(0 if wanted == current else "README.md is stale: run python tools/readme_blocks.py")
    README.write_text(wanted, encoding="utf-8")
