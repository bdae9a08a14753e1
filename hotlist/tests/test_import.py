import pytest
from django.core.management import CommandError, call_command

from hotlist.importing import normalize_plate, parse_csv_bytes
from hotlist.models import Entry, Hotlist


def write(tmp_path, text: str, name="list.csv", encoding="utf-8"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return str(path)


def test_plates_are_normalised_to_upper_case_letters_and_digits():
    assert normalize_plate(" abc-12 3 ") == "ABC123"
    assert normalize_plate("7·xyz.123") == "7XYZ123"


def test_parser_reports_every_bad_row_with_its_line():
    data = (
        b"plate,state,reason,expires\n"
        b"ABC123,TX,stolen,2030-01-01\n"
        b"UNK,TX,stolen,\n"
        b"A,TX,stolen,\n"
        b"XYZ999,TX,stolen,next week\n"
        b'QQQ111,TX,"=HYPERLINK(""x"")",\n'
        b"TOO,MANY,FIELDS,HERE,X\n"
    )
    result = parse_csv_bytes(data)
    lines = {e.line: e.message for e in result.errors}
    assert set(lines) == {3, 4, 5, 6, 7}
    assert "placeholder" in lines[3]
    assert "shorter than 2" in lines[4]
    assert "expires" in lines[5]
    assert "formula" in lines[6]
    assert "expected 4 fields" in lines[7]


@pytest.mark.django_db
def test_load_hotlist_imports_a_csv_and_merges_duplicates(tmp_path, capsys):
    path = write(
        tmp_path,
        "plate,state,reason,case_number,notes,expires\n"
        "abc-123,tx,Stolen vehicle,C-1,blue sedan,2099-12-31\n"
        "ABC 123,TX,Stolen vehicle,C-1,dup,\n"
        "7XYZ123,CA,Wanted person,C-2,,\n",
    )
    call_command("load_hotlist", path, "--list", "Stolen")
    out = capsys.readouterr().out
    assert "2 added" in out and "1 duplicate" in out
    entry = Entry.objects.get(plate="ABC123")
    assert (entry.state, entry.reason, entry.case_number, entry.plate_raw) == ("TX", "Stolen vehicle", "C-1", "abc-123")
    assert entry.expires_at.year == 2100  # valid through 2099-12-31


@pytest.mark.django_db
def test_a_file_with_errors_changes_nothing(tmp_path, capsys):
    call_command("load_hotlist", write(tmp_path, "plate\nAAA111\nBBB222\n"), "--list", "L")
    bad = write(tmp_path, "plate\nCCC333\n0\n", name="bad.csv")
    with pytest.raises(CommandError, match="nothing was imported"):
        call_command("load_hotlist", bad, "--list", "L")
    assert "line 3" in capsys.readouterr().err
    assert sorted(Entry.objects.values_list("plate", flat=True)) == ["AAA111", "BBB222"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "content, message",
    [
        ("plate\nABC123\n".encode("utf-16"), "not UTF-8"),
        (b"state,reason\nTX,x\n", "'plate' column"),
        (b"plate,favourite_food\nABC123,pie\n", "unknown column"),
        (b"plate\n" + b"A" * 5000 + b"\n", "longer than 4096"),
        (b"", "empty"),
    ],
    ids=["utf16", "no-plate-column", "unknown-column", "huge-line", "empty"],
)
def test_malformed_files_get_a_clear_error_and_change_nothing(tmp_path, capsys, content, message):
    path = tmp_path / "x.csv"
    path.write_bytes(content)
    with pytest.raises(CommandError):
        call_command("load_hotlist", str(path), "--list", "L")
    assert message in capsys.readouterr().err
    assert not Hotlist.objects.exists()


@pytest.mark.django_db
def test_replace_and_append_modes(tmp_path):
    call_command("load_hotlist", write(tmp_path, "plate,reason\nAAA111,a\nBBB222,b\n"), "--list", "L")
    call_command(
        "load_hotlist",
        write(tmp_path, "plate,reason\nBBB222,b2\nCCC333,c\n", "2.csv"),
        "--list",
        "L",
        "--mode",
        "append",
    )
    assert dict(Entry.objects.values_list("plate", "reason")) == {"AAA111": "a", "BBB222": "b2", "CCC333": "c"}
    call_command("load_hotlist", write(tmp_path, "plate\nDDD444\n", "3.csv"), "--list", "L")
    assert list(Entry.objects.values_list("plate", flat=True)) == ["DDD444"]


@pytest.mark.django_db
def test_admin_upload_runs_as_a_job_showing_row_errors_or_counts(
    client, admin_user, django_capture_on_commit_callbacks
):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from hotlist.models import ImportJob

    client.force_login(admin_user)
    bad = SimpleUploadedFile("l.csv", b"plate,reason\nABC123,x\nNONE,y\n", content_type="text/csv")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/hotlists/upload/", {"list_name": "Web", "file": bad, "mode": "replace"})
    job = ImportJob.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/hotlists/imports/{job.pk}/"
    state = client.get(f"/hotlists/imports/{job.pk}/status").json()
    assert state["status"] == "rejected" and state["error_count"] == 1
    assert state["errors"][0][0] == 3 and "placeholder" in state["errors"][0][1]
    assert not Entry.objects.exists()
    good = SimpleUploadedFile("l.csv", b"plate,reason\nABC123,x\n", content_type="text/csv")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/hotlists/upload/", {"list_name": "Web", "file": good, "mode": "replace"}, HTTP_ACCEPT="application/json"
        )
    assert response.status_code == 202
    state = client.get(response.json()["status_url"]).json()
    assert state["status"] == "done" and state["counts"]["added"] == 1 and state["format"] == "csv"
    assert Entry.objects.get().hotlist.name == "Web"
    assert "Web" in client.get(f"/hotlists/imports/{state['id']}/").content.decode()


