"""Per-list settings: covert lists, active hours, expiry, staleness, BOLO entries, preview and historical hits."""

from datetime import UTC, datetime, time, timedelta
from datetime import timezone as dt_timezone

import pytest
from django.utils import timezone

from alerts.models import Alert
from alerts.tests.test_alerts import make_list, push_frame
from audit.models import AuditLog
from hotlist.models import Entry, Hotlist


def process(client, token, capture):
    with capture(execute=True):
        return push_frame(client, token)


@pytest.mark.django_db
def test_covert_list_alerts_are_hidden_from_officers_not_chosen(
    client, make_user, camera_and_token, fake_pipeline, django_capture_on_commit_callbacks
):
    _, token = camera_and_token
    entry = make_list("Covert ops", plate="ABC123")
    chosen, other, admin = make_user("officer", "chosen"), make_user("officer", "other"), make_user("admin")
    Hotlist.objects.filter(pk=entry.hotlist_id).update(covert=True)
    entry.hotlist.visible_to.add(chosen)
    fake_pipeline("ABC123")
    process(client, token, django_capture_on_commit_callbacks)
    alert = Alert.objects.get()
    assert alert.covert
    for user, sees in ((chosen, True), (other, False), (admin, True)):
        client.force_login(user)
        ids = [a["id"] for a in client.get("/alerts/feed/").json()["alerts"]]
        assert (alert.pk in ids) is sees, user
    client.force_login(other)
    assert client.post(f"/alerts/{alert.pk}/acknowledge/").status_code == 404


@pytest.mark.django_db(transaction=True)
def test_covert_alerts_reach_only_cleared_websockets(client, make_user, camera_and_token, fake_pipeline):
    from asgiref.sync import async_to_sync, sync_to_async

    from alerts.tests.test_alerts import _ws

    _, token = camera_and_token
    entry = make_list("Covert ops", plate="ABC123")
    Hotlist.objects.filter(pk=entry.hotlist_id).update(covert=True)
    chosen, other = make_user("officer", "chosen"), make_user("officer", "other")
    entry.hotlist.visible_to.add(chosen)
    fake_pipeline("ABC123")
    from django.test import Client

    c_chosen, c_other = Client(), Client()
    c_chosen.force_login(chosen)
    c_other.force_login(other)

    async def scenario():
        ws_chosen, ws_other = _ws(client=c_chosen), _ws(client=c_other)
        assert (await ws_chosen.connect())[0] and (await ws_other.connect())[0]
        await sync_to_async(push_frame)(client, token)
        message = await ws_chosen.receive_json_from(timeout=10)
        assert message["alert"]["covert"] is True
        assert await ws_other.receive_nothing(timeout=1)
        await ws_chosen.disconnect()
        await ws_other.disconnect()

    async_to_sync(scenario)()


@pytest.mark.django_db
def test_lists_alert_only_inside_their_hours_and_before_their_expiry():
    hotlist = Hotlist(active=True, active_from=time(22, 0), active_until=time(6, 0))
    night = datetime(2026, 11, 20, 23, 30, tzinfo=UTC)
    day = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
    assert hotlist.alerting_at(night) and not hotlist.alerting_at(day)
    hotlist.expires_at = night - timedelta(hours=1)
    assert not hotlist.alerting_at(night)


@pytest.mark.django_db
def test_out_of_hours_list_does_not_alert(client, camera_and_token, fake_pipeline, django_capture_on_commit_callbacks):
    _, token = camera_and_token
    entry = make_list(plate="ABC123")
    now = timezone.localtime()
    Hotlist.objects.filter(pk=entry.hotlist_id).update(
        active_from=(now + timedelta(hours=2)).time(), active_until=(now + timedelta(hours=3)).time()
    )
    fake_pipeline("ABC123")
    process(client, token, django_capture_on_commit_callbacks)
    assert not Alert.objects.exists()


@pytest.mark.django_db
def test_stale_lists_are_flagged(client, admin_user):
    fresh = Hotlist.objects.create(name="Fresh", last_imported_at=timezone.now())
    stale = Hotlist.objects.create(name="Stale", last_imported_at=timezone.now() - timedelta(hours=30))
    assert not fresh.is_stale() and stale.is_stale()
    client.force_login(admin_user)
    page = client.get("/hotlists/").content.decode()
    assert page.count('data-testid="stale"') == 1


