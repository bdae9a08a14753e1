from datetime import UTC, datetime, timezone

import pytest

from audit.models import AuditLog
from audit.tests.helpers import token
from cameras.models import Frame
from cameras.services import do_create_camera
from oversight.search import plate_filter
from recognition.models import Read
from recognition.tests.factories import make_read


def t(hour):
    return datetime(2026, 11, 20, hour, 0, tzinfo=UTC)


@pytest.fixture
def reads(camera):
    other, _ = do_create_camera(name="Other")
    make_read(camera, "ABC123", t(8))
    make_read(camera, "ABC124", t(9))
    make_read(camera, "XABC12", t(10))
    make_read(other, "ABC123", t(11))
    return camera, other


def test_wildcards_translate_to_queries():
    assert plate_filter("abc-123") == {"text": "ABC123"}
    assert plate_filter("ABC*") == {"text__startswith": "ABC"}
    assert plate_filter("A?C*3") == {"text__regex": "^A.C.*3$"}
    with pytest.raises(ValueError):
        plate_filter("AB%")


@pytest.mark.django_db
@pytest.mark.parametrize(
    "query, expected",
    [
        ({"plate": "ABC123"}, ["ABC123", "ABC123"]),
        ({"plate": "ABC12?"}, ["ABC123", "ABC124", "ABC123"]),
        ({"plate": "*ABC12*"}, ["ABC123", "ABC124", "XABC12", "ABC123"]),
        ({"plate": "ABC*", "start": "2026-11-20T08:30", "end": "2026-11-20T10:30"}, ["ABC124"]),
    ],
)
def test_auditor_search_finds_reads_and_is_logged_with_its_reason(client, auditor, reads, query, expected):
    client.force_login(auditor)
    response = client.get(
        "/audit/reads/", {**token(client), **query, "reason": "Case 26-1182 stolen car", "case_number": "26-1182"}
    )
    assert response.status_code == 200
    found = [r.text for r in response.context["results"]]
    assert sorted(found) == sorted(expected)
    log = AuditLog.objects.get(action="search.reads")
    assert (log.username, log.reason, log.result_count, log.query["plate"]) == (
        "auditor1",
        "Case 26-1182 stolen car",
        len(expected),
        query["plate"],
    )


@pytest.mark.django_db
def test_search_by_camera(client, auditor, reads):
    _camera, other = reads
    client.force_login(auditor)
    response = client.get(
        "/audit/reads/", {**token(client), "camera": other.pk, "reason": "routine audit", "case_number": "AUD-1"}
    )
    assert [r.camera_id for r in response.context["results"]] == [other.pk]


@pytest.mark.django_db
def test_a_search_without_reason_is_refused_and_not_run(client, auditor, reads):
    client.force_login(auditor)
    response = client.get("/audit/reads/", {**token(client), "plate": "ABC123", "reason": ""})
    assert response.status_code == 200
    assert response.context["results"] is None
    assert "reason" in response.context["form"].errors
    assert not AuditLog.objects.filter(action="search.reads").exists()


@pytest.mark.django_db
def test_auditors_list_the_audit_log(client, auditor, reads):
    client.force_login(auditor)
    client.get("/audit/reads/", {**token(client), "plate": "ABC*", "reason": "checking a tip", "case_number": "T-9"})
    page = client.get("/audit/log/", {**token(client), "action": "search.reads"})
    assert "checking a tip" in page.content.decode()


@pytest.mark.django_db
def test_admin_changes_are_in_the_audit_log(client, admin_user, tmp_path, django_capture_on_commit_callbacks):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.force_login(admin_user)
    client.post("/cameras/new/", {"name": "Gate", "region": "us", "enabled": "on", "silence_minutes": 10})
    client.post("/users/new/", {"username": "carol", "role": "auditor", "password": "a-long-unusual-pass"})
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            "/hotlists/upload/",
            {"list_name": "L", "mode": "replace", "file": SimpleUploadedFile("l.csv", b"plate\nABC123\n", "text/csv")},
        )
    actions = set(AuditLog.objects.filter(username="admin1").values_list("action", flat=True))
    assert AuditLog.objects.get(action="hotlist.import").username == "admin1"
    assert {"camera.create", "user.create", "hotlist.import"} <= actions
    record = AuditLog.objects.get(action="hotlist.import")
    assert record.query["list"] == "L" and record.query["added"] == 1
