"""Issue 21.7: what `claims cluster up` runs here (dev/cluster.py) is what docker-compose.yml runs
in production: the same release, environment, dynamic config, schema script, shard count,
services, namespace job and order. Both are read here, so neither can drift alone."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from config.settings import ClusterSettings
from dev import cluster as dev_cluster
from dev.certs import ClusterCerts
from dev.cluster import DYNAMIC_CONFIG, SETUP_SCHEMA, Layout, schema_environment, server_environment
from dev.gobuild import TEMPORAL_SERVER_VERSION, TemporalBuild
from dev.postgres import Postgres

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = YAML(typ="safe").load((ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]
# Where a host is: addresses and ports differ between a machine's loopback and a compose network.
PER_HOST = re.compile(
    r"^(BIND_ON_IP|TEMPORAL_BROADCAST_ADDRESS|POSTGRES_SEEDS|DB_PORT|VISIBILITY_DB_PORT|PROMETHEUS_ENDPOINT|DYNAMIC_CONFIG_FILE_PATH|\w+_(GRPC|MEMBERSHIP|HTTP)_PORT|POSTGRES_PWD|TEMPORAL_TLS_\w+)$"
)


class _FakePostgres(Postgres):
    @property
    def password(self) -> str:
        return "x"


def _cluster_env(role: str) -> dict[str, str]:
    service = next(s for s in Layout(7300, 2).services() if s.role == role)
    return server_environment(_FakePostgres(Path("/nowhere"), 7332), ClusterSettings().num_history_shards, service, None)


def _default(image: str) -> str:
    found = re.search(r"\$\{TEMPORAL_VERSION:-([^}]+)\}", image)
    assert found, image
    return found[1]


def test_the_same_release() -> None:
    assert _default(SERVICES["temporal"]["image"]) == TEMPORAL_SERVER_VERSION.removeprefix("v")
    assert _default(SERVICES["temporal-schema"]["image"]) == TEMPORAL_SERVER_VERSION.removeprefix("v")
    example = dict(
        line.split("=", 1)
        for line in (ROOT / ".env.example").read_text().splitlines()
        if "=" in line and not line.startswith("#")
    )
    assert example["TEMPORAL_VERSION"] == TEMPORAL_SERVER_VERSION.removeprefix("v")


@pytest.mark.parametrize("role", ["frontend", "history", "matching", "worker"])
def test_the_same_environment_for_every_service(role: str) -> None:
    compose_service = next(s for s in SERVICES.values() if s.get("environment", {}).get("SERVICES") == role)
    compose_env = {k: str(v) for k, v in compose_service["environment"].items() if k != "SERVICES"}
    ours = _cluster_env(role)
    assert {k for k in compose_env if not PER_HOST.match(k)} == {k for k in ours if not PER_HOST.match(k)}
    for key in compose_env.keys() - {k for k in compose_env if PER_HOST.match(k)}:
        if "${" not in compose_env[key]:
            assert compose_env[key] == ours[key], key
        else:  # a secret or a setting from .env: its default is ours
            default = re.search(r":-([^}]+)\}", compose_env[key])
            assert default is None or default[1] == ours[key], key


def test_the_same_services_and_history_hosts() -> None:
    roles = sorted(s["environment"]["SERVICES"] for s in SERVICES.values() if "SERVICES" in s.get("environment", {}))
    assert roles == sorted({s.role for s in Layout(7300, 1).services()})
    assert SERVICES["temporal-history"]["deploy"]["replicas"] == ClusterSettings().history_hosts
    assert SERVICES["temporal"]["environment"]["SERVICES"] == "frontend"  # clients' address temporal:7233


def test_the_same_dynamic_config_and_schema_script() -> None:
    for name in ("temporal", "temporal-history", "temporal-matching", "temporal-worker"):
        service = SERVICES[name]
        mount = next(v for v in service["volumes"] if v.startswith("./deploy/temporal:"))
        inside = mount.split(":")[1]
        assert service["environment"]["DYNAMIC_CONFIG_FILE_PATH"] == f"{inside}/{DYNAMIC_CONFIG.name}"
    assert DYNAMIC_CONFIG.parent == ROOT / "deploy" / "temporal"
    schema_job = SERVICES["temporal-schema"]
    inside = next(v for v in schema_job["volumes"] if v.startswith("./deploy/temporal:")).split(":")[1]
    assert schema_job["entrypoint"] == ["sh", f"{inside}/{SETUP_SCHEMA.name}"]
    ours = schema_environment(_FakePostgres(Path("/nowhere"), 7332), TemporalBuild("v", Path("s"), Path("t"), Path("m")))
    assert set(schema_job["environment"]) == set(ours) - {"TEMPORAL_SQL_TOOL", "SCHEMA_DIR"}  # the image's own defaults
    assert schema_job["environment"]["SQL_PLUGIN"] == ours["SQL_PLUGIN"]


def test_the_same_namespace_job_and_order() -> None:
    assert SERVICES["namespace"]["command"] == ["namespace", "--apply"]
    # both run client/namespace.set_up: the cluster's up() here, the CLI command compose runs
    # (tests/cli/test_compose_commands.py checks that command's side)
    assert "set_up(" in inspect.getsource(dev_cluster.Cluster.set_up_namespace)
    assert SERVICES["namespace"]["depends_on"]["temporal"]["condition"] == "service_healthy"
    for name in ("worker", "api"):
        depends = SERVICES[name].get("depends_on") or COMPOSE["x-project"]["depends_on"]
        assert depends["namespace"]["condition"] == "service_completed_successfully", name
    for name in ("temporal", "temporal-history", "temporal-matching"):  # the schema first, as up() does
        assert SERVICES[name]["depends_on"]["temporal-schema"]["condition"] == "service_completed_successfully", name
    assert SERVICES["temporal-worker"]["depends_on"]["temporal"]["condition"] == "service_healthy"


def test_no_localhost_is_baked_into_compose() -> None:
    """The UI's CORS origins, the codec server's UI origins and the API's link into the UI are
    settings from .env (issue 21.7)."""
    text = (ROOT / "docker-compose.yml").read_text()
    assert "localhost" not in text
    assert "${UI_PUBLIC_URL" in str(SERVICES["temporal-ui"]["environment"]["TEMPORAL_CORS_ORIGINS"])


def test_tls_environment_names_files_the_certs_module_makes(tmp_path: Path) -> None:
    env = dev_cluster.tls_environment(ClusterCerts(tmp_path))
    assert env["TEMPORAL_TLS_REQUIRE_CLIENT_AUTH"] == "true"
    assert {Path(v).parent for k, v in env.items() if k.endswith(("_CERT", "_KEY"))} == {tmp_path}