@pytest.mark.django_db
def test_officer_adds_a_bolo_that_needs_a_reason_and_expiry_and_is_logged(client, officer):
    client.force_login(officer)
    expires = (timezone.now() + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    missing = client.post("/hotlists/bolo/", {"plate": "ABC 123", "reason": "", "expires": ""})
    assert missing.status_code == 400 and {"reason", "expires"} <= set(missing.json()["errors"])
    too_long = client.post(
        "/hotlists/bolo/",
        {
            "plate": "ABC123",
            "reason": "Armed robbery",
            "expires": (timezone.now() + timedelta(days=200)).strftime("%Y-%m-%dT%H:%M"),
        },
    )
    assert too_long.status_code == 400
    ok = client.post(
        "/hotlists/bolo/", {"plate": "ABC 123", "state": "tx", "reason": "Armed robbery suspect", "expires": expires}
    )
    assert ok.status_code == 201
    entry = Entry.objects.get()
    assert (entry.plate, entry.state, entry.reason, entry.hotlist.name) == (
        "ABC123",
        "TX",
        "Armed robbery suspect",
        "BOLO",
    )
    log = AuditLog.objects.get(action="hotlist.bolo")
    assert log.username == "officer1" and log.reason == "Armed robbery suspect"


@pytest.mark.django_db
def test_auditors_cannot_add_bolos(client, auditor):
    client.force_login(auditor)
    assert (
        client.post("/hotlists/bolo/", {"plate": "ABC123", "reason": "x", "expires": "2030-01-01T00:00"}).status_code
        == 403
    )


@pytest.mark.django_db
def test_new_entries_are_checked_against_recent_reads_as_historical_hits(
    client, camera_and_token, officer, fake_pipeline, django_capture_on_commit_callbacks
):
    _, token = camera_and_token
    fake_pipeline("A8C123")
    process(client, token, django_capture_on_commit_callbacks)  # seen before anyone listed it
    assert not Alert.objects.exists()
    client.force_login(officer)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/hotlists/bolo/",
            {
                "plate": "ABC123",
                "reason": "Stolen yesterday",
                "expires": (timezone.now() + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M"),
            },
        )
    assert response.status_code == 201
    alert = Alert.objects.get()
    assert alert.historical and alert.match_kind == "lookalike" and alert.read.text == "A8C123"


@pytest.mark.django_db
def test_imported_entries_get_historical_hits_too(
    client, camera_and_token, fake_pipeline, tmp_path, django_capture_on_commit_callbacks
):
    from django.core.management import call_command

    _, token = camera_and_token
    fake_pipeline("XYZ789")
    process(client, token, django_capture_on_commit_callbacks)
    path = tmp_path / "l.csv"
    path.write_text("plate,reason\nXYZ789,stolen\n")
    with django_capture_on_commit_callbacks(execute=True):
        call_command("load_hotlist", str(path), "--list", "Daily", "--no-progress")
    assert Alert.objects.get().historical


@pytest.mark.django_db
def test_preview_shows_accepted_misreads_and_recent_reads(
    client, admin_user, camera_and_token, fake_pipeline, django_capture_on_commit_callbacks
):
    _, token = camera_and_token
    fake_pipeline("A8C123")
    process(client, token, django_capture_on_commit_callbacks)
    entry = make_list(plate="ZZZ999")
    client.force_login(admin_user)
    url = f"/hotlists/{entry.hotlist_id}/preview"
    lenient = client.post(
        url, {"plate": "abc-123", "match_mode": "lenient", "lookalike_budget": 1, "edit_budget": 0}
    ).json()
    assert "A8C123" in lenient["lookalike_variants"] and "ABC1Z3" in lenient["lookalike_variants"]
    assert lenient["lookalike_count"] == 3  # B->8, 1->I, 2->Z
    assert [h["read"] for h in lenient["recent_hits"]] == ["A8C123"]
    exact = client.post(url, {"plate": "ABC123", "match_mode": "exact"}).json()
    assert exact["lookalike_count"] == 0 and exact["recent_hits"] == []
    assert client.post(url, {"plate": "ABC123", "lookalike_budget": 7}).status_code == 400
    assert AuditLog.objects.filter(action="hotlist.preview").count() == 2
    # A link cannot run it (and write an audit record in the admin's name); a POST without the token is refused.
    assert client.get(url, {"plate": "ABC123"}).status_code == 405
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    strict.force_login(admin_user)
    assert strict.post(url, {"plate": "ABC123"}).status_code == 403
    assert AuditLog.objects.filter(action="hotlist.preview").count() == 2


@pytest.mark.django_db
def test_budgets_can_depend_on_plate_length():
    hotlist = Hotlist(match_mode="lenient", lookalike_budget=1, edit_budget=1, edit_min_length=7)
    policy = hotlist.policy()
    assert policy.edits_for(6) == 0 and policy.edits_for(7) == 1
    assert policy.lookalikes_for(3) == 1


def bolo(client, plate="ABC123", **extra):
    return client.post(
        "/hotlists/bolo/",
        {
            "plate": plate,
            "reason": "Armed robbery suspect",
            "case_number": "C-1",
            "expires": (timezone.now() + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M"),
            **extra,
        },
    )


@pytest.mark.django_db
def test_an_officer_cannot_overwrite_another_officers_bolo(client, make_user, admin_user):
    first, second = make_user("officer", "first"), make_user("officer", "second")
    client.force_login(first)
    assert bolo(client).status_code == 201
    assert bolo(client, notes="seen heading north").status_code == 200  # the author may change it
    client.force_login(second)
    response = bolo(client, reason="Something else entirely", case_number="C-2")
    assert response.status_code == 409 and "already on the BOLO list" in response.json()["errors"]["plate"][0]
    entry = Entry.objects.get()
    assert (entry.reason, entry.case_number, entry.notes) == ("Armed robbery suspect", "C-1", "seen heading north")
    client.force_login(admin_user)
    assert bolo(client, case_number="C-3").status_code == 200
    assert Entry.objects.get().case_number == "C-3"


@pytest.mark.django_db
def test_a_bolo_is_checked_only_against_recent_reads(
    client, officer, camera, settings, django_capture_on_commit_callbacks
):
    from recognition.tests.factories import make_read

    settings.BOLO_HISTORY_HOURS = 4
    now = timezone.now()
    for hours in (1, 30, 24 * 6):  # all within the BOLO list's 7-day history window
        make_read(camera, "ABC123", now - timedelta(hours=hours))
    client.force_login(officer)
    with django_capture_on_commit_callbacks(execute=True):
        assert bolo(client).status_code == 201
    sightings = Alert.objects.filter(historical=True)
    assert [round((now - a.read.captured_at).total_seconds() / 3600) for a in sightings] == [1]


def test_list_settings_refuse_a_placeholder_expiry_year():
    from hotlist.forms import HotlistSettingsForm

    base = {
        "match_mode": "lenient",
        "lookalike_budget": 1,
        "edit_budget": 0,
        "lookalike_min_length": 0,
        "edit_min_length": 0,
        "priority": "normal",
        "colour": "#b3261e",
        "sound": "chime",
        "refresh_hours": 24,
        "history_days": 7,
    }
    assert HotlistSettingsForm(data={**base, "expires_at": "2030-01-01T00:00"}).is_valid()
    form = HotlistSettingsForm(data={**base, "expires_at": "9999-12-31T23:59"})
    assert not form.is_valid() and "between 1900 and 2199" in str(form.errors["expires_at"])


@pytest.mark.django_db
@pytest.mark.parametrize(
    "field, value, message",
    [
        ("state", "\u0422\u0425", "letters A-Z only"),  # Cyrillic Te Kha, which look like TX
        ("state", "T1", "letters A-Z only"),
        ("plate", "A\u0301BC123", "combining marks"),  # an accent written apart: stripped, it is another plate
        ("plate", "\u0410BC123", "other than A-Z"),  # Cyrillic A
    ],
)
def test_a_bolo_with_a_lookalike_state_or_an_accented_plate_is_refused(client, officer, field, value, message):
    client.force_login(officer)
    data = {
        "plate": "ABC123",
        "state": "TX",
        "reason": "Armed robbery suspect",
        "expires": (timezone.now() + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M"),
        field: value,
    }
    response = client.post("/hotlists/bolo/", data)
    assert response.status_code == 400
    assert message in response.json()["errors"][field][0]
    assert not Entry.objects.exists()
