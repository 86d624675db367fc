"""R-X-3 under SIGKILL: the worker dies at random moments while payments are in flight, a new one
starts, and every claim is still paid exactly once, to the insured (short form of
`python -m bench.kill_worker`, which does >= 50 kills)."""

from __future__ import annotations

from pathlib import Path

from temporalio.testing import WorkflowEnvironment

from bench import kill_worker


async def test_r_x_3_worker_killed_mid_payment_pays_every_claim_exactly_once(
    dev_env: WorkflowEnvironment, dev_address: str, tmp_path: Path
) -> None:
    try:
        counts = await kill_worker.run(dev_env.client, dev_address, tmp_path, claims=5, kills=5, seed=3, log=True)
    except Exception:
        log = tmp_path / "worker.log"
        print(log.read_text(errors="replace")[-6000:] if log.exists() else "no worker log")  # why, when it fails
        raise
    print(counts.line())
    assert counts.extra["kills"] == 5
    in_flight = counts.extra["kills_with_payment_in_flight"]
    assert isinstance(in_flight, int) and in_flight >= 4  # the kills hit payments, not idle workers
    assert counts.duplicates == 0 and counts.lost == 0
    assert counts.payments == counts.claims == 5
    assert counts.attempts > counts.payments  # payments really were cut off and retried
