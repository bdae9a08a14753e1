"""Grouping reads into plate events: the reads of the same plate (lenient equality) on one camera,
each within ``PLATE_EVENT_GAP_SECONDS`` of the previous one, form one event whose plate is the
confidence-weighted consensus of all its reads (recognition/vision/voting.py)."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings

from hotlist.matching import MatchPolicy, scan_match

from .models import PlateEvent, Read
from .vision.voting import vote

# "The same plate": at most two look-alike characters and one other difference apart.
SAME_PLATE = MatchPolicy.lenient(lookalike=2, edits=1)


def gap() -> timedelta:
    return timedelta(seconds=getattr(settings, "PLATE_EVENT_GAP_SECONDS", 5))


def _first_same_plate(events: list[PlateEvent], candidates: list[tuple[str, float]]) -> PlateEvent | None:
    """The first of ``events`` whose plate or votes are the same plate as a candidate. One direct scan of
    their few texts: building a matching index for them cost more than the rest of storing a read."""
    rows = [(i, t, SAME_PLATE) for i, event in enumerate(events) for t in sorted({event.plate, *event.votes}) if t]
    if not rows:
        return None
    hits = {m.entry_id for m in scan_match(rows, candidates)}
    return next((event for i, event in enumerate(events) if i in hits), None)


def do_assign_event(read: Read, pending: list[Read] | tuple[Read, ...] = ()) -> tuple[PlateEvent, bool]:
    """Put ``read`` into the open event of its plate on its camera, or start one. Returns
    (event, consensus_changed). Call inside the transaction that stores the read.

    ``read`` may not be saved yet (it is then inserted afterwards with its event set, which saves an
    UPDATE per read); ``pending``: other unsaved reads of the same transaction already assigned."""
    candidates = [(t, float(c)) for t, c in read.candidates] or [(read.text, read.confidence)]
    window = gap()
    open_events = (
        PlateEvent.objects.select_for_update()
        .filter(
            camera_id=read.camera_id,
            last_seen_at__gte=read.captured_at - window,
            started_at__lte=read.captured_at + window,
        )
        .order_by("-last_seen_at")[:5]
    )
    event = _first_same_plate(list(open_events), candidates)
    if event is None:
        event = PlateEvent.objects.create(
            camera_id=read.camera_id,
            started_at=read.captured_at,
            last_seen_at=read.captured_at,
            plate=read.text,
            confidence=read.confidence,
            votes=dict(candidates),
            read_count=1,
        )
        if read.pk is not None:
            Read.objects.filter(pk=read.pk).update(event=event)
        read.event = event
        return event, False
    if read.pk is not None:
        Read.objects.filter(pk=read.pk).update(event=event)
    read.event = event
    others = [r for r in pending if r.event_id == event.pk and r is not read]
    if read.pk is None:
        others.append(read)
    all_reads = [
        [(t, float(c)) for t, c in r.candidates] or [(r.text, r.confidence)]
        for r in [*Read.objects.filter(event=event).only("candidates", "text", "confidence"), *others]
    ]
    consensus = vote(all_reads)
    changed = consensus.text != event.plate
    event.plate, event.confidence = consensus.text, consensus.confidence
    event.votes = {t: round(v, 4) for t, v in sorted(consensus.votes.items(), key=lambda kv: -kv[1])[:10]}
    event.read_count = consensus.reads
    event.started_at = min(event.started_at, read.captured_at)
    event.last_seen_at = max(event.last_seen_at, read.captured_at)
    event.save(update_fields=["plate", "confidence", "votes", "read_count", "started_at", "last_seen_at"])
    return event, changed
