from __future__ import annotations

import uuid
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from decimal import Decimal

from temporalio.client import Client

from client.claims import drive, report_claim
from dev.scenarios import sample_reports, steps_for
from domain.models import Report, Track
from worker.main import build_worker
from workflows.messages import ClaimView

PHOTO = "a" * 64


def unique_prefix() -> str:
    return "T" + uuid.uuid4().hex[:10].upper()


def reports(reported_at: datetime | None = None) -> dict[str, Report]:
    return sample_reports(unique_prefix(), reported_at or datetime.now(UTC))


@asynccontextmanager
async def running(client: Client, activities: list):
    task_queue = f"tq-{uuid.uuid4().hex[:8]}"
    async with build_worker(client, task_queue, activities, max_cached_workflows=100):
        yield task_queue


async def run_claim(
    client: Client, task_queue: str, report: Report, tracks: list[Track], amount: Decimal = Decimal("2650.00")
) -> ClaimView:
    """Report a claim and drive every one of `tracks` through all its steps; the claim's result."""
    handle, started = await report_claim(client, report, task_queue)
    assert started
    for track in tracks:
        await drive(client, report.report_no, track, steps_for(track, report, photo_sha256=PHOTO, amount=amount))
    return await handle.result()
