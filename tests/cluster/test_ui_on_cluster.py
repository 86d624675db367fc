"""Issue 21.1: the Web UI runs against the cluster, built from its Go module (dev/gobuild.py),
reaching the mTLS frontend with the service's certificate and pointing browsers at the codec
server, as on the dev server (docs/operations.md)."""

from __future__ import annotations

import httpx
import pytest
from temporalio.testing import WorkflowEnvironment

from config.settings import load_settings
from dev.cluster import Cluster

pytestmark = pytest.mark.cluster


async def test_the_ui_lists_the_clusters_workflows_through_mtls(cluster: Cluster, dev_env: WorkflowEnvironment) -> None:
    handle = await dev_env.client.start_workflow("NoSuchWorkflowType", id="ui-probe-on-cluster", task_queue="ui-probe")
    try:
        async with httpx.AsyncClient(base_url=cluster.ui_url, timeout=20) as ui:
            settings = (await ui.get("/api/v1/settings")).json()
            assert settings["Codec"]["Endpoint"] == load_settings().codec.endpoint()
            listed = (
                await ui.get("/api/v1/namespaces/default/workflows", params={"query": 'WorkflowId="ui-probe-on-cluster"'})
            ).json()
            assert [e["execution"]["workflowId"] for e in listed.get("executions", [])] in ([], ["ui-probe-on-cluster"])
            described = await ui.get("/api/v1/namespaces/default/workflows/ui-probe-on-cluster")
            assert described.status_code == 200, described.text  # read from the frontend through mTLS
            assert described.json()["workflowExecutionInfo"]["type"]["name"] == "NoSuchWorkflowType"
    finally:
        await handle.terminate()
