"""R-X-2, R-X-3 with the embedded engine killed: the dev server (its SQLite file with the settings'
pragmas, WAL and synchronous=NORMAL) is SIGKILLed while claims are reported through the API and
paid, and started again on the same file. Every report the API acknowledged is still there,
decided, paid exactly once to the insured and closed (short form of `python -m bench.kill_server`)."""

from __future__ import annotations

from pathlib import Path

from bench import kill_server
from config.settings import EMBEDDED_SQLITE_PRAGMAS, Settings


async def test_r_x_3_dev_server_killed_mid_claims_loses_and_doubles_nothing(tmp_path: Path) -> None:
    assert Settings().dev_server_sqlite_pragmas == EMBEDDED_SQLITE_PRAGMAS == {"journal_mode": "wal", "synchronous": "normal"}
    counts = await kill_server.run(tmp_path, claims=8, kills=2, seed=5, timeout=300)
    print(counts.line())
    assert counts.extra["kills"] == 2 and counts.extra["server_starts"] == 3
    assert counts.extra["acknowledged"] == counts.claims == 8
    before_a_kill = counts.extra["acknowledged_before_a_kill"]
    assert isinstance(before_a_kill, int) and before_a_kill >= 1  # a kill came after claims were acknowledged
    assert counts.duplicates == 0 and counts.lost == 0
    assert counts.payments == counts.claims
