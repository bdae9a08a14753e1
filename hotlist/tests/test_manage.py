"""Admins edit and delete single entries and whole lists, with a reason, audited; alerts keep their copies."""

import pytest

from audit.models import AuditLog
from hotlist.models import Entry, Hotlist


@pytest.fixture
def entry(db):
    hotlist = Hotlist.objects.create(name="Stolen")
    return Entry.objects.create(
        hotlist=hotlist, plate="ABC123", plate_raw="ABC-123", state="TX", reason="Stolen vehicle", make="Ford"
    )


def edit(client, entry, **changes):
    data = {
        "plate": entry.plate,
        "state": entry.state,
        "reason": entry.reason,
        "case_number": entry.case_number,
        "make": entry.make,
        "model": entry.model,
        "colour": entry.colour,
        "vehicle_year": entry.vehicle_year,
        "expires_at": "",
        "notes": entry.notes,
        "change_reason": "Corrected from the NCIC record",
    }
    data.update(changes)
    return client.post(f"/hotlists/entries/{entry.pk}/", data)


@pytest.mark.django_db
def test_an_admin_edits_an_entry_with_a_reason_and_it_is_audited(client, admin_user, entry):
    client.force_login(admin_user)
    assert client.get(f"/hotlists/entries/{entry.pk}/").status_code == 200
    response = edit(client, entry, make="Toyota", colour="blue", plate="abc 124")
    assert response.status_code == 302
    entry.refresh_from_db()
    assert (entry.plate, entry.make, entry.colour) == ("ABC124", "Toyota", "blue")
    log = AuditLog.objects.get(action="hotlist.entry_change")
    assert log.reason == "Corrected from the NCIC record"
    assert log.query["plate"] == "ABC123" and set(log.query["changed"]) == {"plate", "make", "colour"}


@pytest.mark.django_db
def test_an_edit_without_a_reason_changes_nothing_and_keeps_what_was_typed(client, admin_user, entry):
    client.force_login(admin_user)
    response = edit(client, entry, make="Toyota", change_reason="")
    assert response.status_code == 400
    assert 'value="Toyota"' in response.content.decode()
    entry.refresh_from_db()
    assert entry.make == "Ford" and not AuditLog.objects.filter(action="hotlist.entry_change").exists()


@pytest.mark.django_db
def test_an_edit_may_not_duplicate_another_entry(client, admin_user, entry):
    Entry.objects.create(hotlist=entry.hotlist, plate="XYZ789", plate_raw="XYZ789", state="TX")
    client.force_login(admin_user)
    response = edit(client, entry, plate="XYZ789")
    assert response.status_code == 400 and "already has an entry" in response.content.decode()


@pytest.mark.django_db
def test_deleting_an_entry_needs_a_reason_and_its_alerts_keep_their_copy(client, admin_user, entry, camera):
    from alerts.tests.test_history import raise_alert

    alert = raise_alert(entry, camera, entry.created_at)
    client.force_login(admin_user)
    assert client.post(f"/hotlists/entries/{entry.pk}/delete/", {"change_reason": ""}).status_code == 400
    assert Entry.objects.filter(pk=entry.pk).exists()
    response = client.post(f"/hotlists/entries/{entry.pk}/delete/", {"change_reason": "Vehicle recovered"})
    assert response.status_code == 302
    assert not Entry.objects.filter(pk=entry.pk).exists()
    alert.refresh_from_db()
    assert alert.entry is None and alert.entry_plate == "ABC123" and alert.vehicle == "Ford"
    log = AuditLog.objects.get(action="hotlist.entry_delete")
    assert log.reason == "Vehicle recovered" and log.query["plate"] == "ABC123"


@pytest.mark.django_db
def test_deleting_a_list_needs_its_name_and_a_reason(client, admin_user, entry, camera):
    from alerts.tests.test_history import raise_alert

    alert = raise_alert(entry, camera, entry.created_at)
    hotlist = entry.hotlist
    client.force_login(admin_user)
    assert client.get(f"/hotlists/{hotlist.pk}/delete/").status_code == 200
    wrong = client.post(f"/hotlists/{hotlist.pk}/delete/", {"confirm": "Stolen!", "change_reason": "Retired list"})
    assert wrong.status_code == 400 and Hotlist.objects.filter(pk=hotlist.pk).exists()
    ok = client.post(f"/hotlists/{hotlist.pk}/delete/", {"confirm": "Stolen", "change_reason": "Retired list"})
    assert ok.status_code == 302
    assert not Hotlist.objects.exists() and not Entry.objects.exists()
    alert.refresh_from_db()
    assert alert.hotlist is None and alert.hotlist_name == "Stolen"
    log = AuditLog.objects.get(action="hotlist.delete")
    assert log.reason == "Retired list" and log.result_count == 1


@pytest.mark.django_db
def test_a_deleted_entry_no_longer_matches(entry, camera, settings):
    from hotlist.matcher import match_candidates
    from hotlist.services import do_delete_entry

    assert match_candidates([("ABC123", 0.9)])
    do_delete_entry(entry)
    assert not match_candidates([("ABC123", 0.9)])


@pytest.mark.django_db
def test_officers_and_auditors_cannot_change_lists(client, officer, auditor, entry):
    for user in (officer, auditor):
        client.force_login(user)
        assert edit(client, entry, make="X").status_code == 403
        assert client.post(f"/hotlists/entries/{entry.pk}/delete/", {"change_reason": "nope nope"}).status_code == 403
        assert (
            client.post(
                f"/hotlists/{entry.hotlist_id}/delete/", {"confirm": "Stolen", "change_reason": "nope nope"}
            ).status_code
            == 403
        )
    assert Entry.objects.filter(pk=entry.pk, make="Ford").exists()


