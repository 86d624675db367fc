"""`claims run` in a temporary folder for the privacy tests (issue 5): the project's own launcher
(dev server with a known SQLite file and the UI wired to the codec server, worker, API, codec
server, embedded key file), a payment gateway in this process, and core data whose customers
carry distinctive fake personal data."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

from activities import open_embedded
from activities.core_system import CoreData
from config.settings import Settings, load_settings
from dev.devserver import temporal_binary
from domain.identifiers import id_check_character, luhn_check_digit
from domain.models import Report
from gateway.server import Gateway, GatewayServer
from tests.helpers import free_port, wait_until

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "data" / "sample" / "core.json"
DIGITS = "一二三四"
DECLINE = "declined by the bank"  # the gateway's failure message: must be encrypted like the rest


def id_number(first17: str) -> str:
    return first17 + id_check_character(first17)


def luhn(payload: str) -> str:
    return payload + luhn_check_digit(payload)


def fake_core(path: Path) -> None:
    """The sample core data with distinctive personal data for the four tracks' customers."""
    data = json.loads(SAMPLE.read_text(encoding="utf-8"))
    for i, digit in enumerate(DIGITS, 1):
        customer_id, policy_no = f"C000{i}", f"P202600000{i}"
        customer = next(c for c in data["customers"] if c["customer_id"] == customer_id)
        customer.update(name=f"隐私测名{digit}", mobile=f"1397705{i:04d}", id_number=id_number(f"51010819900307{i:03d}"))
        policy = next(p for p in data["policies"] if p["policy_no"] == policy_no)
        policy.update(plate=f"川A7Q3K{i}", insured_bank_account=luhn(f"621700445500{i:03d}"))
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")


def personal_values(data_dir: Path, reports: dict[str, Report]) -> set[str]:
    """Every personal value of the four claims, as the core system holds it (normalised)."""
    with sqlite3.connect(data_dir / "core.sqlite3") as conn:
        core = CoreData(
            customers=[json.loads(r[0]) for r in conn.execute("SELECT data FROM customers")],
            policies=[json.loads(r[0]) for r in conn.execute("SELECT data FROM policies")],
        )
    policies = {p.policy_no: p for p in core.policies}
    customers = {c.customer_id: c for c in core.customers}
    values: set[str] = set()
    for report in reports.values():
        policy = policies[report.policy_no]
        customer = customers[policy.customer_id]
        values |= {
            customer.name,
            customer.mobile or "",
            customer.id_number or "",
            policy.plate or "",
            policy.insured_bank_account or "",
        }
        values |= {report.reporter_phone or "", report.driver_phone or "", report.payee_account or ""}
    values.discard("")
    assert len(values) >= 4 * 6, values
    return values


def forms(value: str) -> list[bytes]:
    """The value as UTF-8, JSON-escaped (\\uXXXX, either case), and its digits/letters unseparated."""
    escaped = json.dumps(value)[1:-1]
    variants = {value, escaped, escaped.upper().replace("\\U", "\\u"), value.replace("·", "")}
    return [v.encode() for v in variants if v]


def leaks(haystack: bytes, values: set[str]) -> list[str]:
    return sorted(v for v in values if any(f in haystack for f in forms(v)))


@dataclass
class Service:
    proc: subprocess.Popen
    settings: Settings
    env: dict[str, str]
    log: Path
    address: str
    api: str
    codec: str
    ui: str
    gateway: Gateway


def free_ports() -> dict[str, int]:
    """A port each for `claims run`'s dev server, UI, API and codec server."""
    return {name: free_port() for name in ("dev", "ui", "api", "codec")}


def fresh_environment(home: Path, data_dir: Path, ports: dict[str, int]) -> dict[str, str]:
    """The environment of a shell on a fresh clone for `claims run` (and `claims` commands beside
    it): none of the test session's keys or settings (the embedded default makes its own key
    file), the data folder and the ports of its own, no metrics port."""
    (home / "none.toml").write_text("")
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith(("PREMIUM_CLAIMS_", "TEMPORAL_"))},
        "PREMIUM_CLAIMS_SETTINGS": str(home / "none.toml"),
        "PREMIUM_CLAIMS_DATA_DIR": str(data_dir),
        "PREMIUM_CLAIMS_DEV_SERVER_PORT": str(ports["dev"]),
        "PREMIUM_CLAIMS_UI_PORT": str(ports["ui"]),
        "PREMIUM_CLAIMS_API_PORT": str(ports["api"]),
        "PREMIUM_CLAIMS_CODEC__PORT": str(ports["codec"]),
        # what a browser test's UI (on a free port) is reached at; the default is the UI port's
        "PREMIUM_CLAIMS_CODEC__UI_ORIGINS": f"http://localhost:{ports['ui']}",
        "PREMIUM_CLAIMS_METRICS_BIND": "",
        "PREMIUM_CLAIMS_GRACEFUL_SHUTDOWN_SECONDS": "2",
    }


def running_service(tmp_path: Path) -> Iterator[Service]:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    ports = free_ports()
    env = {**fresh_environment(tmp_path, data_dir, ports), "PREMIUM_CLAIMS_LOG_FORMAT": "json"}
    gateway = Gateway(tmp_path / "gateway.sqlite3")
    bank = GatewayServer(0, gateway)
    threading.Thread(target=bank.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    env["PREMIUM_CLAIMS_PAYMENT_GATEWAY_URL"] = f"http://127.0.0.1:{bank.server_address[1]}"
    settings = load_settings(None, env)
    fake_core(tmp_path / "core.json")
    open_embedded(data_dir).core.load_file(tmp_path / "core.json")  # `claims run` loads the sample only into an empty core
    log = tmp_path / "claims-run.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "cli.main", "run"], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT
        )
    service = Service(
        proc=proc,
        settings=settings,
        env=env,
        log=log,
        address=f"127.0.0.1:{ports['dev']}",
        api=f"http://127.0.0.1:{ports['api']}",
        codec=f"http://localhost:{ports['codec']}",
        ui=f"http://127.0.0.1:{ports['ui']}",
        gateway=gateway,
    )
    try:

        def up() -> bool:
            assert proc.poll() is None, log.read_text(errors="replace")[-3000:]
            return _answers(f"{service.api}/health") and _answers(f"{service.codec}/health")

        wait_until(up, 90, "claims run to come up", every=0.3)
        yield service
    finally:
        stop(proc)
        bank.shutdown()
        bank.server_close()


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)  # Ctrl-C: worker, API, codec server and dev server stop
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def temporal(service: Service, *args: str) -> str:
    """The `temporal` CLI as anyone with access to the server would run it: no codec, no profile."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TEMPORAL_")}
    result = subprocess.run(
        [
            temporal_binary(),
            *args,
            "--address",
            service.address,
            "--namespace",
            "default",
            "--disable-config-file",
            "--disable-config-env",
            "--output",
            "json",
        ],
        env=env,
        capture_output=True,
        timeout=60,
        check=True,
    )
    return result.stdout.decode()


def with_distinct_phones(reports: dict[str, Report], series: str) -> dict[str, Report]:
    """The reports with a reporter's and a driver's mobile of their own (`series`: 4 digits), so a
    privacy scan can look for exactly those numbers."""
    return {
        code: report.model_copy(update={"reporter_phone": f"139{series}{i:04d}", "driver_phone": f"136{series}{i:04d}"})
        for i, (code, report) in enumerate(sorted(reports.items()), start=1)
    }
