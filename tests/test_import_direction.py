"""The layout's arrows point one way (README "How it is built"): each top-level folder imports only
the folders below it, and no folder reaches into another's private (`_`-prefixed) module.

The check reads every module's imports with `ast` (those inside functions too), so an upward
import anywhere fails it; the second test shows that it does.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# What each folder may import of the project's own folders (itself always).
ALLOWED: dict[str, frozenset[str]] = {
    "domain": frozenset(),
    "security": frozenset({"domain"}),
    "workflows": frozenset({"domain"}),
    "activities": frozenset({"domain"}),
    "gateway": frozenset({"domain", "activities"}),
    "config": frozenset({"domain", "security"}),
    "client": frozenset({"domain", "security", "config", "workflows"}),
    "worker": frozenset({"domain", "config", "workflows", "activities", "gateway"}),
    # samples, demo steps and the dev-server launcher: below the fronts, shared by cli, bench, scripts, tests
    "dev": frozenset({"domain", "config", "workflows", "activities"}),
    "api": frozenset({"domain", "security", "config", "client", "workflows", "activities"}),
    "cli": frozenset({"domain", "security", "config", "client", "workflows", "activities", "worker", "api", "dev"}),
    "bench": frozenset(
        {"domain", "security", "config", "client", "workflows", "activities", "worker", "api", "cli", "gateway", "dev"}
    ),
    "scripts": frozenset(
        {"domain", "security", "config", "client", "workflows", "activities", "gateway", "worker", "api", "cli", "dev"}
    ),
}


def _imported(node: ast.AST, module: str) -> list[str]:
    """The dotted names an import statement brings in (relative imports resolved against `module`)."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if isinstance(node, ast.ImportFrom):
        base = node.module or ""
        if node.level:
            parent = module.split(".")[: -node.level]
            base = ".".join([*parent, base] if base else parent)
        return [f"{base}.{alias.name}" for alias in node.names]
    return []


def violations(root: Path, allowed: dict[str, frozenset[str]] = ALLOWED) -> list[str]:
    """Every import under `root` that points up the layout or into another folder's private module."""
    found = []
    for folder in allowed:
        for path in sorted((root / folder).rglob("*.py")):
            module = ".".join(path.relative_to(root).with_suffix("").parts)
            for node in ast.walk(ast.parse(path.read_text(), str(path))):
                if not isinstance(node, ast.Import | ast.ImportFrom):
                    continue
                for name in _imported(node, module):
                    parts = name.split(".")
                    top = parts[0]
                    if top == folder or top not in allowed:
                        continue
                    where = f"{path.relative_to(root)}:{node.lineno}"
                    if top not in allowed[folder]:
                        found.append(f"{where}: {folder} may not import {top} ({name})")
                    elif any(p.startswith("_") and not p.startswith("__") for p in parts[1:]):
                        found.append(f"{where}: {name} is private to {top}")
    return found


def test_every_import_points_down_the_layout() -> None:
    assert [f for f in ALLOWED if (ROOT / f).is_dir()] == list(ALLOWED)
    assert violations(ROOT) == []


def test_an_upward_or_private_import_is_caught(tmp_path: Path) -> None:
    for folder in ("domain", "workflows", "activities", "gateway"):
        (tmp_path / folder).mkdir()
    (tmp_path / "domain" / "rules.py").write_text("def f():\n    from workflows.claim import ClaimWorkflow\n")
    (tmp_path / "workflows" / "claim.py").write_text("from domain import rules\nfrom . import track_base\n")
    (tmp_path / "activities" / "_sqlite.py").write_text("")
    (tmp_path / "gateway" / "server.py").write_text("from activities._sqlite import connect\nfrom ..api import app\n")
    allowed = {k: ALLOWED[k] for k in ("domain", "workflows", "activities", "gateway", "api")}
    (tmp_path / "api").mkdir()
    assert violations(tmp_path, allowed) == [
        "domain/rules.py:2: domain may not import workflows (workflows.claim.ClaimWorkflow)",
        "gateway/server.py:1: activities._sqlite.connect is private to activities",
        "gateway/server.py:2: gateway may not import api (api.app)",
    ]
