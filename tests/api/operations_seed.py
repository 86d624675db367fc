"""Claims in several stages, for the operations view's tests: one per stage below, one overdue
(its worker hands it rules whose offer deadline is a second, OPEN-3), one paid in time (R-B-5),
one whose payment is under way (its worker's ledger holds the payment until the test ends).

All report numbers start with one root, so a summary scoped to it (report_no_prefix) counts these
claims only, on a dev server other tests share.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from temporalio import activity
from temporalio.client import Client

from client.claims import drive, report_claim
from dev.scenarios import sample_reports, steps_for
from domain.contracts import ActivityName, PayIndemnityInput, PayIndemnityResult
from domain.models import Report, Track
from domain.rules import Deadlines, RuleSettings
from tests.helpers import eventually
from tests.workflows.fakes import FakeSystems
from tests.workflows.helpers import PHOTO, running, unique_prefix
from workflows import search_attributes as sa
from workflows.messages import track_workflow_id

SHORT_OFFER = RuleSettings(deadlines=Deadlines(offer_response=timedelta(seconds=1)))


class HeldPayments(FakeSystems):
    """The ledger pays only once `release` is set (heartbeating meanwhile): a payment under way."""

    def __init__(self) -> None:
        super().__init__()
        self.release = asyncio.Event()

    def activities(self) -> list:
        return [self.load_rules, self.lookup_policy, self.check_files, self.held_pay, self.send_sms, self.record_callback]

    @activity.defn(name=ActivityName.PAY_INDEMNITY)
    async def held_pay(self, input: PayIndemnityInput) -> PayIndemnityResult:
        while not self.release.is_set():
            activity.heartbeat()
            try:
                await asyncio.wait_for(self.release.wait(), 1.0)
            except TimeoutError:
                pass
        return await FakeSystems.pay_indemnity(self, input)


@dataclass
class Seeded:
    root: str  # every report number starts with it
    reports: dict[str, Report]  # by role: "waiting_a", "documents_b", "paid_b", "overdue_b", "paying_b", "waiting_c"
    started_at: datetime

    def workflow_id(self, role: str) -> str:
        report = self.reports[role]
        return track_workflow_id(report.report_no, ROLE_TRACK[role])


ROLE_TRACK = {
    "waiting_a": Track.AUTHORISATION,
    "documents_b": Track.CREDIT,
    "paid_b": Track.CREDIT,
    "overdue_b": Track.CREDIT,
    "paying_b": Track.CREDIT,
    "waiting_c": Track.EXPERT_TEAM,
}

# The open tracks by (track, stage): (open, overdue), as seeded.
EXPECTED_CELLS: dict[tuple[str, str], tuple[int, int]] = {
    ("A", "awaiting_acceptance"): (1, 0),
    ("B", "awaiting_acceptance"): (1, 1),
    ("B", "awaiting_documents"): (1, 0),
    ("B", "paying"): (1, 0),
    ("C", "awaiting_acceptance"): (1, 0),
}


async def _until_overdue(client: Client, workflow_id: str) -> None:
    handle = client.get_workflow_handle(workflow_id)

    async def overdue() -> bool | None:
        return (await handle.describe()).typed_search_attributes.get(sa.OVERDUE)

    await eventually(overdue, bool, 30, f"{workflow_id} to become overdue")


@asynccontextmanager
async def seeded_claims(client: Client, task_queue: str) -> AsyncIterator[Seeded]:
    """Seed the claims on `task_queue` (a worker with default rules) and two workers of their own;
    at the end, release the held payment and terminate what is still running."""
    root = unique_prefix()
    now = datetime.now(UTC)
    samples = {n: sample_reports(f"{root}{n}", now) for n in range(1, 6)}
    reports = {
        "waiting_a": samples[1]["A"],
        "documents_b": samples[1]["B"],
        "waiting_c": samples[1]["C"],
        "paid_b": samples[2]["B"],
        "overdue_b": samples[3]["B"],
        "paying_b": samples[4]["B"],
    }
    held = HeldPayments()
    async with AsyncExitStack() as stack:
        overdue_tq = await stack.enter_async_context(running(client, FakeSystems(rules=SHORT_OFFER).activities()))
        held_tq = await stack.enter_async_context(running(client, held.activities()))
        try:
            queues = {"overdue_b": overdue_tq, "paying_b": held_tq}
            for role, report in reports.items():
                _, started = await report_claim(client, report, queues.get(role, task_queue))
                assert started, role

            def steps(role: str, count: int | None = None) -> list:
                report, track = reports[role], ROLE_TRACK[role]
                all_steps = steps_for(track, report, photo_sha256=PHOTO, amount=Decimal("1200.00"))
                return all_steps if count is None else all_steps[:count]

            await drive(client, reports["documents_b"].report_no, Track.CREDIT, steps("documents_b", 1))
            await drive(client, reports["paid_b"].report_no, Track.CREDIT, steps("paid_b"))
            await drive(client, reports["paying_b"].report_no, Track.CREDIT, steps("paying_b", 3))
            await _until_overdue(client, track_workflow_id(reports["overdue_b"].report_no, Track.CREDIT))
            yield Seeded(root=root, reports=reports, started_at=now)
        finally:
            held.release.set()
            async for execution in client.list_workflows(f'ReportNo STARTS_WITH "{root}" AND ExecutionStatus = "Running"'):
                try:
                    await client.get_workflow_handle(execution.id).terminate("test done")
                except Exception:
                    pass
