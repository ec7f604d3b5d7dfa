"""README.md stays true: its generated blocks match the code, and every output field is described."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from recon_cli.records import LINE_FIELDS, MONEY_FIGURES

ROOT = Path(__file__).resolve().parents[1]


def blocks() -> object:
    spec = importlib.util.spec_from_file_location("readme_blocks", ROOT / "tools" / "readme_blocks.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_generated_blocks_are_fresh() -> None:
    """`python tools/readme_blocks.py` would change nothing: the tables come from the code."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert blocks().render(text) == text, "README.md is stale: run .venv/bin/python tools/readme_blocks.py"  # type: ignore[attr-defined]


def test_every_line_field_and_money_figure_is_described() -> None:
    """Each JSON line field has a row in the README's field table, and each money figure its definition."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    table = text[text.index("| Line field | Meaning |"):]
    table = table[:table.index("\n\n")]
    assert [name for name in LINE_FIELDS if f"`{name}`" not in table] == []
    assert all(meaning in text for _, meaning in MONEY_FIGURES.values())
