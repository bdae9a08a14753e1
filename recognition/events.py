"""Grouping reads into plate events: the reads of the same plate (lenient equality) on one camera,
each within ``PLATE_EVENT_GAP_SECONDS`` of the previous one, form one event whose plate is the
confidence-weighted consensus of all its reads (recognition/vision/voting.py)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection
from django.db.models import Q

from hotlist.matching import MatchPolicy, scan_match

from .models import PlateEvent, Read
from .vision.voting import vote

# "The same plate": at most two look-alike characters and one other difference apart.
SAME_PLATE = MatchPolicy.lenient(lookalike=2, edits=1)
ZERO = timedelta(0)
_UPDATED = ["plate", "confidence", "votes", "read_count", "started_at", "last_seen_at"]


def gap() -> timedelta:
    return timedelta(seconds=getattr(settings, "PLATE_EVENT_GAP_SECONDS", 5))


def _same_plate(events: list[PlateEvent], candidates: list[tuple[str, float]]) -> list[PlateEvent]:
    """Those of ``events`` whose plate or votes are the same plate as a candidate, in order. One direct scan
    of their few texts: building a matching index for them cost more than the rest of storing a read."""
    rows = [(i, t, SAME_PLATE) for i, event in enumerate(events) for t in sorted({event.plate, *event.votes}) if t]
    if not rows:
        return []
    hits = {m.entry_id for m in scan_match(rows, candidates)}
    return [event for i, event in enumerate(events) if i in hits]


def _first_same_plate(events: list[PlateEvent], candidates: list[tuple[str, float]]) -> PlateEvent | None:
    """The first of ``events`` that is the same plate as a candidate. Most reads repeat a text of the
    vehicle's event exactly: that event is a hit without a scan, and only the events before it are scanned."""
    texts = {t for t, _ in candidates if t}
    for i, event in enumerate(events):
        if event.plate in texts or not texts.isdisjoint(event.votes):
            earlier = _same_plate(events[:i], candidates) if i else []
            return earlier[0] if earlier else event
    found = _same_plate(events, candidates)
    return found[0] if found else None


# First key of the advisory locks that serialise event assignment per camera (any constant of its own).
CAMERA_EVENTS_LOCK = 0x3E7


def _serialise(cameras: Iterable[int]) -> None:
    """Take the cameras' event locks (PostgreSQL, until the transaction ends), in one order: two workers
    storing frames of one camera at once would each start an event for the same vehicle, as neither
    sees the other's uncommitted event; the second now waits for the first to commit."""
    if connection.vendor != "postgresql":
        return  # SQLite: one writer at a time anyway
    keys = sorted({camera_id % 2147483647 for camera_id in cameras})
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(%s, k) FROM unnest(%s::integer[]) AS k", [CAMERA_EVENTS_LOCK, keys]
        )


def _open_events(spans: dict[int, tuple[datetime, datetime]]) -> list[PlateEvent]:
    """The events of each camera in ``spans`` ({camera id: (from, to)}) seen in its span, locked in id order
    (so that two batches that share cameras cannot deadlock on them)."""
    if connection.vendor != "postgresql":
        near = Q()
        for camera_id, (lo, hi) in spans.items():
            near |= Q(camera_id=camera_id, last_seen_at__gte=lo, started_at__lte=hi)
        return list(PlateEvent.objects.select_for_update().filter(near).order_by("pk"))
    cameras = list(spans)
    # One statement whatever the number of cameras (built by the ORM, an OR of them cost more than the rest).
    return list(
        PlateEvent.objects.raw(
            f"""SELECT e.* FROM {PlateEvent._meta.db_table} e
            JOIN unnest(%s::bigint[], %s::timestamptz[], %s::timestamptz[]) AS s(camera_id, lo, hi)
              ON e.camera_id = s.camera_id AND e.last_seen_at >= s.lo AND e.started_at <= s.hi
            ORDER BY e.id FOR UPDATE OF e""",
            [cameras, [spans[c][0] for c in cameras], [spans[c][1] for c in cameras]],
        )
    )


def _update_events(events: list[PlateEvent]) -> None:
    """Save the consensus fields of ``events``, in one statement."""
    if connection.vendor != "postgresql":
        PlateEvent.objects.bulk_update(events, _UPDATED)
        return
    with connection.cursor() as cursor:
        cursor.execute(
            f"""UPDATE {PlateEvent._meta.db_table} e SET plate = v.plate, confidence = v.confidence,
              votes = v.votes, read_count = v.read_count, started_at = v.started_at, last_seen_at = v.last_seen_at
            FROM unnest(%s::bigint[], %s::text[], %s::float8[], %s::text[]::jsonb[], %s::integer[],
                        %s::timestamptz[], %s::timestamptz[])
              AS v(id, plate, confidence, votes, read_count, started_at, last_seen_at)
            WHERE e.id = v.id""",
            [
                [e.pk for e in events],
                [e.plate for e in events],
                [e.confidence for e in events],
                [json.dumps(e.votes) for e in events],
                [e.read_count for e in events],
                [e.started_at for e in events],
                [e.last_seen_at for e in events],
            ],
        )


