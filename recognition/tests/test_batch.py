"""Several queued frames stored in one transaction (FRAME_BATCH_SIZE): the same rows, events and alerts as
one frame at a time, and one bad frame does not lose the others."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.db import OperationalError, connection
from django.utils import timezone

from conftest import png_bytes

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="batches take other frames with SELECT ... SKIP LOCKED"
)
T0 = timezone.now() - timedelta(minutes=10)


class PerFramePipeline:
    """Reads, in each frame, the plates listed for the frame's number (the red value of its first pixel)."""

    def __init__(self, plates: dict[int, list[tuple[str, float, tuple[tuple[str, float], ...]]]]):
        self.plates = plates
        self.detector = type("D", (), {"name": "fake-det"})()
        self.ocr = type("O", (), {"name": "fake-ocr"})()

    def read(self, image, region=None):
        import numpy as np

        from recognition.vision.types import Box, Candidate, PlateRead

        number = int(image[0, 0, 2])
        if number == 255:
            raise RuntimeError("the models choked on this frame")
        return [
            PlateRead(
                box=Box(10 + 50 * i, 10, 40, 20),
                detector_confidence=0.9,
                text=text,
                confidence=confidence,
                candidates=(Candidate(text, confidence), *(Candidate(t, c) for t, c in alternatives)),
                crop=np.zeros((20, 40, 3), np.uint8),
            )
            for i, (text, confidence, alternatives) in enumerate(self.plates.get(number, []))
        ]


def make_frame(camera, number: int, seconds: float):
    from cameras.models import Frame

    frame = Frame(
        camera=camera, content_type="image/png", width=64, height=48, captured_at=T0 + timedelta(seconds=seconds)
    )
    frame.image.save("f.png", ContentFile(png_bytes(color=(number, 0, 0))), save=False)
    frame.save()
    return frame


@pytest.fixture
def batching(monkeypatch, settings):
    """Batches on: a worker that has prepared frames quickly (1 ms each) takes up to 16 at once."""
    settings.FRAME_BATCH_SIZE = 16
    settings.FRAME_BATCH_MS = 100
    monkeypatch.setattr("recognition.services._prepare_ms", {"average": 1.0})


@pytest.fixture
def reads_plates(monkeypatch):
    def install(plates):
        pipeline = PerFramePipeline(plates)
        monkeypatch.setattr("recognition.services.pipeline", lambda: pipeline)

    return install


def second_camera():
    from cameras.services import do_create_camera

    return do_create_camera(name="Elm St southbound", region="us")[0]


# Two vehicles in front of a camera at once, look-alike misreads, a consensus that moves, and a frame
# with two plates: (seconds after T0, [(text, confidence, alternatives), ...]) per frame.
SCENE = [
    (0.0, [("ABC123", 0.6, (("A8C123", 0.3),))]),
    (0.5, [("A8C123", 0.9, ()), ("XYZ789", 0.8, ())]),
    (1.0, [("A8C123", 0.9, (("ABC123", 0.1),))]),
    (1.5, [("XYZ789", 0.7, ())]),
    (2.0, []),
    (2.5, [("XYZ780", 0.5, (("XYZ789", 0.4),)), ("JKL456", 0.9, ())]),
    (9.0, [("ABC123", 0.8, ())]),  # past the event gap: a new pass
    (9.5, [("ABC123", 0.8, ())]),
]


def events_of(camera):
    from alerts.models import Alert, AlertEvent, Sighting
    from recognition.models import PlateEvent, Read

    events = []
    for event in PlateEvent.objects.filter(camera=camera).order_by("started_at", "plate"):
        reads = Read.objects.filter(event=event).order_by("captured_at", "box_x")
        events.append(
            (
                event.plate,
                round(event.confidence, 6),
                event.votes,
                event.read_count,
                event.started_at - T0,
                event.last_seen_at - T0,
                [(r.text, r.captured_at - T0) for r in reads],
            )
        )
    alerts = sorted(
        (a.read.captured_at - T0, a.entry_plate, a.repeats, a.event.plate) for a in Alert.objects.filter(camera=camera)
    )
    sightings = Sighting.objects.filter(alert__camera=camera).count()
    trail = sorted(AlertEvent.objects.filter(alert__camera=camera).values_list("kind", flat=True))
    return events, alerts, sightings, trail


