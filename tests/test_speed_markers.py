"""Issue 23.5: every test carries exactly one speed marker (unit, integration, e2e; tests/conftest.py),
so `make test-fast` (unit) and `make test` (all) between them leave nothing out."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import SPEEDS

ROOT = Path(__file__).resolve().parents[1]


def collected(marker_expression: str) -> list[str]:
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider", "-m", marker_expression],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode in (0, 5), done.stdout[-2000:] + done.stderr[-2000:]  # 5: nothing collected
    return [line for line in done.stdout.splitlines() if "::" in line]


@pytest.mark.integration  # a pytest subprocess collecting the whole suite
def test_issue_23_5_every_test_has_exactly_one_speed() -> None:
    none = " and ".join(f"not {s}" for s in SPEEDS)
    two = " or ".join(f"({a} and {b})" for i, a in enumerate(SPEEDS) for b in SPEEDS[i + 1 :])
    assert collected(f"({none}) or {two}") == []
