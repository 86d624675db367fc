"""R-X-3: an indemnity is paid exactly once, even when the payment activity is retried after the
ledger committed (the answer was lost on the way back)."""

from __future__ import annotations

from pathlib import Path

from temporalio import activity
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Replayer

from activities.payments import PaymentActivities
from domain.contracts import ActivityName, PayIndemnityInput, PayIndemnityResult
from domain.models import Track
from gateway.ledger import SqlPaymentLedger
from tests.workflows.fakes import FakeSystems
from tests.workflows.helpers import reports, run_claim, running
from worker.main import WORKFLOWS, workflow_runner
from workflows.messages import track_workflow_id


class LosesFirstAnswer:
    """The real ledger behind the real activity, but the first attempt's answer never arrives."""

    def __init__(self, ledger: SqlPaymentLedger) -> None:
        self.real = PaymentActivities(ledger)
        self.attempts: list[int] = []

    @activity.defn(name=ActivityName.PAY_INDEMNITY)
    async def pay_indemnity(self, input: PayIndemnityInput) -> PayIndemnityResult:
        self.attempts.append(activity.info().attempt)
        receipt = await self.real.pay_indemnity(input)
        if activity.info().attempt == 1:
            raise ConnectionResetError("gateway connection dropped after the payment was booked")
        return receipt


async def replay(client: Client, workflow_id: str) -> None:
    history = await client.get_workflow_handle(workflow_id).fetch_history()
    await Replayer(workflows=WORKFLOWS, workflow_runner=workflow_runner(), data_converter=client.data_converter).replay_workflow(
        history
    )


async def test_r_x_3_retried_payment_pays_exactly_once(dev_env: WorkflowEnvironment, tmp_path: Path) -> None:
    ledger = SqlPaymentLedger.sqlite(tmp_path / "payments.sqlite3")
    payments = LosesFirstAnswer(ledger)
    fakes = FakeSystems()
    activities = [a for a in fakes.activities() if a.__name__ != "pay_indemnity"] + [payments.pay_indemnity]
    report = reports()["B"]
    async with running(dev_env.client, activities) as tq:
        view = await run_claim(dev_env.client, tq, report, [Track.CREDIT])
    assert payments.attempts == [1, 2]
    [row] = ledger.payments()
    assert row.idempotency_key == f"{report.report_no}:B:indemnity"
    payment = view.tracks[Track.CREDIT].payment
    assert payment is not None and payment.payment_id == row.payment_id
    assert ledger.count() == 1
    # the recorded histories replay on today's code: the claim is deterministic
    await replay(dev_env.client, f"claim-{report.report_no}")
    await replay(dev_env.client, track_workflow_id(report.report_no, Track.CREDIT))
