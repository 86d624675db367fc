"""Fault run 2a: SIGKILL the worker at random moments while payments are in flight (R-X-3).

    .venv/bin/python -m bench.kill_worker --claims 60 --kills 50 [--seed 1]

Starts its own Temporal dev server (free ports, temp data dir), the payment gateway
(`python -m gateway`, every call taking --latency seconds, half before booking and half after)
and the real worker (`premium-claims worker`) as processes. Every claim is driven (track B,
R-B-2) to its last step before payment; then the assessments are issued one by one while a killer
waits for a payment call in flight at the gateway, lets a random share of it pass, SIGKILLs the
worker and starts a new one. At the end every claim must be paid exactly once, to the insured.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import time
import uuid
from pathlib import Path

from temporalio.client import Client, WorkflowUpdateFailedError

from bench.harness import (
    Counts,
    GatewayProcess,
    WorkerProcess,
    count,
    credit_claims,
    credit_steps,
    drive_steps,
    finish,
    in_temp_cluster,
)
from bench.progress import Progress
from client.claims import report_claim, take_step
from config.settings import TemporalTLS
from domain.models import Report, Track


async def _assess(client: Client, report: Report) -> None:
    """Issue the assessment (payment starts), through worker deaths: retried until it is recorded."""
    _, _, payload = credit_steps(report)[0][-1]
    while True:
        try:
            await asyncio.wait_for(take_step(client, report.report_no, Track.CREDIT, "issue_assessment", payload), 60)
            return
        except WorkflowUpdateFailedError as err:
            if "already issued" in str(err.cause):  # an earlier try was recorded after all
                return
            raise
        except Exception:  # the worker died under the update (timeout, RPC error): ask again
            await asyncio.sleep(0.5)


async def run(
    client: Client,
    address: str,
    work: Path,
    *,
    claims: int,
    kills: int,
    seed: int,
    latency: str = "0.4,2.0",
    log: bool = False,
    tls: TemporalTLS | None = None,
) -> Counts:
    rng = random.Random(seed)
    data_dir = work / "data"
    prefix = "K" + uuid.uuid4().hex[:6].upper()
    reports, accounts = credit_claims(data_dir, claims, prefix)
    task_queue = f"kill-{prefix}"
    gateway = GatewayProcess(work / "payments.sqlite3", "--latency", latency, log=work / "gateway.log" if log else None)
    worker = WorkerProcess(address, data_dir, task_queue, gateway.url, log=work / "worker.log" if log else None, tls=tls)
    began = time.monotonic()
    try:
        worker.start()
        # up to the assessment, with a live worker: every document received (R-B-2, R-X-5)
        limit = asyncio.Semaphore(6)

        async def prepare(report: Report) -> None:
            async with limit:
                await report_claim(client, report, task_queue)
                await drive_steps(client, report, credit_steps(report)[0][:-1], 120)

        prepared = Progress(len(reports), "claims up to the assessment")  # on a terminal only
        await asyncio.gather(*(prepared.counted(prepare(r)) for r in reports))

        # assessments go in one by one while the killer works
        assessed = Progress(len(reports), "claims assessed (paying while the worker is killed)")

        async def feed() -> None:
            for report in reports:
                await _assess(client, report)
                assessed.step(note=f"{done_kills} kills")
                await asyncio.sleep(rng.uniform(0.0, 0.6))

        done_kills = in_flight_kills = 0
        feeder = asyncio.create_task(feed())
        while done_kills < kills:
            # a payment in flight at the gateway (a stalled one comes back within the 10 s heartbeat timeout)
            waited = 0.0
            while waited < 15 and (await asyncio.to_thread(gateway.stats))["in_flight"] == 0:
                await asyncio.sleep(0.05)
                waited += 0.05
            in_flight = (await asyncio.to_thread(gateway.stats))["in_flight"] > 0
            await asyncio.sleep(rng.uniform(0.0, 1.0))
            worker.kill()
            done_kills += 1
            in_flight_kills += in_flight
            worker.start()
            if feeder.done() and not in_flight:
                # nothing in flight now: let the heartbeat timeout hand the stalled payments to
                # the new worker, so the next kill lands on a retry
                await asyncio.sleep(rng.uniform(1.0, 3.0))
        await feeder
        views = {}
        closed = Progress(len(reports), "claims paid and closed")
        for report in reports:  # the last worker lives: every claim must now pay and close
            views[report.report_no] = await closed.counted(finish(client, report, timeout=300))
        counts = count(gateway.db, accounts, views)
        counts.extra.update(
            kills=done_kills,
            kills_with_payment_in_flight=in_flight_kills,
            worker_starts=worker.starts,
            seconds=round(time.monotonic() - began, 1),
        )
        return counts
    finally:
        worker.stop()
        gateway.stop()


async def main_async(args: argparse.Namespace) -> int:
    async def body(client, address, work):
        counts = await run(client, address, work, claims=args.claims, kills=args.kills, seed=args.seed, log=args.keep)
        return counts, counts.ok

    return await in_temp_cluster("kill-run-", args.keep, body)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.kill_worker", description=__doc__.split("\n")[0])
    parser.add_argument("--claims", type=int, default=60)
    parser.add_argument("--kills", type=int, default=50)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep", action="store_true", help="keep the temp dir with the gateway and worker logs")
    sys.exit(asyncio.run(main_async(parser.parse_args())))


if __name__ == "__main__":
    main()
