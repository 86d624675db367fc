"""Who may do what: the roles of SPEC.md's people against the API's actions and human steps.

One table per kind of action; the API asks `roles_for_*` and refuses (403) a caller holding none
of them. Decisions that SPEC.md leaves open:

- Reading (a claim, a track, the list) is open to every role: everyone who acts on a claim must
  see where it stands; operations is read-only (dashboards), admin too (it runs the service:
  tokens, settings; it moves no claim, so no claim step is ever done "by the system owner").
- The supervisor may take every step except the satisfaction callback: deadlines escalate to a
  supervisor (OPEN-3), who must be able to move a claim whose assigned person is away, and each
  such step records the supervisor's own code. The callback is not theirs: a poor score opens a
  follow-up *for* a supervisor (R-X-1), so the customer's score is recorded by the service
  centre alone.
- Step names are strings here (security/ does not import workflows/); a test checks that the
  table names exactly the steps of workflows.messages.STEP_MODELS.
"""

from __future__ import annotations

from enum import StrEnum

from domain.models import Track
from security.auth import Principal, Role

R = Role


class Action(StrEnum):
    READ = "read"  # GET /claims, /claims/{no}, /claims/{no}/tracks/{track}
    REPORT = "report"  # POST /claims
    UPLOAD = "upload"  # POST /files
    OPERATIONS = "operations"  # GET /operations, /operations/summary: counts over all claims
    WORK = "work"  # GET /work and its pages: the pending steps one's roles may take (issue 24)
    REASSIGN = "reassign"  # POST /work/{no}/{track}/reassign: give a queue item to someone else


ALL_ROLES = frozenset(Role)

ACTION_ROLES: dict[Action, frozenset[Role]] = {
    Action.READ: ALL_ROLES,
    # R-ID-2: the 95500 agent takes the report (报案) and sees the customer recognised.
    Action.REPORT: frozenset({R.AGENT, R.SUPERVISOR}),
    # Whoever hands photos or documents to a step: the surveyor's scene photos (R-A-2), the
    # assessor's shop photos and documents (R-A-3, R-A-5), documents handed in by the customer or a
    # delegate through the agent (R-B-4), injury documents through the specialist (R-X-5, R-D-5),
    # the large claim's documents through the lead (R-C-3, R-C-4).
    Action.UPLOAD: frozenset({R.AGENT, R.SURVEYOR, R.ASSESSOR, R.INJURY_SPECIALIST, R.EXPERT_LEAD, R.SUPERVISOR}),
    # The operations view (how many claims stand where, what is overdue, what is due today): the
    # operations lead's dashboards, and the supervisor whom missed deadlines reach (OPEN-3).
    Action.OPERATIONS: frozenset({R.OPERATIONS, R.SUPERVISOR}),
}

# Each human step (workflows.messages.STEP_MODELS) by the people SPEC.md names for it; the
# supervisor is added below for every step but the callback (see the module docstring).
_STEP_PEOPLE: dict[str, frozenset[Role]] = {
    # R-A-1, R-B-1, R-C-1: the agent tells the customer of the service; the customer accepts.
    "accept_offer": frozenset({R.AGENT}),
    # R-A-2: the surveyor helps the customer photograph the scene and estimate the loss.
    "record_scene_estimate": frozenset({R.SURVEYOR}),
    # R-A-3: the car reaches the shop, where our assessor meets it; the customer may tell 95500.
    "car_at_shop": frozenset({R.ASSESSOR, R.AGENT}),
    # R-A-3: the assessor uploads the customer's own photos.
    "upload_photos": frozenset({R.ASSESSOR}),
    # R-A-4 (every track's agreed amount; R-C-4's large-case assessors hold this role too).
    "issue_assessment": frozenset({R.ASSESSOR}),
    # R-A-5 the assessor at the shop; R-B-4 by the customer, a delegate or door pickup, through
    # the agent; R-X-5 injury documents through the specialist (R-D-5), large claims' through the
    # lead (R-C-3).
    "receive_document": frozenset({R.ASSESSOR, R.AGENT, R.INJURY_SPECIALIST, R.EXPERT_LEAD}),
    "receive_documents": frozenset({R.ASSESSOR, R.AGENT, R.INJURY_SPECIALIST, R.EXPERT_LEAD}),
    # R-C-2: the branch's expert team names the lead; the agent passes it back to the customer.
    "name_expert_lead": frozenset({R.EXPERT_LEAD, R.AGENT}),
    # R-C-3, R-C-4, R-C-5: the lead's own steps.
    "record_lead_contact": frozenset({R.EXPERT_LEAD}),
    "staff_team": frozenset({R.EXPERT_LEAD}),
    "complete_service_item": frozenset({R.EXPERT_LEAD}),
    # R-C-5 (track C, the lead) / R-D-6 (track D, the specialist): see _STEP_PEOPLE_BY_TRACK.
    "report_back": frozenset({R.EXPERT_LEAD, R.INJURY_SPECIALIST}),
    # R-D-2..R-D-5: the specialist's calls and follow-ups.
    "record_specialist_contact": frozenset({R.INJURY_SPECIALIST}),
    # R-X-3: after the ledger refused the payee, the agent takes the insured's own account.
    "correct_payee_account": frozenset({R.AGENT}),
    # R-X-1, R-C-6: the customer service centre's satisfaction callback.
    "record_callback": frozenset({R.SERVICE_CENTRE}),
}

