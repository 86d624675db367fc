"""Fault run 2c: SIGKILL the embedded Temporal (the dev server and its SQLite file) while claims are
reported and paid, and restart it on the same file (R-X-2, R-X-3).

    .venv/bin/python -m bench.kill_server --claims 40 --kills 3 [--seed 1] [--sqlite-defaults]

Starts its own dev server (a SQLite file in a temp folder, the settings' pragmas unless
--sqlite-defaults), the payment gateway (`python -m gateway`), the real worker
(`premium-claims worker`) and the real HTTP API (`premium-claims api`) as processes. Agents report track-B
claims (R-B-2) through `POST /claims`, retrying what is not answered; meanwhile a killer SIGKILLs
the server at random moments and starts it again on the same file and port (the worker, which
leaves when Temporal goes away, is started again as a restart policy would). Then every claim the
API acknowledged (201, 200 or 202) is driven to payment and the callback, through more kills. At
the end every acknowledged claim must still be there, decided, paid exactly once to the insured
(the ledger's rows and idempotency keys), and closed: duplicates=0 lost=0.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Protocol

import httpx
from temporalio.client import Client, WorkflowUpdateFailedError

from bench.harness import PHOTO, ApiProcess, Counts, GatewayProcess, WorkerProcess, count, credit_claims
from client.claims import take_step, track_state
from client.connect import connect
from config.settings import TemporalTLS
from dev.devserver import free_port, start_dev_server, wait_until_ready
from dev.processes import stop_process
from dev.scenarios import steps_for
from domain.models import Report, Track
from security.auth import Role
from workflows.messages import ClaimView
from workflows.search_attributes import ENDED

ACKNOWLEDGED = (200, 201, 202)


class Target(Protocol):
    """What a fault run strikes: the engine the claims run on, or a part of it."""

    address: str
    tls: TemporalTLS | None  # how the worker and the API reach it
    starts: int

    def start(self) -> None: ...  # the first start, and recovery after each strike

    def kill(self) -> None: ...  # the strike

    def stop(self) -> None: ...


class Server:
    """The dev server on one SQLite file and port, killed and started again on them."""

    tls: TemporalTLS | None = None

    def __init__(self, folder: Path, pragmas: Mapping[str, str] | None) -> None:
        self.folder, self.pragmas = folder, pragmas
        self.port, self.ui_port = free_port(), free_port()
        self.address = f"127.0.0.1:{self.port}"
        self.proc: subprocess.Popen | None = None
        self.starts = 0

    def start(self) -> None:
        self.proc = start_dev_server(self.folder, self.port, self.ui_port, ui=False, sqlite_pragmas=self.pragmas)
        self.starts += 1

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.kill()  # SIGKILL: no shutdown, whatever SQLite has not synced is as a crash leaves it
        self.proc.wait()

    def stop(self) -> None:
        stop_process(self.proc, 30)


async def _report(http: httpx.AsyncClient, report: Report, statuses: Counter[int], deadline: float) -> int:
    """An agent reports until the API acknowledges it (the server may be down); the status."""
    while True:
        try:
            response = await http.post("/claims", content=report.model_dump_json())
            statuses[response.status_code] += 1
            if response.status_code in ACKNOWLEDGED:
                return response.status_code
        except httpx.HTTPError:
            statuses[0] += 1
        if time.monotonic() > deadline:
            raise TimeoutError(f"report {report.report_no} was never acknowledged")
        await asyncio.sleep(0.5)


async def _advance(client: Client, report: Report, deadline: float) -> ClaimView:
    """Take the claim's next step whatever stage it is at, until it closes; an error (the server
    is down, the step was recorded before the kill) means: read the track again."""
    steps = steps_for(Track.CREDIT, report, photo_sha256=PHOTO)
    handle = client.get_workflow_handle(f"claim-{report.report_no}", result_type=ClaimView)
    while time.monotonic() < deadline:
        try:
            view = await track_state(client, report.report_no, Track.CREDIT)
            if view.stage in ENDED:
                return await asyncio.wait_for(handle.result(), 30)
            for stage, step, payload in steps:
                if stage != view.stage:
                    continue
                try:
                    await asyncio.wait_for(take_step(client, report.report_no, Track.CREDIT, step, payload), 30)
                    break
                except WorkflowUpdateFailedError:
                    continue  # refused: already taken (before a kill), the next step of the stage then
        except Exception:
            pass
        await asyncio.sleep(0.3)
    raise TimeoutError(f"claim {report.report_no} did not close")


async def _killer(
    server: Target, kills: int, rng: random.Random, progress: Callable[[], int], total: int, log: list[float]
) -> None:
    """Strike `kills` times, spread over the run: the k-th once k/(kills+1) of the work (reports
    acknowledged plus claims closed, `total` in all) is done, a little later; then recover."""
    for k in range(1, kills + 1):
        while progress() < total * k // (kills + 1):
            await asyncio.sleep(0.05)
        await asyncio.sleep(rng.uniform(0.0, 0.5))
        await asyncio.to_thread(server.kill)
        log.append(time.monotonic())
        await asyncio.sleep(rng.uniform(0.2, 1.5))
        await asyncio.to_thread(server.start)


def pauses(kill_times: list[float], progress_times: list[float]) -> list[float]:
    """For each strike, how long until the next claim made progress (an answer or a close)."""
    found = []
    for at in kill_times:
        later = [t for t in progress_times if t > at]
        if later:
            found.append(round(min(later) - at, 1))
    return found


async def _supervise(worker: WorkerProcess, until: asyncio.Event) -> None:
    """Start the worker again whenever it exits (it leaves when Temporal goes away), as the
    deployment's restart policy does (docker-compose `restart: unless-stopped`)."""
    while not until.is_set():
        if worker.proc is not None and worker.proc.poll() is not None:
            worker.start()
        try:
            await asyncio.wait_for(until.wait(), 0.5)
        except TimeoutError:
            pass


