"""Officers verify hits: acknowledge, disposition, one alert per pass, what each officer watches."""

from datetime import timedelta

import pytest
from django.utils import timezone

from alerts.models import Alert, AlertEvent, WatchPreference
from alerts.tests.test_alerts import make_list, push_frame
from audit.models import AuditLog


def post(client, token, capture, captured_at=None):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from conftest import png_bytes

    data = {"image": SimpleUploadedFile("f.png", png_bytes(), "image/png")}
    if captured_at:
        data["captured_at"] = captured_at.isoformat()
    with capture(execute=True):
        return client.post("/api/frames/", data, HTTP_AUTHORIZATION=f"Token {token}")


@pytest.fixture
def alert(client, camera_and_token, fake_pipeline, django_capture_on_commit_callbacks):
    _, token = camera_and_token
    make_list(plate="ABC123")
    fake_pipeline("ABC123")
    post(client, token, django_capture_on_commit_callbacks)
    return Alert.objects.get()


@pytest.mark.django_db
def test_officer_dispositions_an_alert_and_the_trail_shows_who_did_what(client, officer, alert):
    client.force_login(officer)
    page = client.get(f"/alerts/{alert.pk}/")
    assert page.status_code == 200
    body = page.content.decode()
    assert 'data-testid="detail-box"' in body and 'data-testid="disposition-form"' in body
    refused = client.post(
        f"/alerts/{alert.pk}/disposition/", {"disposition": "other", "note": ""}, HTTP_ACCEPT="application/json"
    )
    assert refused.status_code == 400
    ok = client.post(
        f"/alerts/{alert.pk}/disposition/",
        {"disposition": "confirmed", "note": "stopped at 5th & Main"},
        HTTP_ACCEPT="application/json",
    )
    assert ok.status_code == 200 and ok.json()["alert"]["status"] == "dispositioned"
    alert.refresh_from_db()
    assert (alert.disposition, alert.dispositioned_by, alert.acknowledged_by) == ("confirmed", officer, officer)
    assert list(alert.events.values_list("kind", flat=True)) == ["created", "acknowledged", "dispositioned"]
    again = client.post(f"/alerts/{alert.pk}/disposition/", {"disposition": "misread"}, HTTP_ACCEPT="application/json")
    assert again.status_code == 409
    log = AuditLog.objects.get(action="alert.disposition")
    assert log.username == "officer1" and log.query["disposition"] == "confirmed"


@pytest.mark.django_db
def test_reads_of_one_pass_make_one_alert_and_a_later_pass_another(
    client, camera_and_token, fake_pipeline, django_capture_on_commit_callbacks, settings
):
    settings.ALERT_DEDUP_SECONDS = 120
    _, token = camera_and_token
    make_list(plate="ABC123")
    fake_pipeline("ABC123")
    t0 = timezone.now() - timedelta(hours=1)
    for seconds in (0, 2, 4, 60):
        post(client, token, django_capture_on_commit_callbacks, t0 + timedelta(seconds=seconds))
    first = Alert.objects.get()
    assert first.repeats == 3 and first.last_seen_at == t0 + timedelta(seconds=60)
    assert AlertEvent.objects.filter(kind="repeated").count() == 3
    post(client, token, django_capture_on_commit_callbacks, t0 + timedelta(minutes=30))
    assert Alert.objects.count() == 2


@pytest.mark.django_db
def test_officers_see_only_the_cameras_and_lists_they_watch(client, officer, alert, camera):
    from cameras.services import do_create_camera

    other_camera, _ = do_create_camera(name="Elsewhere")
    client.force_login(officer)
    assert [a["id"] for a in client.get("/alerts/feed/").json()["alerts"]] == [alert.pk]
    response = client.post("/alerts/watch/", {"cameras": [other_camera.pk]})
    assert response.status_code == 302
    assert client.get("/alerts/feed/").json()["alerts"] == []
    WatchPreference.objects.get(user=officer).cameras.set([camera])
    assert [a["id"] for a in client.get("/alerts/feed/").json()["alerts"]] == [alert.pk]


@pytest.mark.django_db(transaction=True)
def test_the_websocket_skips_alerts_of_unwatched_cameras(client, officer, camera_and_token, fake_pipeline):
    from asgiref.sync import async_to_sync, sync_to_async

    from alerts.tests.test_alerts import _ws
    from cameras.services import do_create_camera

    _, token = camera_and_token
    make_list(plate="ABC123")
    fake_pipeline("ABC123")
    other_camera, _ = do_create_camera(name="Elsewhere")
    WatchPreference.objects.create(user=officer).cameras.set([other_camera])
    client.force_login(officer)

    async def scenario():
        ws = _ws(client=client)
        assert (await ws.connect())[0]
        await sync_to_async(push_frame)(client, token)
        assert await ws.receive_nothing(timeout=1)
        await ws.disconnect()

    async_to_sync(scenario)()
    assert Alert.objects.count() == 1


@pytest.mark.django_db
def test_a_reconnecting_dashboard_gets_every_alert_it_missed(
    client, officer, camera_and_token, fake_pipeline, django_capture_on_commit_callbacks, settings
):
    settings.ALERT_DEDUP_SECONDS = 0
    _, token = camera_and_token
    make_list(plate="ABC123")
    fake_pipeline("ABC123")
    t0 = timezone.now() - timedelta(days=1)
    for i in range(60):
        post(client, token, django_capture_on_commit_callbacks, t0 + timedelta(minutes=i))
    ids = sorted(Alert.objects.values_list("pk", flat=True))
    client.force_login(officer)
    missed = {a["id"] for a in client.get("/alerts/feed/", {"after": ids[2]}).json()["alerts"]}
    assert set(ids[3:]) <= missed


@pytest.mark.django_db
def test_frames_of_one_pass_form_an_event_with_a_voted_plate_and_one_alert(
    client, camera_and_token, fake_pipeline, django_capture_on_commit_callbacks, settings
):
    from recognition.models import PlateEvent

    settings.ALERT_DEDUP_SECONDS = 0  # only the event groups the frames here
    _, token = camera_and_token
    make_list(plate="ABC123")
    t0 = timezone.now() - timedelta(minutes=5)
    for i, text in enumerate(["XBC123", "ABC123", "ABC128", "ABC123"]):
        fake_pipeline(text)
        post(client, token, django_capture_on_commit_callbacks, t0 + timedelta(seconds=i))
    event = PlateEvent.objects.get()
    assert (event.plate, event.read_count) == ("ABC123", 4)
    alert = Alert.objects.get()
    assert alert.event == event and alert.repeats >= 1
    # A different plate on the same camera at the same time is another event.
    fake_pipeline("ZZZ999")
    post(client, token, django_capture_on_commit_callbacks, t0 + timedelta(seconds=5))
    assert PlateEvent.objects.count() == 2


@pytest.mark.django_db
def test_a_retried_task_retakes_its_own_claim_but_not_another_tasks(camera):
    from django.core.files.base import ContentFile

    from cameras.models import Frame
    from recognition.services import claim_frame

    frame = Frame(camera=camera, content_type="image/png", width=1, height=1, captured_at=timezone.now())
    frame.image.save("x.png", ContentFile(b"x"), save=False)
    frame.save()
    assert claim_frame(frame.pk, "task-1")
    assert not claim_frame(frame.pk, "task-2")  # a duplicate delivery of another task waits
    assert claim_frame(frame.pk, "task-1")  # the same task after its worker died, or a retry
    Frame.objects.filter(pk=frame.pk).update(claimed_at=timezone.now() - timedelta(hours=1))
    assert claim_frame(frame.pk, "task-2")  # a stale claim can be taken by anyone
