"""Business metrics, emitted through the workflow's metric meter: the SDK drops them on replay, so
a claim is counted once however often its history is replayed. They reach Prometheus with the
SDK's own metrics on the worker's /metrics endpoint."""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from domain.models import Decision
    from workflows.messages import TrackView


def claim_reported(decision: Decision) -> None:
    """Claims reported, per track taken and segment (both "none" for an ordinary claim)."""
    counter = workflow.metric_meter().create_counter("premium_claims_reported", "claims reported")
    segment = decision.segments[0].value if decision.segments else "none"
    tracks = [t.track.value for t in decision.applying()] or ["none"]
    for track in tracks:
        counter.add(1, {"track": track, "segment": segment})


def track_changed(before: TrackView | None, after: TrackView) -> None:
    """SLA breaches and payments, counted on the change that makes them true."""
    meter = workflow.metric_meter()
    track = after.track.value
    if after.overdue and not (before and before.overdue):
        stage = after.waiting.stage.value if after.waiting else after.stage.value
        meter.create_counter("premium_claims_sla_breaches", "deadlines missed").add(1, {"track": track, "stage": stage})
    paid = after.payment is not None and after.payment.paid_at is not None
    was_paid = before is not None and before.payment is not None and before.payment.paid_at is not None
    if paid and not was_paid:
        assert after.payment is not None and after.payment.paid_at is not None
        meter.create_counter("premium_claims_payments", "indemnities paid").add(1, {"track": track})
        complete = [e.at for e in after.timeline if e.step == "documents_complete"]
        if complete:
            seconds = (after.payment.paid_at - complete[-1]).total_seconds()
            meter.create_histogram_float(
                "premium_claims_documents_to_payment_seconds", "time from complete documents to payment", "s"
            ).record(max(seconds, 0.0), {"track": track})
