"""A list change alerts on the very next read, whether or not the background rebuild has finished."""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.utils import timezone

from hotlist import matcher
from hotlist.importing import EntryRow
from hotlist.models import Entry, Hotlist
from hotlist.services import do_import_entries


@pytest.fixture
def held_rebuild(monkeypatch):
    """Holds the background rebuild as soon as it starts, before it reads anything, until the test releases it
    (``release(finish=True)``) or ends (the held rebuild is then abandoned and its thread joined)."""
    gate = SimpleNamespace(started=threading.Event(), released=threading.Event(), finish=False, threads=[])
    real = matcher.snapshot

    def snapshot():
        if threading.current_thread() is not threading.main_thread():  # the rebuild's thread
            gate.threads.append(threading.current_thread())
            gate.started.set()
            gate.released.wait(10)
            if not gate.finish:
                raise RuntimeError("the test abandoned this rebuild")
        return real()

    def release(finish: bool = True) -> None:
        gate.finish = finish
        gate.released.set()
        for thread in gate.threads:
            thread.join(30)
            assert not thread.is_alive(), "the rebuild did not end"

    gate.release = release
    monkeypatch.setattr(matcher, "snapshot", snapshot)
    yield gate
    release(finish=False)


@pytest.fixture
def stalled_rebuild(settings, held_rebuild):
    """A worker whose base index is built, checking lists at most every 0.2 s (as a deployment may), and whose
    background rebuild never finishes: what a read finds must not depend on it."""
    settings.HOTLIST_REFRESH_SECONDS = 0.2
    Hotlist.objects.create(name="Base list").entries.create(plate="OLD111", plate_raw="OLD111")
    matcher.refresh(force=True)
    time.sleep(0.25)  # the next read is due for a check
    return held_rebuild


def hits(text: str) -> list[str]:
    return [entry.plate for entry, _ in matcher.match_candidates([(text, 0.9)])]


@pytest.mark.django_db
def test_bolo_alerts_on_the_next_read_before_the_rebuild(client, officer, stalled_rebuild):
    client.force_login(officer)
    response = client.post(
        "/hotlists/bolo/",
        {
            "plate": "AMB 3R1",
            "reason": "Amber alert",
            "expires": (timezone.now() + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M"),
        },
    )
    assert response.status_code == 201
    assert hits("AMB3R1") == ["AMB3R1"]
    assert hits("OLD111") == ["OLD111"]  # the base still answers for the lists that did not change
    assert stalled_rebuild.started.wait(10), "a full rebuild was started for later reads"


@pytest.mark.django_db
def test_uploaded_list_alerts_on_the_next_read_before_the_rebuild(stalled_rebuild):
    hotlist = Hotlist.objects.create(name="Uploaded")
    do_import_entries(
        hotlist,
        [
            EntryRow(line=2, plate="UPL0AD1", plate_raw="UPL0AD1"),
            EntryRow(line=3, plate="UPL0AD2", plate_raw="UPL0AD2"),
        ],
    )
    assert hits("UPL0AD2") == ["UPL0AD2"]
    assert hits("UPLOAD2") == ["UPL0AD2"]  # the new list's own policy (one look-alike, O for 0)


@pytest.mark.django_db
def test_entries_added_to_an_existing_list_alert_at_once(stalled_rebuild):
    hotlist = Hotlist.objects.get(name="Base list")
    do_import_entries(hotlist, [EntryRow(line=2, plate="NEW222", plate_raw="NEW222")], mode="append")
    assert hits("NEW222") == ["NEW222"]
    # Written without touching the list (a script, a fixture): found by its id, newer than the base's.
    Entry.objects.create(hotlist=hotlist, plate="RAW333", plate_raw="RAW333")
    time.sleep(0.25)
    assert hits("RAW333") == ["RAW333"]


@pytest.mark.django_db
def test_a_list_made_exact_stops_lenient_hits_at_once(stalled_rebuild):
    assert hits("0LD111") == ["OLD111"]  # lenient: 0 for O
    Hotlist.objects.filter(name="Base list").update(match_mode="exact", updated_at=timezone.now())
    time.sleep(0.25)
    assert hits("0LD111") == []
    assert hits("OLD111") == ["OLD111"]


@pytest.mark.django_db
def test_a_reactivated_list_alerts_at_once(stalled_rebuild):
    off = Hotlist.objects.create(name="Paused", active=False)
    off.entries.create(plate="PAU5ED", plate_raw="PAU5ED")
    time.sleep(0.25)
    assert hits("PAU5ED") == []
    Hotlist.objects.filter(pk=off.pk).update(active=True, updated_at=timezone.now())
    time.sleep(0.25)
    assert hits("PAU5ED") == ["PAU5ED"]


@pytest.mark.django_db(transaction=True)
def test_the_rebuilt_base_replaces_the_overlay(settings, held_rebuild):
    settings.HOTLIST_REFRESH_SECONDS = 0
    Hotlist.objects.create(name="First").entries.create(plate="AAA111", plate_raw="AAA111")
    matcher.refresh(force=True)
    Hotlist.objects.create(name="Second").entries.create(plate="BBB222", plate_raw="BBB222")
    assert hits("BBB222") == ["BBB222"]  # from the overlay: this read did not wait for the rebuild
    assert held_rebuild.started.wait(10), "no rebuild was started"
    assert hits("BBB222") == ["BBB222"] and hits("AAA111") == ["AAA111"]  # still held: base and overlay answer
    base, overlay = matcher.current()
    assert overlay is not None and base.snapshot != matcher.snapshot()
    held_rebuild.release()
    base, overlay = matcher.current()
    assert overlay is None and base.snapshot == matcher.snapshot()
    assert hits("BBB222") == ["BBB222"] and hits("AAA111") == ["AAA111"]


@pytest.mark.django_db(transaction=True)
def test_workers_pick_up_a_new_list_within_the_refresh_interval(settings, held_rebuild):
    settings.HOTLIST_REFRESH_SECONDS = 0.5
    Hotlist.objects.create(name="First").entries.create(plate="AAA111", plate_raw="AAA111")
    matcher.refresh(force=True)
    assert hits("AAA111") == ["AAA111"]
    Hotlist.objects.create(name="Second").entries.create(plate="BBB222", plate_raw="BBB222")
    deadline = time.monotonic() + 5  # ten times the interval
    while not (found := hits("BBB222")) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert found == ["BBB222"], "the new list was not picked up within 5 s"
    assert held_rebuild.started.is_set() and all(t.is_alive() for t in held_rebuild.threads), (
        "the read waited for the rebuild"
    )
