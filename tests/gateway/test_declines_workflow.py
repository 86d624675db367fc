"""R-X-3 through the gateway, on the real dev server and workflows: a bank decline is answered
once and never retried; the claim waits for the payee account (only the insured's own is taken),
then pays exactly once. A decline the account cannot fix (over the limit) leaves the claim
waiting, not lost and not paid."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest
from temporalio.client import WorkflowUpdateFailedError
from temporalio.testing import WorkflowEnvironment

from activities.payments import HttpPaymentGateway, PaymentActivities
from client.claims import drive, report_claim, take_step, track_state, wait_for_stage
from dev.scenarios import steps_for
from domain.models import Track
from gateway.server import Gateway, attempts_by_key
from tests.workflows.fakes import FakeSystems
from tests.workflows.helpers import PHOTO, reports, running
from workflows.messages import ClaimView, Stage

INSURED = "6222000000000025"  # sample policy P2026000002, track B's claim


def activities_with(url: str) -> list:
    fakes = FakeSystems()
    return [a for a in fakes.activities() if a.__name__ != "pay_indemnity"] + [
        PaymentActivities(HttpPaymentGateway(url, 5), heartbeat_seconds=1).pay_indemnity
    ]


async def test_r_x_3_declined_account_is_tried_once_then_waits_for_the_account_and_pays(
    dev_env: WorkflowEnvironment, bank: tuple[Gateway, str]
) -> None:
    gateway, url = bank
    gateway.set_closed(INSURED, True)
    client, report = dev_env.client, reports()["B"]
    no, track = report.report_no, Track.CREDIT
    key = f"{no}:B:indemnity"
    steps = steps_for(track, report, photo_sha256=PHOTO)
    async with running(client, activities_with(url)) as tq:
        handle, _ = await report_claim(client, report, tq)
        await drive(client, no, track, steps[:-1])
        view = await wait_for_stage(client, no, track, Stage.AWAITING_PAYEE_ACCOUNT)
        assert view.payment is not None and "account closed" in (view.payment.refused_reason or "")
        await asyncio.sleep(2.5)  # past the retry policy's first interval: a retry would show now
        assert attempts_by_key(gateway.db) == {key: ["declined"]}
        assert (await track_state(client, no, track)).stage is Stage.AWAITING_PAYEE_ACCOUNT
        with pytest.raises(WorkflowUpdateFailedError):  # R-X-3: only the insured's own account
            await take_step(client, no, track, "correct_payee_account", {"account": "6222888888888888"})
        gateway.set_closed(INSURED, False)  # the insured had the account reopened
        await take_step(client, no, track, "correct_payee_account", {"account": INSURED, "by": "AG01"})
        await drive(client, no, track, steps[-1:])
        result: ClaimView = await handle.result()
    [row] = gateway.ledger.payments()
    payment = result.tracks[track].payment
    assert payment is not None and payment.payment_id == row.payment_id and payment.refused_reason is None
    assert row.payee_account == INSURED
    assert attempts_by_key(gateway.db) == {key: ["declined", "paid"]}
    timeline = [e.step for e in result.tracks[track].timeline]
    assert timeline.index("payment_refused") < timeline.index("payee_account_corrected") < timeline.index("paid")


async def test_r_x_3_a_decline_over_the_limit_leaves_the_claim_waiting_unpaid(
    dev_env: WorkflowEnvironment, bank: tuple[Gateway, str]
) -> None:
    gateway, url = bank
    client, report = dev_env.client, reports()["B"]
    no, track = report.report_no, Track.CREDIT
    steps = steps_for(track, report, photo_sha256=PHOTO, amount=Decimal("60000.00"))
    async with running(client, activities_with(url)) as tq:
        await report_claim(client, report, tq)
        await drive(client, no, track, steps[:-1])
        view = await wait_for_stage(client, no, track, Stage.AWAITING_PAYEE_ACCOUNT)
        assert view.payment is not None and "over the single-payment limit" in (view.payment.refused_reason or "")
        assert view.waiting is not None and view.waiting.rule == "R-X-3"
    assert gateway.ledger.count() == 0
    assert attempts_by_key(gateway.db) == {f"{no}:B:indemnity": ["declined"]}
