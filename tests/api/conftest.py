"""The API over the real dev server (dev_env) and a worker whose outside systems are fakes
registered under the real activity names; HTTP through httpx's ASGI transport (no port).

`api.http` carries a staff token holding every role (StaffAuth): as subject T001, or, for a step
whose body says who did it (`"by": "AG01"`), as that staff member, since the API records a step
as done by the token's subject. The permission tests use `api.raw` (no token) with explicit ones.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import AsyncIterator, Generator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest_asyncio
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from activities.store import FileStore
from api import create_app
from api.guard import Limits
from security.auth import LocalTokens, Role
from tests.workflows.fakes import FakeSystems
from tests.workflows.helpers import running

T = TypeVar("T")


# Limits far above what a test sends: the rate and size tests build apps with small ones.
TEST_LIMITS = Limits(max_body_bytes=64 * 1024, rate_per_minute=600_000, rate_burst=100_000)


def bearer(tokens: LocalTokens, subject: str, roles: set[Role] | frozenset[Role], ttl: timedelta | None = None) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens.issue(subject, roles, ttl)}"}


class StaffAuth(httpx.Auth):
    """Every role; the subject is the step body's `by` when it has one, else T001. A request
    that already carries an Authorization header is sent as it is."""

    def __init__(self, tokens: LocalTokens) -> None:
        self.tokens = tokens

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        if "authorization" not in request.headers:
            subject = "T001"
            if request.headers.get("content-type", "").startswith("application/json"):
                try:
                    body = json.loads(request.content or b"null")
                except ValueError:
                    body = None
                if isinstance(body, dict) and isinstance(body.get("by"), str):
                    subject = body["by"]
            request.headers.update(bearer(self.tokens, subject, frozenset(Role)))
        yield request


@dataclass
class ApiEnv:
    http: httpx.AsyncClient  # with a token holding every role (StaffAuth)
    raw: httpx.AsyncClient  # no token unless the request gives one
    tokens: LocalTokens  # the app's signing key: api.tokens.issue(subject, roles)
    fakes: FakeSystems
    store: FileStore
    client: Client
    task_queue: str

    def as_(self, subject: str, *roles: Role, ttl: timedelta | None = None) -> dict[str, str]:
        """The Authorization header of a token for `subject` with `roles`."""
        return bearer(self.tokens, subject, frozenset(roles), ttl)


@pytest_asyncio.fixture
async def api(dev_env: WorkflowEnvironment, tmp_path) -> AsyncIterator[ApiEnv]:
    fakes = FakeSystems()
    async with serving_api(dev_env.client, fakes, fakes.activities(), tmp_path) as env:
        yield env


@asynccontextmanager
async def serving_api(client: Client, fakes: FakeSystems, activities: list, tmp_path: Path) -> AsyncIterator[ApiEnv]:
    """The API over `client` and a worker running `activities` (the fakes' or some real ones)."""
    store = FileStore(tmp_path / "files", max_bytes=64 * 1024)
    tokens = LocalTokens(secrets.token_bytes(32))
    async with running(client, activities) as task_queue:
        app = create_app(client, task_queue=task_queue, store=store, authenticator=tokens, limits=TEST_LIMITS)
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with (
            httpx.AsyncClient(transport=transport, base_url="http://api.test", timeout=30, auth=StaffAuth(tokens)) as http,
            httpx.AsyncClient(transport=transport, base_url="http://api.test", timeout=30) as raw,
        ):
            yield ApiEnv(http=http, raw=raw, tokens=tokens, fakes=fakes, store=store, client=client, task_queue=task_queue)


def error_of(response: httpx.Response) -> dict[str, Any]:
    """The error body: exactly a stable code and a message, no trace."""
    body = response.json()
    assert set(body) == {"code", "message"}, body
    assert "Traceback" not in body["message"]
    return body
