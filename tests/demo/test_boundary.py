"""Nothing in the application imports the demo: `seed-demo` reaches the `vendorrisk` command only
through the `flask.commands` entry point in pyproject.toml."""

from __future__ import annotations

import ast
from pathlib import Path

import vendorrisk

PACKAGE = Path(vendorrisk.__file__).parent


def _imported(node: ast.AST) -> list[str]:
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if isinstance(node, ast.ImportFrom) and node.module:
        return [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
    return []


def test_nothing_outside_the_demo_imports_it():
    importers = [
        f"{path.relative_to(PACKAGE)}:{node.lineno}"
        for path in sorted(PACKAGE.rglob("*.py"))
        if path.relative_to(PACKAGE).parts[0] != "demo"
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if any(
            name == "vendorrisk.demo" or name.startswith("vendorrisk.demo.")
            for name in _imported(node)
        )
    ]
    assert importers == []
