"""A claim's SMS deliveries on its timeline (issue 22.6): the relay's status of each message about
the claim (activities.sms words it: queued, sent with the provider's id, failed with the reason),
on the timeline of the track the message belongs to (its key names it), else on the claim's. Never
the message body. The API's claim view and `claims show` both join them here."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from domain.contracts import DeliveryNote, sms_key_track
from domain.models import Track
from workflows.messages import ClaimView, TimelineEntry

SmsDeliveries = Callable[[str], list[DeliveryNote]]  # report number → its messages' deliveries


def with_deliveries(view: ClaimView, notes: Iterable[DeliveryNote]) -> ClaimView:
    by_track: dict[Track | None, list[TimelineEntry]] = {}
    for note in notes:
        track = sms_key_track(note.idempotency_key)
        entry = TimelineEntry(at=note.at, step=note.step, by=note.by, detail=note.detail)
        by_track.setdefault(track if track in view.tracks else None, []).append(entry)
    if not by_track:
        return view

    def merged(timeline: tuple[TimelineEntry, ...], extra: list[TimelineEntry]) -> tuple[TimelineEntry, ...]:
        return tuple(sorted((*timeline, *extra), key=lambda e: e.at))

    tracks = {
        track: tv.model_copy(update={"timeline": merged(tv.timeline, by_track[track])}) if track in by_track else tv
        for track, tv in view.tracks.items()
    }
    return view.model_copy(update={"tracks": tracks, "timeline": merged(view.timeline, by_track.get(None, []))})
