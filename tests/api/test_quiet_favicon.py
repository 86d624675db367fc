"""Issue 23.7: every browser asks for /favicon.ico; it logged `api.unauthenticated` each time."""

from __future__ import annotations

from pathlib import Path

import httpx

from activities.store import FileStore
from api import create_app
from security.auth import LocalTokens
from tests.helpers.logs import captured_log


async def test_a_favicon_request_logs_nothing(tmp_path: Path) -> None:
    app = create_app(store=FileStore(tmp_path / "files", max_bytes=1024), authenticator=LocalTokens(b"k" * 32))
    with captured_log() as log:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as http:
            response = await http.get("/favicon.ico")
    assert response.status_code in (204, 404)
    service = [line for line in log.getvalue().splitlines() if "[httpx]" not in line]  # the test's own client
    assert not any("unauthenticated" in line or "favicon" in line for line in service), service
