"""A product, not a developer tool: its own 404 page, a favicon, readable audit details with filters,
the retention page in the menu, human names for formats."""

from datetime import timedelta

import pytest
from django.utils import timezone

from audit.models import AuditLog
from audit.tests.helpers import token


@pytest.mark.django_db
def test_unknown_pages_get_the_products_own_404_page(client, officer, settings):
    settings.DEBUG = False
    client.force_login(officer)
    response = client.get("/no/such/page/")
    assert response.status_code == 404
    body = response.content.decode()
    assert 'data-testid="not-found"' in body and "ALPR Alerts" in body and "Live alerts" in body


@pytest.mark.django_db
def test_a_favicon_is_served_without_a_login(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 301 and response["Location"].endswith("favicon.svg")
    assert 'rel="icon"' in client.get("/login/").content.decode()


@pytest.mark.django_db
def test_the_retention_page_is_in_the_menu(client, auditor, admin_user, officer):
    for user, shown in ((auditor, True), (admin_user, True), (officer, False)):
        client.force_login(user)
        home = client.get("/alerts/history/").content.decode()
        assert ('href="/audit/retention/"' in home) is shown, user


@pytest.mark.django_db
def test_the_audit_log_reads_as_words_with_an_action_list_and_a_date_filter(client, auditor, monkeypatch):
    from datetime import datetime

    from audit.services import append

    noon = timezone.make_aware(datetime(2026, 11, 20, 12, 0))  # every record and filter on one day
    monkeypatch.setattr(timezone, "now", lambda: noon)

    append(
        action="search.reads",
        username="a1",
        query={"plate": "ABC123", "hits_only": True, "camera": None, "lists": ["Stolen", "Wanted"]},
        reason="case 1",
    )
    append(action="hotlist.import", username="a2", query={"list": "Stolen", "added": 3})
    client.force_login(auditor)
    body = client.get("/audit/log/").content.decode()
    assert "hits only: yes; lists: Stolen, Wanted; plate: ABC123" in body
    assert "{&#x27;plate&#x27;" not in body and "{'plate'" not in body
    assert '<option value="hotlist.import">hotlist.import</option>' in body
    only = client.get("/audit/log/", {"action": "search.reads", **token(client)}).context["page"]
    assert [e.action for e in only] == ["search.reads"]
    today = noon.date()
    everything = AuditLog.objects.count()
    assert (
        client.get("/audit/log/", {"from": today, "to": today, **token(client)}).context["page"].paginator.count
        == everything
    )
    assert (
        client.get("/audit/log/", {"to": today - timedelta(days=1), **token(client)}).context["page"].paginator.count
        == 0
    )
    assert (
        client.get("/audit/log/", {"from": today + timedelta(days=1), **token(client)}).context["page"].paginator.count
        == 0
    )


@pytest.mark.django_db
def test_upload_formats_and_modes_have_human_names(client, admin_user):
    client.force_login(admin_user)
    body = client.get("/hotlists/upload/").content.decode()
    assert ">NCIC fixed width<" in body and ">Texas TCIC (8-column CSV)<" in body
    assert ">Replace: the list becomes the file<" in body and ">Detect from the file<" in body
