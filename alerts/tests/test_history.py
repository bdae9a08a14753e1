"""Everyday use: alert history with paging and filters, unhandled alerts kept in view, auditors read-only,
forms that keep the user's choice, one clock, the vehicle on the alert."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from alerts.models import Alert
from alerts.services import alert_payload, do_create_alerts, do_disposition
from alerts.tests.test_alerts import make_list
from alerts.views import HISTORY_PAGE, RECENT_HANDLED
from audit.models import AuditLog
from cameras.models import Frame
from hotlist.matching import MatchPolicy
from recognition.models import Read
from recognition.tests.factories import make_read


def raise_alert(entry, camera, when):
    """An alert through the service, as recognition raises it (an exact match of the entry)."""
    from django.db import transaction

    from hotlist.matching import HotlistIndex

    read = make_read(camera, entry.plate, when)
    match = HotlistIndex.build([(entry.pk, entry.plate, MatchPolicy.exact())]).match(entry.plate)[0]
    with transaction.atomic():  # as in recognition: the repeat check locks the alert it finds
        return do_create_alerts(read, [(entry, match)])[0]


@pytest.fixture
def noon(monkeypatch):
    """The clock stopped at noon, local time: "today" is one day for every record and every date filter."""
    fixed = timezone.make_aware(datetime(2026, 11, 20, 12, 0))
    monkeypatch.setattr(timezone, "now", lambda: fixed)
    return fixed


@pytest.fixture
def many_alerts(camera, settings, django_capture_on_commit_callbacks):
    """60 alerts a minute apart (window 0: each its own alert), the oldest first; 55 of them dispositioned."""
    settings.ALERT_DEDUP_SECONDS = 0
    entry = make_list(plate="ABC123", make="Toyota", model="Camry", colour="black", vehicle_year="2019")
    t0 = timezone.now() - timedelta(hours=2)
    alerts = [raise_alert(entry, camera, t0 + timedelta(minutes=i)) for i in range(60)]
    return alerts


@pytest.mark.django_db
def test_an_unhandled_alert_is_never_pushed_off_the_dashboard(client, officer, many_alerts):
    oldest = many_alerts[0]
    for alert in many_alerts[1:56]:
        do_disposition(alert.pk, officer, "misread")
    client.force_login(officer)
    response = client.get("/alerts/")
    shown = [a["id"] for a in response.context["alerts"]]
    unhandled = [a.pk for a in reversed(many_alerts) if a.pk not in {x.pk for x in many_alerts[1:56]}]
    assert shown[:5] == unhandled and oldest.pk in shown
    assert len(shown) == 5 + RECENT_HANDLED  # handled ones: only the newest, after every unhandled one
    assert response.context["unhandled"] == 5
    feed = [a["id"] for a in client.get("/alerts/feed/").json()["alerts"]]
    assert oldest.pk in feed


@pytest.mark.django_db
def test_officers_page_through_the_history_with_filters(client, officer, noon, many_alerts, camera):
    from cameras.services import do_create_camera

    for alert in many_alerts[:10]:
        do_disposition(alert.pk, officer, "confirmed")
    client.force_login(officer)
    first = client.get("/alerts/history/")
    assert first.status_code == 200
    page = first.context["page"]
    assert page.paginator.count == 60 and len(page.object_list) == HISTORY_PAGE
    assert [a.pk for a in page.object_list] == [a.pk for a in reversed(many_alerts)][:HISTORY_PAGE]
    third = client.get("/alerts/history/", {"page": 3}).context["page"]
    assert [a.pk for a in third.object_list] == [a.pk for a in reversed(many_alerts)][2 * HISTORY_PAGE :]
    handled = client.get("/alerts/history/", {"status": "dispositioned"}).context["page"]
    assert {a.pk for a in handled.object_list} == {a.pk for a in many_alerts[:10]}
    assert client.get("/alerts/history/", {"status": "unhandled"}).context["page"].paginator.count == 50
    other_camera, _ = do_create_camera(name="Elsewhere")
    assert client.get("/alerts/history/", {"camera": other_camera.pk}).context["page"].paginator.count == 0
    assert client.get("/alerts/history/", {"camera": camera.pk}).context["page"].paginator.count == 60
    hotlist = many_alerts[0].hotlist
    assert client.get("/alerts/history/", {"hotlist": hotlist.pk}).context["page"].paginator.count == 60
    today = noon.date()
    assert client.get("/alerts/history/", {"start": today + timedelta(days=1)}).context["page"].paginator.count == 0
    assert client.get("/alerts/history/", {"start": today, "end": today}).context["page"].paginator.count == 60
    body = client.get("/alerts/history/", {"status": "unhandled", "page": 2}).content.decode()
    assert "status=unhandled&amp;page=1" in body  # the pager keeps the filters
    assert "2019 black Toyota Camry" in body


@pytest.mark.django_db
def test_the_history_and_dashboard_run_a_fixed_number_of_queries(
    client, officer, many_alerts, django_assert_num_queries
):
    client.force_login(officer)
    # session, user, roles, the count, the filter's lists and cameras, the page, saving the session (3)
    with django_assert_num_queries(10):
        assert client.get("/alerts/history/").status_code == 200
    # session, user, roles, watch preference, unhandled, handled, saving the session (3)
    with django_assert_num_queries(9):
        assert client.get("/alerts/").status_code == 200
    with django_assert_num_queries(9):
        assert client.get("/alerts/feed/").status_code == 200


@pytest.mark.django_db
def test_auditors_open_alerts_and_their_trails_read_only(client, auditor, officer, many_alerts):
    alert = many_alerts[0]
    do_disposition(alert.pk, officer, "confirmed", "stopped")
    client.force_login(auditor)
    assert client.get("/alerts/history/").status_code == 200
    page = client.get(f"/alerts/{alert.pk}/")
    body = page.content.decode()
    assert page.status_code == 200 and 'data-testid="disposition-form"' not in body
    assert "dispositioned by officer1" in body
    assert AuditLog.objects.filter(action="alert.view", username="auditor1").exists()
    assert client.post(f"/alerts/{alert.pk}/acknowledge/").status_code == 403
    assert client.post(f"/alerts/{many_alerts[1].pk}/disposition/", {"disposition": "misread"}).status_code == 403
    assert client.get("/alerts/").status_code == 403


@pytest.mark.django_db
def test_covert_alerts_stay_out_of_an_uncleared_users_history(client, make_user, camera, settings):
    settings.ALERT_DEDUP_SECONDS = 0
    entry = make_list(name="Covert ops", plate="ZZZ999")
    entry.hotlist.covert = True
    entry.hotlist.save()
    alert = raise_alert(entry, camera, timezone.now())
    client.force_login(make_user("auditor", "uncleared"))
    assert client.get("/alerts/history/").context["page"].paginator.count == 0
    assert client.get(f"/alerts/{alert.pk}/").status_code == 404


@pytest.mark.django_db
def test_a_refused_disposition_keeps_what_the_officer_chose(client, officer, many_alerts):
    alert = many_alerts[0]
    client.force_login(officer)
    response = client.post(f"/alerts/{alert.pk}/disposition/", {"disposition": "other", "note": ""})
    assert response.status_code == 400
    body = response.content.decode()
    assert '<option value="other" selected>' in body
    assert '<option value="confirmed" selected>' not in body
    assert "Say what happened." in body
    alert.refresh_from_db()
    assert alert.status == Alert.Status.NEW


@pytest.mark.django_db
def test_times_are_shown_in_the_agency_zone_with_the_zone_named(client, officer, camera, settings):
    settings.TIME_ZONE = "America/New_York"
    settings.ALERT_DEDUP_SECONDS = 0
    entry = make_list(plate="ABC123")
    when = datetime(2026, 7, 4, 16, 30, 5, tzinfo=ZoneInfo("UTC"))
    alert = raise_alert(entry, camera, when)
    payload = alert_payload(alert)
    assert payload["read"]["captured_at_display"] == "2026-07-04 12:30:05 EDT"
    client.force_login(officer)
    for url in (f"/alerts/{alert.pk}/", "/alerts/history/?start=2026-07-04&end=2026-12-31", "/alerts/"):
        body = client.get(url).content.decode()
        assert "America/New_York" in body, url
    assert "2026-07-04 12:30:05 EDT" in client.get(f"/alerts/{alert.pk}/").content.decode()


@pytest.mark.django_db
def test_the_alert_keeps_the_vehicle_and_the_lists_instructions(camera, settings):
    settings.ALERT_DEDUP_SECONDS = 0
    entry = make_list(plate="ABC123", make="Honda", model="Civic", colour="red", vehicle_year="2018", state="NY")
    entry.hotlist.instructions = "Do not stop alone; call for backup."
    entry.hotlist.save()
    alert = raise_alert(entry, camera, timezone.now())
    entry.hotlist.entries.all().delete()
    entry.hotlist.instructions = "changed"
    entry.hotlist.save()
    alert.refresh_from_db()
    payload = alert_payload(alert)
    assert payload["entry"]["vehicle"] == "2018 red Honda Civic"
    assert payload["entry"]["state"] == "NY"
    assert payload["entry"]["instructions"] == "Do not stop alone; call for backup."
