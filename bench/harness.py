"""What the fault runs share: free ports, the gateway and worker processes, sample policies,
driving a track-B claim (R-B-2) to payment, and counting the ledger."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

import httpx
from temporalio.client import Client

from activities import open_embedded
from client.claims import report_claim, take_step, wait_for_stage
from client.connect import connect
from config.settings import TemporalTLS, load_settings
from dev.devserver import free_port, start_dev_server, wait_until_ready
from dev.processes import stop_process
from dev.scenarios import fresh_policies, load_sample_core, sample_report, steps_for
from domain.identifiers import luhn_check_digit
from domain.models import Report, Track
from gateway.ledger import SqlPaymentLedger
from gateway.server import attempts_by_key
from security.auth import AuthSettings, local_tokens
from security.codec import environment_for_child
from workflows.messages import ClaimView, Stage

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "data" / "sample" / "core.json"
PHOTO = "a" * 64


def account_of(n: int) -> str:
    """A UnionPay-shaped card number, Luhn-valid as loading the core system requires; it ends in
    000 and the check digit, so never in the gateway's 4040 decline marker."""
    payload = f"62229{n:07d}000"
    return payload + luhn_check_digit(payload)


def load_policies(data_dir: Path, count: int, prefix: str) -> list[str]:
    """`count` fresh copies of track B's sample policy (dev.scenarios.fresh_policies), one per
    claim so every claim is the first on its policy (R-EL-1.2); insured account account_of(i)."""
    sample = load_sample_core(SAMPLE)
    core = fresh_policies(sample, [Track.CREDIT] * count, prefix, date.today(), account=account_of)
    open_embedded(data_dir).core.load(core)
    return [p.policy_no for p in core.policies]


def credit_report(report_no: str, policy_no: str) -> Report:
    """R-B-2: single-party, not at the scene, estimate under 3000: track B, the shortest."""
    return sample_report(Track.CREDIT, report_no, policy_no, datetime.now(UTC))


def credit_claims(data_dir: Path, count: int, prefix: str) -> tuple[list[Report], dict[str, str]]:
    """`count` track-B reports, each on a fresh policy of its own, and each one's insured account."""
    policies = load_policies(data_dir, count, prefix)
    reports = [credit_report(f"{prefix}-{i:04d}", p) for i, p in enumerate(policies)]
    return reports, {r.report_no: account_of(i) for i, r in enumerate(reports)}


def credit_steps(report: Report):
    steps = steps_for(Track.CREDIT, report, photo_sha256=PHOTO)
    return steps[:-1], steps[-1:]  # up to the assessment (payment starts), and the callback


async def drive_steps(client: Client, report: Report, steps, timeout: float) -> None:
    for stage, step, payload in steps:
        await wait_for_stage(client, report.report_no, Track.CREDIT, stage, timeout=timeout)
        await take_step(client, report.report_no, Track.CREDIT, step, payload)


async def drive_to_payment(client: Client, report: Report, task_queue: str, timeout: float = 120) -> None:
    """Report the claim and take every step up to the assessment: payment starts."""
    await report_claim(client, report, task_queue)
    before, _ = credit_steps(report)
    await drive_steps(client, report, before, timeout)


async def finish(client: Client, report: Report, timeout: float = 300) -> ClaimView:
    """Wait for payment, record the callback (R-X-1), and return the closed claim."""
    _, callback = credit_steps(report)
    await drive_steps(client, report, callback, timeout)
    handle = client.get_workflow_handle(f"claim-{report.report_no}", result_type=ClaimView)
    return await asyncio.wait_for(handle.result(), timeout)


async def correct_account(client: Client, report: Report, account: str) -> None:
    await wait_for_stage(client, report.report_no, Track.CREDIT, Stage.AWAITING_PAYEE_ACCOUNT, timeout=120)
    await take_step(client, report.report_no, Track.CREDIT, "correct_payee_account", {"account": account, "by": "AG01"})


