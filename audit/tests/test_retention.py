from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.utils import timezone

from alerts.models import Alert
from audit.models import AuditLog, RetentionPolicy, RetentionRun
from audit.services import append, verify_chain
from cameras.models import Frame
from recognition.models import Read
from recognition.tests.factories import make_stored_read


def make_read(camera, text, days_ago, *, hit=False):
    return make_stored_read(camera, text, timezone.now() - timedelta(days=days_ago), hit=hit)


@pytest.mark.django_db
def test_dry_run_reports_and_changes_nothing(camera, capsys):
    make_read(camera, "OLD111", 40)
    call_command("purge_reads", "--dry-run")
    assert "Would delete: 1 read(s) without hits (older than 30 days)" in capsys.readouterr().out
    assert Read.objects.count() == 1
    assert RetentionRun.objects.get().dry_run


@pytest.mark.django_db
def test_purge_deletes_old_non_hits_with_their_images_and_keeps_hits(camera):
    old = make_read(camera, "OLD111", 40)
    recent = make_read(camera, "NEW222", 2)
    hit = make_read(camera, "HIT333", 40, hit=True)
    files = [old.crop.name, old.frame.image.name]
    call_command("purge_reads")
    assert set(Read.objects.values_list("text", flat=True)) == {"NEW222", "HIT333"}
    assert not Frame.objects.filter(pk=old.frame_id).exists()
    assert not any(default_storage.exists(name) for name in files)
    assert default_storage.exists(recent.crop.name) and default_storage.exists(hit.crop.name)
    run = AuditLog.objects.get(action="retention.run")
    assert run.query["non_hit_reads"] == 1


@pytest.mark.django_db
def test_shorter_state_preset_and_hit_period(camera, admin_user, client):
    client.force_login(admin_user)
    response = client.post(
        "/audit/retention/", {"preset": "virginia", "non_hit_days": 30, "hit_days": 365, "audit_days": 730}
    )
    assert response.status_code == 302
    assert RetentionPolicy.current().non_hit_days == 7
    make_read(camera, "WEEK01", 8)
    make_read(camera, "HIT400", 400, hit=True)
    call_command("purge_reads")
    assert not Read.objects.exists()
    assert client.post("/audit/retention/", {"non_hit_days": 30, "hit_days": 365, "audit_days": 100}).status_code == 200
    assert RetentionPolicy.current().audit_days == 730


@pytest.mark.django_db
def test_audit_purge_keeps_the_rest_of_the_chain_verifiable(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        for i in range(4):
            append(action="search.reads", username="a", reason=str(i))
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE audit_auditlog DISABLE TRIGGER audit_auditlog_append_only")
        cursor.execute("UPDATE audit_auditlog SET at = %s WHERE seq <= 2", [timezone.now() - timedelta(days=2000)])
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE audit_auditlog ENABLE TRIGGER audit_auditlog_append_only")
    # Back-dating changed the hashed content of #1 and #2; they are the ones purged.
    with django_capture_on_commit_callbacks(execute=True):
        call_command("purge_reads")
    # The purge names itself (#5: what goes) before it deletes, and reports the run after (#6).
    assert list(AuditLog.objects.order_by("seq").values_list("seq", flat=True)) == [3, 4, 5, 6]
    checked, bad, why = verify_chain()
    assert (bad, why, checked) == (None, "", 4)
    authority = AuditLog.objects.get(seq=5)
    assert (authority.action, authority.username, authority.query["through"]) == ("retention.purge", "retention", 2)
    assert AuditLog.objects.get(seq=6).query["audit_purged_through"]["seq"] == 2


@pytest.mark.django_db
def test_auditors_see_runs_but_cannot_change_retention(client, auditor):
    client.force_login(auditor)
    assert client.get("/audit/retention/").status_code == 200
    assert client.post("/audit/retention/", {"non_hit_days": 1, "hit_days": 1, "audit_days": 400}).status_code == 403
