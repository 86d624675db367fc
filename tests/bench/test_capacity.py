"""The capacity benchmark still runs (bench/capacity.py): a few claims of the mix driven to payment
by a real worker process beside the bare baseline, and the table printed. Speed is not checked
here; the benchmark measures it."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bench.bare import BarePlan
from bench.capacity import MIX, Claim, mix, plan_of, table, throughput
from dev.scenarios import sample_reports, steps_for
from domain.models import Track


def test_mix_and_bare_plans_match_the_claims() -> None:
    tracks = mix(20)
    assert {t: tracks.count(t) for t in MIX} == {t: 2 * n for t, n in MIX.items()}
    report = sample_reports("R20261125", datetime.now(UTC))["A"]
    plan = plan_of(Claim(report, Track.AUTHORISATION), "a" * 64)
    # every human step of the track is an update of the baseline; ordinary: the payment; local: the
    # rules, the policy lookup, the file check of the photos and of the documents (received
    # together), the callback book
    assert plan == BarePlan(
        updates=len(steps_for(Track.AUTHORISATION, report, photo_sha256="a" * 64)),
        activities=1,
        local_activities=1 + 1 + 1 + 1 + 1,
    )


@pytest.mark.e2e  # a benchmark run: its own dev server and worker processes
async def test_a_small_throughput_run_pays_every_claim_and_prints_its_row() -> None:
    row = await throughput(claims=4, processes=1, concurrency=4, keep=False)
    assert row["paid"] == 4 and row["claims_per_s"] > 0 and row["bare_per_s"] > 0
    assert {"track A", "track B", "Claim (A)", "claim+track (all)"} <= set(row["history"])
    assert "throughput, 1 worker process(es)" in table([row])
    # the same claims as bare parent + child (the shape of a claim and its track), and whose CPU
    assert row["bare_pair_per_s"] > 0 and set(row["cpu_ms_per_claim"]) == {"claims", "bare", "bare pair"}
    assert all(ms["server"] > 0 and ms["workers"] > 0 for ms in row["cpu_ms_per_claim"].values())
    # per claim by event type: a claim and its track are two workflows, the bare claim one
    assert row["history"]["claim+track (all)"]["by_type"]["WORKFLOW_EXECUTION_STARTED"] == 2
    assert row["history"]["bare (same claims)"]["by_type"]["WORKFLOW_EXECUTION_STARTED"] == 1
    assert "bare as parent + child" in table([row])
