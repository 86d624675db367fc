"""Progress of a long run on a terminal: `what: done/total, elapsed` on one line of stderr,
rewritten at most once a second. Off a terminal (logs, CI, a pipe) it prints nothing, so the
runs' output stays the counts they print at the end."""

from __future__ import annotations

import sys
import time
from collections.abc import Awaitable, Callable
from typing import TextIO, TypeVar

T = TypeVar("T")


class Progress:
    def __init__(
        self,
        total: int,
        what: str = "claims",
        *,
        stream: TextIO | None = None,
        every: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.total, self.what, self.every, self.clock = total, what, every, clock
        self.stream = stream or sys.stderr
        try:
            self.on = self.stream.isatty()
        except (AttributeError, ValueError):
            self.on = False
        self.count = 0
        self.started = clock()
        self._shown = float("-inf")

    def step(self, n: int = 1, note: str = "") -> None:
        self.count += n
        now = self.clock()
        if self.on and (now - self._shown >= self.every or self.count >= self.total):
            self._shown = now
            line = f"{self.what}: {self.count}/{self.total} done, {now - self.started:.0f} s elapsed{f', {note}' if note else ''}"
            self.stream.write(f"\r\x1b[K{line}" + ("\n" if self.count >= self.total else ""))
            self.stream.flush()

    async def counted(self, work: Awaitable[T]) -> T:
        result = await work
        self.step()
        return result
