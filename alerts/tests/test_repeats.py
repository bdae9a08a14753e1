"""Repeat sightings: every matching read is a hit; repeats fold into the alert they repeat, for one window."""

from datetime import timedelta

import pytest
from django.utils import timezone

from alerts.models import Alert, Sighting
from alerts.tests.test_alerts import make_list
from alerts.tests.test_workflow import post
from audit.tests.helpers import token

WHY = {"reason": "Checking repeat sightings", "case_number": "26-1"}


@pytest.fixture
def every_minute(client, camera_and_token, fake_pipeline, django_capture_on_commit_callbacks, settings):
    """A listed plate read once a minute for ten minutes (11 reads) at one camera, window 120 s."""
    settings.ALERT_DEDUP_SECONDS = 120
    _, token = camera_and_token
    make_list(plate="ABC123", make="Toyota", model="Camry", colour="black", vehicle_year="2019")
    fake_pipeline("ABC123")
    t0 = timezone.now() - timedelta(hours=1)
    for minute in range(11):
        post(client, token, django_capture_on_commit_callbacks, t0 + timedelta(minutes=minute))
    return t0


@pytest.mark.django_db
def test_a_vehicle_seen_every_minute_is_alerted_again_once_per_window(every_minute):
    t0 = every_minute
    alerts = list(Alert.objects.order_by("read__captured_at"))
    # Measured from the read that raised the alert: minutes 0, 2, 4, 6, 8, 10 alert; 1, 3, 5, 7, 9 repeat.
    assert [a.read.captured_at - t0 for a in alerts] == [timedelta(minutes=m) for m in (0, 2, 4, 6, 8, 10)]
    assert [a.repeats for a in alerts] == [1, 1, 1, 1, 1, 0]
    assert alerts[0].last_seen_at == t0 + timedelta(minutes=1)


@pytest.mark.django_db
def test_every_matching_read_is_recorded_as_a_hit_and_attached_to_its_alert(every_minute):
    from recognition.models import Read

    assert Sighting.objects.count() == Read.objects.count() == 11
    first = Alert.objects.order_by("read__captured_at").first()
    sightings = list(first.sightings.all())
    assert [(s.captured_at - every_minute, s.repeat) for s in sightings] == [
        (timedelta(0), False),
        (timedelta(minutes=1), True),
    ]
    assert list(first.events.values_list("kind", flat=True)) == ["created", "repeated"]


@pytest.mark.django_db
def test_auditors_see_repeats_as_hits_in_search(client, auditor, every_minute):
    client.force_login(auditor)
    response = client.get("/audit/reads/", {**WHY, "hits_only": "on", **token(client)})
    assert response.context["total"] == 11
    assert all(r.hits for r in response.context["results"])
    repeats = [r for r in response.context["results"] if r.hits[0]["repeat"]]
    assert len(repeats) == 5
    body = response.content.decode()
    assert "Hit: no" not in body and ">no<" not in body
    assert "repeat of alert" in body


@pytest.mark.django_db
def test_the_alert_page_shows_its_repeats_with_count_and_times(client, officer, every_minute, settings):
    settings.TIME_ZONE = "UTC"
    from config import clock

    first = Alert.objects.order_by("read__captured_at").first()
    client.force_login(officer)
    body = client.get(f"/alerts/{first.pk}/").content.decode()
    assert "Seen 2 times" in body
    assert clock.display(every_minute + timedelta(minutes=1)) in body


@pytest.mark.django_db
def test_another_camera_alerts_at_once(
    client, camera_and_token, fake_pipeline, django_capture_on_commit_callbacks, settings
):
    from cameras.services import do_create_camera

    settings.ALERT_DEDUP_SECONDS = 600
    _, token = camera_and_token
    _, other_token = do_create_camera(name="Elsewhere")
    make_list(plate="ABC123")
    fake_pipeline("ABC123")
    t0 = timezone.now() - timedelta(hours=1)
    post(client, token, django_capture_on_commit_callbacks, t0)
    post(client, other_token, django_capture_on_commit_callbacks, t0 + timedelta(seconds=30))
    post(client, token, django_capture_on_commit_callbacks, t0 + timedelta(seconds=60))
    assert Alert.objects.count() == 2
    assert sorted(Alert.objects.values_list("repeats", flat=True)) == [0, 1]


@pytest.mark.django_db
def test_a_repeat_updates_the_live_card(
    client, camera_and_token, fake_pipeline, django_capture_on_commit_callbacks, settings, monkeypatch
):
    from alerts import services

    sent = []
    monkeypatch.setattr(services, "broadcast", lambda kind, pk: sent.append((kind, pk)))
    settings.ALERT_DEDUP_SECONDS = 120
    _, token = camera_and_token
    make_list(plate="ABC123")
    fake_pipeline("ABC123")
    t0 = timezone.now() - timedelta(hours=1)
    post(client, token, django_capture_on_commit_callbacks, t0)
    post(client, token, django_capture_on_commit_callbacks, t0 + timedelta(seconds=30))
    alert = Alert.objects.get()
    assert sent == [("alert.new", alert.pk), ("alert.updated", alert.pk)]
    payload = services.alert_payload(alert)
    assert payload["repeats"] == 1 and payload["last_seen_at_display"]
