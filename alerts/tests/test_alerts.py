"""Matching, alert creation, acknowledgement and the websocket, with a fake vision pipeline."""

from datetime import timedelta

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.utils import timezone

from alerts.models import Alert
from cameras.models import Frame
from conftest import png_bytes
from hotlist.models import Entry, Hotlist


def make_list(name="Stolen", **entry):
    hotlist = Hotlist.objects.create(name=name)
    defaults = {
        "plate": "ABC123",
        "plate_raw": "ABC-123",
        "state": "TX",
        "reason": "Stolen vehicle",
        "case_number": "C-9",
    }
    defaults.update(entry)
    return Entry.objects.create(hotlist=hotlist, **defaults)


def push_frame(client, token):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return client.post(
        "/api/frames/",
        {"image": SimpleUploadedFile("f.png", png_bytes(), "image/png")},
        HTTP_AUTHORIZATION=f"Token {token}",
    )


@pytest.mark.django_db
def test_a_read_on_a_hotlist_raises_one_alert_with_the_entry(
    client, camera_and_token, fake_pipeline, django_capture_on_commit_callbacks
):
    _camera, token = camera_and_token
    make_list()
    fake_pipeline("ABC123", "ZZZ999")
    with django_capture_on_commit_callbacks(execute=True):
        response = push_frame(client, token)
    frame = Frame.objects.get(pk=response.json()["frame"])
    assert frame.status == Frame.Status.DONE
    assert sorted(frame.reads.values_list("text", flat=True)) == ["ABC123", "ZZZ999"]
    assert set(frame.reads.values_list("engine", flat=True)) == {"fake-det+fake-ocr"}
    alert = Alert.objects.get()
    assert (alert.read.text, alert.entry_plate, alert.reason, alert.case_number, alert.hotlist_name) == (
        "ABC123",
        "ABC123",
        "Stolen vehicle",
        "C-9",
        "Stolen",
    )
    assert frame.thumbnail and alert.read.crop


@pytest.mark.django_db
def test_expired_entries_and_inactive_lists_do_not_alert(
    client, camera_and_token, fake_pipeline, django_capture_on_commit_callbacks
):
    _, token = camera_and_token
    make_list("Old", expires_at=timezone.now() - timedelta(minutes=1))
    make_list("Off").hotlist.__class__.objects.filter(name="Off").update(active=False)
    fake_pipeline("ABC123")
    with django_capture_on_commit_callbacks(execute=True):
        push_frame(client, token)
    assert not Alert.objects.exists()


@pytest.mark.django_db
def test_processing_a_frame_twice_stores_its_reads_once(
    client, camera_and_token, fake_pipeline, django_capture_on_commit_callbacks
):
    from recognition.services import do_process_frame

    _, token = camera_and_token
    make_list()
    fake_pipeline("ABC123")
    with django_capture_on_commit_callbacks(execute=True):
        frame_id = push_frame(client, token).json()["frame"]
    assert do_process_frame(frame_id) == []
    assert Frame.objects.get(pk=frame_id).reads.count() == 1
    assert Alert.objects.count() == 1


@pytest.mark.django_db
def test_an_undecodable_frame_is_marked_failed(camera, fake_pipeline):
    from django.core.files.base import ContentFile

    from recognition.services import do_process_frame

    fake_pipeline("ABC123")
    frame = Frame(camera=camera, content_type="image/png", width=1, height=1, captured_at=timezone.now())
    frame.image.save("broken.png", ContentFile(b"garbage"), save=False)
    frame.save()
    do_process_frame(frame.pk)
    frame.refresh_from_db()
    assert frame.status == Frame.Status.FAILED and frame.error


def _ws(user=None, client=None):
    from config.asgi import application

    headers = [(b"origin", b"http://localhost")]
    if client is not None:
        headers.append(
            (b"cookie", f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}".encode())
        )
    return WebsocketCommunicator(application, "/ws/alerts/", headers=headers)


@pytest.mark.django_db(transaction=True)
def test_websocket_refuses_anonymous_users_and_auditors(client, auditor):
    async def scenario():
        anon = _ws()
        connected, code = await anon.connect()
        assert (connected, code) == (False, 4401)
        await sync_to_async(client.force_login)(auditor)
        comm = _ws(client=client)
        connected, code = await comm.connect()
        assert (connected, code) == (False, 4403)

    async_to_sync(scenario)()


@pytest.mark.django_db(transaction=True)
def test_officer_sees_new_alert_and_its_acknowledgement_live(client, officer, camera_and_token, fake_pipeline):
    _, token = camera_and_token
    make_list()
    fake_pipeline("ABC123")
    client.force_login(officer)

    async def scenario():
        comm = _ws(client=client)
        connected, _ = await comm.connect()
        assert connected
        response = await sync_to_async(push_frame)(client, token)
        assert response.status_code == 202
        message = await comm.receive_json_from(timeout=10)
        assert message["type"] == "alert.new"
        alert = message["alert"]
        assert alert["read"]["text"] == "ABC123" and alert["entry"]["reason"] == "Stolen vehicle"
        assert alert["camera"]["name"] == "Main St northbound"
        assert alert["read"]["crop_url"].startswith("/media/crops/")
        ack = await sync_to_async(client.post)(f"/alerts/{alert['id']}/acknowledge/")
        assert ack.status_code == 200
        update = await comm.receive_json_from(timeout=10)
        assert update["type"] == "alert.updated"
        assert update["alert"]["status"] == "acknowledged" and update["alert"]["acknowledged_by"] == "officer1"
        await comm.disconnect()

    async_to_sync(scenario)()


