"""The production deployment files are valid although no Docker engine runs here: the compose file
against the compose specification's schema, and what both files refer to exists in the project."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from ruamel.yaml import YAML

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
INSTRUCTIONS = {
    "FROM",
    "RUN",
    "CMD",
    "LABEL",
    "EXPOSE",
    "ENV",
    "ADD",
    "COPY",
    "ENTRYPOINT",
    "VOLUME",
    "USER",
    "WORKDIR",
    "ARG",
    "ONBUILD",
    "STOPSIGNAL",
    "HEALTHCHECK",
    "SHELL",
}


def check_compose_schema(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.compose-spec", str(path)],
        capture_output=True,
        text=True,
    )


def compose() -> dict:
    return YAML(typ="safe").load(COMPOSE.read_text())


def test_compose_file_matches_the_compose_specification() -> None:
    result = check_compose_schema(COMPOSE)
    assert result.returncode == 0, result.stdout + result.stderr


def test_schema_check_rejects_a_broken_compose_file(tmp_path: Path) -> None:
    broken = tmp_path / "docker-compose.yml"
    broken.write_text("services:\n  worker:\n    image: x\n    replicas_please: 3\n")
    assert check_compose_schema(broken).returncode != 0


def test_services_are_wired_and_workers_scale() -> None:
    services = compose()["services"]
    assert {"postgresql", "temporal-schema", "temporal", "temporal-ui", "worker"} <= set(services)
    assert "auto-setup" not in COMPOSE.read_text().split("#", 1)[-1].replace("deprecated auto-setup", "")
    assert services["temporal"]["image"].startswith("temporalio/server:")
    assert services["temporal-schema"]["image"].startswith("temporalio/admin-tools:")
    assert services["temporal"]["depends_on"]["temporal-schema"]["condition"] == "service_completed_successfully"
    worker = services["worker"]
    # --scale worker=N needs no fixed name and no host port
    assert "container_name" not in worker and "ports" not in worker
    for name, service in services.items():
        one_shot = name in {"temporal-schema", "namespace", "claims-migrate"}
        assert service.get("restart") == ("no" if one_shot else "unless-stopped"), name
        assert "healthcheck" in service or one_shot or name == "temporal-ui", name
    assert {"postgres-data", "claims-data"} <= set(compose()["volumes"])


def test_no_secret_is_written_in_the_compose_file() -> None:
    text = COMPOSE.read_text()
    for line in text.splitlines():
        if re.search(r"(PASSWORD|PWD|SECRET|TOKEN|KEY)\s*:", line):
            assert "${" in line, f"a secret must come from .env: {line.strip()}"
    required = set(re.findall(r"\$\{(\w+):\?", text))
    example = {line.split("=", 1)[0] for line in (ROOT / ".env.example").read_text().splitlines() if "=" in line}
    assert required <= example, f".env.example lacks {required - example}"


def test_workers_pay_through_the_gateway_service() -> None:
    """The gateway runs from the project's image, its ledger in a PostgreSQL database of its own
    (issue 22: no volume); workers wait for it."""
    services = compose()["services"]
    gateway, worker = services["gateway"], services["worker"]
    assert gateway["entrypoint"] == ["python", "-m", "gateway"]
    assert (ROOT / "gateway" / "__main__.py").exists()
    args = gateway["command"]
    assert args[args.index("--host") + 1] == "0.0.0.0"  # reachable from the worker containers
    port = args[args.index("--port") + 1]
    assert "--db" not in args and "volumes" not in gateway
    assert gateway["environment"]["GATEWAY_DATABASE_URL"].endswith("@claims-postgres:5432/ledger")  # the bank's own database
    assert gateway["depends_on"]["claims-postgres"]["condition"] == "service_healthy"
    assert "CREATE DATABASE ledger" in (ROOT / "deploy" / "postgres" / "claims-init.sql").read_text()
    assert "ports" not in gateway  # not published on the host
    assert f"127.0.0.1:{port}/health" in " ".join(gateway["healthcheck"]["test"])
    assert worker["environment"]["PREMIUM_CLAIMS_PAYMENT_GATEWAY_URL"] == f"http://gateway:{port}"
    assert worker["depends_on"]["gateway"]["condition"] == "service_healthy"
    assert worker["depends_on"]["namespace"]["condition"] == "service_completed_successfully"
    # the worker's own environment replaces the shared one: it must still reach Temporal and its data
    assert worker["environment"]["PREMIUM_CLAIMS_TEMPORAL_ADDRESS"] == "temporal:7233"
    assert worker["environment"]["PREMIUM_CLAIMS_DATA_DIR"] == "/tmp/premium-claims"  # scratch: no volume (issue 22)


def test_issue_22_workers_and_api_processes_keep_nothing_of_their_own() -> None:
    """No volume is mounted into a worker or an API process (the `x-project` anchor's is overridden);
    their records are in claims-postgres (migrated first), their documents in the object store,
    and two or more API processes run behind nginx, which alone has the host port."""
    services = compose()["services"]
    for name in ("worker", "api", "sms-relay", "claims-migrate"):
        service = services[name]
        assert service.get("volumes") == [], f"{name} mounts {service.get('volumes')}"
        env = service["environment"]
        assert env["PREMIUM_CLAIMS_DATABASE_URL"].startswith("postgresql://claims:${CLAIMS_DB_PASSWORD")
        assert env["PREMIUM_CLAIMS_DATABASE_URL"].endswith("@claims-postgres:5432/claims")
        assert env["PREMIUM_CLAIMS_OBJECT_STORE_ENDPOINT"] == "http://seaweedfs:8333"
    for name in ("worker", "api"):
        assert services[name]["depends_on"]["claims-migrate"]["condition"] == "service_completed_successfully"
        assert services[name]["depends_on"]["seaweedfs"]["condition"] == "service_healthy"
    assert services["claims-migrate"]["command"] == ["migrate"]
    api, proxy = services["api"], services["api-proxy"]
    assert api["deploy"]["replicas"] >= 2 and "ports" not in api
    assert proxy["image"].startswith("nginx:") and proxy["ports"] == ["8000:8000"]
    conf = (ROOT / bind_mounts(proxy)["/etc/nginx/nginx.conf"]).read_text()
    assert "server api:8000" in conf and "proxy_pass http://api;" in conf
    assert {"claims-postgres-data", "seaweedfs-data"} <= set(compose()["volumes"])


def test_the_volume_check_sees_a_mounted_volume(tmp_path: Path) -> None:
    """So the check above can fail: YAML's merge key brings the anchor's volume in unless overridden."""
    text = "x: &p\n  volumes: [claims-data:/data]\nservices:\n  worker:\n    <<: *p\n  api:\n    <<: *p\n    volumes: []\n"
    loaded = YAML(typ="safe").load(text)["services"]
    assert loaded["worker"]["volumes"] == ["claims-data:/data"] and loaded["api"]["volumes"] == []


def dockerfile_instructions() -> list[tuple[str, str]]:
    lines = DOCKERFILE.read_text().replace("\\\n", " ").splitlines()
    return [tuple(line.split(None, 1)) for line in lines if line.strip() and not line.startswith("#")]  # type: ignore[misc]  # every line has a word and a rest


def test_dockerfile_is_well_formed_and_refers_to_real_things() -> None:
    instructions = dockerfile_instructions()
    assert instructions[0][0] == "FROM"
    for keyword, _ in instructions:
        assert keyword in INSTRUCTIONS, keyword
    for keyword, args in instructions:
        if keyword == "COPY":
            *sources, _dest = args.split()
            for source in sources:
                assert (ROOT / source).exists(), f"COPY {source}: no such file"
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    entrypoint = dict(instructions)["ENTRYPOINT"]
    assert re.findall(r'"([^"]+)"', entrypoint)[0] in scripts


PACKAGES = [
    p.rstrip("*")
    for p in tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]["find"]["include"]
]


@pytest.mark.parametrize("package", PACKAGES)
def test_image_copies_every_package(package: str) -> None:
    copied = [args.split()[0] for keyword, args in dockerfile_instructions() if keyword == "COPY"]
    assert package in copied


def test_ui_decodes_through_the_codec_server_service() -> None:
    """Issue 5: the UI is wired to the codec server; keys and the token secret come from .env only."""
    services = compose()["services"]
    codec, ui = services["codec-server"], services["temporal-ui"]
    assert codec["command"] == ["codec-server"]
    assert codec["environment"]["PREMIUM_CLAIMS_CODEC__HOST"] == "0.0.0.0"
    assert codec["environment"]["PREMIUM_CLAIMS_CODEC__UI_ORIGINS"] == ui["environment"]["TEMPORAL_CORS_ORIGINS"]
    assert ui["environment"]["TEMPORAL_CODEC_ENDPOINT"] == codec["environment"]["PREMIUM_CLAIMS_CODEC__PUBLIC_URL"]
    assert ui["environment"]["TEMPORAL_CODEC_INCLUDE_CREDENTIALS"] == "true"
    example = (ROOT / ".env.example").read_text()
    for name in ("PREMIUM_CLAIMS_CODEC__PRIMARY_KEY_ID", "PREMIUM_CLAIMS_CODEC__KEYS__", "PREMIUM_CLAIMS_AUTH__TOKEN_SECRET"):
        assert name in example and name not in COMPOSE.read_text(), name


# --- Prometheus and Grafana (issue 13) -----------------------------------------------------------
DASHBOARD = ROOT / "deploy" / "grafana" / "dashboards" / "premium-claims.json"


def bind_mounts(service: dict) -> dict[str, str]:
    """The service's bind mounts from the project: container path -> project path."""
    mounts = {}
    for volume in service.get("volumes", ()):
        source, target = volume.split(":")[:2]
        if source.startswith("./"):
            mounts[target] = source
    return mounts


def test_every_file_a_service_mounts_from_the_project_exists() -> None:
    for name, service in compose()["services"].items():
        for source in bind_mounts(service).values():
            assert (ROOT / source).exists(), f"{name} mounts {source}: no such file"


def test_prometheus_scrapes_every_worker_and_grafana_shows_the_dashboard_over_it() -> None:
    services = compose()["services"]
    prometheus, grafana, worker = services["prometheus"], services["grafana"], services["worker"]
    assert prometheus["image"].startswith("prom/prometheus:") and grafana["image"].startswith("grafana/grafana:")
    # Prometheus: its config is the project's; it finds the worker replicas by DNS on the metrics port
    config_path = next(p for t, p in bind_mounts(prometheus).items() if t == "/etc/prometheus/prometheus.yml")
    assert "--config.file=/etc/prometheus/prometheus.yml" in prometheus["command"]
    config = YAML(typ="safe").load((ROOT / config_path).read_text())
    [job] = config["scrape_configs"]
    [sd] = job["dns_sd_configs"]
    bind = worker["environment"]["PREMIUM_CLAIMS_METRICS_BIND"]
    assert sd["names"] == ["worker"] and bind == f"0.0.0.0:{sd['port']}"
    # Grafana: the data source is that Prometheus; the provider loads the mounted dashboards folder
    mounts = bind_mounts(grafana)
    provisioning = ROOT / mounts["/etc/grafana/provisioning"]
    [source] = YAML(typ="safe").load((provisioning / "datasources" / "prometheus.yml").read_text())["datasources"]
    port = prometheus["ports"][0].split(":")[-1].strip('"')
    assert source["type"] == "prometheus" and source["url"] == f"http://prometheus:{port}"
    [provider] = YAML(typ="safe").load((provisioning / "dashboards" / "premium-claims.yml").read_text())["providers"]
    folder = provider["options"]["path"]
    assert (ROOT / mounts[folder] / DASHBOARD.name).samefile(DASHBOARD)
    dashboard = json.loads(DASHBOARD.read_text())
    assert dashboard["panels"], "the dashboard has panels"
    for panel in dashboard["panels"]:
        assert panel["datasource"]["uid"] == source["uid"], panel["title"]
        assert panel["targets"] and all(t["expr"] for t in panel["targets"]), panel["title"]
        assert panel.get("description"), f"{panel['title']}: say which question the panel answers"
