"""Issue 23.7, what a newcomer tripped on in the CLI's input: each error names the option or the
file and says what is wrong, plainly, before Temporal is asked (no server here)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers.running import ROOT

pytestmark = pytest.mark.integration  # each runs `claims` in a subprocess


def claims(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """`claims` pointed at an address where nothing listens: input errors must come first."""
    run_env = {"PATH": "/usr/bin:/bin", "PREMIUM_CLAIMS_TEMPORAL_ADDRESS": "127.0.0.1:17599", **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "cli.main", *args], cwd=ROOT, env=run_env, capture_output=True, text=True, timeout=60
    )


@pytest.mark.parametrize("value", ["2026-12-01", "2026-12-01T00:00:00", "tomorrow"])
def test_a_time_without_its_offset_names_the_option_and_the_format(value: str) -> None:
    result = claims("list", "--payment-due-before", value)
    assert result.returncode == 2, result.stderr
    assert "--payment-due-before" in result.stderr
    assert "2026-12-01T00:00:00+08:00" in result.stderr
    assert "Temporal" not in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize("command", ["report", "load-policies", "upload"])
def test_a_missing_file_is_named_plainly(command: str, tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.json"
    result = claims(command, str(missing), env={"PREMIUM_CLAIMS_DATA_DIR": str(tmp_path / "data")})
    assert result.returncode == 1, result.stderr
    assert f"{missing}: no such file" in result.stderr, result.stderr
    assert "Errno" not in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize("command", ["report", "load-policies"])
def test_a_json_syntax_error_names_the_file_and_where(command: str, tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text('{"report_no": , "policy_no": "P2026000007"}', encoding="utf-8")
    result = claims(command, str(broken), env={"PREMIUM_CLAIMS_DATA_DIR": str(tmp_path / "data")})
    assert result.returncode == 1, result.stderr
    assert f"{broken}: not valid JSON" in result.stderr, result.stderr
    assert "line 1 column 15" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_step_body_that_is_not_json_says_so() -> None:
    result = claims("step", "R20261125001", "B", "accept_offer", '{"accepted": }', "--by", "AG01")
    assert result.returncode == 1, result.stderr
    assert "the step's JSON: not valid JSON" in result.stderr and "line 1 column 14" in result.stderr, result.stderr
    assert "Temporal" not in result.stderr


@pytest.mark.parametrize("prefix", ["CL1", "x", "lower", "-DASH"])
def test_a_demo_prefix_that_makes_no_report_numbers_is_refused_up_front(prefix: str) -> None:
    """`claims demo --prefix CL1` failed with pydantic's raw "report_no: String should match pattern"."""
    result = claims("demo", f"--prefix={prefix}")
    assert result.returncode == 2, result.stderr
    assert "--prefix: a prefix is 4 to 38 capital letters, digits or '-'" in result.stderr, result.stderr
    assert "pattern" not in result.stderr and "Temporal" not in result.stderr