@pytest.mark.django_db
def test_event_assignment_and_alerts_in_one_batch_match_one_frame_at_a_time(
    camera, batching, reads_plates, django_capture_on_commit_callbacks
):
    from cameras.models import Frame
    from hotlist.models import Entry, Hotlist
    from recognition.services import do_process_frame

    hotlist = Hotlist.objects.create(name="Stolen")
    Entry.objects.create(hotlist=hotlist, plate="XYZ789", plate_raw="XYZ789")
    Entry.objects.create(hotlist=hotlist, plate="ABC123", plate_raw="ABC123")
    reads_plates({n: plates for n, (_, plates) in enumerate(SCENE)})
    with django_capture_on_commit_callbacks(execute=True):
        for number, (seconds, _) in enumerate(SCENE):  # one camera: one frame at a time
            do_process_frame(make_frame(camera, number, seconds).pk, batch=1)
        other = second_camera()
        # the other: the first frame alone (an open event before the batch), then the rest in one batch
        do_process_frame(make_frame(other, 0, SCENE[0][0]).pk, batch=16)
        frames = [make_frame(other, number, seconds) for number, (seconds, _) in enumerate(SCENE) if number]
        reads = do_process_frame(frames[0].pk, batch=16)
    assert len(reads) == sum(len(plates) for _, plates in SCENE[1:])
    assert not Frame.objects.exclude(status=Frame.Status.DONE).exists()
    one_by_one, batched = events_of(camera), events_of(other)
    assert batched == one_by_one
    events, alerts, sightings, trail = batched
    assert [(e[0], e[3]) for e in events] == [("A8C123", 3), ("XYZ789", 3), ("JKL456", 1), ("ABC123", 2)]
    # ABC123 alerted, then repeated in its event (its consensus moved to A8C123) and on the next pass
    assert [(a[1], a[2], a[3]) for a in alerts] == [("ABC123", 4, "A8C123"), ("XYZ789", 2, "XYZ789")]
    assert sightings == 8 and trail.count("consensus") == 1


@pytest.mark.django_db
def test_a_batch_takes_the_queued_frames_and_stores_them_in_a_fixed_number_of_statements(
    camera, batching, reads_plates
):
    from django.test.utils import CaptureQueriesContext

    from cameras.models import Frame
    from hotlist.matcher import refresh
    from recognition.services import do_process_frame

    reads_plates({n: [(f"ABC{n:03d}", 0.9, ())] for n in range(20)})
    refresh(force=True)

    def statements(count: int) -> int:
        frames = [make_frame(camera, count + n, 60 * (count + n)) for n in range(count)]
        with CaptureQueriesContext(connection) as captured:
            reads = do_process_frame(frames[0].pk, claim_token="task-1", batch=16)
        assert sorted(r.frame_id for r in reads) == [f.pk for f in frames]
        assert Frame.objects.filter(pk__in=[f.pk for f in frames], status=Frame.Status.DONE).count() == count
        return len([q for q in captured.captured_queries if not q["sql"].startswith(("SAVEPOINT", "RELEASE"))])

    assert statements(3) == statements(8)
    # the other frames' own tasks skip them, after one look
    last = Frame.objects.order_by("pk").last()
    with CaptureQueriesContext(connection) as captured:
        assert do_process_frame(last.pk, claim_token="task-2", batch=16) == []
    assert len(captured.captured_queries) == 1


@pytest.mark.django_db
def test_a_worker_takes_at_most_the_batch_size_and_as_many_as_it_prepares_in_the_time_allowed(
    camera, batching, reads_plates, settings
):
    import recognition.services as services
    from cameras.models import Frame
    from recognition.services import batch_size, do_process_frame

    reads_plates({0: [("ABC123", 0.9, ())]})
    frames = [make_frame(camera, 0, n) for n in range(5)]
    settings.FRAME_BATCH_SIZE = 3
    do_process_frame(frames[0].pk)
    assert list(Frame.objects.order_by("pk").values_list("status", flat=True)) == ["done"] * 3 + ["queued"] * 2
    services._prepare_ms["average"] = 1.0
    settings.FRAME_BATCH_MS = 2  # a worker whose frames take 1 ms takes two at a time
    assert batch_size() == 2
    settings.FRAME_BATCH_MS = 0
    assert batch_size() == 1


@pytest.mark.django_db
def test_a_frame_the_models_fail_on_does_not_stop_its_batch(camera, batching, reads_plates):
    from cameras.models import Frame
    from recognition.models import Read
    from recognition.services import do_process_frame

    reads_plates({n: [(f"ABC{n:03d}", 0.9, ())] for n in range(3)})
    frames = [make_frame(camera, n, n) for n in (0, 255, 2)]
    reads = do_process_frame(frames[0].pk, batch=16)
    assert sorted(r.text for r in reads) == ["ABC000", "ABC002"]
    bad = Frame.objects.get(pk=frames[1].pk)
    assert bad.status == Frame.Status.FAILED and "choked" in bad.error
    assert Read.objects.count() == 2


