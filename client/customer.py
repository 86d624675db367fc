"""What the customer's own page shows of their claim (issue 24), read from the claim and its tracks
as they are now: the services taken and their promises, where each stands, what documents are
still missing and how they may be handed in, the contact (injury specialist or expert lead), the
payment (the account by its last four digits only) and the satisfaction callback.

Nothing else personal: no name, no phone of the customer, no ID number, no plate, no tag. Reads
one query of the claim and one of each open track (client.claims.claim_state), and the first
event of each track's history for the account it pays to and the deadlines it runs under.
"""

from __future__ import annotations

import asyncio
import re
from datetime import datetime, timedelta
from typing import Protocol

from temporalio.api.enums.v1 import EventType
from temporalio.client import Client

from client.claims import claim_state
from domain.documents import ALLOWED_CHANNELS
from domain.models import DocumentChannel, DocumentType, Frozen, Money, Track
from security.masking import mask_account
from workflows.messages import ChinaTime, Stage, TrackInput, TrackView, track_workflow_id


class StaffEntry(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def work_phone(self) -> str: ...


class StaffDirectory(Protocol):
    """Staff codes to work contacts (the embedded default: activities/staff.py)."""

    def contact(self, code: str) -> StaffEntry | None: ...


class Contact(Frozen):
    role: str  # "injury_specialist" (R-D-2) or "expert_lead" (R-C-2)
    name: str
    work_phone: str


class Service(Frozen):
    track: Track
    stage: Stage
    ended: bool
    handed_to_ordinary: bool = False
    documents_missing: tuple[DocumentType, ...] = ()
    channels: tuple[DocumentChannel, ...] = ()  # how the missing documents may reach us (R-B-4)
    contact: Contact | None = None
    payment_working_days: int = 1  # R-A-6's "one working day", as the claim's rules say
    specialist_minutes: int = 30  # OPEN-3: the specialist calls within this
    amount: Money | None = None
    payment_due_at: ChinaTime | None = None
    paid_at: ChinaTime | None = None
    account_last4: str | None = None  # the account paid to, masked to its last four digits
    callback_done: bool = False


class CustomerView(Frozen):
    report_no: str
    stage: Stage
    services: tuple[Service, ...]
    reported_at: ChinaTime | None = None


LEAD_NAMED = re.compile(r"lead (\S+)")


def _contact(view: TrackView, staff: StaffDirectory) -> Contact | None:
    """R-C-2: the lead the branch named; R-D-2: the specialist who called the customer."""
    code: str | None = None
    role = ""
    if view.track is Track.EXPERT_TEAM:
        named = [e for e in view.timeline if e.step == "expert_lead_named"]
        found = LEAD_NAMED.search(named[-1].detail) if named else None
        code, role = (found.group(1) if found else None), "expert_lead"
    elif view.track is Track.INJURY:
        calls = [e for e in view.timeline if e.step.startswith("specialist_") and e.by]
        code, role = (calls[-1].by if calls else None), "injury_specialist"
    entry = staff.contact(code) if code else None
    return Contact(role=role, name=entry.name, work_phone=entry.work_phone) if entry else None


async def track_input(client: Client, report_no: str, track: Track) -> TrackInput | None:
    """The input a track was started with (its first history event; no worker needed)."""
    handle = client.get_workflow_handle(track_workflow_id(report_no, track))
    async for event in handle.fetch_history_events(page_size=1):
        if event.event_type != EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED:
            return None
        payloads = event.workflow_execution_started_event_attributes.input.payloads
        [found] = await client.data_converter.decode(payloads, [TrackInput])
        return found
    return None


async def customer_view(client: Client, report_no: str, staff: StaffDirectory) -> CustomerView:
    claim = await claim_state(client, report_no)
    tracks = [d.track for d in claim.decision.applying()] if claim.decision else []
    inputs = await asyncio.gather(*(track_input(client, report_no, t) for t in tracks))
    services = []
    reported_at: datetime | None = None
    for track, started in zip(tracks, inputs, strict=True):
        view = claim.tracks.get(track)
        if view is None or started is None:
            continue
        reported_at = started.report.reported_at
        account = started.report.payee_account or started.lookup.policy.insured_bank_account
        payment = view.payment
        deadlines = started.rules.deadlines
        ended = view.outcome is not None
        services.append(
            Service(
                track=track,
                stage=view.stage,
                ended=ended,
                handed_to_ordinary=view.handed_to_ordinary is not None,
                documents_missing=() if ended else view.documents_missing,
                channels=tuple(c for c in DocumentChannel if c in ALLOWED_CHANNELS[track]),
                contact=_contact(view, staff),
                payment_working_days=deadlines.authorisation_payment_working_days,
                specialist_minutes=int(deadlines.specialist_first_call / timedelta(minutes=1)),
                amount=payment.amount if payment else view.assessment_amount,
                payment_due_at=payment.due_at if payment else None,
                paid_at=payment.paid_at if payment else None,
                account_last4=(mask_account(account.replace(" ", "")) or "")[-4:] if account else None,
                callback_done=view.callback_score is not None,
            )
        )
    return CustomerView(report_no=report_no, stage=claim.stage, services=tuple(services), reported_at=reported_at)
