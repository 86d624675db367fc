"""Issue 21.4, test-sized: the claims go on when a part of the real cluster dies (R-X-2, R-X-3).
The full runs (40 claims each) are `python -m bench.cluster_faults` (docs/faults.md)."""

from __future__ import annotations

import pytest

from bench.cluster_faults import run_fault
from dev.cluster import Cluster

pytestmark = pytest.mark.cluster


@pytest.mark.parametrize(("fault", "kills"), [("history", 1), ("postgres", 1), ("worker", 3)])
async def test_every_acknowledged_claim_is_paid_once_through_the_fault(
    cluster: Cluster, tmp_path, fault: str, kills: int
) -> None:
    counts = await run_fault(cluster, fault, tmp_path, claims=8, kills=kills, seed=1)
    assert counts.ok, counts.line()
    assert counts.duplicates == 0 and counts.lost == 0 and counts.payments == counts.claims == 8
    assert counts.extra["kills"] == kills
    if fault == "history":  # the host came back at the end: the cluster is whole for what follows
        assert cluster.pid("history-1") is not None
