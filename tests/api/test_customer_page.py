"""The customer's own page (issue 24): the link's token (signed, bound to the report number,
expiring), the one SMS a claim sends on report (R-D-1's outbox), and the page at every stage of
all four tracks (R-A-1..6, R-B-1..5, R-C-1..6, R-D-1..6, R-X-1, R-X-3), with no personal data
beyond the contact's work details and the account's last four digits."""

from __future__ import annotations

import html
import secrets
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import httpx
import pytest
from temporalio.exceptions import ApplicationError

from activities.database import Database
from activities.sms import SmsActivities, SqlSmsOutbox
from activities.staff import JsonStaffDirectory
from api import create_app
from api.customer import DOCUMENT, STAGE
from api.guard import Limits
from client.claims import drive, report_claim, track_state, wait_for_stage
from dev.scenarios import steps_for
from domain.contracts import SendSmsInput, SmsKind, customer_link_sms_key
from domain.models import Policy, Report, Track
from security.customer_links import CustomerLinks, LinkRefused
from tests.api.conftest import TEST_LIMITS, ApiEnv
from tests.workflows.helpers import PHOTO, reports, running
from workflows.messages import Stage

NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)


def test_a_link_opens_its_own_claim_until_it_expires() -> None:
    """Issue 24: forged, altered, another claim's or expired tokens are refused."""
    links = CustomerLinks(secrets.token_bytes(32), timedelta(days=60))
    token = links.token("R2026000001", NOW)
    assert links.check("R2026000001", token, NOW + timedelta(days=59)) == NOW + timedelta(days=60)
    expires, signature = token.split(".")
    refused = {
        "another claim": ("R2026000002", token, NOW),
        "expired": ("R2026000001", token, NOW + timedelta(days=60)),
        "longer expiry": ("R2026000001", f"{int(expires) + 86400}.{signature}", NOW),
        "altered signature": ("R2026000001", f"{expires}.{signature[:-2]}AA", NOW),
        "another key": ("R2026000001", CustomerLinks(secrets.token_bytes(32)).token("R2026000001", NOW), NOW),
        "no token": ("R2026000001", None, NOW),
        "garbage": ("R2026000001", "not-a-token", NOW),
    }
    for label, (report_no, given, at) in refused.items():
        with pytest.raises(LinkRefused):
            links.check(report_no, given, at)
            pytest.fail(label)


async def test_the_customer_sms_carries_the_signed_link_and_the_phone_goes_to_its_column(tmp_path) -> None:
    """Issue 24: the outbox renders the customer's message with the link the worker signs; the
    mobile is kept for the relay, not in the text; without a link key the SMS is refused."""
    outbox = SqlSmsOutbox(Database.sqlite(tmp_path / "sms.sqlite3"))
    links = CustomerLinks(secrets.token_bytes(32))
    message = SendSmsInput(
        idempotency_key=customer_link_sms_key("R2026000001"),
        kind=SmsKind.CUSTOMER_LINK,
        report_no="R2026000001",
        recipient_role="customer",
        fields={"phone": "13800000001", "tracks": "A,D"},
    )
    await SmsActivities(outbox, lambda no: "https://claims.example" + links.path(no)).send_sms(message)
    [sent] = outbox.outbox()
    assert sent.recipient_phone == "13800000001" and "13800000001" not in sent.body
    assert "小额案件授权" in sent.body and "人伤案件全程通" in sent.body
    link = sent.body.split("https://claims.example")[1].split()[0]
    assert link.startswith("/customer/R2026000001?t=")
    links.check("R2026000001", link.split("?t=")[1])
    with pytest.raises(ApplicationError, match="no link key"):
        await SmsActivities(outbox).send_sms(message)


def page_text(response: httpx.Response) -> str:
    return html.unescape(response.text)


