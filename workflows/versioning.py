"""Every patch ID of the claim program's workflows, and what each changed (docs/changing-workflows.md,
"Changing a workflow safely"). A change to a workflow's commands goes behind `workflow.patched(ID)`; the
recorded histories (tests/histories) replay every version before it, and tests/test_replay.py
checks that the older ones carry none of the later IDs.
"""

from __future__ import annotations

from temporalio import workflow

# --- the claim (workflows/claim.py) --------------------------------------------------------------
# Claims started before the workflow kept its search attributes up to date replay without them.
SEARCH_ATTRIBUTES_PATCH = "claim-search-attributes"
# The decision in the report's answer, made after the v4 histories were recorded: the core-system
# lookup is a local activity (rules, lookup and decision in the first workflow task), the report
# call's `decision` update (update-with-start) answers once the tracks are decided, the claim's
# codes go out in one upsert, and every track starts in the same task, already showing what it
# waits for first. An unknown policy, or a number registered on another policy, fails the claim
# instead of leaving it `ordinary`/`refused`: the agent is told at once and may report again.
DECISION_PATCH = "decision-in-answer"

# --- the tracks (workflows/track_base.py) and the claim ----------------------------------------
# Smaller histories, made after the v1 histories (tests/histories/*/v1-*) were recorded; claims
# started before replay on the old path (docs/changing-workflows.md). One patch ID for
# all of it, as each ID costs a marker and a search-attribute event per workflow:
# - a track tells its claim only when what the claim shows and indexes changed (stage, wait,
#   overdue, payment: progress_of), not after every step, and not at its end, which the claim
#   reads from the child's result: each signal costs the track 5 events and the claim 4;
# - short calls to the systems beside the worker (file store, SMS outbox, callback book, rules)
#   are local activities: one marker in the running workflow task instead of three events and a
#   workflow task. The payment stays an ordinary activity: it heartbeats and retries for a day.
SMALL_HISTORY_PATCH = "small-history"
# Tracks that index themselves, made after the v2 histories were recorded (and holding everything
# small-history does). The claim's stage, overdue flag and payment due date live where they change:
# a track keeps them as its own search attributes (with its current details and the SLA and
# payment metrics) and tells its claim nothing until it ends, when the claim reads the child's
# result. A stage-change signal cost the track 5 events and the claim 5 (and two workflow tasks);
# an upsert costs one event in a task the track runs anyway. And a human step answers once the
# track has moved on (at its next wait, paying, or ended), so the caller reads the next stage from
# the answer instead of asking again.
TRACK_INDEX_PATCH = "tracks-index-themselves"
# A corrected payee account is checked against the core system as it is now (an activity in the
# step's handler), not against the policy as it was at report time: the insured whose account was
# closed records a new one, and that one is paid (R-X-3, R-EL-1.6). Runs that refused a payment
# before this replay the old check.
PAYEE_FROM_CORE_PATCH = "payee-account-from-core"
# A track that leaves the program without paying (declined offer, over a threshold) says it hands
# the claim to the ordinary process (TrackView.handed_to_ordinary), and the claim then shows stage
# `ordinary` with the reason instead of `closed` (workflows/claim.py).
ORDINARY_PATCH = "handed-to-ordinary"
# The operations view's attributes (made after the v4 histories were recorded): a track that
# indexes itself also keeps when it last missed a deadline (DeadlineMissedAt), when it was paid
# (PaidAt) and whether by its deadline (PaidInTime), so breaches and on-time payments in a period
# are counted from visibility. Upserted with the values the track keeps already, in the same task.
OPERATIONS_INDEX_PATCH = "operations-index"


def small_history(current: bool) -> bool:
    """Whether this run takes the small-history path: runs that keep their own index (`current`,
    the TRACK_INDEX_PATCH) do, without a marker of their own."""
    return current or workflow.patched(SMALL_HISTORY_PATCH)


# The work queue (issue 24), made after the v6 histories were recorded: a track takes the `assign`
# update (take, hand back, reassign: workflows/work.py) and keeps who holds its pending step, when
# its wait began and is due, and the customer's tag without its persona, in its own search
# attributes, in the same upsert as its stage. Holds OPERATIONS_INDEX_PATCH's path (one marker).
WORK_QUEUE_PATCH = "work-queue"
# The customer's link (issue 24), made after the v6 histories were recorded: once its tracks are
# started, a claim that a dedicated track took sends the customer one SMS through the outbox with a
# link to their claim's page (the worker signs it; the history holds no link). A failed SMS is
# noted on the timeline and never fails the claim.
CUSTOMER_LINK_PATCH = "customer-link-sms"
