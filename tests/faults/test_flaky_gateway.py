"""R-X-3 with a gateway that fails 30% of calls (timeouts, 503s, booked payments whose answer is
dropped) and declines closed accounts: every claim paid exactly once; a decline is answered once,
never retried, and the claim waits for the payee account, then pays (short form of
`python -m bench.flaky_gateway`, which runs 200 claims)."""

from __future__ import annotations

from pathlib import Path

from temporalio.testing import WorkflowEnvironment

from bench import flaky_gateway


async def test_r_x_3_flaky_gateway_pays_every_claim_exactly_once_and_declines_wait_for_the_account(
    dev_env: WorkflowEnvironment, dev_address: str, tmp_path: Path
) -> None:
    counts = await flaky_gateway.run(dev_env.client, dev_address, tmp_path, claims=16, declines=2, fail_rate=0.3, seed=8)
    print(counts.line())
    assert counts.duplicates == 0 and counts.lost == 0
    assert counts.payments == counts.claims == 16
    kinds = {item.rsplit(":", 1)[0] for item in str(counts.extra["outcomes"]).split(",")}
    assert {"timeout", "5xx", "drop"} <= kinds  # every kind of fault happened
    assert counts.extra["declined_calls_per_declined_claim"] == [1]  # one answered decline, no retry
    assert counts.extra["declined_then_paid"] == 2  # after the account was confirmed (R-X-3)
