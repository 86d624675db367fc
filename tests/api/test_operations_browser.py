"""The operations page as staff see it (issue 13): headless chromium signs in at the API's sign-in
page (a staff cookie, no bearer header), reads the counts of claims seeded in several stages with
one overdue (OPEN-3) and one paid in time (R-B-5), checks them against the seeded state, follows
the overdue number into the Temporal UI and finds the overdue track there. Screenshots in
tests/artifacts/ (operations-page.png is docs/operations.md's picture).

Against a dev server with its Web UI, started by the same launcher as `claims run`; chromium from
scripts/ensure-chromium.sh (run by `make test`).
"""

from __future__ import annotations

import secrets
import urllib.parse
from datetime import UTC, datetime, timedelta
from pathlib import Path

from temporalio.client import Client

from activities.store import FileStore
from api import create_app
from security.auth import LocalTokens, Role
from tests.api.conftest import TEST_LIMITS
from tests.api.operations_seed import EXPECTED_CELLS, seeded_claims
from tests.api.test_temporal_ui_browser import ARTIFACTS, CHROMIUM, chromium_page, find_in_ui, ui_server  # noqa: F401
from tests.helpers import eventually
from tests.helpers.serving import serving
from tests.workflows.fakes import FakeSystems
from tests.workflows.helpers import running


async def test_open_3_operations_page_counts_the_seeded_claims_and_links_into_the_temporal_ui(
    ui_server: tuple[Client, int],  # noqa: F811 - the fixture imported above
    tmp_path: Path,
) -> None:
    assert CHROMIUM.exists(), "chromium is missing: run scripts/ensure-chromium.sh (make test does)"
    client, ui_port = ui_server
    tokens = LocalTokens(secrets.token_bytes(32))
    async with running(client, FakeSystems().activities()) as task_queue, seeded_claims(client, task_queue) as seed:
        app = create_app(
            client,
            task_queue=task_queue,
            store=FileStore(tmp_path / "files"),
            authenticator=tokens,
            limits=TEST_LIMITS,
            temporal_ui_url=f"http://localhost:{ui_port}",
        )
        async with serving(app) as api:
            due_before = (datetime.now(UTC) + timedelta(days=30)).isoformat()
            query = urllib.parse.urlencode({"report_no_prefix": seed.root, "due_before": due_before})
            page_url = f"{api}/operations?{query}"
            async with chromium_page(1300, 900) as page:
                refused = []  # what the page's Content-Security-Policy blocked (its own stylesheet must load)
                page.on("console", lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None)
                styles = []
                page.on("response", lambda r: styles.append(r.status) if r.url.endswith("/static/operations.css") else None)
                await page.goto(page_url)
                assert page.url.endswith("/operations/sign-in"), page.url  # no cookie yet: sign in first
                await page.fill("textarea[name=token]", tokens.issue("OP01", frozenset({Role.OPERATIONS})))
                await page.get_by_role("button", name="Sign in").click()
                await page.get_by_text("Signed in as").wait_for(timeout=10_000)

                async def number(name: str) -> int:
                    return int(await page.locator(f'[data-count="{name}"]').inner_text())

                async def cells() -> dict[tuple[str, str], tuple[int, int]]:
                    await page.goto(page_url)
                    return {
                        cell: (
                            await number(f"stage:{cell[0]}:{cell[1]}"),
                            await number(f"overdue:{cell[0]}:{cell[1]}") if overdue else 0,
                        )
                        for cell, (_, overdue) in EXPECTED_CELLS.items()
                        if await page.locator(f'[data-count="stage:{cell[0]}:{cell[1]}"]').count()
                    }

                # visibility lags the last steps a little
                await eventually(
                    cells, lambda seen: seen == EXPECTED_CELLS, 20, "the page's counts to be the seeded cells", every=0.2
                )
                assert await page.locator("[data-count^='stage:']").count() == len(EXPECTED_CELLS)
                assert [await number(f"open:{t}") for t in "ABCD"] == [1, 3, 1, 0]
                assert [await number(f"overdue:{t}") for t in "ABCD"] == [0, 1, 0, 0]
                assert (await number("missed:B"), await number("paid_in_time:B"), await number("paid_late:B")) == (1, 1, 0)
                assert (await number("payments_due"), await number("payments_late")) == (1, 0)
                overdue_no = seed.reports["overdue_b"].report_no
                assert await page.get_by_role("link", name=overdue_no, exact=True).count() == 1  # the overdue list
                await page.screenshot(path=str(ARTIFACTS / "operations-page.png"), full_page=True)
                assert styles and set(styles) <= {200, 304} and refused == [], (styles, refused)

                # the overdue number opens the Temporal UI with that filter; the track is there
                link = page.locator('[data-count="overdue:B:awaiting_acceptance"]')
                href = await link.get_attribute("href")
                assert href and href.startswith(f"http://localhost:{ui_port}/namespaces/default/workflows?query=")
                await link.click()
                await find_in_ui(page, page.url, seed.workflow_id("overdue_b"), "operations-ui-failed.png")
                assert await page.get_by_text(seed.workflow_id("documents_b"), exact=True).count() == 0
                await page.screenshot(path=str(ARTIFACTS / "operations-overdue-in-temporal-ui.png"), full_page=True)
