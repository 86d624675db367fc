"""What the tests share (as samples-python's tests/helpers): one free-port finder, one way to wait
until a condition holds, and `claims run` as a process (running.py). Samples come from dev/."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from dev.devserver import free_port

__all__ = ["eventually", "free_port", "wait_until"]

T = TypeVar("T")


async def eventually(probe: Callable[[], Awaitable[T]], done: Callable[[T], bool], timeout: float = 30.0, what: str = "") -> T:
    """Poll until `done(probe())`; visibility and workflow progress are eventually consistent."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        value = await probe()
        if done(value):
            return value
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what or 'a condition'}; last value: {value!r}")
        await asyncio.sleep(0.1)


def wait_until(condition: Callable[[], bool], timeout: float = 30.0, what: str = "", every: float = 0.1) -> None:
    """Block until `condition()` holds (a process coming up, a file appearing), or fail naming `what`."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or 'a condition'}")
        time.sleep(every)
