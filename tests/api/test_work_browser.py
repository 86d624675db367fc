"""The people around a claim, as they would do it (issue 24): headless chromium signs in at
/work/sign-in as each member of staff in turn and does every human step of a track-A and a
track-B claim from the work queue's pages, from the offer to payment and the callback: the
assessor takes the track-A item from the queue, does the car at the shop (by keyboard), the photos
(a file), the assessment (a wrong amount first: the error by its field, nothing recorded) and the
documents, and sees the item leave their queue once it is paid. The customer opens their link
after every step and sees what changed. Screenshots in tests/artifacts/ (work-queue.png,
work-step.png, customer-page.png and customer-page-paid.png are docs/'s pictures).

Against the dev server of the test session and a worker on fakes; chromium from
scripts/ensure-chromium.sh (run by `make test`).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.async_api import FilePayload, Page
from temporalio.testing import WorkflowEnvironment

from client.claims import report_claim, track_state
from dev.scenarios import DEMO_PHOTO
from domain.models import Track
from security.auth import Role
from tests.api.test_temporal_ui_browser import ARTIFACTS, CHROMIUM
from tests.api.work_pages import all_documents, work_site
from tests.helpers import eventually
from tests.workflows.helpers import reports
from workflows.messages import Stage

pytestmark = pytest.mark.e2e  # a browser over the real API
R = Role


async def test_track_a_and_b_from_report_to_payment_from_the_pages(dev_env: WorkflowEnvironment, tmp_path: Path) -> None:
    """R-A-1..R-A-6, R-B-1, R-B-4, R-B-5, R-X-1 and issue 24: every human step from the pages."""
    assert CHROMIUM.exists(), "chromium is missing: run scripts/ensure-chromium.sh (make test does)"
    client = dev_env.client
    samples = reports()
    a, b = samples["A"], samples["B"]
    async with work_site(client, tmp_path, 860) as site:
        tq, base, page, staff = site.task_queue, site.base, site.page, site.staff
        customer_page = site.customer
        customer = customer_page.page  # a phone, no staff cookie
        customer_sees, seen = customer_page.sees, customer_page.seen

        for report in (a, b):
            await report_claim(client, report, tq)

        # R-A-1 / R-B-1: the agent records each customer's acceptance from the queue
        await staff.sign_in("AG01", R.AGENT)
        for report, track in ((a, "A"), (b, "B")):
            assert "等待您确认" in await customer_sees(report.report_no, track)
            await staff.take(report.report_no, track)

            async def accept(p: Page) -> None:
                await p.select_option("#accept_offer-accepted", "true")  # a choice: no answer is no decline

            await staff.record("accept_offer", accept)

        # R-A-2: the surveyor's scene estimate
        await staff.sign_in("SV01", R.SURVEYOR)
        assert "拍照估损" in await customer_sees(a.report_no, "A")
        await staff.take(a.report_no, "A")

        async def estimate(p: Page) -> None:
            await p.fill("#record_scene_estimate-own_loss", "2800.00")

        assert await staff.record("record_scene_estimate", estimate) == "awaiting_car_at_shop"

        # R-A-3..R-A-5: the assessor takes the track-A claim from the queue and does the rest
        await staff.sign_in("AS01", R.ASSESSOR)
        assert "修理厂" in await customer_sees(a.report_no, "A")
        await staff.queue_row(a.report_no, "A")
        await page.screenshot(path=str(ARTIFACTS / "work-queue.png"), full_page=True)
        html = await page.content()
        assert "<script" not in html and "http://" not in html.replace(base, "")  # nothing from another host
        await staff.take(a.report_no, "A")
        await page.locator("#step-car_at_shop").wait_for()
        await page.keyboard.type("SHOP-17")  # the first field has the focus: the keyboard is enough
        await page.keyboard.press("Enter")
        await page.locator("#recorded").wait_for(timeout=15_000)
        assert await page.locator("#stage").inner_text() == "awaiting_photos"
        assert "AS01" in await page.locator("#held-by").inner_text()  # the hold follows the assessor's steps

        async def photos(p: Page) -> None:
            photo: FilePayload = {"name": "shop.png", "mimeType": "image/png", "buffer": DEMO_PHOTO}
            await p.set_input_files("#upload_photos-sha256", files=[photo])

        assert await staff.record("upload_photos", photos) == "awaiting_documents"
        assert "尚缺单证" in await customer_sees(a.report_no, "A")

        # a wrong amount: the error by its field, nothing recorded (R-A-4)
        await page.fill("#issue_assessment-sheet_no", "DS-A-1")
        await page.fill("#issue_assessment-amount", "0")
        await page.locator("#step-issue_assessment").get_by_role("button", name="Record issue_assessment").click()
        error = page.locator("#issue_assessment-amount-error")
        await error.wait_for(timeout=10_000)
        assert "more than zero" in await error.inner_text()
        await page.screenshot(path=str(ARTIFACTS / "work-step.png"), full_page=True)
        assert (await track_state(client, a.report_no, Track.AUTHORISATION)).assessment_amount is None

        async def assessment(p: Page) -> None:
            await p.fill("#issue_assessment-sheet_no", "DS-A-1")
            await p.fill("#issue_assessment-amount", "2650.00")

        assert await staff.record("issue_assessment", assessment) == "awaiting_documents"

        await staff.record("receive_documents", all_documents("assessor_at_shop"))
        # R-A-6: paid; the item leaves the assessor's queue (the callback is the service centre's)
        await staff.queue_row(a.report_no, "A", present=False)

        async def stage_a() -> Stage:
            return (await track_state(client, a.report_no, Track.AUTHORISATION)).stage

        await eventually(stage_a, lambda stage: stage is Stage.AWAITING_CALLBACK, 10, f"{a.report_no}-A awaiting the callback")
        paid = await customer_sees(a.report_no, "A")
        assert "已于" in paid and "2650.00" in paid and "account ending" in paid
        await customer.screenshot(path=str(ARTIFACTS / "customer-page-paid.png"), full_page=True)

        # R-B-4: the customer's documents reach the agent (door pickup); R-A-4's assessor assesses
        await staff.sign_in("AG01", R.AGENT)
        await staff.open_item(b.report_no, "B", "receive_documents")
        assert "上门收单" in await customer_sees(b.report_no, "B")
        await customer.screenshot(path=str(ARTIFACTS / "customer-page.png"), full_page=True)
        await staff.record("receive_documents", all_documents("door_pickup"))
        # the agent held B since the offer (the documents are the agent's too): hand it back
        await page.get_by_role("button", name="Hand back to the queue").click()
        await staff.queue_row(b.report_no, "B")
        await staff.sign_in("AS01", R.ASSESSOR)
        await staff.take(b.report_no, "B")

        async def assessment_b(p: Page) -> None:
            await p.fill("#issue_assessment-sheet_no", "DS-B-1")
            await p.fill("#issue_assessment-amount", "1200.00")

        await staff.record("issue_assessment", assessment_b)
        await staff.queue_row(b.report_no, "B", present=False)  # R-B-5: paid the same day

        # R-X-1: the service centre's callbacks close both claims
        await staff.sign_in("CS01", R.SERVICE_CENTRE)
        for report, track in ((a, "A"), (b, "B")):
            await staff.take(report.report_no, track)

            async def score(p: Page) -> None:
                await p.fill("#record_callback-score", "5")

            assert await staff.record("record_callback", score) in ("closed", "awaiting_callback")
            await client.get_workflow_handle(f"claim-{report.report_no}").result()
            assert "已完成，感谢您的评价" in await customer_sees(report.report_no, track)
        assert seen["A"][0] == "awaiting_acceptance" and seen["A"][-1] == "closed" and "awaiting_documents" in seen["A"]
        assert seen["B"][-1] == "closed"
