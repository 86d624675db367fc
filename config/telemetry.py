"""Metrics: the Temporal SDK's runtime exports its own metrics and the project's business metrics
(emitted through workflow.metric_meter() / activity.metric_meter(), so replays never count twice)
on one Prometheus endpoint of the worker process."""

from __future__ import annotations

from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig


def runtime_with_prometheus(bind_address: str | None) -> Runtime | None:
    """A runtime that serves /metrics on `bind_address` ("127.0.0.1:9464"); None: the default runtime."""
    if not bind_address:
        return None
    return Runtime(telemetry=TelemetryConfig(metrics=PrometheusConfig(bind_address=bind_address)))