@pytest.mark.django_db
def test_a_frame_that_cannot_be_stored_does_not_lose_the_others_of_its_batch(
    camera, batching, reads_plates, monkeypatch
):
    from django.core.files.storage import default_storage

    import recognition.services as services
    from cameras.models import Frame
    from recognition.models import Read

    reads_plates({n: [(f"ABC{n:03d}", 0.9, ())] for n in range(3)})
    frames = [make_frame(camera, n, 10 * n) for n in range(3)]
    assign = services.do_assign_events
    crops = []

    def fails_on_frame_1(reads):
        crops.extend(r.crop.name for r in reads)
        if any(r.frame_id == frames[1].pk for r in reads):
            raise ValueError("a bad value in frame 1")
        return assign(reads)

    monkeypatch.setattr(services, "do_assign_events", fails_on_frame_1)
    with pytest.raises(ValueError, match="frame 1"):
        services.do_process_frame(frames[0].pk, claim_token="task-1", batch=16)
    status = dict(Frame.objects.values_list("pk", "status"))
    assert status[frames[0].pk] == status[frames[2].pk] == Frame.Status.DONE
    assert sorted(Read.objects.values_list("text", flat=True)) == ["ABC000", "ABC002"]
    # the bad frame stays claimed (beat sends it again once the claim is stale) and its files are gone
    bad = Frame.objects.get(pk=frames[1].pk)
    assert bad.status == Frame.Status.PROCESSING and not bad.thumbnail
    stored = set(Read.objects.values_list("crop", flat=True))
    assert all(default_storage.exists(name) == (name in stored) for name in crops)


@pytest.mark.django_db
def test_when_the_database_fails_the_batch_is_given_back_and_the_retry_takes_it_again(
    camera, batching, reads_plates, monkeypatch
):
    import recognition.services as services
    from cameras.models import Frame

    reads_plates({n: [(f"ABC{n:03d}", 0.9, ())] for n in range(3)})
    frames = [make_frame(camera, n, 10 * n) for n in range(3)]
    assign = services.do_assign_events

    def database_gone(reads):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(services, "do_assign_events", database_gone)
    with pytest.raises(OperationalError):
        services.do_process_frame(frames[0].pk, claim_token="task-1", batch=16)
    assert set(Frame.objects.values_list("status", flat=True)) == {Frame.Status.QUEUED}
    monkeypatch.setattr(services, "do_assign_events", assign)
    assert len(services.do_process_frame(frames[0].pk, claim_token="task-1", batch=16)) == 3  # the task's retry


@pytest.mark.django_db
def test_a_batch_claim_is_retaken_by_the_same_task_only(camera):
    from recognition.services import claim_frames

    frames = [make_frame(camera, 0, n) for n in range(4)]
    ids = [f.pk for f in frames]
    assert claim_frames(ids[0], "task-1", limit=3) == ids[:3]
    assert claim_frames(ids[1], "task-2") == []  # its own task skips a frame another task took in its batch
    assert claim_frames(ids[0], "task-1", limit=4) == ids  # the retry takes its batch again, and the rest
    assert claim_frames(ids[3], "task-3", limit=3) == []


@pytest.mark.django_db(transaction=True)
def test_the_alert_of_a_frame_stored_in_a_batch_reaches_the_websocket(client, officer, camera, batching, reads_plates):
    from asgiref.sync import async_to_sync, sync_to_async
    from channels.testing import WebsocketCommunicator
    from django.conf import settings

    from config.asgi import application
    from hotlist.models import Entry, Hotlist
    from recognition.services import do_process_frame

    Entry.objects.create(hotlist=Hotlist.objects.create(name="Stolen"), plate="XYZ789", plate_raw="XYZ789")
    reads_plates({0: [("ABC123", 0.9, ())], 1: [("XYZ789", 0.9, ())], 2: [("JKL456", 0.9, ())]})
    frames = [make_frame(camera, n, n) for n in range(3)]
    client.force_login(officer)

    async def scenario():
        cookie = f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"
        headers = [(b"origin", b"http://localhost"), (b"cookie", cookie.encode())]
        comm = WebsocketCommunicator(application, "/ws/alerts/", headers=headers)
        connected, _ = await comm.connect()
        assert connected
        reads = await sync_to_async(do_process_frame)(frames[0].pk, batch=16)
        assert len(reads) == 3
        message = await comm.receive_json_from(timeout=10)
        assert message["type"] == "alert.new" and message["alert"]["read"]["text"] == "XYZ789"
        assert message["alert"]["frame"]["id"] == frames[1].pk and message["alert"]["frame"]["thumb_url"]
        await comm.disconnect()

    async_to_sync(scenario)()


@pytest.mark.django_db
def test_a_read_stored_after_later_ones_of_its_camera_joins_its_own_vehicle(camera, reads_plates):
    """Workers may commit a camera's frames out of order; the five open events nearest in time are
    considered, not the five seen last, so a late read still finds its vehicle's event."""
    from recognition.models import PlateEvent, Read
    from recognition.services import do_process_frame

    plates = ["ABC123", "KLM456", "PQR789", "STU234", "VWX567", "DEF890", "GHJ345"]
    reads_plates({n: [(plate, 0.9, ())] for n, plate in enumerate(plates)} | {9: [("ABC123", 0.9, ())]})
    for n in range(len(plates)):  # ABC123 at 0 s, then six other vehicles up to 3 s
        do_process_frame(make_frame(camera, n, 0.5 * n).pk, batch=1)
    (late,) = do_process_frame(make_frame(camera, 9, 0.25).pk, batch=1)  # ABC123's second frame, stored last
    assert late.event_id == Read.objects.get(text="ABC123", captured_at=T0).event_id
    assert PlateEvent.objects.count() == len(plates)
