"""scripts/apt.sh, the one way the ensure-*.sh scripts install Debian packages: against a stand-in
`apt-get` on PATH that records each call and whether a policy-rc.d was in place while it ran."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.helpers.running import ROOT

pytestmark = pytest.mark.unit

STAND_IN = """#!/bin/sh
if [ -x "$POLICY_RC_D" ]; then policy=policy; else policy=no-policy; fi
echo "$policy $*" >> "$CALLS"
case " $* " in *" missing-package "*) exit 100;; esac
"""


def run(tmp_path: Path, script: str) -> tuple[subprocess.CompletedProcess[str], list[str]]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    (bin_dir / "apt-get").write_text(STAND_IN)
    (bin_dir / "apt-get").chmod(0o755)
    (bin_dir / "id").write_text("#!/bin/sh\necho 0\n")  # as root: no sudo
    (bin_dir / "id").chmod(0o755)
    calls = tmp_path / "calls"
    env = {
        **os.environ,
        "PATH": f"{bin_dir}:{os.environ['PATH']}",
        "POLICY_RC_D": str(tmp_path / "policy-rc.d"),
        "CALLS": str(calls),
    }
    result = subprocess.run(
        ["sh", "-c", f'set -eu\n. "{ROOT / "scripts" / "apt.sh"}"\n{script}'],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )
    return result, calls.read_text().splitlines() if calls.exists() else []


def test_packages_install_with_the_lists_updated_once_and_no_service_started(tmp_path: Path) -> None:
    result, calls = run(tmp_path, "apt_install --no-install-recommends postgresql\napt_install chromium")
    assert result.returncode == 0, result.stderr
    assert calls == [
        "no-policy update -qq",
        "policy install -y -qq --no-install-recommends postgresql",
        "policy install -y -qq chromium",
    ]
    assert not (tmp_path / "policy-rc.d").exists()  # put back as it was


def test_a_failed_install_fails_and_still_removes_the_policy(tmp_path: Path) -> None:
    result, calls = run(tmp_path, "apt_install missing-package")
    assert result.returncode == 100
    assert calls[-1] == "policy install -y -qq missing-package"
    assert not (tmp_path / "policy-rc.d").exists()
    fallback, calls = run(tmp_path, "apt_install missing-package || apt_install nginx")
    assert fallback.returncode == 0 and calls[-1] == "policy install -y -qq nginx"


def test_a_policy_already_there_is_left_alone(tmp_path: Path) -> None:
    (tmp_path / "policy-rc.d").write_text("#!/bin/sh\nexit 101\n# the machine's own\n")
    (tmp_path / "policy-rc.d").chmod(0o755)
    result, _ = run(tmp_path, "apt_install nginx")
    assert result.returncode == 0, result.stderr
    assert "the machine's own" in (tmp_path / "policy-rc.d").read_text()
