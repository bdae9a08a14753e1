"""Covert lists: who sees an alert follows the list's current setting, on every page, feed, socket and file."""

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from django.test import Client

from alerts.models import Alert
from alerts.services import visible_alerts
from alerts.tests.test_alerts import _ws, make_list, push_frame
from audit.models import AuditLog
from audit.services import do_log
from audit.tests.helpers import token
from hotlist.models import Hotlist


@pytest.fixture
def people(make_user):
    return {
        "chosen": make_user("officer", "chosen"),
        "other": make_user("officer", "other"),
        "admin": make_user("admin", "boss"),
        "auditor": make_user("auditor", "aud"),
        "cleared_auditor": make_user("auditor", "aud-cleared"),
    }


@pytest.fixture
def public_alert(client, camera_and_token, fake_pipeline, django_capture_on_commit_callbacks):
    """An alert raised while its list was public."""
    _, token_ = camera_and_token
    make_list("Operation Nightjar", plate="ABC123")
    fake_pipeline("ABC123")
    with django_capture_on_commit_callbacks(execute=True):
        push_frame(client, token_)
    return Alert.objects.select_related("read__frame").get()


def make_covert(alert, *cleared):
    hotlist = Hotlist.objects.get(pk=alert.hotlist_id)
    hotlist.covert = True
    hotlist.save()
    hotlist.visible_to.add(*cleared)
    return hotlist


