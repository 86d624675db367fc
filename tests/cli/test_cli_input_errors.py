"""Issue 23.7, what a newcomer tripped on in the CLI's input: each error names the option or the
file and says what is wrong, plainly, before Temporal is asked (no server here)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers.running import ROOT

pytestmark = pytest.mark.integration  # each runs `claims` in a subprocess


def claims(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """`claims` pointed at an address where nothing listens: input errors must come first."""
    env = {"PATH": "/usr/bin:/bin", "PREMIUM_CLAIMS_TEMPORAL_ADDRESS": "127.0.0.1:17599", "HOME": str(cwd or ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "cli.main", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )


@pytest.mark.parametrize("value", ["2026-12-01", "2026-12-01T00:00:00", "tomorrow"])
def test_a_time_without_its_offset_names_the_option_and_the_format(value: str) -> None:
    result = claims("list", "--payment-due-before", value)
    assert result.returncode == 2, result.stderr
    assert "--payment-due-before" in result.stderr
    assert "2026-12-01T00:00:00+08:00" in result.stderr
    assert "Temporal" not in result.stderr and "Traceback" not in result.stderr
