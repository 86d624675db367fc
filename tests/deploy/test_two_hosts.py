"""Two hosts, one service (issue 22.5): two workers and two API processes, each with a data folder
of its own as two hosts would have, against one PostgreSQL (the service's database, and the
gateway's ledger in a database of its own), one object store (SeaweedFS), one payment gateway and
one SMS provider, the APIs behind nginx (Debian's).

Claims of every track are reported through nginx; every human step is taken through one API or
the other in turn (so an assessor's step on host 2 refers to photos uploaded through host 1, and
either host's worker checks them in the object store); then each claim is read through both APIs:
paid once, its SMS delivered (on its timeline), its callback recorded. Neither host's folder keeps
a record or a document."""

from __future__ import annotations

import asyncio
import os
import secrets
import signal
import subprocess
import sys
import threading
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from temporalio.testing import WorkflowEnvironment

from activities import open_embedded
from activities.callbacks import SqlCallbackBook
from activities.core_system import CoreData
from activities.database import Database
from activities.sms import DeliveryStatus, SqlSmsOutbox
from config.settings import load_settings
from dev import nginx
from dev.cluster import Cluster
from dev.postgres import port_free
from dev.scenarios import DEMO_PHOTO, fresh_policies, sample_reports, steps_for
from dev.seaweedfs import SeaweedFS
from domain.models import Track
from gateway.server import Gateway, GatewayServer
from gateway.sms_provider import SmsProviderServer, SmsProviderStandIn
from security.auth import AuthSettings, Role, local_tokens
from tests.helpers import eventually, wait_until
from tests.helpers.databases import drop_postgres_database, fresh_postgres_database

ROOT = Path(__file__).resolve().parents[2]
PORTS = range(17420, 17450)
SPECIALIST_PHONE = "13900000011"
SUPERVISOR_PHONE = "13900000022"


def free_ports(count: int) -> list[int]:
    ports = [p for p in PORTS if port_free(p)][:count]
    assert len(ports) == count, f"fewer than {count} free ports in {PORTS.start}-{PORTS.stop - 1}"
    return ports


