"""The claim's custom search attributes: what staff filter on in the Temporal UI and what the API
lists claims by (visibility), without opening any workflow.

Defined once here, with no I/O, so the claim workflow, the client that starts it, the dev-server
launcher, the tests and the production set-up command all use the same names and types.
Values are codes, stages, dates and amount bands only: never personal data (R-X-2 IDs rule).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from temporalio import workflow
from temporalio.common import SearchAttributeKey, SearchAttributePair, TypedSearchAttributes

from domain.models import Report, Track
from domain.rules import Thresholds
from workflows.messages import Stage, TrackView, in_china_time

REPORT_NO = SearchAttributeKey.for_keyword("ReportNo")
CLAIM_TRACKS = SearchAttributeKey.for_keyword_list("ClaimTracks")
SEGMENT = SearchAttributeKey.for_keyword_list("Segment")
CLAIM_STAGE = SearchAttributeKey.for_keyword("ClaimStage")
BRANCH = SearchAttributeKey.for_keyword("Branch")
LOSS_BAND = SearchAttributeKey.for_keyword("LossBand")
PAYMENT_DUE_AT = SearchAttributeKey.for_datetime("PaymentDueAt")
OVERDUE = SearchAttributeKey.for_bool("Overdue")
# What the operations view counts (api/operations.py), set by tracks behind OPERATIONS_INDEX_PATCH:
DEADLINE_MISSED_AT = SearchAttributeKey.for_datetime("DeadlineMissedAt")  # the track's latest missed deadline
PAID_AT = SearchAttributeKey.for_datetime("PaidAt")  # when the track's indemnity was paid
PAID_IN_TIME = SearchAttributeKey.for_bool("PaidInTime")  # paid by its deadline (R-A-6, R-B-5, R-X-4)

ALL: tuple[SearchAttributeKey[Any], ...] = (
    REPORT_NO,
    CLAIM_TRACKS,
    SEGMENT,
    CLAIM_STAGE,
    BRANCH,
    LOSS_BAND,
    PAYMENT_DUE_AT,
    OVERDUE,
    DEADLINE_MISSED_AT,
    PAID_AT,
    PAID_IN_TIME,
)


# SQL visibility on PostgreSQL has a fixed set of custom columns per type and namespace (the server
# release's schema/postgresql/v12/visibility/schema.sql: Keyword01…Keyword10, Bool01…Bool03, …);
# an attribute beyond them cannot be registered there. Counted by tests/workflows/test_search_attribute_room.py.
SQL_VISIBILITY_COLUMNS = {"Bool": 3, "Datetime": 3, "Double": 3, "Int": 3, "Keyword": 10, "KeywordList": 3, "Text": 3}


def columns_left(keys: Iterable[SearchAttributeKey[Any]] = ALL) -> dict[str, int]:
    """The custom columns each type has left on PostgreSQL after `keys`; negative: too many."""
    left = dict(SQL_VISIBILITY_COLUMNS)
    for key in keys:
        left[cli_type(key)] -= 1
    return left


def cli_type(key: SearchAttributeKey[Any]) -> str:
    """The type name `temporal server start-dev --search-attribute` and
    `temporal operator search-attribute create --type` take (Keyword, KeywordList, Datetime, Bool)."""
    return key._metadata_type


def dev_server_args(keys: Iterable[SearchAttributeKey[Any]] = ALL) -> list[str]:
    """`--search-attribute Name=Type` for each key: the dev server registers them at start."""
    args: list[str] = []
    for key in keys:
        args += ["--search-attribute", f"{key.name}={cli_type(key)}"]
    return args


def operator_commands(namespace: str = "default", address: str | None = None) -> list[str]:
    """The commands that register the attributes on a production cluster (run once per namespace)."""
    target = f" --address {address}" if address else ""
    return [
        f"temporal operator search-attribute create{target} --namespace {namespace} --name {key.name} --type {cli_type(key)}"
        for key in ALL
    ]


# Track stages in the order a track passes them: the claim's stage is its least-advanced open track's.
PROGRESS = [s for s in Stage if s.value.startswith("awaiting_") or s is Stage.PAYING]  # declaration order
ENDED = frozenset({Stage.CLOSED, Stage.DECLINED, Stage.TRANSFERRED, Stage.ORDINARY, Stage.REFUSED})
# A track that ended in one of these left the program without paying: the claim goes to the
# ordinary process (R-C-1 declined, R-A-2 over the scene estimate's limit).
LEFT_UNPAID = frozenset({Stage.DECLINED, Stage.TRANSFERRED})


def claim_stage(stage: Stage, tracks: Mapping[Track, TrackView]) -> Stage:
    """The claim's own stage, or while in service the stage of its least-advanced open track."""
    if stage is not Stage.IN_SERVICE:
        return stage
    open_stages = [v.stage for v in tracks.values() if v.stage in PROGRESS]
    if not open_stages:
        return stage
    return min(open_stages, key=PROGRESS.index)


def currently_overdue(tracks: Mapping[Track, TrackView]) -> bool:
    """An open track is past the deadline of what it waits for now."""
    return any(v.waiting is not None and v.waiting.overdue for v in tracks.values() if v.stage not in ENDED)


def payment_due_at(tracks: Mapping[Track, TrackView]) -> datetime | None:
    """The earliest due date of a payment not yet made."""
    due = [v.payment.due_at for v in tracks.values() if v.payment is not None and v.payment.paid_at is None]
    return min(due) if due else None