# Where the same step belongs to different people on different tracks.
_STEP_PEOPLE_BY_TRACK: dict[tuple[str, Track], frozenset[Role]] = {
    ("report_back", Track.EXPERT_TEAM): frozenset({R.EXPERT_LEAD}),  # R-C-5
    ("report_back", Track.INJURY): frozenset({R.INJURY_SPECIALIST}),  # R-D-6
}

_NOT_FOR_SUPERVISOR = frozenset({"record_callback"})  # R-X-1


def _with_supervisor(step: str, roles: frozenset[Role]) -> frozenset[Role]:
    return roles if step in _NOT_FOR_SUPERVISOR else roles | {R.SUPERVISOR}


STEP_ROLES: dict[str, frozenset[Role]] = {step: _with_supervisor(step, roles) for step, roles in _STEP_PEOPLE.items()}
STEP_ROLES_BY_TRACK: dict[tuple[str, Track], frozenset[Role]] = {
    key: _with_supervisor(key[0], roles) for key, roles in _STEP_PEOPLE_BY_TRACK.items()
}

# Who sees personal data in the claim and track views in full: the people who phone the customer
# or pay them. The agent (R-ID-2 the tag, R-A-1 the offer, R-X-3 the payee account), the surveyor
# (R-A-2 guides the customer at the scene), the injury specialist (R-D-2 calls), the expert lead
# (R-C-3 contacts), the service centre (R-X-1 callback), the supervisor (R-X-1 follow-up, OPEN-3
# escalations). The assessor works on the car and its papers, operations on dashboards, admin on
# the service: they see masked values (138****0001, ****0001, the tag without its persona).
FULL_PERSONAL_DATA: frozenset[Role] = frozenset(
    {R.AGENT, R.SURVEYOR, R.INJURY_SPECIALIST, R.EXPERT_LEAD, R.SERVICE_CENTRE, R.SUPERVISOR}
)


# The work queue (issue 24) is for whoever takes a human step: every role of STEP_ROLES.
ACTION_ROLES[Action.WORK] = frozenset().union(*STEP_ROLES.values(), *STEP_ROLES_BY_TRACK.values())
# OPEN-3: deadlines escalate to a supervisor, who moves an item whose holder is away.
ACTION_ROLES[Action.REASSIGN] = frozenset({R.SUPERVISOR})


def roles_for(action: Action) -> frozenset[Role]:
    return ACTION_ROLES[action]


def roles_for_step(step: str, track: Track | None) -> frozenset[Role]:
    """The roles that may take `step` on `track` (None, or an unknown step: see below)."""
    if track is not None and (step, track) in STEP_ROLES_BY_TRACK:
        return STEP_ROLES_BY_TRACK[(step, track)]
    return STEP_ROLES.get(step, frozenset())


def sees_personal_data(principal: Principal) -> bool:
    return principal.has_any(FULL_PERSONAL_DATA)


def role_list(roles: frozenset[Role]) -> str:
    """'agent, supervisor' in the order of Role (the order SPEC.md's people appear)."""
    return ", ".join(role.value for role in Role if role in roles) or "no role"
