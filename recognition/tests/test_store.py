"""The store step of a processed frame: few statements per frame, and one INSERT for all its reads."""

from __future__ import annotations

import pytest
from django.core.files.base import ContentFile
from django.utils import timezone

from conftest import png_bytes


def queued_frame(camera):
    from cameras.models import Frame

    frame = Frame(camera=camera, content_type="image/png", width=64, height=48, captured_at=timezone.now())
    frame.image.save("f.png", ContentFile(png_bytes()), save=False)
    frame.save()
    return frame


@pytest.mark.django_db
def test_storing_a_frame_with_three_reads_takes_a_fixed_handful_of_statements(camera, fake_pipeline):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from hotlist.matcher import refresh
    from recognition.models import PlateEvent, Read
    from recognition.services import do_process_frame

    fake_pipeline("ABC123", "XYZ789", "JKL456")
    refresh(force=True)
    frame = queued_frame(camera)
    # look at the frame and claim it, load it, finish it, the camera's event lock, its open events, one
    # INSERT for the new events, one for the reads, and once the hotlist index's freshness check
    # (HOTLIST_REFRESH_SECONDS is 0 in the tests): the same nine whatever the number of reads (eight on
    # SQLite, which has no event locks: one writer at a time).
    with CaptureQueriesContext(connection) as captured:
        reads = do_process_frame(frame.pk)
    statements = [q["sql"] for q in captured.captured_queries if not q["sql"].startswith(("SAVEPOINT", "RELEASE"))]
    assert len(statements) == (9 if connection.vendor == "postgresql" else 8), "\n".join(statements)
    assert sorted(r.text for r in reads) == ["ABC123", "JKL456", "XYZ789"]
    stored = Read.objects.filter(frame=frame).select_related("event")
    assert all(r.event is not None and r.event.plate == r.text and r.event.read_count == 1 for r in stored)
    assert PlateEvent.objects.count() == 3


@pytest.mark.django_db
def test_two_reads_of_one_plate_in_a_frame_join_one_event_with_both_votes(camera, fake_pipeline):
    from recognition.models import PlateEvent, Read
    from recognition.services import do_process_frame

    fake_pipeline("ABC123", "ABC123")
    do_process_frame(queued_frame(camera).pk)
    event = PlateEvent.objects.get()
    assert event.read_count == 2 and Read.objects.filter(event=event).count() == 2


@pytest.mark.django_db
def test_a_read_joins_the_open_event_of_its_look_alike_plate_without_building_an_index(
    camera, fake_pipeline, monkeypatch
):
    from hotlist.matching import HotlistIndex
    from recognition.models import PlateEvent, Read
    from recognition.services import do_process_frame

    for plate in ("XYZ789", "ABC123", "JKL456"):  # three vehicles in front of the camera at once
        fake_pipeline(plate)
        do_process_frame(queued_frame(camera).pk)

    def no_index(*args, **kwargs):
        raise AssertionError("event assignment built a matching index")

    monkeypatch.setattr(HotlistIndex, "build", classmethod(no_index))
    monkeypatch.setattr("hotlist.matcher._match", lambda indexes, candidates: [])  # the hotlist index is not at issue
    fake_pipeline("A8C1Z3")  # B/8 and 2/Z look alike: the same plate as ABC123
    (read,) = do_process_frame(queued_frame(camera).pk)
    first = Read.objects.get(text="ABC123")
    assert read.event_id == first.event_id and PlateEvent.objects.count() == 3
    assert PlateEvent.objects.get(pk=read.event_id).read_count == 2
