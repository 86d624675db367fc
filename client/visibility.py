"""Staying within the cluster's visibility limit (issue 21.5).

A real frontend admits `frontend.namespaceRPS.visibility` list and count calls per second per
namespace (10 by default, burst 10; deploy/temporal/dynamicconfig.yaml) and refuses the rest
(ResourceExhausted). The operations summary is about sixty count calls, so every viewer computing
it for themselves would be refused from the second viewer on. Two things keep a process inside:

- `VisibilityBudget`: one token bucket per process that every visibility call of the read models
  waits on (settings: visibility_calls_per_second), so a burst is spread instead of refused;
- `SharedSnapshot`: a value computed at most once per period and served to every caller with its
  age, one computation at a time (the others wait for it rather than start their own).

With two API processes at the default 4 calls/s, the cluster sees at most 8/s from them.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Generic, TypeVar

from temporalio.client import Client

T = TypeVar("T")


class VisibilityBudget:
    """A token bucket: `rate` calls per second, at most `burst` at once after a quiet spell."""

    def __init__(
        self,
        rate: float,
        burst: int = 1,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("a visibility budget needs a positive rate and a burst of at least 1")
        self.rate, self.burst = rate, burst
        self._clock, self._sleep = clock, sleep
        self._tokens = float(burst)
        self._at = clock()
        self._lock = asyncio.Lock()
        self.calls = 0  # how many went through (for the benchmark's figures)

    async def take(self) -> None:
        async with self._lock:  # callers queue in order; each waits for its own token
            while True:
                now = self._clock()
                self._tokens = min(self.burst, self._tokens + (now - self._at) * self.rate)
                self._at = now
                if self._tokens >= 1:
                    self._tokens -= 1
                    self.calls += 1
                    return
                await self._sleep((1 - self._tokens) / self.rate)

    async def count(self, client: Client, query: str) -> int:
        await self.take()
        return (await client.count_workflows(query)).count


@dataclass(frozen=True)
class Snapshot(Generic[T]):
    value: T
    computed_at: datetime

    def age_seconds(self, now: datetime | None = None) -> float:
        return ((now or datetime.now(UTC)) - self.computed_at).total_seconds()


class SharedSnapshot(Generic[T]):
    """`compute()` at most once per `period` seconds, whoever asks; every caller gets the same
    snapshot. A failed computation is not kept: the next caller tries again."""

    def __init__(self, compute: Callable[[], Awaitable[T]], period: float) -> None:
        self.compute, self.period = compute, period
        self._snapshot: Snapshot[T] | None = None
        self._lock = asyncio.Lock()
        self.computations = 0

    async def get(self) -> Snapshot[T]:
        if self._fresh():
            assert self._snapshot is not None
            return self._snapshot
        async with self._lock:  # one computation at a time; who waited finds it fresh
            if not self._fresh():
                value = await self.compute()
                self.computations += 1
                self._snapshot = Snapshot(value, datetime.now(UTC))
            assert self._snapshot is not None
            return self._snapshot

    def _fresh(self) -> bool:
        return self._snapshot is not None and self._snapshot.age_seconds() < self.period
