"""What the tests share (as samples-python's tests/helpers): one free-port finder, one way to wait
until a condition holds (`eventually` in async code, `wait_until` in blocking code: each fails at
its timeout naming what it waited for), an ASGI app served on a port (serving.py) and `claims run`
as a process (running.py). Samples come from dev/."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from dev.devserver import free_port

__all__ = ["eventually", "free_port", "wait_until"]

T = TypeVar("T")


async def eventually(
    probe: Callable[[], Awaitable[T]], done: Callable[[T], bool], timeout: float = 30.0, what: str = "", every: float = 0.1
) -> T:
    """Poll until `done(probe())`, every `every` seconds; visibility and workflow progress are
    eventually consistent. The probe's value when done, or an AssertionError naming `what` and the
    last value after `timeout` seconds. A check without awaiting (a flag, a list a callback fills)
    is a probe too: an `async def` returning it."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        value = await probe()
        if done(value):
            return value
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what or 'a condition'}; last value: {value!r}")
        await asyncio.sleep(every)


def wait_until(condition: Callable[[], bool], timeout: float = 30.0, what: str = "", every: float = 0.1) -> None:
    """Block until `condition()` holds (a process coming up, a file appearing), checked every `every`
    seconds, or fail naming `what` after `timeout` seconds. It blocks the event loop if called from
    async code: there, only for what needs nothing on the loop (else `eventually`)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or 'a condition'}")
        time.sleep(every)
