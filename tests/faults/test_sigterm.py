"""Graceful shutdown: SIGTERM mid-payment, the worker stops within its bound
(graceful_shutdown_seconds plus process exit), and the claim still completes after a restart,
paid exactly once (R-X-3, R-B-5)."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

from temporalio.testing import WorkflowEnvironment

from bench.harness import (
    GatewayProcess,
    WorkerProcess,
    account_of,
    count,
    credit_report,
    credit_steps,
    drive_steps,
    finish,
    load_policies,
)
from client.claims import report_claim
from gateway.server import attempts_by_key
from tests.helpers import eventually

EXIT_SLACK = 4.0  # seconds past the graceful bound for the process to unwind and exit


async def sigterm_mid_payment(client, address: str, work: Path, *, latency: float, graceful: float):
    prefix = "G" + uuid.uuid4().hex[:6].upper()
    [policy] = load_policies(work / "data", 1, prefix)
    report = credit_report(f"{prefix}-0000", policy)
    gateway = GatewayProcess(work / "payments.sqlite3", "--latency", f"{latency},{latency}")
    worker = WorkerProcess(address, work / "data", f"term-{prefix}", gateway.url, graceful_seconds=graceful)
    try:
        worker.start()
        await report_claim(client, report, f"term-{prefix}")
        await drive_steps(client, report, credit_steps(report)[0], 60)  # up to the assessment: payment starts
        await eventually(
            lambda: asyncio.to_thread(gateway.stats),
            lambda stats: stats["in_flight"] != 0,
            30,
            "the payment to reach the gateway",
            every=0.05,
        )
        took = await asyncio.to_thread(worker.terminate)
        assert worker.proc is not None
        exit_code = worker.proc.returncode
        worker.start()  # a new worker finishes the claim
        view = await finish(client, report, timeout=120)
        counts = count(gateway.db, {report.report_no: account_of(0)}, {report.report_no: view})
        return took, exit_code, counts, attempts_by_key(gateway.db)[f"{report.report_no}:B:indemnity"]
    finally:
        worker.stop()
        gateway.stop()


async def test_sigterm_drains_the_payment_in_flight_then_exits(
    dev_env: WorkflowEnvironment, dev_address: str, tmp_path: Path
) -> None:
    """The payment (3 s at the gateway) fits in the 8 s bound: it finishes on the old worker."""
    took, code, counts, attempts = await sigterm_mid_payment(dev_env.client, dev_address, tmp_path, latency=3.0, graceful=8.0)
    print(f"SIGTERM, 3 s payment, 8 s bound: exited {code} in {took:.1f} s; gateway calls {attempts}")
    assert code == 0 and took < 8.0 + EXIT_SLACK
    assert attempts == ["paid"]  # drained: one attempt, never cut off (a cut-off one is retried: "repeat")
    assert counts.ok, counts.line()


async def test_sigterm_exits_within_the_bound_when_the_payment_is_slower(
    dev_env: WorkflowEnvironment, dev_address: str, tmp_path: Path
) -> None:
    """The payment (6 s) outlasts the 1 s bound: the worker still exits in time, the attempt is
    cut off, and the retry on the new worker finds the booking (one payment)."""
    took, code, counts, attempts = await sigterm_mid_payment(dev_env.client, dev_address, tmp_path, latency=6.0, graceful=1.0)
    print(f"SIGTERM, 6 s payment, 1 s bound: exited {code} in {took:.1f} s; gateway calls {attempts}")
    assert code == 0 and took < 1.0 + EXIT_SLACK
    assert counts.ok, counts.line()
    assert attempts[0] == "paid" and set(attempts[1:]) <= {"repeat"} and len(attempts) >= 2
