"""The claim: one workflow per report number (R-X-2). It looks the customer and policy up, decides
which tracks apply (R-ID-1, R-EL-1, R-A-1, R-B-2/3, R-C-1, R-D-1) and runs each as a child."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import SearchAttributeKey
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from domain.contracts import (
        POLICY_NOT_FOUND,
        REPORT_CONFLICT,
        ActivityName,
        LoadRulesInput,
        LookupPolicyInput,
        LookupPolicyResult,
    )
    from domain.models import Decision, Report, Track, TrackDecision
    from domain.rules import RuleSettings
    from domain.tracks import decide
    from workflows import metrics
    from workflows import search_attributes as sa
    from workflows.authorisation import SmallClaimAuthorisationWorkflow
    from workflows.calls import QUICK_CALL, quick_call
    from workflows.credit import SmallClaimCreditWorkflow
    from workflows.expert_team import LargeClaimExpertTeamWorkflow
    from workflows.injury import InjuryOneToOneWorkflow
    from workflows.messages import (
        CLAIM_WORKFLOW_TYPE,
        DECISION_UPDATE,
        REPORT_CONTENT_CONFLICT,
        ClaimInput,
        ClaimView,
        DecisionAsk,
        ReportAnswer,
        Stage,
        TimelineEntry,
        TrackInput,
        TrackView,
        report_digest,
        track_workflow_id,
    )
    from workflows.publication import TRACK_PROGRESS_SIGNAL
    from workflows.versioning import DECISION_PATCH, ORDINARY_PATCH, SEARCH_ATTRIBUTES_PATCH, TRACK_INDEX_PATCH, small_history

TRACK_WORKFLOWS = {
    Track.AUTHORISATION: SmallClaimAuthorisationWorkflow,
    Track.CREDIT: SmallClaimCreditWorkflow,
    Track.EXPERT_TEAM: LargeClaimExpertTeamWorkflow,
    Track.INJURY: InjuryOneToOneWorkflow,
}
# What a core-system refusal means for the claim: an unknown policy goes to the ordinary process;
# a report number already registered on another policy is refused, never merged (R-X-2).
LOOKUP_REFUSALS = {POLICY_NOT_FOUND: Stage.ORDINARY, REPORT_CONFLICT: Stage.REFUSED}
REPORT_ANSWER_WAIT = timedelta(minutes=1)
REFUSAL_GRACE = timedelta(minutes=1)


def lookup_refusal(err: ActivityError | ApplicationError) -> ApplicationError | None:
    """The core system's refusal of a report (LOOKUP_REFUSALS), or None for any other failure: an
    activity's refusal comes as its cause, a local activity's as the error itself."""
    refusal = err if isinstance(err, ApplicationError) else err.cause
    if isinstance(refusal, ApplicationError) and refusal.type in LOOKUP_REFUSALS:
        return refusal
    return None


@workflow.defn(name=CLAIM_WORKFLOW_TYPE)
class ClaimWorkflow:
    @workflow.init
    def __init__(self, input: ClaimInput) -> None:
        # the input is here before any handler runs: the report call's decision update arrives
        # with the start (update-with-start) and is checked against this report
        self._input = input
        self._report_no = input.report.report_no
        self._stage = Stage.DECIDING
        self._decision: Decision | None = None
        self._refusal: str | None = None
        self._refusal_code: str | None = None
        self._decided = False  # the tracks are decided, or the core system could not place the report
        self._ordinary: str | None = None  # ORDINARY_PATCH: why the ordinary process takes the claim
        self._tracks: dict[Track, TrackView] = {}
        self._timeline: list[TimelineEntry] = []
        self._report: Report = input.report
        self._rules: RuleSettings | None = None
        self._branch: str | None = None
        self._indexed: dict[str, Any] | None = None  # the search attributes as last upserted
        self._current = False  # TRACK_INDEX_PATCH: its tracks index themselves
        self._answering = False  # DECISION_PATCH: the decision is made in the first workflow task
        self._holding_index = False  # while deciding on DECISION_PATCH runs: one upsert once decided
        self._start_answered = False  # the decision update that came with the start has its answer

    @workflow.run
    async def run(self, input: ClaimInput) -> ClaimView:
        # New runs record one marker (DECISION_PATCH holds TRACK_INDEX_PATCH's path, as each marker
        # costs two history events and a visibility write); runs from before it replay theirs.
        # The steps below keep the commands' order of every recorded version (tests/test_replay.py).
        self._answering = workflow.patched(DECISION_PATCH)
        self._current = self._answering or workflow.patched(TRACK_INDEX_PATCH)
        self._holding_index = self._answering
        report = input.report
        self._branch = report.branch
        self._note("reported")
        try:
            rules, lookup = await self._look_up(report)
        except (ActivityError, ApplicationError) as err:
            refusal = lookup_refusal(err)
            if refusal is None:
                raise
            return await self._refused(refusal)

        taken = self._decide(report, lookup, rules)
        if not taken:
            return await self._no_dedicated_track()
        self._stage = Stage.IN_SERVICE
        if self._answering:
            self._holding_index = False
            self._index()  # one upsert: stage, segments, tracks, band, branch
        children = await self._start_tracks(report, lookup, rules, taken)
        await self._follow(children)
        self._end()
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self.state()

    async def _look_up(self, report: Report) -> tuple[RuleSettings, LookupPolicyResult]:
        """The rules in force and the customer and policy from the core system (R-ID-2)."""
        rules_call = quick_call(
            ActivityName.LOAD_RULES, LoadRulesInput(branch=report.branch), current=self._current, result_type=RuleSettings
        )
        lookup_input = LookupPolicyInput(report_no=report.report_no, policy_no=report.policy_no, reported_at=report.reported_at)
        if self._answering:  # in the first workflow task, so the agent hears the decision on the call
            # both calls at once: one wake-up of the workflow for their results, not two
            lookup_call = workflow.execute_local_activity(
                ActivityName.LOOKUP_POLICY,
                lookup_input,
                result_type=LookupPolicyResult,
                summary="look the customer and policy up in the core system (R-ID-2)",
                **QUICK_CALL,
            )
            rules, lookup = await asyncio.gather(rules_call, lookup_call)
            self._rules = rules
        else:
            rules = self._rules = await rules_call
            lookup = await workflow.execute_activity(
                ActivityName.LOOKUP_POLICY,
                lookup_input,
                result_type=LookupPolicyResult,
                summary="look the customer and policy up in the core system (R-ID-2)",
                **QUICK_CALL,
            )
        return rules, lookup

    async def _refused(self, refusal: ApplicationError) -> ClaimView:
        """The core system cannot place this report: no dedicated track, and the reason is kept."""
        code = refusal.type or ""  # a key of LOOKUP_REFUSALS: lookup_refusal checked it
        self._refusal = refusal.message
        self._refusal_code = refusal.type
        self._stage = LOOKUP_REFUSALS[code]
        self._decided = True
        self._holding_index = False
        self._note(code, detail=refusal.message)
        if not self._answering:
            return self.state()
        # The report was never a claim: the agent is told at once (4xx), and the report call
        # ends this run and removes it, so the number can be reported again with the right
        # policy (the start's reuse policy allows a new run after an ended-unsuccessfully one
        # only). Should that call be gone, the claim fails by itself after a grace period.
        await self._report_answered()
        await workflow.sleep(REFUSAL_GRACE, summary="the report call removes a refused report")
        raise ApplicationError(refusal.message, type=refusal.type, non_retryable=True) from None

    def _decide(self, report: Report, lookup: LookupPolicyResult, rules: RuleSettings) -> list[TrackDecision]:
        """Which tracks the report takes and why (domain.tracks.decide): the tracks taken."""
        self._branch = report.branch or lookup.policy.branch
        self._decision = decide(report, lookup.customer, lookup.policy, lookup.history, rules)
        taken = self._decision.applying()
        metrics.claim_reported(self._decision)
        self._decided = True
        self._note(
            "tracks_decided",
            detail=", ".join(f"{t.track.value}: {'yes' if t.applies else 'no'}" for t in self._decision.tracks),
        )
        return list(taken)

    async def _no_dedicated_track(self) -> ClaimView:
        self._stage = Stage.ORDINARY
        self._holding_index = False
        self._note("no_dedicated_track", detail="handed to the ordinary claim process")
        if self._answering:
            await self._report_answered()
        return self.state()

    async def _start_tracks(
        self, report: Report, lookup: LookupPolicyResult, rules: RuleSettings, taken: list[TrackDecision]
    ) -> list[Any]:
        """One child workflow per track taken; their handles."""

        def start(track_decision: TrackDecision) -> Any:
            track = track_decision.track
            # the claim indexed its codes when it noted the decision: its tracks start with them
            indexed = None
            if self._current:
                opening = TRACK_WORKFLOWS[track].first_stage(track_decision) if self._answering else None
                indexed = sa.at_track_start(self._indexed or {}, track, opening)
            return workflow.start_child_workflow(
                TRACK_WORKFLOWS[track].run,  # type: ignore[attr-defined]  # each track class defines its own @workflow.run
                TrackInput(
                    report=report,
                    lookup=lookup,
                    decision=track_decision,
                    rules=rules,
                    claim_workflow_id=workflow.info().workflow_id,
                ),
                id=track_workflow_id(report.report_no, track),
                static_summary=f"Report {report.report_no}: track {track.value}, {track.title}",
                search_attributes=indexed,
            )

        children = []
        if self._answering:  # every track starts in the same workflow task
            children = list(await asyncio.gather(*(start(t) for t in taken)))
            for track_decision in taken:
                self._note("track_started", detail=f"{track_decision.track.value} {track_decision.track.title}")
        else:
            for track_decision in taken:
                children.append(await start(track_decision))
                self._note("track_started", detail=f"{track_decision.track.value} {track_decision.track.title}")
        return children

    async def _follow(self, children: list[Any]) -> None:
        """Wait for every track to end, keeping each one's last view."""
        if small_history(self._current):
            # a track that ends tells the claim by its result, at once, not by one more signal
            async def ended(child: Any) -> None:
                self._track_seen(await child)

            await asyncio.gather(*(ended(child) for child in children))
        else:
            for view in await asyncio.gather(*children):
                self._tracks[view.track] = view

    async def _report_answered(self) -> None:
        """Before the claim ends: the report call that started it has had its answer. Its update may
        reach the workflow after the decision is made; one lost with a server crash before it was
        accepted is waited for a minute at most."""
        if self._input.request_id and not self._start_answered:
            try:
                await workflow.wait_condition(
                    lambda: self._start_answered, timeout=REPORT_ANSWER_WAIT, timeout_summary="the report's answer"
                )
            except TimeoutError:
                pass
        await workflow.wait_condition(workflow.all_handlers_finished)

    @workflow.update(name=DECISION_UPDATE)
    async def decision(self, ask: DecisionAsk) -> ReportAnswer:
        """The report call's answer (update-with-start): once the tracks are decided, the decision
        with its reasons and what each track taken waits for first (R-ID-2, R-EL-1)."""
        await workflow.wait_condition(lambda: self._decided)
        decision = self._decision
        first = {t.track: TRACK_WORKFLOWS[t.track].first_stage(t) for t in (decision.applying() if decision else [])}
        created = ask.request_id == self._input.request_id
        self._start_answered = self._start_answered or created
        return ReportAnswer(
            report_no=self._report_no,
            created=created,
            stage=self._stage,
            decision=decision,
            next_stages={t: self._tracks[t].stage if t in self._tracks else s for t, s in first.items()},
            refusal=self._refusal,
            refusal_code=self._refusal_code,
        )

    @decision.validator
    def _check_decision(self, ask: DecisionAsk) -> None:
        # R-X-2: a report number is one claim; a report of other content is refused, never merged
        if ask.report_digest != report_digest(self._report):
            raise ApplicationError(
                f"report {self._report_no} is already recorded with different content", type=REPORT_CONTENT_CONFLICT
            )

    def _end(self) -> None:
        """Closed once every track has ended, unless a track left the program without paying
        (declined, over a threshold): then the customer is still owed an ordinary claim, and the
        claim says so (ORDINARY_PATCH; claims that ended before close as they did)."""
        left = {
            t: v.handed_to_ordinary or v.outcome or v.stage.value for t, v in self._tracks.items() if v.stage in sa.LEFT_UNPAID
        }
        # a small-claim track not taken only because the report's estimate was over its limit: that
        # part of the claim (the vehicle's own loss) is the ordinary process's, whatever else ran
        over = self._decision.tracks if self._decision is not None else ()
        left |= {d.track: d.reason for d in over if d.over_limit and not d.applies}
        if left and workflow.patched(ORDINARY_PATCH):
            self._stage = Stage.ORDINARY
            self._ordinary = "; ".join(f"track {t.value} ({t.title}): {why}" for t, why in sorted(left.items()))
            self._note("handed_to_ordinary", detail=self._ordinary)
            return
        self._stage = Stage.CLOSED
        self._note("claim_closed")

    @workflow.signal(name=TRACK_PROGRESS_SIGNAL)
    def track_progress(self, view: TrackView) -> None:
        """A stage change from a track of a claim started before its tracks indexed themselves."""
        self._track_seen(view)

    def _track_seen(self, view: TrackView) -> None:
        if not self._current:  # tracks that index themselves count their own SLA breaches and payments
            metrics.track_changed(self._tracks.get(view.track), view)
        self._tracks[view.track] = view
        self._show_details()

    @workflow.query(name="state")
    def state(self) -> ClaimView:
        """The claim, with each track as of its last stage, wait, overdue or payment change (and
        final once it ended); client.claims.claim_state reads open tracks' documents and timeline
        from the tracks themselves."""
        return ClaimView(
            report_no=self._report_no,
            stage=self._stage,
            decision=self._decision,
            refusal=self._refusal,
            ordinary=self._ordinary,
            tracks=dict(self._tracks),
            overdue=any(v.overdue for v in self._tracks.values()),
            timeline=tuple(self._timeline),
        )

    @workflow.query(name="report")
    def report(self) -> Report:
        """The report this claim was started with (R-X-2: a later report of the number must match)."""
        return self._report

    def _note(self, step: str, detail: str = "") -> None:
        self._timeline.append(TimelineEntry(at=workflow.now(), step=step, detail=detail))
        self._show_details()

    def _show_details(self) -> None:
        """What an operator reads in the Temporal UI: codes and stages only, no personal data."""
        lines = [f"**Report {self._report_no}** — {self._stage.value}"]
        lines += [f"- {sa.track_line(view)}" for _, view in sorted(self._tracks.items())]
        if self._current and self._decision is not None:  # open tracks show their stage themselves
            lines += [
                f"- {t.track.value} {t.track.title}: in service, see its workflow"
                for t in self._decision.applying()
                if t.track not in self._tracks
            ]
        workflow.set_current_details("\n".join(lines))
        if not self._holding_index:
            self._index()

    def _index(self) -> None:
        """Keep the search attributes current, upserting only values that changed (a small history).

        Codes, stages, dates and amount bands only: the UI and the API filter on them.
        """
        if not self._current and not workflow.patched(SEARCH_ATTRIBUTES_PATCH):
            return
        if self._indexed is None:
            self._indexed = sa.indexed_now()
        report = self._report
        thresholds = self._rules.thresholds if self._rules else None
        wanted: list[tuple[SearchAttributeKey[Any], Any]] = [
            (sa.REPORT_NO, self._report_no),
            (sa.CLAIM_STAGE, sa.claim_stage(self._stage, self._tracks).value),
            (sa.BRANCH, self._branch),
        ]
        if not self._current:  # the tracks keep these themselves
            wanted.append((sa.OVERDUE, sa.currently_overdue(self._tracks)))
            wanted.append((sa.PAYMENT_DUE_AT, sa.payment_due_at(self._tracks)))
        if thresholds is not None:
            band = thresholds.loss_band(report.estimated_own_loss)
            wanted.append((sa.LOSS_BAND, band))
        if self._decision is not None:
            wanted.append((sa.SEGMENT, [s.value for s in self._decision.segments]))
            wanted.append((sa.CLAIM_TRACKS, [t.track.value for t in self._decision.applying()]))
        sa.upsert_changed(self._indexed, wanted)
