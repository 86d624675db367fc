"""Every metric the Grafana dashboard (deploy/grafana/dashboards/premium-claims.json) queries is
one the worker really exports, with the labels the panel groups by: scraped from the worker's
Prometheus endpoint after a claim that missed its offer deadline (OPEN-3: an SLA breach), whose
payment failed once and was retried, and was paid (R-B-5)."""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path

from temporalio import activity
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment

from client.claims import drive, report_claim
from client.connect import connect
from config.telemetry import runtime_with_prometheus
from dev.scenarios import steps_for
from domain.contracts import ActivityName, PayIndemnityInput, PayIndemnityResult
from domain.models import Track
from tests.api.operations_seed import SHORT_OFFER
from tests.helpers import eventually, free_port
from tests.worker.test_metrics import scrape
from tests.workflows.fakes import FakeSystems
from tests.workflows.helpers import PHOTO, reports, running
from workflows import search_attributes as sa
from workflows.messages import track_workflow_id

DASHBOARD = Path(__file__).resolve().parents[2] / "deploy" / "grafana" / "dashboards" / "premium-claims.json"
METRIC = re.compile(r"\b((?:premium_claims|temporal)_[a-z0-9_]+)\b")
GROUPED_BY = re.compile(r"\bby \(([^)]*)\)")


class FailsOnce(FakeSystems):
    """The ledger's first payment attempt fails (a retryable error): an activity failure."""

    def __init__(self) -> None:
        super().__init__(rules=SHORT_OFFER)
        self.failed = False

    def activities(self) -> list:
        return [self.load_rules, self.lookup_policy, self.check_files, self.pay_once_failing, self.send_sms, self.record_callback]

    @activity.defn(name=ActivityName.PAY_INDEMNITY)
    async def pay_once_failing(self, input: PayIndemnityInput) -> PayIndemnityResult:
        if not self.failed:
            self.failed = True
            raise ApplicationError("the bank's line dropped", type="GatewayUnavailable")
        return await FakeSystems.pay_indemnity(self, input)


def dashboard_queries() -> list[str]:
    dashboard = json.loads(DASHBOARD.read_text())
    return [target["expr"] for panel in dashboard["panels"] for target in panel["targets"]]


def exported(text: str) -> dict[str, set[str]]:
    """Each exported series name with the label names it carries."""
    series: dict[str, set[str]] = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        name, _, rest = line.partition("{")
        labels = set(re.findall(r'(\w+)="', rest.split("}")[0])) if rest else set()
        series.setdefault(name.split(" ")[0], set()).update(labels)
    return series


async def test_open_3_r_b_5_every_metric_the_dashboard_queries_is_exported(dev_env: WorkflowEnvironment) -> None:
    address = f"127.0.0.1:{free_port()}"
    client = await connect(dev_env.client.service_client.config.target_host, "default", runtime_with_prometheus(address))
    fakes = FailsOnce()
    report = reports()["B"]
    async with running(client, fakes.activities()) as tq:
        handle, _ = await report_claim(client, report, tq)
        track = client.get_workflow_handle(track_workflow_id(report.report_no, Track.CREDIT))

        async def overdue() -> bool | None:
            try:
                return (await track.describe()).typed_search_attributes.get(sa.OVERDUE)
            except Exception:  # the claim may not have started the track yet
                return None

        # the offer's deadline (a second) passes: an SLA breach
        await eventually(overdue, bool, 30, f"{track.id} to become overdue")
        await drive(client, report.report_no, Track.CREDIT, steps_for(Track.CREDIT, report, photo_sha256=PHOTO))
        view = await handle.result()
    assert view.tracks[Track.CREDIT].payment is not None and fakes.failed
    wanted = {"premium_claims_payments", "premium_claims_sla_breaches", "temporal_activity_execution_failed"}

    async def exported_now() -> dict[str, set[str]]:
        return exported(await asyncio.to_thread(scrape, address))

    # the exporter publishes on its own schedule
    series = await eventually(exported_now, lambda names: wanted <= set(names), 10, f"{sorted(wanted)} exported", every=0.2)
    queries = dashboard_queries()
    assert queries
    for expr in queries:
        names = METRIC.findall(expr)
        assert names, expr
        for name in names:
            assert name in series, f"the dashboard queries {name}, which the worker does not export: {expr}"
            for group in GROUPED_BY.findall(expr):
                labels = {label.strip() for label in group.split(",")} - {"le"}
                assert labels <= series[name], f"{name} has no label {labels - series[name]}: {expr}"
