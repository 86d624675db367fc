"""The layout's arrows point one way (README, *Folders*): each top-level folder imports only
the folders below it, and no folder reaches into another's private (`_`-prefixed) module.

The check reads every module's imports with `ast` (those inside functions too), so an upward
import anywhere fails it; the second test shows that it does.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

BELOW_FRONTS = frozenset({"domain", "security", "workflows", "activities", "gateway", "config", "client", "worker", "dev"})
FRONTS = frozenset({"api", "cli"})
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
    # samples, demo steps, the dev-server launcher and the real cluster (which sets its namespace up
    # through the client, as compose's job does): below the fronts, shared by cli, bench, scripts, tests
    "dev": frozenset({"domain", "config", "client", "workflows", "activities"}),
    "api": frozenset({"domain", "security", "config", "client", "workflows", "activities"}),
    "cli": frozenset({"domain", "security", "config", "client", "workflows", "activities", "worker", "api", "dev"}),
    # bench/, scripts/ and tests/ use the layers below the fronts, never the fronts themselves...
    "bench": BELOW_FRONTS,
    "scripts": BELOW_FRONTS,
    "tests": BELOW_FRONTS | {"bench", "scripts"},  # the benchmarks and scripts have tests too
}
# ...except the tests of a front, which import the front they test (and the CLI serves the API).
EXCEPTIONS: dict[str, frozenset[str]] = {"tests/api": FRONTS, "tests/cli": FRONTS}
# The CLI imports the API only to serve it (`claims run`, `claims api`, `claims codec-server`): what
# both fronts show (a claim with its SMS deliveries, the operations counts) comes from below them.
SERVES_API = frozenset({"cli/serve.py"})


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


def violations(
    root: Path, allowed: dict[str, frozenset[str]] = ALLOWED, exceptions: dict[str, frozenset[str]] = EXCEPTIONS
) -> list[str]:
    """Every import under `root` that points up the layout or into another folder's private module."""
    found = []
    for folder in allowed:
        for path in sorted((root / folder).rglob("*.py")):
            module = ".".join(path.relative_to(root).with_suffix("").parts)
            if path.relative_to(root).parts[:1] == ("tests",) and "histories" in path.parts:
                continue
            extra = next((more for sub, more in exceptions.items() if path.relative_to(root).is_relative_to(sub)), frozenset())
            for node in ast.walk(ast.parse(path.read_text(), str(path))):
                if not isinstance(node, ast.Import | ast.ImportFrom):
                    continue
                for name in _imported(node, module):
                    parts = name.split(".")
                    top = parts[0]
                    if top == folder or top not in allowed:
                        continue
                    where = f"{path.relative_to(root)}:{node.lineno}"
                    if top not in allowed[folder] | extra:
                        found.append(f"{where}: {folder} may not import {top} ({name})")
                    elif any(p.startswith("_") and not p.startswith("__") for p in parts[1:]):
                        found.append(f"{where}: {name} is private to {top}")
    return found


def api_imports_outside_serving(root: Path) -> list[str]:
    """Every import of `api` in a `cli` module other than the ones that serve it."""
    found = []
    for path in sorted((root / "cli").rglob("*.py")):
        if path.relative_to(root).as_posix() in SERVES_API:
            continue
        module = ".".join(path.relative_to(root).with_suffix("").parts)
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import | ast.ImportFrom):
                found += [
                    f"{path.relative_to(root)}:{node.lineno}: {name}"
                    for name in _imported(node, module)
                    if name.split(".")[0] == "api"
                ]
    return found


def test_the_cli_imports_the_api_only_to_serve_it(tmp_path: Path) -> None:
    assert api_imports_outside_serving(ROOT) == []
    (tmp_path / "cli").mkdir()
    (tmp_path / "cli" / "serve.py").write_text("from api.server import serve\n")
    (tmp_path / "cli" / "claims.py").write_text("def show():\n    from api.deliveries import with_deliveries\n")
    assert api_imports_outside_serving(tmp_path) == ["cli/claims.py:2: api.deliveries.with_deliveries"]


def test_every_import_points_down_the_layout() -> None:
    assert [f for f in ALLOWED if (ROOT / f).is_dir()] == list(ALLOWED)
    assert violations(ROOT) == []


def test_an_upward_or_private_import_is_caught(tmp_path: Path) -> None:
    """Also: bench/, scripts/ and tests/ may not import a front, except the tests of that front."""
    for folder in ("domain", "workflows", "activities", "gateway"):
        (tmp_path / folder).mkdir(parents=True)
    (tmp_path / "domain" / "rules.py").write_text("def f():\n    from workflows.claim import ClaimWorkflow\n")
    (tmp_path / "workflows" / "claim.py").write_text("from domain import rules\nfrom . import track_base\n")
    (tmp_path / "activities" / "_sqlite.py").write_text("")
    (tmp_path / "gateway" / "server.py").write_text("from activities._sqlite import connect\nfrom ..api import app\n")
    allowed = {k: ALLOWED[k] for k in ("domain", "workflows", "activities", "gateway", "api", "cli", "bench", "tests")}
    for folder in ("api", "cli", "bench", "tests/api", "tests/cli", "tests/faults"):
        (tmp_path / folder).mkdir(parents=True)
    (tmp_path / "bench" / "load.py").write_text("from cli.devserver import start\nimport api\n")
    (tmp_path / "tests" / "faults" / "test_x.py").write_text("from cli.main import main\nfrom bench import load\n")
    (tmp_path / "tests" / "api" / "test_y.py").write_text("from api import create_app\nfrom cli.main import main\n")
    (tmp_path / "tests" / "cli" / "test_z.py").write_text("from cli.main import main\n")
    assert violations(tmp_path, allowed) == [
        "domain/rules.py:2: domain may not import workflows (workflows.claim.ClaimWorkflow)",
        "gateway/server.py:1: activities._sqlite.connect is private to activities",
        "gateway/server.py:2: gateway may not import api (api.app)",
        "bench/load.py:1: bench may not import cli (cli.devserver.start)",
        "bench/load.py:2: bench may not import api (api)",
        "tests/faults/test_x.py:1: tests may not import cli (cli.main.main)",
    ]
