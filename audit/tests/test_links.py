"""A link from another site cannot run a logged search, export or audit-log filter in a user's name;
filtering the audit log is itself logged."""

from datetime import timedelta

import pytest
from django.utils import timezone

from audit.models import AuditLog
from audit.services import append
from audit.tests.helpers import token

WHY = {"reason": "Case 26-1182 stolen car", "case_number": "26-1182", "plate": "ABC123"}


@pytest.mark.django_db
def test_a_search_link_without_the_session_token_is_shown_but_not_run(client, auditor, camera):
    from recognition.tests.factories import make_read

    make_read(camera, "ABC123", timezone.now() - timedelta(hours=1))
    client.force_login(auditor)
    response = client.get("/audit/reads/", WHY)
    assert response.status_code == 200 and response.context["results"] is None
    assert response.context["confirm"] and 'data-testid="confirm-search"' in response.content.decode()
    assert response.context["form"]["plate"].value() == "ABC123"  # filled in, ready to confirm
    assert client.get("/audit/reads/", {**WHY, "t": "0" * 32}).context["results"] is None
    export = client.get("/audit/reads/export.csv", WHY)
    assert export.status_code == 400
    assert not AuditLog.objects.filter(action__in=["search.reads", "export.reads"]).exists()
    results = client.get("/audit/reads/", {**token(client), **WHY}).context["results"]
    assert [r.text for r in results] == ["ABC123"]
    assert AuditLog.objects.filter(action="search.reads").count() == 1


@pytest.mark.django_db
def test_the_token_is_bound_to_the_session(client, auditor):
    client.force_login(auditor)
    old = token(client)
    client.logout()
    client.force_login(auditor)
    assert client.get("/audit/reads/", {**old, **WHY}).context["results"] is None


@pytest.mark.django_db
def test_filtering_the_audit_log_is_logged_and_needs_the_token(client, auditor):
    append(action="login", username="officer1")
    client.force_login(auditor)
    client.get("/audit/log/")
    assert not AuditLog.objects.filter(action="audit.log_filter").exists()  # plain viewing is not a filter
    linked = client.get("/audit/log/", {"user": "officer1"})
    assert linked.context["confirm"] and linked.context["username"] == ""
    assert not AuditLog.objects.filter(action="audit.log_filter").exists()
    assert client.get("/audit/log/export.csv", {"user": "officer1"}).status_code == 400
    page = client.get("/audit/log/", {**token(client), "user": "officer1", "action": "login"})
    assert [e.action for e in page.context["page"]] == ["login"]
    record = AuditLog.objects.get(action="audit.log_filter")
    assert (record.username, record.query["user"], record.query["action"], record.result_count) == (
        "auditor1",
        "officer1",
        "login",
        1,
    )
