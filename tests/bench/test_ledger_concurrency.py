"""bench.ledger_concurrency at test size (issue 22.2): four worker processes pay the same claim-tracks
at once, on SQLite and on PostgreSQL; every claim-track is paid exactly once, every other call gets
the first receipt or is refused as a duplicate."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.ledger_concurrency import run


@pytest.mark.integration  # worker processes of ours
def test_four_workers_pay_each_claim_track_exactly_once_R_X_3(tmp_path: Path, database_url: str | None) -> None:
    target = {"url": database_url} if database_url else {"sqlite": str(tmp_path / "ledger.sqlite3")}
    result = run(target, workers=4, count=60, second_key_share=0.25)
    assert (result["payments"], result["duplicates"]) == (60, 0)
    outcomes = result["outcomes"]
    assert outcomes["paid"] == 60 and outcomes["already_paid"] == 3 * 60
    assert outcomes["paid"] + outcomes["already_paid"] + outcomes.get("DuplicatePayment", 0) == result["calls"]
    assert outcomes.get("DuplicatePayment", 0) > 0, "the second keys were refused, not paid"
