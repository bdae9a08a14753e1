"""The per-process hotlist index that every new read is matched against.

Each worker (or the web process, in the demo) keeps a *base* index of every active list, built
from a snapshot of the lists. Before matching (a frame's reads, or those of the frames a worker
stores together) it reads the lists' state again: one short query
over the lists (each list's change time, active flag and policy) and the highest entry id. An
import, a BOLO or a settings change alters it. When the state differs from the base's snapshot,
the lists that changed (and any list holding entries newer than the base) are read from the
database and indexed in line on their own, a small index (a BOLO list, or the one list just
imported), matched together with the base, whose hits on those lists are dropped. A full rebuild
runs on a thread meanwhile and replaces the base when it is done.

So a read is always matched against the lists as they were committed when its batch's matching began:
correctness never waits for, or depends on, the rebuild thread. ``HOTLIST_REFRESH_SECONDS``
(default 0: check before every batch) may space the checks out, at the price of a list change
taking up to that long to alert.

Expiry and the list's active flag and hours are checked in the database for the few entries that
matched, so an entry that expired or was removed since an index was built never alerts.
"""

from __future__ import annotations

import gc
import logging
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db import DataError, connection, transaction
from django.db.models import Subquery
from django.utils import timezone

from .matching import HotlistIndex, Match, MatchPolicy
from .matching.index import Candidates
from .models import Entry, Hotlist

log = logging.getLogger(__name__)

# What a list's matching depends on; updated_at changes with every import, BOLO and settings save.
STATE_FIELDS = (
    "updated_at",
    "active",
    "match_mode",
    "lookalike_budget",
    "edit_budget",
    "lookalike_min_length",
    "edit_min_length",
)
_ACTIVE = STATE_FIELDS.index("active")


@dataclass(frozen=True)
class Snapshot:
    lists: dict[int, tuple]  # list id -> values of STATE_FIELDS
    top: int  # highest entry id

    @classmethod
    def of(cls, rows: list) -> Snapshot:
        """From rows of (list id, *STATE_FIELDS, highest entry id)."""
        return cls({row[0]: tuple(row[1:-1]) for row in rows}, (rows[0][-1] or 0) if rows else 0)

    def active(self, pk: int) -> bool:
        return pk in self.lists and bool(self.lists[pk][_ACTIVE])


@dataclass(frozen=True)
class _Index:
    snapshot: Snapshot
    index: HotlistIndex | None
    lists: frozenset[int] = frozenset()  # overlay only: the lists it replaces in the base


_lock = threading.Lock()
_state: dict = {"base": None, "overlay": None, "checked": 0.0, "building": None}


_SNAPSHOT_SQL: list[str] = []


def snapshot() -> Snapshot:
    """The lists' state, in one query (the highest entry id is an uncorrelated subquery, run once).

    Run before every batch of reads: its SQL is built by the ORM once and kept (building it each time
    cost more than running it)."""
    if not _SNAPSHOT_SQL:
        top = Subquery(Entry.objects.order_by("-id").values("id")[:1])
        query = Hotlist.objects.order_by().annotate(top_entry=top).values_list("id", *STATE_FIELDS, "top_entry")
        sql, params = query.query.sql_with_params()
        if params:  # none expected; should the ORM ever bind one, keep to the ORM
            return Snapshot.of(list(query))
        _SNAPSHOT_SQL.append(sql)
    with connection.cursor() as cursor:
        cursor.execute(_SNAPSHOT_SQL[0])
        return Snapshot.of(cursor.fetchall())


def _policy(state: tuple) -> MatchPolicy:
    fields = dict(zip(STATE_FIELDS, state))
    del fields["updated_at"], fields["active"]
    return Hotlist(**fields).policy()


def _build(snap: Snapshot, list_ids: Iterable[int]) -> tuple[HotlistIndex | None, int]:
    """An index over the entries of ``list_ids`` that are active in ``snap``, with the snapshot's policies."""
    policies = {pk: _policy(snap.lists[pk]) for pk in list_ids if snap.active(pk)}
    if not policies:
        return None, 0
    rows = list(
        Entry.objects.filter(hotlist_id__in=list(policies))
        .values_list("id", "plate", "hotlist_id")
        .iterator(chunk_size=20000)
    )
    return HotlistIndex.build(rows, policies), len(rows)


def _build_base() -> _Index:
    started = time.perf_counter()
    snap = snapshot()  # before the entries are read: the index holds at least what the snapshot says
    index, entry_count = _build(snap, snap.lists)
    # Millions of long-lived index objects: keep them out of the cyclic collector's young generations,
    # or its passes over them show up as multi-millisecond stalls in matching.
    gc.collect()
    gc.freeze()
    log.info(
        "hotlist index: %d entries in %d lists, built in %.2f s",
        entry_count,
        len(snap.lists),
        time.perf_counter() - started,
    )
    return _Index(snap, index)


