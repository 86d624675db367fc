"""The operations read model (client/operations.py): its day is the program's day."""

from __future__ import annotations

from datetime import UTC, datetime

from client.operations import end_of_today


def test_today_ends_at_midnight_china_time() -> None:
    """'What must be paid today' is the program's day, in mainland China (UTC+8, SPEC §6)."""
    assert end_of_today(datetime(2026, 12, 2, 15, 59, tzinfo=UTC)) == datetime(2026, 12, 2, 16, 0, tzinfo=UTC)
    assert end_of_today(datetime(2026, 12, 2, 16, 0, tzinfo=UTC)) == datetime(2026, 12, 3, 16, 0, tzinfo=UTC)