@pytest.mark.django_db
def test_alert_images_are_served_to_officers_only(
    client, officer, auditor, camera_and_token, fake_pipeline, django_capture_on_commit_callbacks
):
    _, token = camera_and_token
    make_list()
    fake_pipeline("ABC123")
    with django_capture_on_commit_callbacks(execute=True):
        push_frame(client, token)
    crop = Alert.objects.get().read.crop.name
    assert client.get(f"/media/{crop}").status_code == 302  # anonymous: to the login page
    client.force_login(officer)
    response = client.get(f"/media/{crop}")
    assert response.status_code == 200 and response["Content-Type"] == "image/jpeg"
    assert client.get("/media/crops/../../etc/passwd").status_code == 404
    assert client.get("/media/db.sqlite3").status_code == 404


@pytest.mark.django_db
def test_frames_whose_task_was_lost_are_found_for_requeueing(camera):
    from django.core.files.base import ContentFile

    from recognition.services import stale_frame_ids

    def frame(status, **times):
        f = Frame(camera=camera, content_type="image/png", width=1, height=1, captured_at=timezone.now(), status=status)
        f.image.save("x.png", ContentFile(png_bytes()), save=False)
        f.save()
        Frame.objects.filter(pk=f.pk).update(**times)
        return f.pk

    old = timezone.now() - timedelta(minutes=10)
    lost = frame("queued", received_at=old)
    abandoned = frame("processing", claimed_at=old)
    frame("queued")  # just arrived
    frame("processing", claimed_at=timezone.now())  # a live worker has it
    frame("done", received_at=old)
    assert stale_frame_ids() == [lost, abandoned]


def _process(client, token, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        push_frame(client, token)


@pytest.mark.django_db
def test_a_look_alike_misread_hits_a_lenient_list_and_explains_itself(
    client, camera_and_token, fake_pipeline, django_capture_on_commit_callbacks
):
    _, token = camera_and_token
    make_list(plate="ABC123")  # lists are lenient with one look-alike by default
    fake_pipeline("A8C123")
    _process(client, token, django_capture_on_commit_callbacks)
    alert = Alert.objects.get()
    assert (alert.match_kind, alert.matched_text, alert.entry_plate) == ("lookalike", "A8C123", "ABC123")
    assert alert.differences == [
        {
            "kind": "lookalike",
            "position": 1,
            "entry_position": 1,
            "entry_char": "B",
            "read_char": "8",
            "sentence": "read 8 where the list has B (look-alike)",
        }
    ]
    assert "look-alike" in alert.explanation


@pytest.mark.django_db
def test_exact_lists_and_spent_budgets_do_not_hit(
    client, camera_and_token, fake_pipeline, django_capture_on_commit_callbacks
):
    _, token = camera_and_token
    entry = make_list(plate="ABC123")
    Hotlist.objects.filter(pk=entry.hotlist_id).update(match_mode="exact")
    fake_pipeline("A8C123")
    _process(client, token, django_capture_on_commit_callbacks)
    assert not Alert.objects.exists()
    Hotlist.objects.filter(pk=entry.hotlist_id).update(
        match_mode="lenient", lookalike_budget=1, edit_budget=0, updated_at=timezone.now()
    )
    fake_pipeline("A8C1Z3")  # two look-alikes, budget one
    _process(client, token, django_capture_on_commit_callbacks)
    assert not Alert.objects.exists()
    Hotlist.objects.filter(pk=entry.hotlist_id).update(lookalike_budget=2, updated_at=timezone.now())
    _process(client, token, django_capture_on_commit_callbacks)
    assert Alert.objects.get().match_kind == "lookalike"


@pytest.mark.django_db
def test_every_ocr_candidate_is_matched_not_only_the_top_one(
    client, camera_and_token, fake_pipeline, django_capture_on_commit_callbacks
):
    _, token = camera_and_token
    make_list(plate="ABC123")
    fake_pipeline("XBC1Z3", alternatives=["ABC123"])
    _process(client, token, django_capture_on_commit_callbacks)
    alert = Alert.objects.get()
    assert (alert.read.text, alert.matched_text, alert.match_kind) == ("XBC1Z3", "ABC123", "exact")


@pytest.mark.django_db
def test_reads_in_masked_areas_or_outside_the_roi_are_ignored(
    client, camera_and_token, fake_pipeline, django_capture_on_commit_callbacks
):
    from django.core.exceptions import ValidationError

    from cameras.models import Camera

    camera, token = camera_and_token
    from recognition.models import Read

    fake_pipeline("ABC123", "XYZ789")  # plate centres at x = 30 and 80 px; the frame is 64 px wide
    Camera.objects.filter(pk=camera.pk).update(roi=[0, 0, 0.75, 1])
    with django_capture_on_commit_callbacks(execute=True):
        push_frame(client, token)
    assert list(Read.objects.values_list("text", flat=True)) == ["ABC123"]
    Camera.objects.filter(pk=camera.pk).update(roi=None, masks=[[0.3, 0, 0.3, 1]])
    with django_capture_on_commit_callbacks(execute=True):
        push_frame(client, token)
    assert sorted(Read.objects.values_list("text", flat=True)) == ["ABC123", "XYZ789"]
    camera.refresh_from_db()
    camera.roi = [0.5, 0.5, 0.7, 0.2]
    with pytest.raises(ValidationError):
        camera.full_clean()
