"""How a track shows where it stands: on runs that index themselves (TRACK_INDEX_PATCH) in its own
search attributes, current details and metrics; on older runs by a signal to its claim.

`TrackPublication` is a base of `TrackWorkflow` (workflows/track_base.py): a step or a wait marks
the view changed (`_publish`), and the publisher task sends what changed, once per workflow task.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from domain.models import Report
    from domain.tags import read_tag
    from workflows import metrics
    from workflows import search_attributes as sa
    from workflows.messages import TrackInput, TrackView
    from workflows.versioning import small_history

TRACK_PROGRESS_SIGNAL = "track_progress"


def progress_of(view: TrackView) -> tuple[object, ...]:
    """What the claim uses of a track between steps: its stage and details in the UI, its search
    attributes (ClaimStage, Overdue, PaymentDueAt) and the payment and SLA metrics."""
    return (view.stage, view.waiting, view.overdue, view.payment, view.outcome, view.held_by)


class TrackPublication:
    """The publishing half of a track workflow; the track keeps the state it publishes."""

    if TYPE_CHECKING:  # what the track workflow provides
        _dirty: bool
        _current: bool
        _publishing: bool
        _operations_index: bool
        _work_queue: bool
        _outcome: str | None

        @property
        def report(self) -> Report: ...

        def view(self) -> TrackView: ...

        def _input_or_fail(self) -> TrackInput: ...

    def _queue_tag(self) -> str | None:
        """The customer's premium tag as the work queue shows it: tier and claim-free years, no persona."""
        reading = read_tag(self._input_or_fail().lookup.customer.premium_tag)
        if reading.tag is None:
            return None
        return f"{reading.tag.tier or ''}(-{reading.tag.claim_free_years})"

    def _publish(self) -> None:
        self._dirty = True

    async def _publisher(self) -> None:
        """Show where this track stands: on current runs (TRACK_INDEX_PATCH) in its own search
        attributes, current details and metrics; on older ones by a signal to the claim.

        Changes made within one workflow task go out together, in order; only when what is shown
        changed (progress_of). Staff read a track's documents and timeline from the track itself
        (client.claims.claim_state); the claim gets the full view at the end, as the child's result.
        """
        if self._current:
            await self._index_itself()
            return
        parent = workflow.get_external_workflow_handle(self._input_or_fail().claim_workflow_id)
        sent: tuple[object, ...] | None = None
        while True:
            await workflow.wait_condition(lambda: self._dirty)
            self._dirty = False
            view = self.view()
            if small_history(False):
                if self._outcome is not None or progress_of(view) == sent:
                    continue  # nothing the claim uses changed, or the track ended: its result tells
                sent = progress_of(view)
            self._publishing = True
            try:
                await parent.signal(TRACK_PROGRESS_SIGNAL, view)
            finally:
                self._publishing = False

    async def _index_itself(self) -> None:
        indexed = sa.indexed_now()
        shown: TrackView | None = None
        while True:
            await workflow.wait_condition(lambda: self._dirty)
            self._dirty = False
            view = self.view()
            if shown is not None and progress_of(view) == progress_of(shown):
                continue
            metrics.track_changed(shown, view)
            shown = view
            sa.upsert_changed(indexed, sa.of_track(view, self._operations_index, self._work_queue, self._queue_tag()))
            workflow.set_current_details(sa.track_details(self.report.report_no, view))
