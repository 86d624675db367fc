"""The worker's Prometheus endpoint carries the SDK's metrics and the business metrics: claims
reported per track and segment, payments, SLA breaches, time from complete documents to payment."""

from __future__ import annotations

import asyncio
import urllib.request

from temporalio.testing import WorkflowEnvironment

from client.connect import connect
from config.telemetry import runtime_with_prometheus
from domain.models import Track
from tests.helpers import eventually, free_port
from tests.workflows.fakes import FakeSystems
from tests.workflows.helpers import reports, run_claim, running


def scrape(address: str) -> str:
    with urllib.request.urlopen(f"http://{address}/metrics", timeout=5) as response:
        return response.read().decode()


def samples(text: str, name: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith(name) and not line.startswith("#")]


async def test_worker_metrics_are_scraped_from_prometheus_endpoint(dev_env: WorkflowEnvironment) -> None:
    address = f"127.0.0.1:{free_port()}"
    runtime = runtime_with_prometheus(address)
    client = await connect(dev_env.client.service_client.config.target_host, "default", runtime)
    fakes = FakeSystems()
    report = reports()["B"]
    async with running(client, fakes.activities()) as tq:
        view = await run_claim(client, tq, report, [Track.CREDIT])
    assert view.tracks[Track.CREDIT].payment is not None
    # the exporter publishes on its own schedule
    text = await eventually(
        lambda: asyncio.to_thread(scrape, address),
        lambda scraped: bool(samples(scraped, "premium_claims_payments")),
        10,
        "premium_claims_payments exported",
        every=0.2,
    )
    reported = samples(text, "premium_claims_reported")
    assert any('track="B"' in line and 'segment="claim_free_3"' in line for line in reported), reported
    paid = [line for line in samples(text, "premium_claims_payments") if 'track="B"' in line]
    # counted once, by the track that paid (the claim, reading the track's result, does not again)
    assert sum(float(line.rsplit(" ", 1)[1]) for line in paid) == 1, paid
    assert samples(text, "premium_claims_documents_to_payment_seconds")
    assert samples(text, "temporal_workflow_completed"), "the SDK's own metrics are exported too"
