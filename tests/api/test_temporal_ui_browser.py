"""Tracking in the Temporal UI: a dev server started by the same launcher as `claims run` (UI on,
search attributes registered), a claim started with its search attributes, and Debian's chromium
(headless, driven by playwright) filtering the UI's workflow list by ReportNo.

chromium comes from scripts/ensure-chromium.sh (run by `make test`); without it this test fails.
"""

from __future__ import annotations

import subprocess
import urllib.parse
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest_asyncio
from playwright.async_api import Page, async_playwright
from temporalio.client import Client

from client.claims import report_claim
from client.connect import connect
from dev.devserver import start_dev_server, wait_until_ready
from dev.scenarios import sample_reports
from tests.helpers import eventually, free_port
from tests.workflows.helpers import unique_prefix

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"


@asynccontextmanager
async def chromium_page(width: int = 1400, height: int = 900) -> AsyncIterator[Page]:
    """A page of Debian's chromium, headless; tests/artifacts/ exists for its screenshots."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            yield await browser.new_page(viewport={"width": width, "height": height})
        finally:
            await browser.close()


async def find_in_ui(page: Page, url: str, workflow_id: str, failed_png: str) -> None:
    """Open the UI's `url` until `workflow_id` shows (the UI server may still be warming up on a
    loaded machine); a screenshot `failed_png` in tests/artifacts/ when it never does."""
    for attempt in range(3):
        try:
            await page.goto(url, wait_until="domcontentloaded", timeout=15_000)
            await page.get_by_text(workflow_id, exact=True).first.wait_for(timeout=15_000)
            return
        except Exception:
            if attempt == 2:
                await page.screenshot(path=str(ARTIFACTS / failed_png), full_page=True)
                raise


@pytest_asyncio.fixture
async def ui_server(tmp_path: Path) -> AsyncIterator[tuple[Client, int]]:
    port, ui_port = free_port(), free_port()
    server: subprocess.Popen = start_dev_server(tmp_path / "temporal", port, ui_port, ui=True)
    try:
        client = await wait_until_ready(lambda: connect(f"127.0.0.1:{port}"), timeout=30)
        yield client, ui_port
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


async def test_claim_found_in_the_temporal_ui_by_search_attribute(ui_server: tuple[Client, int]) -> None:
    """The UI finds the claim by `ReportNo = "…"` (a custom search attribute registered by the
    launcher); no worker is needed: the attributes are set when the claim starts."""
    assert CHROMIUM.exists(), "chromium is missing: run scripts/ensure-chromium.sh (make test does)"
    client, ui_port = ui_server
    report = sample_reports(unique_prefix(), datetime.now(UTC))["C"]
    handle, started = await report_claim(client, report, "no-worker-here")
    assert started
    query = f'ReportNo = "{report.report_no}" AND ClaimStage = "deciding"'

    async def listed() -> list[str]:
        return [w.id async for w in client.list_workflows(query)]

    # the UI reads visibility, which lags the start a little
    await eventually(listed, lambda ids: ids == [handle.id], 10, "the claim to appear in visibility")

    url = f"http://localhost:{ui_port}/namespaces/default/workflows?query={urllib.parse.quote(query)}"
    async with chromium_page() as page:
        await find_in_ui(page, url, handle.id, "temporal-ui-failed.png")
        await page.screenshot(path=str(ARTIFACTS / "temporal-ui-claim-by-report-no.png"), full_page=True)
    await handle.terminate("test done")
