"""The worker process: every workflow and activity of the claim program on one task queue."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Any

import structlog
from temporalio.client import Client
from temporalio.worker import Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from activities import build_activities, open_stores
from config.settings import Settings
from gateway.bank import open_bank
from worker.interceptors import LogContextInterceptor
from workflows.authorisation import SmallClaimAuthorisationWorkflow
from workflows.claim import ClaimWorkflow
from workflows.credit import SmallClaimCreditWorkflow
from workflows.expert_team import LargeClaimExpertTeamWorkflow
from workflows.injury import InjuryOneToOneWorkflow

log = structlog.get_logger(__name__)

WORKFLOWS = [
    ClaimWorkflow,
    SmallClaimAuthorisationWorkflow,
    SmallClaimCreditWorkflow,
    LargeClaimExpertTeamWorkflow,
    InjuryOneToOneWorkflow,
]

# Deterministic modules the workflows use, imported once instead of once per workflow run.
PASSTHROUGH = ("pydantic", "pydantic_core", "annotated_types", "holidays", "domain", "workflows")


def workflow_runner() -> SandboxedWorkflowRunner:
    return SandboxedWorkflowRunner(restrictions=SandboxRestrictions.default.with_passthrough_modules(*PASSTHROUGH))


def build_worker(
    client: Client,
    task_queue: str,
    activities: Sequence[Callable[..., Any]],
    *,
    max_cached_workflows: int = 1000,
    graceful_shutdown: timedelta = timedelta(seconds=20),
    workflow_task_pollers: int = 5,
    activity_task_pollers: int = 5,
) -> Worker:
    return Worker(
        client,
        task_queue=task_queue,
        workflows=WORKFLOWS,
        activities=list(activities),
        workflow_runner=workflow_runner(),
        max_cached_workflows=max_cached_workflows,
        max_concurrent_workflow_task_polls=workflow_task_pollers,
        max_concurrent_activity_task_polls=activity_task_pollers,
        graceful_shutdown_timeout=graceful_shutdown,
        interceptors=[LogContextInterceptor()],
    )


def worker_from_settings(settings: Settings, client: Client) -> Worker:
    """The claim program's worker as the settings describe it: the systems' activities over the
    settings' data folder or database, and rules, on the settings' task queue and pollers."""
    activities = build_activities(
        open_stores(settings),
        settings.current_rules,
        bank=open_bank(settings.data_dir, settings.payment_gateway_url, settings.payment_gateway_timeout_seconds),
        customer_link=settings.customer_link_maker(),
    )
    return build_worker(
        client,
        settings.task_queue,
        activities,
        max_cached_workflows=settings.max_cached_workflows,
        graceful_shutdown=timedelta(seconds=settings.graceful_shutdown_seconds),
        workflow_task_pollers=settings.workflow_task_pollers,
        activity_task_pollers=settings.activity_task_pollers,
    )


async def run_until_signalled(worker: Worker) -> None:
    """Run the worker; on SIGTERM or SIGINT stop polling and let running activities finish."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    async with worker:
        log.info("worker running", task_queue=worker.task_queue)
        await stop.wait()
        log.info("worker draining")
    log.info("worker stopped")