async def run(
    work: Path,
    *,
    claims: int,
    kills: int,
    seed: int,
    pragmas: Mapping[str, str] | None = None,
    log: bool = False,
    timeout: float = 600,
    target: Target | None = None,
) -> Counts:
    """Report `claims` track-B claims through the API and drive them to the callback while
    `target` (default: a dev server of its own, SIGKILLed and restarted) is struck `kills` times."""
    rng = random.Random(seed)
    data_dir = work / "data"
    prefix = "KS" + uuid.uuid4().hex[:6].upper()
    reports, accounts = credit_claims(data_dir, claims, prefix)
    task_queue = f"kill-server-{prefix}"
    server: Target = target or Server(work / "temporal", pragmas)
    server.start()
    gateway = GatewayProcess(work / "payments.sqlite3", log=work / "gateway.log" if log else None)
    worker = WorkerProcess(
        server.address, data_dir, task_queue, gateway.url, log=work / "worker.log" if log else None, tls=server.tls
    )
    api = ApiProcess(server.address, data_dir, task_queue, log=work / "api.log" if log else None, tls=server.tls)
    began = time.monotonic()
    deadline = began + timeout
    kill_times: list[float] = []
    progress_times: list[float] = []
    try:
        client = await wait_until_ready(lambda: connect(server.address, tls=server.tls))
        worker.start()
        api.start()
        headers = {"authorization": f"Bearer {api.tokens.issue('AG01', {Role.AGENT})}", "content-type": "application/json"}
        statuses: Counter[int] = Counter()
        acknowledged: dict[str, float] = {}
        async with httpx.AsyncClient(base_url=api.url, headers=headers, timeout=60) as http:
            limit = asyncio.Semaphore(8)

            async def agent(report: Report) -> None:
                async with limit:
                    await _report(http, report, statuses, deadline)
                    acknowledged[report.report_no] = time.monotonic()
                    progress_times.append(time.monotonic())
                    await asyncio.sleep(rng.uniform(0.0, 0.3))

            done = asyncio.Event()
            closed_count = [0]
            killer = asyncio.create_task(
                _killer(server, kills, rng, lambda: len(acknowledged) + closed_count[0], 2 * len(reports), kill_times)
            )
            supervisor = asyncio.create_task(_supervise(worker, done))
            await asyncio.gather(*(agent(r) for r in reports))
            limit = asyncio.Semaphore(8)

            async def close(report: Report) -> ClaimView:
                async with limit:
                    view = await _advance(client, report, deadline)
                    closed_count[0] += 1
                    progress_times.append(time.monotonic())
                    return view

            closed = await asyncio.gather(*(close(r) for r in reports))
            await killer
            done.set()
            await supervisor
        views = {r.report_no: v for r, v in zip(reports, closed, strict=True)}
        counts = count(gateway.db, accounts, views)
        before_a_kill = sum(1 for at in acknowledged.values() if any(k > at for k in kill_times))
        counts.extra.update(
            kills=len(kill_times),
            server_starts=server.starts,
            worker_starts=worker.starts,
            acknowledged=len(acknowledged),
            acknowledged_before_a_kill=before_a_kill,
            pause_seconds=pauses(kill_times, progress_times),
            answers={str(k): v for k, v in sorted(statuses.items())},
            seconds=round(time.monotonic() - began, 1),
        )
        return counts
    finally:
        api.stop()
        worker.stop()
        gateway.stop()
        server.stop()


async def main_async(args: argparse.Namespace) -> int:
    import shutil
    import tempfile

    work = Path(tempfile.mkdtemp(prefix="kill-server-"))
    try:
        counts = await run(
            work,
            claims=args.claims,
            kills=args.kills,
            seed=args.seed,
            pragmas={} if args.sqlite_defaults else None,
            log=args.keep,
        )
        print(counts.line())
        return 0 if counts.ok else 1
    finally:
        if args.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.kill_server", description=__doc__.split("\n")[0])
    parser.add_argument("--claims", type=int, default=40)
    parser.add_argument("--kills", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--sqlite-defaults", action="store_true", help="SQLite's own journal and sync, not the settings'")
    parser.add_argument("--keep", action="store_true", help="keep the temp dir with the server, gateway and worker logs")
    sys.exit(asyncio.run(main_async(parser.parse_args())))


if __name__ == "__main__":
    main()
