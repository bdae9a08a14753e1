"""The per-process hotlist index that every new read is matched against.

Each worker (or the web process, in the demo) keeps a :class:`IndexHolder`.
Before matching it checks, at most every ``HOTLIST_REFRESH_SECONDS``, a cheap
signature of the lists (count, newest change, highest id); an import or a
settings change alters it. The first index is built in line; later ones are
built on a background thread while matching continues on the old index, then
swapped in. Expiry and the list's active flag are checked in the database for
the few entries that matched, so an entry that expired or was removed since
the index was built never alerts.
"""

from __future__ import annotations

import gc
import logging
import threading
import time

from django.conf import settings
from django.db import DataError, transaction
from django.db.models import Count, Max
from django.utils import timezone

from .matching import HotlistIndex, IndexHolder, Match
from .models import Entry, Hotlist

log = logging.getLogger(__name__)

_holder = IndexHolder()
_lock = threading.Lock()
_state = {"signature": None, "checked": 0.0, "building": None}


def _signature() -> tuple:
    agg = Hotlist.objects.aggregate(n=Count("id"), changed=Max("updated_at"), top=Max("id"))
    return (agg["n"], agg["changed"], agg["top"])


_POLICY_FIELDS = ("pk", "match_mode", "lookalike_budget", "lookalike_min_length", "edit_budget", "edit_min_length")


def _load():
    # Only the policy's fields: a bad value elsewhere in a list (its expiry) must not stop every list's matching.
    lists = {h.pk: h.policy() for h in Hotlist.objects.filter(active=True).only(*_POLICY_FIELDS)}
    rows = Entry.objects.filter(hotlist_id__in=list(lists)).values_list("id", "plate", "hotlist_id").iterator(chunk_size=20000)
    return list(rows), lists


def _build(signature) -> None:
    started = time.perf_counter()
    rows, policies = _load()
    index = HotlistIndex.build(rows, policies)
    _holder.swap(index)
    entry_count = len(rows)
    del rows
    # Millions of long-lived index objects: keep them out of the cyclic collector's young generations,
    # or its passes over them show up as multi-millisecond stalls in matching.
    gc.collect()
    gc.freeze()
    _state["signature"] = signature
    log.info("hotlist index: %d entries in %d lists, built in %.2f s", entry_count, len(policies),
             time.perf_counter() - started)


def _rebuild_in_background(signature) -> None:
    def run():
        try:
            _build(signature)
        except Exception:  # keep matching on the old index
            log.exception("hotlist index rebuild failed")
        finally:
            from django.db import connection

            connection.close()
            _state["building"] = None

    thread = threading.Thread(target=run, name="hotlist-index", daemon=True)
    _state["building"] = thread
    thread.start()


def refresh(force: bool = False) -> None:
    """Make sure the index reflects the lists (called before matching)."""
    now = time.monotonic()
    interval = getattr(settings, "HOTLIST_REFRESH_SECONDS", 1.0)
    if not force and now - _state["checked"] < interval:
        return
    with _lock:
        _state["checked"] = now
        signature = _signature()
        if signature == _state["signature"]:
            return
        if _holder.current is None or force or interval == 0:
            _build(signature)  # nothing to serve yet, or asked to be current: build in line
        elif _state["building"] is None:
            _rebuild_in_background(signature)


_UNLOADABLE = (DataError, ValueError, OverflowError, TypeError)


def _live_entries(ids: list[int], at) -> dict[int, Entry]:
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


def match_candidates(candidates, at=None) -> list[tuple[Entry, Match]]:
    """Entries hit by any of ``candidates`` ([(text, confidence), ...]) that alert at ``at`` (default now):
    entry not expired, list active, not expired and inside its hours. Best first, with explanations."""
    refresh()
    matches = _holder.match([(str(t), float(c)) for t, c in candidates if t])
    if not matches:
        return []
    at = at or timezone.now()
    live = _live_entries([m.entry_id for m in matches], at)
    return [(live[m.entry_id], m) for m in matches if m.entry_id in live and live[m.entry_id].hotlist.alerting_at(at)]
