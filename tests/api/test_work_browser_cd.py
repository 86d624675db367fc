"""Tracks C and D as the people around a claim would do them (issue 24): headless chromium signs in
at /work/sign-in as each member of staff in turn and does every human step of a track-C (expert
team) and a track-D (injury one-to-one) claim from the work queue's pages, from the report to
payment and the satisfaction callback, each step in the order dev/scenarios.py `steps_for` takes
them and by the role security/permissions.py gives it:

- C: the agent takes the item and records the customer's acceptance (R-C-1) and the lead the
  branch names (R-C-2); the lead takes it, records the first contact (R-C-3), staffs the team
  from the roles' checkboxes (R-C-4: none ticked first, the error by its field, nothing recorded),
  completes each service item from the role's choice and reports back (R-C-5: too early first,
  the claim's refusal shown), takes the documents (R-X-5: then no documents form is left to send
  empty) and hands the item back; the assessor takes it and issues the assessment; it is paid
  (R-X-4) and the service centre's callback closes it (R-C-6, R-X-1).
- D: the specialist takes the item from the SMS's queue (R-D-1) and records the first call
  (R-D-2, R-D-3, R-D-4: without the surveyor's arrival first, the claim's refusal shown and the
  form kept as filled), takes the documents (no form left after them either), records a
  follow-up while the assessment is awaited (R-D-5) and hands it back;
  the assessor assesses; once paid the specialist records a follow-up (R-D-5) and reports back
  (R-D-6); the callback closes it.

After each step the claim's timeline has it done by the member of staff signed in (api/access.py:
the page never asks who), and the customer's own page (their link) shows each track's stage as the
track has it, its contact once named (R-C-2's lead, R-D-2's specialist) and the payment.

Against the dev server of the test session and a worker on fakes; chromium from
scripts/ensure-chromium.sh (run by `make test`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.async_api import Page
from temporalio.testing import WorkflowEnvironment

from client.claims import report_claim, track_state
from domain.models import Track
from domain.rules import CHINA_TZ
from security.auth import Role
from tests.api.test_temporal_ui_browser import CHROMIUM
from tests.api.work_pages import all_documents, work_site
from tests.helpers import eventually
from tests.workflows.helpers import reports
from workflows.messages import Stage

pytestmark = pytest.mark.e2e  # a browser over the real API
R = Role
Fill = Callable[[Page], Awaitable[None]]


def ticks(*selectors: str) -> Fill:
    async def fill(p: Page) -> None:
        for selector in selectors:
            await p.check(selector)

    return fill


def typed(fields: dict[str, str]) -> Fill:
    """Type into the form's fields by their ids (`<step>-<field>`)."""

    async def fill(p: Page) -> None:
        for field, value in fields.items():
            await p.fill(f"#{field}", value)

    return fill


def choose(select: str, value: str) -> Fill:
    async def fill(p: Page) -> None:
        await p.select_option(select, value)

    return fill


