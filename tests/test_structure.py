"""The package's shape (STYLE.md): imports point one way, and modules stay small enough to read."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "recon_cli"


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def _runtime_nodes(tree: ast.AST) -> list[ast.AST]:
    """Every node except those under `if TYPE_CHECKING:` (imports for annotations only)."""
    found: list[ast.AST] = []

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for child in node.orelse:
                visit(child)
            return
        found.append(node)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return found


def imports_of(name: str, path: Path, known: set[str]) -> set[str]:
    """The package modules `name` imports at run time, at the top or inside functions."""
    out: set[str] = set()
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in _runtime_nodes(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out |= {alias.name for alias in node.names if alias.name in known}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            for alias in node.names:
                target = f"{base}.{alias.name}"
                out.add(target if target in known else base)
    return {m for m in out if m in known and m != name}


def import_graph() -> dict[str, set[str]]:
    found = modules()
    return {name: imports_of(name, path, set(found)) for name, path in found.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Each import circle once, as the list of modules around it."""
    found: list[list[str]] = []
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for target in sorted(graph[node]):
            if state.get(target) == 1:
                found.append([*stack[stack.index(target):], target])
            elif target not in state:
                visit(target)
        stack.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node)
    return found


def test_the_import_graph_has_no_circle() -> None:
    """No module imports (directly or around a circle) a module that imports it back."""
    graph = import_graph()
    assert graph.get("recon_cli.pipeline"), "the graph was not built"
    assert cycles(graph) == []


def test_the_cycle_finder_finds_a_circle() -> None:
    """The check above can fail: a two-module circle is found."""
    assert cycles({"a": {"b"}, "b": {"a"}, "c": set()}) == [["a", "b", "a"]]


def test_writers_and_stages_import_one_way() -> None:
    """The low modules never reach up: records and frames import no stage, outputs import no stage."""
    graph = import_graph()
    stages = {"recon_cli.pipeline", "recon_cli.match", "recon_cli.explain", "recon_cli.price", "recon_cli.cli",
              "recon_cli.runner", "recon_cli.normalize", "recon_cli.load"}
    for name in ("recon_cli.records", "recon_cli.frames", "recon_cli.errors"):
        assert not graph[name] & stages, name
    for name, targets in graph.items():
        if name.startswith("recon_cli.outputs"):
            assert not targets & stages, name


def test_modules_stay_small() -> None:
    """pipeline only orchestrates, the CLI only translates, and no module grows past 400 lines."""
    sizes = {name: len(path.read_text(encoding="utf-8").splitlines()) for name, path in modules().items()}
    assert sizes["recon_cli.pipeline"] < 150
    assert sizes["recon_cli.cli"] < 250
    assert {name: size for name, size in sizes.items() if size > 400} == {}
