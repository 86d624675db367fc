"""The API over the real dev server (dev_env) and a worker whose outside systems are fakes
registered under the real activity names; HTTP through httpx's ASGI transport (no port)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx
import pytest_asyncio
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from activities.store import FileStore
from api import create_app

from tests.workflows.fakes import FakeSystems
from tests.workflows.helpers import running

T = TypeVar("T")

# A 1x1 PNG: a real photo for the store.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000100e221bc330000000049454e44ae426082"
)


@dataclass
class ApiEnv:
    http: httpx.AsyncClient
    fakes: FakeSystems
    store: FileStore
    client: Client
    task_queue: str


@pytest_asyncio.fixture
async def api(dev_env: WorkflowEnvironment, tmp_path) -> AsyncIterator[ApiEnv]:  # type: ignore[no-untyped-def]
    fakes = FakeSystems()
    store = FileStore(tmp_path / "files", max_bytes=64 * 1024)
    async with running(dev_env.client, fakes.activities()) as task_queue:
        app = create_app(dev_env.client, task_queue=task_queue, store=store)
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://api.test", timeout=30) as http:
            yield ApiEnv(http=http, fakes=fakes, store=store, client=dev_env.client, task_queue=task_queue)


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


def error_of(response: httpx.Response) -> dict[str, Any]:
    """The error body: exactly a stable code and a message, no trace."""
    body = response.json()
    assert set(body) == {"code", "message"}, body
    assert "Traceback" not in body["message"]
    return body
