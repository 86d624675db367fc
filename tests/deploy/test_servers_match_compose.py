"""docker-compose.yml runs the releases of PostgreSQL, nginx and SeaweedFS that the project runs and
tests here (Debian's packages, the SeaweedFS it builds): each image's default tag and .env.example
against the installed server's own `--version`, so a Debian upgrade or a new SeaweedFS pin that
leaves compose behind fails here. (The Temporal server and UI: test_cluster_matches_compose.py.)"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from dev import nginx, postgres, seaweedfs

pytestmark = pytest.mark.integration  # reads the installed servers (make test installs them)

ROOT = Path(__file__).resolve().parents[2]
SERVICES = YAML(typ="safe").load((ROOT / "docker-compose.yml").read_text())["services"]
EXAMPLE = dict(
    line.split("=", 1) for line in (ROOT / ".env.example").read_text().splitlines() if "=" in line and not line.startswith("#")
)


def pinned(service: str, image: str, variable: str) -> str:
    """The image's default tag in compose, checked equal to .env.example's value."""
    found = re.fullmatch(rf"{re.escape(image)}:\$\{{{variable}:-([^}}]+)\}}", SERVICES[service]["image"])
    assert found, SERVICES[service]["image"]
    assert EXAMPLE[variable] == found[1], (variable, EXAMPLE.get(variable))
    return found[1]


def version_of(*command: str) -> str:
    done = subprocess.run(command, capture_output=True, text=True, timeout=60, check=True)
    return done.stdout + done.stderr


def test_postgresql_is_the_major_debian_runs_here() -> None:
    here = re.search(r"\(PostgreSQL\) (\d+)\.", version_of(str(postgres.server_bin() / "postgres"), "--version"))
    assert here, "postgres --version"
    for service in ("postgresql", "claims-postgres"):
        assert pinned(service, "postgres", "POSTGRES_VERSION") == here[1]


def test_nginx_is_the_release_of_debians_package() -> None:
    here = re.search(r"nginx/(\d+\.\d+\.\d+)", version_of(nginx.binary(), "-v"))
    assert here, "nginx -v"
    assert pinned("api-proxy", "nginx", "NGINX_VERSION") == here[1]


def test_seaweedfs_is_the_release_the_tests_build() -> None:
    here = re.search(r"version \S+ (\d+\.\d+)", version_of(str(seaweedfs.weed_binary()), "version"))
    assert here, "weed version"
    assert pinned("seaweedfs", "chrislusf/seaweedfs", "SEAWEEDFS_VERSION") == here[1]