@dataclass
class Counts:
    claims: int
    attempts: int
    payments: int
    duplicates: int
    lost: int
    extra: dict[str, object] = field(default_factory=dict)

    def line(self) -> str:
        extra = "".join(f" {k}={v}" for k, v in self.extra.items())
        return (
            f"claims={self.claims} attempts={self.attempts} payments={self.payments} "
            f"duplicates={self.duplicates} lost={self.lost}{extra}"
        )

    @property
    def ok(self) -> bool:
        return self.duplicates == 0 and self.lost == 0 and self.payments == self.claims


def count(ledger_db: Path, accounts: dict[str, str], views: dict[str, ClaimView]) -> Counts:
    """R-X-3 from the ledger itself: one row per claim-track, keys unique, every claim paid, and
    the payment each claim shows is the ledger's."""
    rows = SqlPaymentLedger.sqlite(ledger_db).payments()
    wanted = set(accounts)
    mine = [r for r in rows if r.report_no in wanted]
    per_claim = Counter((r.report_no, r.track) for r in mine)
    per_key = Counter(r.idempotency_key for r in mine)
    duplicates = sum(n - 1 for n in per_claim.values()) + sum(n - 1 for n in per_key.values())
    by_report = {r.report_no: r for r in mine}
    lost = 0
    for report_no, insured in accounts.items():
        row = by_report.get(report_no)
        view = views.get(report_no)
        payment = view.tracks[Track.CREDIT].payment if view and Track.CREDIT in view.tracks else None
        # lost: not paid, paid to anyone but the insured, or the claim does not show the ledger's payment
        if row is None or payment is None or payment.payment_id != row.payment_id or row.payee_account != insured:
            lost += 1
    attempts = sum(len(v) for k, v in attempts_by_key(ledger_db).items() if k.split(":")[0] in wanted)
    return Counts(claims=len(accounts), attempts=attempts, payments=len(mine), duplicates=duplicates, lost=lost)


# --- processes ----------------------------------------------------------------------------------
def wait_http(url: str, proc: subprocess.Popen, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{proc.args!r} exited with {proc.returncode}")
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer within {timeout}s")


class GatewayProcess:
    """`python -m gateway` as its own process (loopback)."""

    def __init__(self, db: Path, *args: str, port: int | None = None, log: Path | None = None) -> None:
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.db = db
        out = open(log, "ab") if log else subprocess.DEVNULL
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "gateway", "--port", str(self.port), "--db", str(db), *args],
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        wait_http(self.url + "/health", self.proc)

    def stats(self) -> dict:
        return httpx.get(self.url + "/stats", timeout=5).json()

    def set_closed(self, account: str, closed: bool) -> None:
        httpx.post(self.url + "/admin/accounts", json={"account": account, "closed": closed}, timeout=5).raise_for_status()

    def stop(self) -> None:
        stop_process(self.proc, 10)


def claims_command(command: str) -> list[str]:
    """`premium-claims <command>`, the production entry point, from this venv."""
    script = Path(sys.executable).with_name("premium-claims")
    return [str(script), command] if script.exists() else [sys.executable, "-m", "cli.main", command]


def worker_command() -> list[str]:
    return claims_command("worker")