def wait_until_answers(url: str, process: subprocess.Popen[bytes], log: Path, timeout: float = 90) -> None:
    """Until `url` answers 200; the process's log tail when it exits first or never answers."""

    def answers() -> bool:
        assert process.poll() is None, f"the process serving {url} exited ({process.returncode})"
        try:
            return httpx.get(url, timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    try:
        wait_until(answers, timeout, f"{url} to answer", every=0.3)
    except AssertionError as failed:
        raise AssertionError(f"{failed}:\n{log.read_text(errors='replace')[-3000:]}") from None


class Hosts:
    def __init__(self, tmp_path: Path) -> None:
        self.tmp_path = tmp_path
        self.processes: list[tuple[subprocess.Popen[bytes], Path]] = []

    def start(self, name: str, command: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
        log = self.tmp_path / f"{name}.log"
        with open(log, "wb") as out:
            process = subprocess.Popen(
                [sys.executable, "-m", "cli.main", *command], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT
            )
        self.processes.append((process, log))
        return process

    def stop_all(self) -> None:
        for process, _ in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process, _ in self.processes:
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(5)


def serve_in_thread(server: Any) -> str:
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    return f"http://127.0.0.1:{server.server_address[1]}"


@pytest.fixture
def service_database(postgres_admin_url: str) -> Iterator[str]:
    url = fresh_postgres_database(postgres_admin_url, "twohosts")
    yield url
    drop_postgres_database(postgres_admin_url, url)


async def until_stage(api: httpx.AsyncClient, report_no: str, track: Track, stage: str) -> None:
    """Until the track, read through `api`, stands at `stage` (the last stage or answer when it never does)."""

    async def stage_now() -> str:
        view = await api.get(f"/claims/{report_no}/tracks/{track.value}")
        return view.json()["stage"] if view.status_code == 200 else view.text

    await eventually(
        stage_now, lambda now: now == stage, 60, f"{report_no} {track.value} at {stage} through {api.base_url}", every=0.2
    )


async def until_finished(api: httpx.AsyncClient, report_no: str, track: Track) -> dict[str, Any]:
    """The claim read through `api` once the track is paid, called back (score 5) and, on track
    D, the specialist's SMS sent."""

    async def claim_view() -> dict[str, Any]:
        return (await api.get(f"/claims/{report_no}")).json()

    def finished(view: dict[str, Any]) -> bool:
        payment = view["tracks"][track.value]["payment"]
        sms_done = track is not Track.INJURY or any(e["step"] == "sms_sent" for e in view["tracks"][track.value]["timeline"])
        return bool(payment and payment["paid_at"] and view["tracks"][track.value]["callback_score"] == 5 and sms_done)

    return await eventually(claim_view, finished, 60, f"{report_no} {track.value} finished through {api.base_url}", every=0.3)


async def take_steps(
    apis: list[httpx.AsyncClient],
    report_no: str,
    track: Track,
    steps: list[tuple[Any, str, dict[str, Any]]],
    staff: Callable[[str], dict[str, str]],
) -> None:
    """Each step through the next API in turn, as soon as the track waits for it, by its staff member."""
    for n, (stage, step, payload) in enumerate(steps):
        api = apis[n % len(apis)]
        await until_stage(api, report_no, track, stage.value)
        answer = await api.post(
            f"/claims/{report_no}/tracks/{track.value}/steps/{step}", json=payload, headers=staff(payload["by"])
        )
        assert answer.status_code == 200, f"{report_no} {step} through {api.base_url}: {answer.text}"


@pytest.mark.e2e
async def test_two_hosts_one_service(
    tmp_path: Path,
    cluster: Cluster | None,
    dev_env: WorkflowEnvironment,
    seaweedfs: SeaweedFS,
    service_database: str,
    postgres_admin_url: str,
) -> None:
    tmp_path.chmod(0o711)  # nginx's workers (nobody, under root) pass through to its folder
    address = dev_env.client.service_client.config.target_host
    task_queue = "two-hosts-" + uuid.uuid4().hex[:8]
    bucket = "two-hosts-" + uuid.uuid4().hex[:8]
    ledger_url = fresh_postgres_database(postgres_admin_url, "ledger")  # the bank's own database
    gateway = Gateway(Database.postgres(ledger_url, pool_size=4))
    bank = GatewayServer(0, gateway)
    bank_url = serve_in_thread(bank)
    provider = SmsProviderStandIn(tmp_path / "provider.sqlite3")
    sms_server = SmsProviderServer(0, provider)
    provider_url = serve_in_thread(sms_server)
    token_secret = secrets.token_hex(32)
    api_ports = free_ports(3)
    shared = {
        **{k: v for k, v in os.environ.items() if not k.startswith("PREMIUM_CLAIMS_") or "CODEC" in k},  # the run's codec keys
        "PREMIUM_CLAIMS_SETTINGS": str(tmp_path / "none.toml"),
        "PREMIUM_CLAIMS_TEMPORAL_ADDRESS": address,
        "PREMIUM_CLAIMS_TASK_QUEUE": task_queue,
        "PREMIUM_CLAIMS_DATABASE_URL": service_database,
        "PREMIUM_CLAIMS_DATABASE_POOL_SIZE": "3",
        "PREMIUM_CLAIMS_OBJECT_STORE_ENDPOINT": seaweedfs.endpoint,
        "PREMIUM_CLAIMS_OBJECT_STORE_BUCKET": bucket,
        "PREMIUM_CLAIMS_OBJECT_STORE_ACCESS_KEY_ID": seaweedfs.access_key_id,
        "PREMIUM_CLAIMS_OBJECT_STORE_SECRET_ACCESS_KEY": seaweedfs.secret_access_key,
        "PREMIUM_CLAIMS_OBJECT_STORE_CREATE_BUCKET": "true",
        "PREMIUM_CLAIMS_AUTH__TOKEN_SECRET": token_secret,
        "PREMIUM_CLAIMS_PAYMENT_GATEWAY_URL": bank_url,
        "PREMIUM_CLAIMS_SMS_PROVIDER_URL": provider_url,
        "PREMIUM_CLAIMS_SMS_RECIPIENTS__INJURY_SPECIALIST": SPECIALIST_PHONE,
        "PREMIUM_CLAIMS_SMS_RECIPIENTS__SUPERVISOR": SUPERVISOR_PHONE,
        "PREMIUM_CLAIMS_METRICS_BIND": "",
        "PREMIUM_CLAIMS_LOG_FORMAT": "json",
        "PREMIUM_CLAIMS_GRACEFUL_SHUTDOWN_SECONDS": "2",
        # on the cluster lane, each host's client certificate as a host would hold it (mTLS)
        **(cluster.client_tls().environment() if cluster is not None else {}),
    }
    (tmp_path / "none.toml").write_text("")
    folders = {host: tmp_path / host / "data" for host in ("host1", "host2")}

    def host_env(host: str, **more: str) -> dict[str, str]:
        return {**shared, "PREMIUM_CLAIMS_DATA_DIR": str(folders[host]), **more}

    # the core-system stand-in's policies are loaded once, from anywhere: they are in PostgreSQL
    settings = load_settings(None, host_env("host1"))
    prefix = "TH" + uuid.uuid4().hex[:6].upper()
    sample = CoreData.model_validate_json(settings.sample_core_data.read_bytes())
    core = fresh_policies(sample, list(Track), f"{prefix}-", datetime.now(UTC).date())
    loader = open_embedded(tmp_path / "loader", database_url=service_database)
    loader.core.load(core)

    hosts = Hosts(tmp_path)
    proxy = None
    try:
        for host in folders:
            hosts.start(f"{host}-worker", ["worker"], host_env(host))
        apis = []
        for host, port in zip(folders, api_ports[:2], strict=True):
            process = hosts.start(f"{host}-api", ["api"], host_env(host, PREMIUM_CLAIMS_API_PORT=str(port)))
            wait_until_answers(f"http://127.0.0.1:{port}/health", process, tmp_path / f"{host}-api.log")
            apis.append(f"http://127.0.0.1:{port}")
        hosts.start("host2-sms-relay", ["sms-relay"], host_env("host2", PREMIUM_CLAIMS_SMS_RELAY_LEASE_SECONDS="10"))
        proxy = nginx.start(tmp_path / "nginx", api_ports[2], [a.removeprefix("http://") for a in apis])

        tokens = local_tokens(AuthSettings(token_secret=token_secret), tmp_path)

        def staff(code: str) -> dict[str, str]:
            return {"Authorization": f"Bearer {tokens.issue(code, set(Role))}"}

        headers = staff("AG01")
        async with (
            httpx.AsyncClient(base_url=proxy.url, headers=headers, timeout=60) as front,
            httpx.AsyncClient(base_url=apis[0], headers=headers, timeout=60) as one,
            httpx.AsyncClient(base_url=apis[1], headers=headers, timeout=60) as two,
        ):
            # a photo uploaded through host 1 ...
            upload = await one.post("/files", files={"file": ("scene.png", DEMO_PHOTO, "image/png")})
            assert upload.status_code == 201, upload.text
            photo = upload.json()["sha256"]
            reports = {}
            for track, policy in zip(Track, core.policies, strict=True):
                report = sample_reports(prefix, datetime.now(UTC))[track.value].model_copy(update={"policy_no": policy.policy_no})
                answer = await front.post("/claims", json=report.model_dump(mode="json"))
                assert answer.status_code in (201, 202), answer.text
                reports[track] = report
            # ... and every step taken through host 1 and host 2 in turn: A's upload_photos (its
            # fourth step) through host 2, whose worker or host 1's checks the photo in the object store
            await asyncio.gather(
                *(
                    take_steps(
                        [one, two] if track is Track.AUTHORISATION else [two, one],
                        r.report_no,
                        track,
                        steps_for(track, r, photo_sha256=photo),
                        staff,
                    )
                    for track, r in reports.items()
                )
            )
            # every claim, read through each host: paid once, the same payment
            for track, report in reports.items():
                seen = []
                for api in (one, two):
                    view = await until_finished(api, report.report_no, track)
                    seen.append(view["tracks"][track.value]["payment"]["payment_id"])
                assert seen[0] == seen[1], f"{report.report_no}: the two hosts show one payment"
        # nginx spread the reports over both API processes
        reported = [line.split()[-1] for line in proxy.access_log().splitlines() if line.startswith("POST /claims ")]
        assert len(reported) == 4 and set(reported) == {a.removeprefix("http://") for a in apis}, reported

        paid = gateway.ledger.payments()
        assert sorted(p.report_no for p in paid) == sorted(r.report_no for r in reports.values()), "each claim paid once"
        db = Database.postgres(service_database, pool_size=1)
        try:
            callbacks = SqlCallbackBook(db).callbacks()
            assert sorted(c.report_no for c in callbacks) == sorted(r.report_no for r in reports.values())
            [specialist] = [m for m in SqlSmsOutbox(db).outbox() if m.kind == "injury_specialist"]
            assert specialist.status == DeliveryStatus.SENT and specialist.report_no == reports[Track.INJURY].report_no
        finally:
            db.dispose()
        assert [phone for phone, _ in provider.handset()] == [SPECIALIST_PHONE], "the specialist's SMS, once"
        # neither host kept a record or a document of its own
        for host, folder in folders.items():
            kept = sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file()) if folder.exists() else []
            assert not [k for k in kept if k.endswith(".sqlite3") or k.startswith("files")], f"{host} kept {kept}"
    finally:
        hosts.stop_all()
        if proxy is not None:
            proxy.stop()
        for server in (bank, sms_server):
            server.shutdown()
            server.server_close()
        gateway.db.dispose()
        drop_postgres_database(postgres_admin_url, ledger_url)