def upload(client, capture, content: bytes, **fields):
    from django.core.files.uploadedfile import SimpleUploadedFile

    data = {"file": SimpleUploadedFile("l.csv", content, content_type="text/csv"), "mode": "replace", **fields}
    with capture(execute=True):
        return client.post("/hotlists/upload/", data)


@pytest.mark.django_db
def test_an_upload_that_would_remove_entries_asks_first_and_changes_nothing_until_confirmed(
    client, admin_user, entry, django_capture_on_commit_callbacks
):
    from hotlist.models import ImportJob

    Entry.objects.create(hotlist=entry.hotlist, plate="XYZ789", plate_raw="XYZ789", state="TX")
    client.force_login(admin_user)
    response = upload(
        client, django_capture_on_commit_callbacks, b"plate,state,reason\nNEW111,TX,Stolen\n", hotlist=entry.hotlist.pk
    )
    job = ImportJob.objects.get()
    assert response.status_code == 302
    state = client.get(f"/hotlists/imports/{job.pk}/status").json()
    assert state["status"] == "awaiting"
    assert (state["counts"]["added"], state["counts"]["removed"]) == (1, 2)
    assert sorted(Entry.objects.values_list("plate", flat=True)) == ["ABC123", "XYZ789"]  # nothing written yet
    # A confirmation for another count (the page was stale) does nothing.
    client.post(state["confirm_url"], {"removals": "1"})
    assert ImportJob.objects.get().status == "awaiting"
    with django_capture_on_commit_callbacks(execute=True):
        client.post(state["confirm_url"], {"removals": "2"})
    job.refresh_from_db()
    assert job.status == "done" and job.counts["removed"] == 2
    assert list(Entry.objects.values_list("plate", flat=True)) == ["NEW111"]
    assert AuditLog.objects.filter(action="hotlist.import_confirm", query__removed=2).exists()


@pytest.mark.django_db
def test_a_cancelled_import_leaves_the_list_alone(client, admin_user, entry, django_capture_on_commit_callbacks):
    from hotlist.models import ImportJob

    client.force_login(admin_user)
    upload(
        client, django_capture_on_commit_callbacks, b"plate,state,reason\nNEW111,TX,Stolen\n", hotlist=entry.hotlist.pk
    )
    job = ImportJob.objects.get()
    client.post(f"/hotlists/imports/{job.pk}/cancel/")
    job.refresh_from_db()
    assert job.status == "cancelled"
    assert list(Entry.objects.values_list("plate", flat=True)) == ["ABC123"]


@pytest.mark.django_db
def test_an_upload_that_only_adds_runs_at_once(client, admin_user, entry, django_capture_on_commit_callbacks):
    from hotlist.models import ImportJob

    client.force_login(admin_user)
    upload(
        client,
        django_capture_on_commit_callbacks,
        b"plate,state,reason\nABC123,TX,Stolen vehicle\nNEW111,TX,x\n",
        hotlist=entry.hotlist.pk,
    )
    assert ImportJob.objects.get().status == "done"
    assert Entry.objects.count() == 2


@pytest.mark.django_db
def test_a_typo_in_a_list_name_does_not_create_a_list(client, admin_user, entry, django_capture_on_commit_callbacks):
    client.force_login(admin_user)
    taken = upload(client, django_capture_on_commit_callbacks, b"plate\nNEW111\n", list_name="stolen")
    assert taken.status_code == 400 and "exists already" in taken.content.decode()
    neither = upload(client, django_capture_on_commit_callbacks, b"plate\nNEW111\n")
    assert neither.status_code == 400 and "Pick the list" in neither.content.decode()
    both = upload(
        client, django_capture_on_commit_callbacks, b"plate\nNEW111\n", list_name="Other", hotlist=entry.hotlist.pk
    )
    assert both.status_code == 400
    assert Hotlist.objects.count() == 1
    created = upload(client, django_capture_on_commit_callbacks, b"plate\nNEW111\n", list_name="Wanted persons")
    assert created.status_code == 302 and Hotlist.objects.filter(name="Wanted persons").exists()


@pytest.mark.django_db
def test_officers_see_and_cancel_the_bolos_they_entered(client, officer, make_user, django_capture_on_commit_callbacks):
    from datetime import timedelta

    from django.utils import timezone

    other = make_user("officer", "officer2")
    expires = (timezone.localtime() + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    for user, plate in ((officer, "MINE1"), (other, "THEIRS1")):
        client.force_login(user)
        with django_capture_on_commit_callbacks(execute=True):
            assert (
                client.post(
                    "/hotlists/bolo/", {"plate": plate, "reason": "Armed robbery", "expires": expires}
                ).status_code
                == 201
            )
    client.force_login(officer)
    page = client.get("/hotlists/bolo/mine/")
    assert [e.plate for e in page.context["entries"]] == ["MINE1"]
    theirs = Entry.objects.get(plate="THEIRS1")
    assert client.post(f"/hotlists/bolo/{theirs.pk}/cancel/").status_code == 404
    mine = Entry.objects.get(plate="MINE1")
    assert client.post(f"/hotlists/bolo/{mine.pk}/cancel/").status_code == 302
    assert list(Entry.objects.values_list("plate", flat=True)) == ["THEIRS1"]
    assert AuditLog.objects.filter(action="hotlist.bolo_cancel", username="officer1", query__plate="MINE1").exists()
