"""An alert as one evidence package: frame, crops, read, entry, trail, audit records, with SHA-256 digests."""

import hashlib
import io
import json
import zipfile

import pytest

from alerts.models import Alert
from alerts.tests.test_alerts import make_list
from alerts.tests.test_workflow import post
from audit.models import AuditLog


@pytest.mark.django_db
def test_an_alert_downloads_as_one_evidence_package(
    client, officer, auditor, camera_and_token, fake_pipeline, settings, django_capture_on_commit_callbacks
):
    from django.utils import timezone

    settings.ALERT_DEDUP_SECONDS = 120
    _, token = camera_and_token
    make_list(plate="ABC123", make="Ford", model="Focus")
    fake_pipeline("ABC123")
    now = timezone.now()
    post(client, token, django_capture_on_commit_callbacks, now)
    post(client, token, django_capture_on_commit_callbacks, now + timezone.timedelta(seconds=20))
    alert = Alert.objects.get()
    client.force_login(officer)
    client.post(f"/alerts/{alert.pk}/disposition/", {"disposition": "confirmed", "note": "stopped"})
    client.force_login(auditor)
    response = client.get(f"/alerts/{alert.pk}/evidence.zip")
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    zf = zipfile.ZipFile(io.BytesIO(response.content))
    names = set(zf.namelist())
    prefix = f"alert-{alert.pk}/"
    assert {prefix + n for n in ("alert.json", "frame.png", "crop.jpg", "README.txt", "manifest.json")} <= names
    assert any(n.startswith(prefix + "sightings/") for n in names)
    record = json.loads(zf.read(prefix + "alert.json"))
    assert record["entry"]["plate"] == "ABC123" and record["entry"]["vehicle"]["make"] == "Ford"
    assert record["read"]["text"] == "ABC123" and len(record["sightings"]) == 2
    assert [e["kind"] for e in record["trail"]] == ["created", "repeated", "acknowledged", "dispositioned"]
    actions = [a["action"] for a in record["audit_records"]]
    assert actions == ["alert.disposition", "alert.export"]
    manifest = json.loads(zf.read(prefix + "manifest.json"))
    assert manifest["exported_by"] == "auditor1"
    for name, meta in manifest["files"].items():
        assert hashlib.sha256(zf.read(prefix + name)).hexdigest() == meta["sha256"]
    assert AuditLog.objects.filter(action="alert.export", username="auditor1", query__alert=alert.pk).exists()


@pytest.mark.django_db
def test_an_uncleared_user_cannot_export_a_covert_alert(
    client, make_user, camera_and_token, fake_pipeline, django_capture_on_commit_callbacks
):
    _, token = camera_and_token
    entry = make_list(plate="ABC123")
    entry.hotlist.covert = True
    entry.hotlist.save()
    fake_pipeline("ABC123")
    post(client, token, django_capture_on_commit_callbacks)
    client.force_login(make_user("auditor", "uncleared"))
    assert client.get(f"/alerts/{Alert.objects.get().pk}/evidence.zip").status_code == 404
