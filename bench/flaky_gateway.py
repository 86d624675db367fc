"""Fault run 2b: the payment gateway fails a share of calls; some accounts are closed (R-X-3).

    .venv/bin/python -m bench.flaky_gateway --claims 200 --fail-rate 0.3 --declines 10 [--seed 7]

Starts its own Temporal dev server, the gateway (`python -m gateway --fail-rate R --seed S`:
timeouts past the worker's client timeout, 503s, and payments booked whose answer is dropped)
and the real worker. Every claim (track B, R-B-2) is driven to payment; --declines of them pay an
account the bank has closed. Those are declined (PaymentDeclined, never retried), wait in
awaiting_payee_account; the account is reopened, the agent confirms the insured's account
(correct_payee_account) and they pay. Every claim must end paid exactly once, to the insured.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
import uuid
from pathlib import Path

from temporalio.client import Client

from bench.harness import (
    Counts,
    GatewayProcess,
    WorkerProcess,
    correct_account,
    count,
    credit_claims,
    drive_to_payment,
    finish,
    in_temp_cluster,
)
from bench.progress import Progress
from client.claims import track_state
from domain.models import Report, Track
from gateway.server import attempts_by_key
from workflows.messages import Stage

HANG_SECONDS = 3.0  # a "timeout" fault sleeps this long ...
CLIENT_TIMEOUT = 1.5  # ... past the worker's HTTP timeout


async def run(
    client: Client,
    address: str,
    work: Path,
    *,
    claims: int,
    declines: int,
    fail_rate: float,
    seed: int,
    parallel: int = 8,
    log: bool = False,
) -> Counts:
    data_dir = work / "data"
    prefix = "F" + uuid.uuid4().hex[:6].upper()
    reports, accounts = credit_claims(data_dir, claims, prefix)
    step = max(claims // declines, 1) if declines else 0
    declined = {reports[i].report_no for i in range(0, claims, step)} if declines else set()
    declined = set(sorted(declined)[:declines])
    task_queue = f"flaky-{prefix}"
    gateway = GatewayProcess(
        work / "payments.sqlite3",
        "--fail-rate",
        str(fail_rate),
        "--seed",
        str(seed),
        "--hang-seconds",
        str(HANG_SECONDS),
        log=work / "gateway.log" if log else None,
    )
    worker = WorkerProcess(
        address, data_dir, task_queue, gateway.url, gateway_timeout=CLIENT_TIMEOUT, log=work / "worker.log" if log else None
    )
    began = time.monotonic()
    try:
        for report_no in declined:  # the bank closed these accounts before the claims pay
            gateway.set_closed(accounts[report_no], True)
        worker.start()
        limit = asyncio.Semaphore(parallel)
        waits: dict[str, list[str]] = {}

        async def one(report: Report):
            async with limit:
                await drive_to_payment(client, report, task_queue)
            if report.report_no in declined:
                view = await _wait_declined(client, report)
                waits[report.report_no] = [e.step for e in view.timeline]
                # still waiting, and the gateway saw exactly one declined call: never retried
                await asyncio.sleep(3)
                later = await track_state(client, report.report_no, Track.CREDIT)
                assert later.stage == Stage.AWAITING_PAYEE_ACCOUNT, later.stage
                gateway.set_closed(accounts[report.report_no], False)  # reopened
                await correct_account(client, report, accounts[report.report_no])
            async with limit:
                return await finish(client, report, timeout=600)

        progress = Progress(len(reports), "claims paid and closed")  # on a terminal only
        results = await asyncio.gather(*(progress.counted(one(r)) for r in reports))
        views = {r.report_no: v for r, v in zip(reports, results, strict=True)}
        counts = count(gateway.db, accounts, views)
        attempts = attempts_by_key(gateway.db)
        declined_calls = [attempts[f"{n}:B:indemnity"].count("declined") for n in declined]
        outcomes: dict[str, int] = {}
        for report in reports:
            for outcome in attempts.get(f"{report.report_no}:B:indemnity", []):
                outcomes[outcome] = outcomes.get(outcome, 0) + 1
        counts.extra.update(
            declined_claims=len(declined),
            declined_calls_per_declined_claim=sorted(set(declined_calls)),
            declined_then_paid=sum(1 for n in declined if views[n].tracks[Track.CREDIT].payment.payment_id),
            outcomes=",".join(f"{k}:{v}" for k, v in sorted(outcomes.items())),
            seconds=round(time.monotonic() - began, 1),
        )
        return counts
    finally:
        worker.stop()
        gateway.stop()


async def _wait_declined(client: Client, report: Report):
    deadline = time.monotonic() + 300
    while True:
        view = await track_state(client, report.report_no, Track.CREDIT)
        if view.stage == Stage.AWAITING_PAYEE_ACCOUNT:
            return view
        if time.monotonic() > deadline:
            raise TimeoutError(f"{report.report_no} was not declined; it is at {view.stage.value}")
        await asyncio.sleep(0.2)


async def main_async(args: argparse.Namespace) -> int:
    async def body(client, address, work):
        counts = await run(
            client,
            address,
            work,
            claims=args.claims,
            declines=args.declines,
            fail_rate=args.fail_rate,
            seed=args.seed,
            log=args.keep,
        )
        return counts, counts.ok and counts.extra["declined_calls_per_declined_claim"] in ([1], [])

    return await in_temp_cluster("flaky-run-", args.keep, body)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.flaky_gateway", description=__doc__.split("\n")[0])
    parser.add_argument("--claims", type=int, default=200)
    parser.add_argument("--declines", type=int, default=10)
    parser.add_argument("--fail-rate", type=float, default=0.3)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--keep", action="store_true", help="keep the temp dir with the gateway and worker logs")
    sys.exit(asyncio.run(main_async(parser.parse_args())))


if __name__ == "__main__":
    main()