def _changed_lists(base: Snapshot, now: Snapshot) -> frozenset[int]:
    """Active lists whose state differs from the base's, and lists holding entries newer than the base
    (written without touching the list)."""
    changed = {pk for pk, state in now.lists.items() if base.lists.get(pk) != state}
    if now.top > base.top:
        changed.update(Entry.objects.filter(pk__gt=base.top).values_list("hotlist_id", flat=True).distinct())
    return frozenset(pk for pk in changed if now.active(pk))


def _rebuild_in_background() -> None:
    def run() -> None:
        try:
            base = _build_base()
            with _lock:
                _state["base"] = base
                _state["overlay"] = None  # it was relative to the old base; the next read makes a new one
        except Exception:  # keep matching on the old base and its overlay
            log.exception("hotlist index rebuild failed")
        finally:
            from django.db import connection

            connection.close()
            _state["building"] = None

    thread = threading.Thread(target=run, name="hotlist-index", daemon=True)
    _state["building"] = thread
    thread.start()


def current(force: bool = False) -> tuple[_Index, _Index | None]:
    """The base index and, when lists changed since it was built, the overlay of those lists."""
    now = time.monotonic()
    interval = getattr(settings, "HOTLIST_REFRESH_SECONDS", 0)
    with _lock:
        base, overlay = _state["base"], _state["overlay"]
        if base is not None and not force and interval and now - _state["checked"] < interval:
            return base, overlay
        _state["checked"] = now
        if base is None or force:  # nothing to serve yet, or asked to be current: build in line
            base = _state["base"] = _build_base()
            _state["overlay"] = None
            return base, None
        snap = snapshot()
        if snap == base.snapshot:
            _state["overlay"] = None
            return base, None
        if overlay is None or overlay.snapshot != snap:
            lists = _changed_lists(base.snapshot, snap)
            index, entry_count = _build(snap, lists)
            overlay = _state["overlay"] = _Index(snap, index, lists)
            log.info("hotlist overlay: %d entries of %d changed lists", entry_count, len(lists))
        if _state["building"] is None:
            _rebuild_in_background()
        return base, overlay


def refresh(force: bool = False) -> None:
    """Make sure the index reflects the lists (``force``: rebuild the base now, in line)."""
    current(force)


def match_entries(candidates: Candidates) -> list[Match]:
    """Index hits of ``candidates`` ([(text, confidence), ...]) on the lists as committed now, best first."""
    return _match(current(), candidates)


def _match(indexes: tuple[_Index, _Index | None], candidates: Candidates) -> list[Match]:
    base, overlay = indexes
    matches = base.index.match(candidates) if base.index is not None else []
    if overlay is not None:
        matches = [m for m in matches if m.list_id not in overlay.lists]
        if overlay.index is not None:
            matches += overlay.index.match(candidates)
        matches.sort(key=lambda m: (len(m.differences), m.edits, -m.confidence))
    return matches


_UNLOADABLE = (DataError, ValueError, OverflowError, TypeError)


def _live_entries(ids: list[int], at: datetime) -> dict[int, Entry]:
    """The live entries among ``ids``, with their lists. An entry (or list) whose stored values cannot be
    loaded, such as a date Python cannot hold (PostgreSQL's 'infinity', year 10000 after the time zone
    is applied), is logged and skipped: one bad record must not stop a frame or the other lists' alerts."""
    qs = Entry.objects.live(at).select_related("hotlist")
    try:
        with transaction.atomic():
            return {e.pk: e for e in qs.filter(pk__in=ids)}
    except _UNLOADABLE as exc:
        log.error("hotlist entries %s could not be loaded together (%s); loading them one by one", ids, exc)
    live: dict[int, Entry] = {}
    for pk in ids:
        try:
            with transaction.atomic():
                entry = qs.filter(pk=pk).first()
        except _UNLOADABLE as exc:
            log.error("hotlist entry %s cannot be loaded (%s); it is skipped until it is fixed or re-imported", pk, exc)
            continue
        if entry is not None:
            live[pk] = entry
    return live


def match_candidates(candidates: Iterable[tuple[str, float]], at: datetime | None = None) -> list[tuple[Entry, Match]]:
    """Entries hit by any of ``candidates`` ([(text, confidence), ...]) that alert at ``at`` (default now):
    entry not expired, list active, not expired and inside its hours. Best first, with explanations."""
    return match_many([(candidates, at or timezone.now())])[0]


def match_many(reads: Sequence[tuple[Iterable[tuple[str, float]], datetime]]) -> list[list[tuple[Entry, Match]]]:
    """``match_candidates`` for each of ``reads`` ([(candidates, at), ...]), all against the lists as
    committed now: the lists' state is checked once for all of them (the reads of one batch of frames)."""
    indexes = current()
    found: list[list[tuple[Entry, Match]]] = []
    for candidates, at in reads:
        matches = _match(indexes, [(str(t), float(c)) for t, c in candidates if t])
        if not matches:
            found.append([])
            continue
        live = _live_entries([m.entry_id for m in matches], at)
        found.append(
            [(live[m.entry_id], m) for m in matches if m.entry_id in live and live[m.entry_id].hotlist.alerting_at(at)]
        )
    return found
