"""Issue 21.5: the read models stay within the cluster's visibility limit: one token bucket per
process spreads the calls, and one shared summary serves every viewer."""

from __future__ import annotations

import asyncio

import pytest

from client.visibility import SharedSnapshot, VisibilityBudget

pytestmark = pytest.mark.unit


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds


async def test_the_budget_spreads_calls_at_its_rate() -> None:
    clock = FakeClock()
    budget = VisibilityBudget(rate=4, burst=2, clock=clock, sleep=clock.sleep)
    for _ in range(42):  # 2 at once, then 40 at 4 per second
        await budget.take()
    assert clock.now == pytest.approx(10.0)
    assert budget.calls == 42


async def test_the_budget_never_goes_above_its_rate_over_any_second() -> None:
    clock = FakeClock()
    budget = VisibilityBudget(rate=8, burst=1, clock=clock, sleep=clock.sleep)
    times = []
    for _ in range(60):
        await budget.take()
        times.append(clock.now)
    assert max(sum(1 for t in times if start <= t < start + 1) for start in times) <= 8 + 1


def test_a_budget_without_a_rate_is_refused() -> None:
    with pytest.raises(ValueError, match="positive rate"):
        VisibilityBudget(rate=0)


async def test_twenty_viewers_share_one_computation() -> None:
    calls = 0

    async def compute() -> int:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0.05)
        return calls

    shared = SharedSnapshot(compute, period=30)
    snapshots = await asyncio.gather(*(shared.get() for _ in range(20)))
    assert calls == 1 and {s.value for s in snapshots} == {1}
    assert all(s.age_seconds() >= 0 for s in snapshots)
    shared.period = 0  # stale: the next viewer computes again
    assert (await shared.get()).value == 2


async def test_a_failed_computation_is_not_kept() -> None:
    outcomes: list[int | Exception] = [RuntimeError("refused"), 7]

    async def compute() -> int:
        outcome = outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    shared = SharedSnapshot(compute, period=30)
    with pytest.raises(RuntimeError):
        await shared.get()
    assert (await shared.get()).value == 7
