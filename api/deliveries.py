"""A claim's SMS deliveries on its timeline (issue 22.6): the relay's status of each message about
the claim (queued, sent with the provider's id, failed with the reason), on the timeline of the
track the message belongs to (its key names it), else on the claim's. Never the message body."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from activities.sms import DeliveryStatus, OutboxMessage
from domain.contracts import sms_key_track
from workflows.messages import ClaimView, TimelineEntry

SmsDeliveries = Callable[[str], list[OutboxMessage]]  # report number → its messages


def delivery_entry(message: OutboxMessage) -> TimelineEntry:
    if message.status == DeliveryStatus.SENT:
        state = f"sent ({message.provider_message_id})"
    elif message.status == DeliveryStatus.FAILED:
        state = f"failed after {message.attempts} attempt(s): {message.last_error or ''}".rstrip(": ")
    else:
        state = f"queued, {message.attempts} attempt(s) so far" if message.attempts else "queued"
    return TimelineEntry(
        at=message.sent_at or message.created_at,
        step=f"sms_{message.status.value}",
        by="sms-relay",
        detail=f"{message.kind} to {message.recipient_role} {message.message_id}: {state}",
    )


def with_deliveries(view: ClaimView, messages: Iterable[OutboxMessage]) -> ClaimView:
    by_track: dict[object, list[TimelineEntry]] = {}
    for message in messages:
        track = sms_key_track(message.idempotency_key)
        by_track.setdefault(track if track in view.tracks else None, []).append(delivery_entry(message))
    if not by_track:
        return view

    def merged(timeline: tuple[TimelineEntry, ...], extra: list[TimelineEntry]) -> tuple[TimelineEntry, ...]:
        return tuple(sorted((*timeline, *extra), key=lambda e: e.at))

    tracks = {
        track: tv.model_copy(update={"timeline": merged(tv.timeline, by_track[track])}) if track in by_track else tv
        for track, tv in view.tracks.items()
    }
    return view.model_copy(update={"tracks": tracks, "timeline": merged(view.timeline, by_track.get(None, []))})