async def test_customer_page_at_every_stage_of_every_track(api: ApiEnv) -> None:
    """R-A-1..6, R-B-1..5, R-C-1..6, R-D-1..6, R-X-1, R-X-3: after each human step the page shows
    the service and its promise, the stage, the missing documents and how to hand them in, the
    contact once named, the payment with the account's last four digits, the callback. One SMS
    per claim (none on later steps); no personal data on the page; refusals say nothing."""
    links = CustomerLinks(secrets.token_bytes(32))
    samples = reports()

    def policy_of(report: Report) -> Policy:
        return api.fakes.policies[report.policy_no]

    async with running(api.client, api.fakes.activities()) as tq:
        app = create_app(
            api.client,
            task_queue=tq,
            store=api.store,
            authenticator=api.tokens,
            limits=TEST_LIMITS,
            customer_links=links,
            staff=JsonStaffDirectory(),
        )
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://api.test", timeout=30) as http:
            for track in Track:
                report = samples[track.value]
                no = report.report_no
                await report_claim(api.client, report, tq)
                url = links.path(no)
                steps = steps_for(track, report, photo_sha256=PHOTO, amount=Decimal("2650.00"))
                seen: list[str] = []
                for stage, step, payload in [*steps, (Stage.CLOSED, "", None)]:
                    if stage is Stage.CLOSED:
                        await api.client.get_workflow_handle(f"claim-{no}").result()
                    else:
                        await wait_for_stage(api.client, no, track, stage, 30, None, (0.05, 0.2))
                    response = await http.get(url)
                    assert response.status_code == 200, response.text
                    assert "script-src 'none'" in response.headers["content-security-policy"]  # nothing from elsewhere
                    text = page_text(response)
                    assert "<script" not in text and "http://" not in text and "https://" not in text
                    view = await track_state(api.client, no, track)
                    assert f'data-stage="{view.stage.value}"' in text and STAGE[view.stage][0] in text, (track, stage)
                    seen.append(view.stage.value)
                    for missing in view.documents_missing:
                        assert DOCUMENT[missing][0] in text and DOCUMENT[missing][1] in text, (track, missing)
                    if view.documents_missing and track is Track.CREDIT:
                        assert "预约上门收单" in text and "委托他人递交" in text  # R-B-4
                    if view.payment is not None and view.payment.paid_at is not None:
                        last4 = (report.payee_account or policy_of(report).insured_bank_account or "")[-4:]
                        assert f"支付 ¥{view.payment.amount}" in text and f"account ending {last4}" in text  # R-X-3
                    else:
                        assert 'id="paid-' not in text
                    if track is Track.EXPERT_TEAM and any(e.step == "expert_lead_named" for e in view.timeline):
                        assert "王磊" in text and "010-95500-8107" in text  # R-C-2: the lead's name and work phone
                    if track is Track.INJURY and any(e.step == "specialist_first_call" for e in view.timeline):
                        assert "李静" in text and "010-95500-6101" in text  # R-D-2
                    if view.callback_score is not None:
                        assert "已完成，感谢您的评价" in text  # R-X-1
                    if step:
                        await drive(api.client, no, track, [(stage, step, payload)])
                assert seen[-1] == "closed" and "paying" not in seen[:1]
                # nothing personal beyond the above: the customer's name, mobile, ID number, plate,
                # full account and the tag's persona never appear
                policy = policy_of(report)
                customer = api.fakes.customers[policy.customer_id]
                for secret in (customer.name, customer.mobile, customer.id_number, policy.plate, policy.insured_bank_account):
                    assert not secret or secret not in text, (track, secret)
                assert "成功男士" not in text and "女性" not in text
                # a link of this claim used on another claim, an expired one: the same plain refusal
                other = samples[next(t for t in "ABCD" if t != track.value)].report_no
                for bad in (
                    f"/customer/{other}?t={links.token(no)}",
                    f"/customer/{no}?t={links.token(no, datetime.now(UTC) - timedelta(days=61))}",
                    f"/customer/{no}",
                ):
                    refused = await http.get(bad)
                    assert refused.status_code == 403 and "链接无效或已过期" in refused.text and no not in refused.text
    # R-D-1's outbox, no extra SMS: one customer message per claim, whatever steps followed
    customer_sms = [m for m in api.fakes.sms if m.kind == SmsKind.CUSTOMER_LINK]
    assert sorted(m.report_no for m in customer_sms) == sorted(samples[t.value].report_no for t in Track)
    assert all(m.fields["phone"] for m in customer_sms)


async def test_the_page_is_rate_limited_per_address(api: ApiEnv) -> None:
    """Issue 24: the page takes no staff token, so it limits each address itself; guessed links count."""
    links = CustomerLinks(secrets.token_bytes(32))
    app = create_app(api.client, store=api.store, authenticator=api.tokens, customer_links=links, limits=Limits())
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://api.test") as http:
        answers = [(await http.get(f"/customer/R2026{n:06d}?t=1.x")).status_code for n in range(21)]
    assert answers == [403] * 20 + [429]  # the default limits: 20 at once, then 30 a minute
