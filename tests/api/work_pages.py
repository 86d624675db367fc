"""What the browser tests of the work queue share (tests/api/test_work_browser.py for tracks A and
B, tests/api/test_work_browser_cd.py for C and D): one staff tab that signs in as one member of
staff after another and works items from the queue's pages, the documents form filled as a
person ticks it, and the customer's own page read as the customer opens it."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from playwright.async_api import Page
from temporalio.client import Client

from activities.staff import JsonStaffDirectory
from activities.store import FileStore
from api import create_app
from client.claims import track_state
from domain.models import Track
from security.auth import LocalTokens, Role
from security.customer_links import CustomerLinks
from tests.api.conftest import TEST_LIMITS
from tests.api.test_temporal_ui_browser import chromium_page
from tests.helpers import eventually
from tests.helpers.serving import serving
from tests.workflows.fakes import FakeSystems
from tests.workflows.helpers import running


class Staff:
    """One browser tab that signs in as one member of staff after another."""

    def __init__(self, page: Page, base: str, tokens: LocalTokens) -> None:
        self.page, self.base, self.tokens = page, base, tokens
        self.code = ""  # who is signed in now

    async def sign_in(self, code: str, role: Role) -> None:
        await self.page.goto(f"{self.base}/work/sign-in")
        await self.page.fill("textarea[name=token]", self.tokens.issue(code, frozenset({role})))
        await self.page.get_by_role("button", name="Sign in").click()
        await self.page.get_by_text(f"Signed in as {code}").wait_for(timeout=10_000)
        self.code = code

    async def queue_row(self, report_no: str, track: str, present: bool = True) -> None:
        """Open the queue until the item's row is there (or gone): visibility lags a step a little."""
        row = self.page.locator(f'tr[data-item="{report_no}-{track}"]')

        async def listed() -> bool:
            await self.page.goto(f"{self.base}/work")
            return await row.count() > 0

        where = "come to" if present else "leave"
        await eventually(listed, lambda shown: shown == present, 15, f"{report_no}-{track} to {where} the queue")

    async def take(self, report_no: str, track: str) -> None:
        """Take the item from the queue once its row offers it: a row handed back a moment ago may
        still show its last holder (visibility lags the hand-back a little)."""
        button = self.page.get_by_role("button", name=f"Take {report_no} track {track}")

        async def offered() -> int:
            await self.page.goto(f"{self.base}/work")
            return await button.count()

        await eventually(offered, bool, 15, f"{report_no}-{track} to be offered to take in the queue")
        await button.click()
        await self.page.locator("#held-by").get_by_text("since").wait_for(timeout=10_000)

    async def record(self, step: str, fill: Callable[[Page], Awaitable[None]] | None = None) -> str:
        """Fill and send a step's form; the page after it: the next stage."""
        form = self.page.locator(f"#step-{step}")
        await form.wait_for(timeout=15_000)
        if fill is not None:
            await fill(self.page)
        await form.get_by_role("button", name=f"Record {step}").click()
        await self.page.locator("#recorded").wait_for(timeout=15_000)
        return await self.page.locator("#stage").inner_text()

    async def open_item(self, report_no: str, track: str, step: str) -> None:
        """Open the item until its step's form is there: the track may still be on its way to it."""

        async def offered() -> int:
            await self.page.goto(f"{self.base}/work/{report_no}/{track}")
            return await self.page.locator(f"#step-{step}").count()

        await eventually(offered, bool, 15, f"{step} to be offered on {report_no}-{track}")


def all_documents(channel: str) -> Callable[[Page], Awaitable[None]]:
    """Fill receive_documents as a person does: tick every missing document, each come via `channel`."""

    async def fill(p: Page) -> None:
        form = p.locator("#step-receive_documents")
        for box in await form.locator("input[type=checkbox]").all():
            await box.check()
        for choice in await form.locator("select").all():
            await choice.select_option(channel)

    return fill


class Customer:
    """The customer's own page (their link, no staff cookie) in a tab of its own."""

    def __init__(self, page: Page, base: str, links: CustomerLinks, client: Client) -> None:
        self.page, self.base, self.links, self.client = page, base, links, client
        self.seen: dict[str, list[str]] = {}  # the stages each track's section showed, in order

    async def sees(self, report_no: str, track: str) -> str:
        """The page shows the track's stage as the track has it now; the section's text."""
        now = (await track_state(self.client, report_no, Track(track))).stage.value
        await self.page.goto(f"{self.base}{self.links.path(report_no)}")
        section = self.page.locator(f"#service-{track}")
        assert await section.get_attribute("data-stage") == now
        self.seen.setdefault(track, []).append(now)
        return await section.inner_text()


@dataclass
class WorkSite:
    """The API with the work pages on the session's dev server, a worker on fakes, a staff tab and
    the customer's tab (a phone, no staff cookie)."""

    task_queue: str
    base: str
    page: Page  # the staff tab
    staff: Staff
    customer: Customer


@asynccontextmanager
async def work_site(client: Client, tmp_path: Path, height: int) -> AsyncIterator[WorkSite]:
    tokens = LocalTokens(secrets.token_bytes(32))
    links = CustomerLinks(secrets.token_bytes(32))
    async with running(client, FakeSystems().activities()) as tq:
        app = create_app(
            client,
            task_queue=tq,
            store=FileStore(tmp_path / "files"),
            authenticator=tokens,
            limits=TEST_LIMITS,
            customer_links=links,
            staff=JsonStaffDirectory(),
        )
        async with serving(app) as base, chromium_page(1280, height) as page:
            browser = page.context.browser
            assert browser is not None
            phone = await browser.new_page(viewport={"width": 480, "height": 900})
            yield WorkSite(tq, base, page, Staff(page, base, tokens), Customer(phone, base, links, client))