def as_user(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


@pytest.mark.django_db
def test_a_list_made_covert_hides_its_earlier_alerts_from_officers_outside_its_audience(public_alert, people):
    make_covert(public_alert, people["chosen"])
    pk = public_alert.pk
    other = as_user(people["other"])
    assert other.get(f"/alerts/{pk}/").status_code == 404
    assert pk not in [a["id"] for a in other.get("/alerts/feed/", {"after": 0}).json()["alerts"]]
    assert pk not in [a["id"] for a in other.get("/alerts/feed/").json()["alerts"]]
    assert pk not in [a["id"] for a in other.get("/alerts/").context["alerts"]]
    assert other.post(f"/alerts/{pk}/acknowledge/").status_code == 404
    assert other.post(f"/alerts/{pk}/disposition/", {"disposition": "misread"}).status_code == 404
    assert Alert.objects.get(pk=pk).status == Alert.Status.NEW
    for who in ("chosen", "admin"):
        c = as_user(people[who])
        assert c.get(f"/alerts/{pk}/").status_code == 200
        feed = c.get("/alerts/feed/", {"after": 0}).json()["alerts"]
        assert [a["covert"] for a in feed if a["id"] == pk] == [True, True]  # new since 0, and among the recent
    assert Alert.objects.get(pk=pk).covert  # the copy follows the list too


@pytest.mark.django_db
def test_a_covert_list_made_public_again_shows_its_alerts(public_alert, people):
    hotlist = make_covert(public_alert)
    hotlist.covert = False
    hotlist.save()
    assert as_user(people["other"]).get(f"/alerts/{public_alert.pk}/").status_code == 200


@pytest.mark.django_db
def test_visible_and_hidden_alerts_split_every_alert_exactly(public_alert, people):
    from alerts.services import _visibility

    make_covert(public_alert, people["chosen"])
    make_list("Deleted covert", plate="XYZ1")  # alerts whose list is gone keep their last setting
    gone = Alert.objects.create(
        read=public_alert.read, hotlist=None, hotlist_name="Gone", entry_plate="XYZ1", covert=True
    )
    gone_public = Alert.objects.create(
        read=public_alert.read, hotlist=None, hotlist_name="Gone too", entry_plate="XYZ2", covert=False
    )
    for user in people.values():
        conditions = _visibility(user)
        visible = set(visible_alerts(user).values_list("pk", flat=True))
        if conditions is None:
            assert visible == set(Alert.objects.values_list("pk", flat=True))
            continue
        hidden = set(Alert.objects.filter(conditions[1]).values_list("pk", flat=True))
        assert visible | hidden == set(Alert.objects.values_list("pk", flat=True)) and not visible & hidden
    assert set(visible_alerts(people["other"]).values_list("pk", flat=True)) == {gone_public.pk}
    assert gone.pk not in set(visible_alerts(people["chosen"]).values_list("pk", flat=True))


@pytest.mark.django_db
def test_crops_and_frames_of_covert_alerts_are_served_only_to_their_audience(public_alert, people):
    read = public_alert.read
    names = [read.crop.name, read.frame.image.name, read.frame.thumbnail.name]
    other = as_user(people["other"])
    assert [other.get(f"/media/{n}").status_code for n in names] == [200, 200, 200]
    make_covert(public_alert, people["chosen"])
    for who, code in (("other", 404), ("auditor", 404), ("chosen", 200), ("admin", 200)):
        c = as_user(people[who])
        assert [c.get(f"/media/{n}").status_code for n in names] == [code] * 3, who


@pytest.mark.django_db(transaction=True)
def test_updates_of_an_alert_whose_list_became_covert_reach_only_its_audience(public_alert, people):
    make_covert(public_alert, people["chosen"])
    chosen, other, admin = as_user(people["chosen"]), as_user(people["other"]), as_user(people["admin"])

    async def scenario():
        ws_chosen, ws_other = _ws(client=chosen), _ws(client=other)
        assert (await ws_chosen.connect())[0] and (await ws_other.connect())[0]
        response = await sync_to_async(admin.post)(f"/alerts/{public_alert.pk}/acknowledge/")
        assert response.status_code == 200
        message = await ws_chosen.receive_json_from(timeout=10)
        assert message["type"] == "alert.updated" and message["alert"]["covert"] is True
        assert await ws_other.receive_nothing(timeout=1)
        await ws_chosen.disconnect()
        await ws_other.disconnect()

    async_to_sync(scenario)()


@pytest.mark.django_db
def test_auditors_search_and_export_follow_the_lists_current_setting(public_alert, people):
    WHY = {"reason": "Checking a tip", "case_number": "26-1"}
    make_covert(public_alert, people["cleared_auditor"])
    auditor = as_user(people["auditor"])
    response = auditor.get("/audit/reads/", {**token(auditor), **WHY, "plate": "ABC123"})
    assert [r.hit_lists for r in response.context["results"]] == [""]
    assert "Nightjar" not in response.content.decode()
    assert not auditor.get("/audit/reads/", {**token(auditor), **WHY, "hits_only": "on"}).context["results"]
    export = auditor.get("/audit/reads/export.csv", {**token(auditor), **WHY, "plate": "ABC123"})
    assert "Nightjar" not in b"".join(export.streaming_content).decode()
    cleared = as_user(people["cleared_auditor"])
    response = cleared.get("/audit/reads/", {**token(cleared), **WHY, "plate": "ABC123"})
    assert [r.hit_lists for r in response.context["results"]] == ["Operation Nightjar"]


@pytest.mark.django_db
def test_the_audit_log_redacts_covert_lists_for_auditors_who_are_not_cleared(public_alert, people, rf):
    hotlist = make_covert(public_alert, people["cleared_auditor"])
    do_log(
        None, "hotlist.settings", username="boss", query={"list": hotlist.name, "changed": ["covert"], "covert": "True"}
    )
    do_log(None, "alert.acknowledge", username="chosen", query={"alert": public_alert.pk, "plate": "ABC123"})
    do_log(None, "hotlist.import", username="boss", query={"list": "Plain list", "file": "plain.csv"})
    assert AuditLog.objects.filter(query__list=hotlist.name).exists()  # the record itself stays complete

    auditor = as_user(people["auditor"])
    html = auditor.get("/audit/log/").content.decode()
    assert "Nightjar" not in html and "ABC123" not in html and "plain.csv" in html
    assert html.count('data-testid="redacted"') == 2
    export = auditor.get("/audit/log/export.csv", {**token(auditor)})
    body = b"".join(export.streaming_content).decode()
    assert "Nightjar" not in body and "ABC123" not in body and "plain.csv" in body

    cleared = as_user(people["cleared_auditor"])
    html = cleared.get("/audit/log/").content.decode()
    assert "Operation Nightjar" in html and 'data-testid="redacted"' not in html