@pytest.mark.django_db
def test_replace_makes_the_list_the_file_with_the_fewest_changes(tmp_path, capsys):
    call_command("load_hotlist", write(tmp_path, "plate,reason\nAAA111,a\nBBB222,b\nCCC333,c\n"), "--list", "L")
    kept_id = Entry.objects.get(plate="AAA111").pk
    call_command(
        "load_hotlist",
        write(tmp_path, "plate,reason\nAAA111,a\nBBB222,b2\nDDD444,d\n", "2.csv"),
        "--list",
        "L",
        "--mode",
        "replace",
    )
    out = capsys.readouterr().out
    assert "1 added, 1 updated, 1 removed" in out
    assert dict(Entry.objects.values_list("plate", "reason")) == {"AAA111": "a", "BBB222": "b2", "DDD444": "d"}
    assert Entry.objects.get(plate="AAA111").pk == kept_id


@pytest.mark.django_db
def test_removed_entries_leave_their_alerts_intact(tmp_path, camera):
    from django.utils import timezone

    from alerts.models import Alert
    from recognition.tests.factories import make_read

    call_command("load_hotlist", write(tmp_path, "plate,reason\nAAA111,stolen\n"), "--list", "L")
    read = make_read(camera, "AAA111", timezone.now())
    entry = Entry.objects.get()
    Alert.objects.create(
        read=read, entry=entry, hotlist=entry.hotlist, hotlist_name="L", entry_plate="AAA111", reason="stolen"
    )
    call_command("load_hotlist", write(tmp_path, "plate\nBBB222\n", "2.csv"), "--list", "L")
    alert = Alert.objects.get()
    assert alert.entry is None and (alert.entry_plate, alert.reason) == ("AAA111", "stolen")


@pytest.mark.django_db
def test_delta_file_adds_and_removes_entries(tmp_path, capsys):
    call_command("load_hotlist", write(tmp_path, "plate,reason\nAAA111,a\nBBB222,b\nCCC333,c\n"), "--list", "L")
    call_command(
        "load_hotlist",
        write(tmp_path, "action,plate,reason\nadd,DDD444,d\nremove,BBB222,\nD,CCC333,\nA,AAA111,a2\n", "delta.csv"),
        "--list",
        "L",
        "--mode",
        "delta",
    )
    assert "1 added, 1 updated, 2 removed" in capsys.readouterr().out
    assert dict(Entry.objects.values_list("plate", "reason")) == {"AAA111": "a2", "DDD444": "d"}
    with pytest.raises(CommandError):
        call_command(
            "load_hotlist", write(tmp_path, "action,plate\nzap,AAA111\n", "bad.csv"), "--list", "L", "--mode", "delta"
        )
    assert "neither add nor remove" in capsys.readouterr().err


@pytest.mark.django_db
def test_an_upload_with_a_year_9999_or_year_1_date_is_rejected_with_its_lines(
    client, admin_user, django_capture_on_commit_callbacks
):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from hotlist.models import ImportJob

    client.force_login(admin_user)
    data = b"plate,reason,entered,expires\nABC123,x,,2030-01-01\nXYZ999,y,,9999-12-31\nQRS456,z,0001-01-01,\n"
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            "/hotlists/upload/", {"list_name": "Web", "file": SimpleUploadedFile("l.csv", data), "mode": "replace"}
        )
    job = ImportJob.objects.get()
    assert job.status == "rejected", job.errors
    assert [line for line, _ in job.errors] == [3, 4]
    assert "plausible range" in job.errors[0][1] and "plausible range" in job.errors[1][1]
    assert not Entry.objects.exists()
    assert client.get("/hotlists/").status_code == 200