class WorkerProcess:
    """The real worker (`premium-claims worker`) as a subprocess, so it can be SIGKILLed and SIGTERMed."""

    def __init__(
        self,
        temporal_address: str,
        data_dir: Path,
        task_queue: str,
        gateway_url: str | None,
        *,
        gateway_timeout: float = 20,
        graceful_seconds: float = 20,
        log: Path | None = None,
        command: str = "worker",
        env: dict[str, str] | None = None,
        tls: TemporalTLS | None = None,
    ) -> None:
        self.command = command
        codec_settings = load_settings()
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("PREMIUM_CLAIMS_")},
            "PREMIUM_CLAIMS_TEMPORAL_ADDRESS": temporal_address,
            "PREMIUM_CLAIMS_DATA_DIR": str(data_dir),
            "PREMIUM_CLAIMS_TASK_QUEUE": task_queue,
            "PREMIUM_CLAIMS_LOG_LEVEL": "WARNING",
            "PREMIUM_CLAIMS_GRACEFUL_SHUTDOWN_SECONDS": str(graceful_seconds),
            "PREMIUM_CLAIMS_PAYMENT_GATEWAY_TIMEOUT_SECONDS": str(gateway_timeout),
            "PREMIUM_CLAIMS_SETTINGS": str(data_dir / "no-settings.toml"),
            "PREMIUM_CLAIMS_METRICS_BIND": "",  # restarts and parallel runs must not fight over a port
            # the keyring of this process's clients (connect's default), so the worker reads their claims
            **environment_for_child(codec_settings.codec, codec_settings.data_dir),
            **(env or {}),
        }
        if tls is not None:  # a secured cluster: the same settings a deployment sets
            self.env.update(tls.environment())
        data_dir.mkdir(parents=True, exist_ok=True)
        (data_dir / "no-settings.toml").write_text("")
        if gateway_url:
            self.env["PREMIUM_CLAIMS_PAYMENT_GATEWAY_URL"] = gateway_url
        self.log = log
        self.proc: subprocess.Popen | None = None
        self.starts = 0

    def start(self) -> None:
        out = open(self.log, "ab") if self.log else subprocess.DEVNULL
        self.proc = subprocess.Popen(claims_command(self.command), cwd=ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT)
        self.starts += 1

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def terminate(self, timeout: float = 60) -> float:
        """SIGTERM; the seconds it took to exit."""
        assert self.proc is not None
        began = time.monotonic()
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout)
        return time.monotonic() - began

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


class ApiProcess(WorkerProcess):
    """The real HTTP API (`premium-claims api`) as a subprocess on a free loopback port, with the
    request limits of a load run; its callers' tokens are signed with the data folder's local
    secret (`tokens`), as `claims token` signs them."""

    def __init__(
        self,
        temporal_address: str,
        data_dir: Path,
        task_queue: str,
        *,
        log: Path | None = None,
        tls: TemporalTLS | None = None,
        settings: dict[str, str] | None = None,
    ) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        limits = {"API_PORT": str(self.port), "API_RATE_PER_MINUTE": "600000", "API_RATE_BURST": "100000", **(settings or {})}
        super().__init__(
            temporal_address,
            data_dir,
            task_queue,
            None,
            log=log,
            command="api",
            env={f"PREMIUM_CLAIMS_{k}": v for k, v in limits.items()},
            tls=tls,
        )
        self.tokens = local_tokens(AuthSettings(), data_dir)  # the API's default: the data folder's secret

    def start(self) -> None:
        super().start()
        assert self.proc is not None
        wait_http(self.url + "/health", self.proc)


@asynccontextmanager
async def temp_cluster(
    prefix: str, keep: bool, *, ui: bool = True, sqlite_pragmas: dict[str, str] | None = None
) -> AsyncIterator[tuple[Client, str, Path]]:
    """A fresh dev server in a temp folder: (client, address, work folder). Its SQLite file takes
    `sqlite_pragmas` (None: the settings' default, {}: SQLite's own); the folder is removed after,
    unless `keep`."""
    work = Path(tempfile.mkdtemp(prefix=prefix))
    port = free_port()
    server = start_dev_server(work / "temporal", port=port, ui_port=free_port(), ui=ui, sqlite_pragmas=sqlite_pragmas)
    try:
        address = f"127.0.0.1:{port}"
        yield await wait_until_ready(lambda: connect(address)), address, work
    finally:
        server.terminate()
        server.wait(30)
        if keep:
            print(f"kept {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)


async def in_temp_cluster(prefix: str, keep: bool, body) -> int:
    """Run `body(client, address, work_dir)` against a fresh dev server in a temp folder; print its
    counts and return the process exit code (non-zero on any duplicate or lost claim)."""
    async with temp_cluster(prefix, keep) as (client, address, work):
        counts, ok = await body(client, address, work)
        print(counts.line())
        return 0 if ok else 1
