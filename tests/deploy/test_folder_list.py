"""Issue 23.4: the folder list is written once. The import-direction map (tests/test_import_direction.py,
ALLOWED: every top-level folder in the layout's order, with what it may import) is the list; the
package discovery and the tool settings in pyproject, the Dockerfile's COPY lines and the install
test's folders must agree with it, and no top-level folder of Python code may be missing from it.

A folder added at the top level fails here until it is in the map, so its arrows are decided first.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from tests.deploy.test_install import SERVICE_DIRS
from tests.test_import_direction import ALLOWED

ROOT = Path(__file__).resolve().parents[2]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
# Used by the service, the API and the CLI: what the package ships and the image holds. The rest of
# the map (benchmarks, scripts, tests) runs from a checkout only.
CHECKOUT_ONLY = ("bench", "scripts", "tests")
SHIPPED = [folder for folder in ALLOWED if folder not in CHECKOUT_ONLY]


def test_issue_23_4_every_top_level_folder_of_python_code_is_in_the_map() -> None:
    folders = {
        path.relative_to(ROOT).parts[0]
        for path in ROOT.glob("*/**/*.py")
        if not path.relative_to(ROOT).parts[0].startswith(".") and "egg-info" not in path.relative_to(ROOT).parts[0]
    }
    assert folders == set(ALLOWED), f"not in the map: {folders - set(ALLOWED)}; in the map, no code: {set(ALLOWED) - folders}"
    assert "dev" in SHIPPED  # the CLI's demo and `claims run` use it


def test_issue_23_4_pyproject_ships_and_checks_the_folders_of_the_map() -> None:
    tool = PYPROJECT["tool"]
    assert tool["setuptools"]["packages"]["find"]["include"] == [f"{folder}*" for folder in SHIPPED]
    assert tool["ruff"]["lint"]["isort"]["known-first-party"] == list(ALLOWED)
    assert tool["mypy"]["files"] == list(ALLOWED)


def test_issue_23_4_the_image_copies_the_shipped_folders() -> None:
    copied = re.findall(r"^COPY (\w+) \./(\w+)$", (ROOT / "Dockerfile").read_text(), re.MULTILINE)
    assert all(src == dest for src, dest in copied)
    assert [src for src, _ in copied] == SHIPPED


def test_issue_23_4_the_install_test_reads_the_shipped_folders() -> None:
    assert list(SERVICE_DIRS) == SHIPPED
