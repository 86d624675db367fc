"""Issue 15.3: /docs (Swagger UI) and /redoc (ReDoc) work with no network: their scripts and
styles come from the API itself (api/docs.py, the assets of the installed `fastapi-offline`
package), never from a CDN. Debian's chromium (headless, playwright) opens both pages with every
request to another host aborted, and sees the API's operations listed."""

from __future__ import annotations

import secrets
from pathlib import Path
from urllib.parse import urlparse

import pytest
from playwright.async_api import async_playwright

from activities.store import FileStore
from api import create_app
from security.auth import LocalTokens
from tests.api.test_temporal_ui_browser import CHROMIUM, CHROMIUM_ARGS
from tests.helpers.serving import serving

pytestmark = pytest.mark.e2e  # a browser over the real API


async def test_issue_15_docs_and_redoc_list_the_operations_offline(tmp_path: Path) -> None:
    assert CHROMIUM.exists(), "chromium is missing: run scripts/ensure-chromium.sh (make test does)"
    app = create_app(None, store=FileStore(tmp_path / "files"), authenticator=LocalTokens(secrets.token_bytes(32)))
    elsewhere: list[str] = []
    async with serving(app) as api, async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            context = await browser.new_context()

            async def only_local(route) -> None:
                host = urlparse(route.request.url).hostname
                if host in ("127.0.0.1", "localhost") or route.request.url.startswith("data:"):
                    await route.continue_()
                else:
                    elsewhere.append(route.request.url)
                    await route.abort()

            await context.route("**/*", only_local)
            page = await context.new_page()
            await page.goto(f"{api}/docs", wait_until="domcontentloaded")
            operation = page.locator(".opblock-summary-path", has_text="/claims/{report_no}").first
            await operation.wait_for(timeout=30_000)
            paths = await page.locator(".opblock-summary-path").all_inner_texts()
            assert "/claims" in [p.strip() for p in paths], paths

            await page.goto(f"{api}/redoc", wait_until="domcontentloaded")
            await page.get_by_text("/claims/{report_no}/tracks/{track}", exact=False).first.wait_for(
                state="attached", timeout=30_000
            )
        finally:
            await browser.close()
    assert not elsewhere, f"the docs pages asked other hosts: {elsewhere}"