async def test_track_c_and_d_from_report_to_payment_from_the_pages(dev_env: WorkflowEnvironment, tmp_path: Path) -> None:
    """R-C-1..R-C-6, R-D-1..R-D-6, R-X-1, R-X-4, R-X-5 and issue 24: every human step from the pages."""
    assert CHROMIUM.exists(), "chromium is missing: run scripts/ensure-chromium.sh (make test does)"
    client = dev_env.client
    samples = reports()
    c, d = samples["C"].report_no, samples["D"].report_no
    async with work_site(client, tmp_path, 900) as site:
        tq, page, staff, customer = site.task_queue, site.page, site.staff, site.customer

        async def timeline(report_no: str, track: str) -> list[tuple[str, str | None]]:
            return [(e.step, e.by) for e in (await track_state(client, report_no, Track(track))).timeline]

        async def record(
            report_no: str, track: str, step: str, noted: str, fill: Fill | None = None, then: str | None = None
        ) -> None:
            """Staff.record; the claim has the step (its timeline entry `noted`) done by whoever is
            signed in, and nobody else's hand in it; the page shows the stage `then` after it."""
            before = len(await timeline(report_no, track))
            stage = await staff.record(step, fill)
            new = (await timeline(report_no, track))[before:]
            assert (noted, staff.code) in new, (step, new)
            assert {by for _, by in new if by} == {staff.code}, (step, new)
            assert then is None or stage == then, (step, stage)

        async def refused(step: str, report_no: str, track: str) -> str:
            """Send the step's form as it stands: the claim's refusal on the page, and nothing recorded."""
            before = await timeline(report_no, track)
            await page.locator(f"#step-{step}").get_by_role("button", name=f"Record {step}").click()
            refusal = page.locator("#refusal")
            await refusal.wait_for(timeout=10_000)
            assert await timeline(report_no, track) == before
            return await refusal.inner_text()

        async def stage_is(report_no: str, track: str, stage: Stage) -> None:
            async def now() -> Stage:
                return (await track_state(client, report_no, Track(track))).stage

            await eventually(now, lambda s: s is stage, 15, f"{report_no}-{track} at {stage.value}")

        async def documents_done(*left: str) -> None:
            """Every document is in: the page offers no documents form any more (one with no rows
            could only be sent empty, and refused); what is left is the assessor's, and `left`."""
            assert await page.locator("#step-receive_documents").count() == 0
            for step in left:
                assert await page.locator(f"#step-{step}").count() == 1, step
            if not left:
                assert "No step of this track is yours now" in await page.locator("#no-step").inner_text()

        for report in samples["C"], samples["D"]:
            await report_claim(client, report, tq)

        # --- track C: R-C-1 the agent records the customer's acceptance, R-C-2 the branch's lead
        await staff.sign_in("AG01", R.AGENT)
        assert "等待您确认" in await customer.sees(c, "C")
        await staff.take(c, "C")
        await record(
            c, "C", "accept_offer", "offer_accepted", choose("#accept_offer-accepted", "true"), then="awaiting_expert_lead"
        )
        waiting_lead = await customer.sees(c, "C")
        assert "正在指定负责人" in waiting_lead and "联系人确定后将显示在此" in waiting_lead
        # the agent keeps the item through the naming (the agent's step too): no second take
        lead = typed({"name_expert_lead-lead_code": "EL07"})
        await record(c, "C", "name_expert_lead", "expert_lead_named", lead, then="awaiting_lead_contact")
        named = await customer.sees(c, "C")
        assert "负责人将与您联系" in named and "王磊" in named and "010-95500-8107" in named  # R-C-2

        # R-C-3..R-C-5: the named lead's own steps
        await staff.sign_in("EL07", R.EXPERT_LEAD)
        await staff.take(c, "C")
        note = typed({"record_lead_contact-note": "case understood; towing arranged"})
        await record(c, "C", "record_lead_contact", "lead_contacted_customer", note, then="awaiting_team")
        assert "正在组建服务团队" in await customer.sees(c, "C")

        # R-C-4: a team of nobody is refused by its field, and nothing reaches the claim
        before = await timeline(c, "C")
        await page.locator("#step-staff_team").get_by_role("button", name="Record staff_team").click()
        error = page.locator("#staff_team-roles-error")
        await error.wait_for(timeout=10_000)
        assert "at least 1" in await error.inner_text()
        assert await timeline(c, "C") == before
        team = ("large_case_assessor", "loss_verification_expert")
        boxes = ticks(*(f'#step-staff_team input[name=roles][value="{role}"]' for role in team))
        await record(c, "C", "staff_team", "team_staffed", boxes, then="awaiting_service_items")
        assert "专家团队正在为您服务" in await customer.sees(c, "C")

        first, second = team
        done_one = choose("#complete_service_item-role", first)
        await record(c, "C", "complete_service_item", "service_item_done", done_one, then="awaiting_service_items")
        # R-C-5: the report back with an item still open is the claim's to refuse, shown on the page
        assert f"service items still open: {second}" in await refused("report_back", c, "C")
        done_two = choose("#complete_service_item-role", second)
        await record(c, "C", "complete_service_item", "service_item_done", done_two, then="awaiting_service_items")
        back = typed({"report_back-note": "every item done"})
        await record(c, "C", "report_back", "lead_reported_back", back, then="awaiting_documents")
        assert "尚缺单证" in await customer.sees(c, "C")

        # R-X-5: the customer hands the documents to the lead, who hands the item back for the assessment
        await record(c, "C", "receive_documents", "document_received", all_documents("self"), then="awaiting_documents")
        assert "单证已齐全" in await customer.sees(c, "C")
        await documents_done()
        await page.get_by_role("button", name="Hand back to the queue").click()
        await staff.queue_row(c, "C")

        # --- track D: R-D-1 the SMS put it in the specialist's queue, no offer to accept
        await staff.sign_in("IS01", R.INJURY_SPECIALIST)
        waiting_call = await customer.sees(d, "D")
        assert "人伤服务专员将致电您" in waiting_call and "联系人确定后将显示在此" in waiting_call
        await staff.take(d, "D")
        # R-D-2, R-D-3 ticked and asked; R-D-4 at the scene: the advice, but the surveyor's arrival forgotten
        await page.select_option("#record_specialist_contact-kind", "first_call")
        await ticks(
            "#record_specialist_contact-identity_explained",
            "#record_specialist_contact-process_explained",
            "#record_specialist_contact-sympathy_expressed",
            "#record_specialist_contact-scene_advice_given",
        )(page)
        await page.select_option("#record_specialist_contact-investigator_contacted", "false")
        assert "when the injury surveyor arrives (R-D-4)" in await refused("record_specialist_contact", d, "D")
        assert await page.is_checked("#record_specialist_contact-identity_explained")  # the form is kept as filled
        assert await page.input_value("#record_specialist_contact-investigator_contacted") == "false"
        assert await page.input_value("#record_specialist_contact-kind") == "first_call"
        eta = (samples["D"].reported_at + timedelta(minutes=40)).astimezone(CHINA_TZ).strftime("%Y-%m-%dT%H:%M")
        first_call = typed({"record_specialist_contact-surveyor_eta": eta})
        await record(d, "D", "record_specialist_contact", "specialist_first_call", first_call, then="awaiting_documents")
        called = await customer.sees(d, "D")
        assert "尚缺单证" in called and "李静" in called and "010-95500-6101" in called  # R-D-2: the contact
        await record(d, "D", "receive_documents", "document_received", all_documents("delegate"), then="awaiting_documents")
        # R-D-5: the specialist's follow-up is offered while the assessment is awaited, too
        await documents_done("record_specialist_contact")

        async def waiting_follow_up(p: Page) -> None:
            await p.select_option("#record_specialist_contact-kind", "follow_up")
            await p.fill("#record_specialist_contact-note", "documents in; the customer asked about the assessment")

        await record(d, "D", "record_specialist_contact", "specialist_follow_up", waiting_follow_up, then="awaiting_documents")
        await page.get_by_role("button", name="Hand back to the queue").click()
        await staff.queue_row(d, "D")

        # --- the assessor's agreed amounts (R-A-4's sheet on every track); paid by R-X-4
        await staff.sign_in("AS01", R.ASSESSOR)
        for report_no, track, amount in ((c, "C", "76000.00"), (d, "D", "12000.00")):
            await staff.take(report_no, track)
            sheet = typed({"issue_assessment-sheet_no": f"DS-{track}-1", "issue_assessment-amount": amount})
            await record(report_no, track, "issue_assessment", "assessment_issued", sheet)
            await staff.queue_row(report_no, track, present=False)  # paid: no longer the assessor's
        await stage_is(c, "C", Stage.AWAITING_CALLBACK)
        paid = await customer.sees(c, "C")
        assert "已于" in paid and "76000.00" in paid and "account ending" in paid
        await stage_is(d, "D", Stage.AWAITING_CASE_CLOSURE)
        following = await customer.sees(d, "D")
        assert "人伤服务专员跟进至结案" in following and "12000.00" in following and "account ending" in following

        # R-D-5, R-D-6: the specialist follows up until the case is done, then reports back
        await staff.sign_in("IS01", R.INJURY_SPECIALIST)
        await staff.take(d, "D")

        async def follow_up(p: Page) -> None:
            await p.select_option("#record_specialist_contact-kind", "follow_up")
            await p.fill("#record_specialist_contact-note", "discharged from hospital")

        await record(d, "D", "record_specialist_contact", "specialist_follow_up", follow_up, then="awaiting_case_closure")
        await record(d, "D", "report_back", "specialist_reported_back", then="awaiting_callback")
        await staff.queue_row(d, "D", present=False)

        # R-C-6, R-X-1: the service centre's callbacks close both claims
        await staff.sign_in("CS01", R.SERVICE_CENTRE)
        for report_no, track in ((c, "C"), (d, "D")):
            assert "客户服务中心将致电回访您" in await customer.sees(report_no, track)
            await staff.take(report_no, track)
            score = typed({"record_callback-score": "5", "record_callback-comment": "kept informed"})
            await record(report_no, track, "record_callback", "callback_recorded", score)
            await client.get_workflow_handle(f"claim-{report_no}").result()
            assert "已完成，感谢您的评价" in await customer.sees(report_no, track)

        assert customer.seen["C"] == [
            "awaiting_acceptance",
            "awaiting_expert_lead",
            "awaiting_lead_contact",
            "awaiting_team",
            "awaiting_service_items",
            "awaiting_documents",
            "awaiting_documents",
            "awaiting_callback",
            "awaiting_callback",
            "closed",
        ]
        assert customer.seen["D"] == [
            "awaiting_specialist_call",
            "awaiting_documents",
            "awaiting_case_closure",
            "awaiting_callback",
            "closed",
        ]