def _candidates(read: Read) -> list[tuple[str, float]]:
    return [(t, float(c)) for t, c in read.candidates] or [(read.text, read.confidence)]


def do_assign_events(reads: list[Read]) -> list[tuple[PlateEvent, str, float, bool]]:
    """Put each of ``reads`` (unsaved, in the order they were read) into the open event of its plate on
    its camera, or start one, as if they were assigned one by one. Returns, per read, (event, the event's
    consensus plate and confidence once the read joined it, consensus_changed). Call inside the
    transaction that then inserts the reads (with their events set: no UPDATE per read).

    Set-based: one locking query for the open events of every camera in ``reads``, one for the stored
    reads of those events that can join one of them, one INSERT of the new events and one UPDATE of the
    changed ones, whatever the number of reads."""
    if not reads:
        return []
    window = gap()
    spans: dict[int, tuple[datetime, datetime]] = {}
    for read in reads:
        lo, hi = spans.get(read.camera_id, (read.captured_at, read.captured_at))
        spans[read.camera_id] = (min(lo, read.captured_at), max(hi, read.captured_at))
    _serialise(spans)
    stored = _open_events({c: (lo - window, hi + window) for c, (lo, hi) in spans.items()})
    candidates = [_candidates(read) for read in reads]
    # Only an event whose plate or votes are the same plate as one of the reads can ever take one (its
    # plate and votes change only when it takes a read): load those events' stored reads, in one query.
    wanted = {text: conf for cands in candidates for text, conf in cands}
    joinable = _same_plate(stored, list(wanted.items()))
    members: dict[int, list[list[tuple[str, float]]]] = {id(event): [] for event in stored}
    if joinable:
        events_by_pk = {event.pk: event for event in joinable}
        rows = Read.objects.filter(
            event_id__in=list(events_by_pk),
            # a read lies inside its event's span: this lets PostgreSQL skip the other days' partitions
            captured_at__gte=min(e.started_at for e in joinable),
            captured_at__lte=max(e.last_seen_at for e in joinable),
        ).values_list("event_id", "candidates", "text", "confidence")
        for event_id, cands, text, conf in rows:
            members[id(events_by_pk[event_id])].append([(t, float(c)) for t, c in cands] or [(text, conf)])
    pool: dict[int, list[PlateEvent]] = {}
    for event in stored:
        pool.setdefault(event.camera_id, []).append(event)
    created: list[PlateEvent] = []
    changed: dict[int, PlateEvent] = {}
    assigned = []
    for read, cands in zip(reads, candidates):
        t = read.captured_at
        # The five nearest in time: for reads stored in capture order, the five seen last. A read stored
        # after later ones of its camera (another worker's batch committed first) still finds its own
        # vehicle's event rather than the newer ones.
        open_events = sorted(
            (e for e in pool.get(read.camera_id, ()) if e.last_seen_at >= t - window and e.started_at <= t + window),
            key=lambda e: max(e.started_at - t, t - e.last_seen_at, ZERO),
        )[:5]
        found = _first_same_plate(open_events, cands)
        if found is None:
            event = PlateEvent(
                camera_id=read.camera_id,
                started_at=t,
                last_seen_at=t,
                plate=read.text,
                confidence=read.confidence,
                votes=dict(cands),
                read_count=1,
            )
            read.event = event
            pool.setdefault(read.camera_id, []).append(event)
            created.append(event)
            members[id(event)] = [cands]
            assigned.append((event, event.plate, event.confidence, False))
            continue
        event = read.event = found
        members[id(event)].append(cands)
        consensus = vote(members[id(event)])
        moved = consensus.text != event.plate
        event.plate, event.confidence = consensus.text, consensus.confidence
        event.votes = {text: round(v, 4) for text, v in sorted(consensus.votes.items(), key=lambda kv: -kv[1])[:10]}
        event.read_count = consensus.reads
        event.started_at = min(event.started_at, t)
        event.last_seen_at = max(event.last_seen_at, t)
        if event.pk is not None:
            changed[event.pk] = event
        assigned.append((event, event.plate, event.confidence, moved))
    if created:
        PlateEvent.objects.bulk_create(created)
    if changed:
        _update_events(list(changed.values()))
    for read in reads:
        read.event = read.event  # sets event_id from the event's id, now that new events have one
    return assigned