# Where the claim's stage is kept. Claims whose tracks index themselves (the workflows'
# TRACK_INDEX_PATCH) keep on the claim only the claim's own stage; each track keeps its stage,
# Overdue and PaymentDueAt, with the claim's ReportNo, Segment, Branch, LossBand and its own track
# in ClaimTracks. Claims started before keep their slowest track's stage on the claim.
CLAIM_STAGES = frozenset({Stage.DECIDING, Stage.IN_SERVICE, Stage.CLOSED, Stage.ORDINARY, Stage.REFUSED})


def at_report(report: Report) -> TypedSearchAttributes:
    """What is known when the claim is reported: set when the workflow starts."""
    pairs: list[SearchAttributePair[Any]] = [
        SearchAttributePair(REPORT_NO, report.report_no),
        SearchAttributePair(CLAIM_STAGE, Stage.DECIDING.value),
        SearchAttributePair(LOSS_BAND, Thresholds().loss_band(report.estimated_own_loss)),
    ]
    if report.branch:
        pairs.append(SearchAttributePair(BRANCH, report.branch))
    return TypedSearchAttributes(pairs)


def static_summary(report: Report) -> str:
    return f"Claim for report {report.report_no}"


def static_details(report: Report) -> str:
    """What the Temporal UI shows about the report for the claim's life: codes and amounts only."""
    estimate = lambda amount: f"{amount} CNY" if amount is not None else "-"  # noqa: E731
    lines = [
        f"**Report {report.report_no}**",
        f"- reported at {report.reported_at.isoformat()}",
        f"- {report.accident_kind.value}{', at the scene' if report.at_scene else ''}{', injury' if report.injury else ''}",
        f"- estimated own loss {estimate(report.estimated_own_loss)}, third party {estimate(report.estimated_third_party_loss)}"
        f" (band {Thresholds().loss_band(report.estimated_own_loss)})",
        f"- branch {report.branch or '(from the policy)'}",
    ]
    if report.deaths or report.hospitalised:
        lines.append(f"- deaths {report.deaths}, hospitalised {report.hospitalised}")
    return "\n".join(lines)


def at_track_start(claim_indexed: Mapping[str, Any], track: Track, opening: Stage | None = None) -> TypedSearchAttributes:
    """What a track is found by from its start: the codes its claim is indexed by (`claim_indexed`,
    by name, as the claim last upserted them), its own track, and its stage: `opening`, what it
    waits for first, where the claim knows it (else `deciding`, until the track upserts it)."""
    pairs: list[SearchAttributePair[Any]] = [
        SearchAttributePair(key, claim_indexed[key.name])
        for key in (REPORT_NO, SEGMENT, BRANCH, LOSS_BAND)
        if claim_indexed.get(key.name) not in (None, [])
    ]
    pairs += [
        SearchAttributePair(CLAIM_TRACKS, [track.value]),
        SearchAttributePair(CLAIM_STAGE, (opening or Stage.DECIDING).value),
        SearchAttributePair(OVERDUE, False),
    ]
    return TypedSearchAttributes(pairs)


def of_track(view: TrackView, operations: bool = False) -> list[tuple[SearchAttributeKey[Any], Any]]:
    """What a track that indexes itself keeps current: its stage, Overdue, PaymentDueAt, and on
    runs with the operations index (`operations`) when it last missed a deadline and its payment."""
    tracks = {view.track: view}
    wanted: list[tuple[SearchAttributeKey[Any], Any]] = [
        (CLAIM_STAGE, view.stage.value),
        (OVERDUE, currently_overdue(tracks)),
        (PAYMENT_DUE_AT, payment_due_at(tracks)),
    ]
    if operations:
        missed = [e.at for e in view.timeline if e.step == "deadline_missed"]
        paid = view.payment if view.payment is not None and view.payment.paid_at is not None else None
        wanted += [
            (DEADLINE_MISSED_AT, missed[-1] if missed else None),
            (PAID_AT, paid.paid_at if paid else None),
            (PAID_IN_TIME, paid.deadline_met if paid else None),
        ]
    return wanted


def indexed_now() -> dict[str, Any]:
    """The running workflow's search attributes as they stand, by name (workflow code only)."""
    return {pair.key.name: pair.value for pair in workflow.info().typed_search_attributes}


def upsert_changed(indexed: dict[str, Any], wanted: Iterable[tuple[SearchAttributeKey[Any], Any]]) -> None:
    """Upsert only the values that changed since `indexed` (kept up to date here): one history
    event per change, none when nothing changed. None or [] removes a value that was set."""
    updates = []
    for key, value in wanted:
        if value in (None, []) and key.name not in indexed:
            continue
        if indexed.get(key.name) == value:
            continue
        indexed[key.name] = value
        updates.append(key.value_unset() if value in (None, []) else key.value_set(value))
    if updates:
        workflow.upsert_search_attributes(updates)


def track_line(view: TrackView) -> str:
    """One track as an operator reads it in the Temporal UI: codes, stage and due date only."""
    waiting = view.waiting
    due = f", due {in_china_time(waiting.due_at):%Y-%m-%d %H:%M} China time" if waiting and waiting.due_at else ""
    flag = " **OVERDUE**" if view.overdue else ""
    return f"{view.track.value} {view.track.title}: {view.stage.value}{due}{flag}"


def track_details(report_no: str, view: TrackView) -> str:
    """A track's current details in the Temporal UI."""
    return f"**Report {report_no}** — track {track_line(view)}"
