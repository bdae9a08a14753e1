"""Frames, thumbnails, crops and uploaded videos in an S3-compatible object store (a real SeaweedFS on
loopback, started by the ``object_store`` fixture), and evidence still served only after the role check."""

from __future__ import annotations

import time
import urllib.error
import urllib.request
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone

from config.storage import media_storage
from conftest import bucket_keys, png_bytes


def push_frame(client, token, captured_at=None):
    from django.core.files.uploadedfile import SimpleUploadedFile

    data = {"image": SimpleUploadedFile("f.png", png_bytes(320, 240), "image/png")}
    if captured_at is not None:
        data["captured_at"] = captured_at.isoformat()
    return client.post("/api/frames/", data, HTTP_AUTHORIZATION=f"Token {token}")


def local_files(settings) -> list[Path]:
    return [p for p in Path(settings.MEDIA_ROOT).rglob("*") if p.is_file()]


def test_media_stay_on_local_disk_unless_a_bucket_is_set():
    assert media_storage({})["BACKEND"] == "django.core.files.storage.FileSystemStorage"
    s3 = media_storage(
        {
            "S3_BUCKET": "evidence",
            "S3_ENDPOINT_URL": "http://store:8333",
            "S3_ACCESS_KEY_ID": "k",
            "S3_SECRET_ACCESS_KEY": "s",
        }
    )
    assert s3["BACKEND"] == "config.storage.ObjectStorage"
    options = s3["OPTIONS"]
    assert options["bucket_name"] == "evidence" and options["endpoint_url"] == "http://store:8333"
    assert options["default_acl"] is None and options["querystring_auth"] is True
    assert options["querystring_expire"] <= 60 and options["file_overwrite"] is False


@pytest.mark.parametrize(
    "environ, message",
    [
        ({"S3_ENDPOINT_URL": "http://store:8333"}, "without S3_BUCKET"),
        ({"S3_BUCKET": "b", "S3_ACCESS_KEY_ID": "k"}, "go together"),
        ({"S3_BUCKET": "b", "S3_ENDPOINT_URL": "store:8333"}, "http:// or https://"),
    ],
)
def test_a_partial_object_store_setup_is_refused_with_a_clear_message(environ, message):
    with pytest.raises(ImproperlyConfigured, match=message):
        media_storage(environ)


@pytest.mark.django_db
def test_frames_thumbnails_and_crops_go_to_the_bucket_not_to_local_disk(
    s3_media, settings, client, camera_and_token, fake_pipeline, django_capture_on_commit_callbacks
):
    from cameras.models import Frame

    _, token = camera_and_token
    fake_pipeline("ABC123", "XYZ789")
    with django_capture_on_commit_callbacks(execute=True):
        response = push_frame(client, token)
    assert response.status_code == 202, response.content
    frame = Frame.objects.get(pk=response.json()["frame"])
    assert frame.status == Frame.Status.DONE, frame.error  # the worker read the frame back from the bucket
    crops = sorted(frame.reads.values_list("crop", flat=True))
    assert sorted(bucket_keys(s3_media)) == sorted([frame.image.name, frame.thumbnail.name, *crops])
    assert frame.image.name.startswith("frames/") and frame.thumbnail.name.startswith("thumbs/")
    assert all(name.startswith("crops/") for name in crops) and len(crops) == 2
    assert local_files(settings) == []
    body = s3_media.client().get_object(Bucket=s3_media.bucket, Key=frame.image.name)["Body"].read()
    assert body == png_bytes(320, 240)


@pytest.mark.django_db
def test_evidence_in_the_bucket_is_streamed_only_to_users_with_a_role(
    s3_media, client, make_user, officer, camera_and_token, fake_pipeline, django_capture_on_commit_callbacks
):
    from django.contrib.auth import get_user_model

    from recognition.models import Read

    _, token = camera_and_token
    fake_pipeline("ABC123")
    with django_capture_on_commit_callbacks(execute=True):
        push_frame(client, token)
    crop = Read.objects.get().crop.name
    stored = s3_media.client().get_object(Bucket=s3_media.bucket, Key=crop)["Body"].read()

    anonymous = client.get(f"/media/{crop}")
    assert anonymous.status_code == 302 and "/login/" in anonymous["Location"]
    nobody = get_user_model().objects.create_user("norole", password="x" * 12)
    client.force_login(nobody)
    assert client.get(f"/media/{crop}").status_code == 403
    client.force_login(officer)
    response = client.get(f"/media/{crop}")
    assert response.status_code == 200 and response["Content-Type"] == "image/jpeg"
    assert b"".join(response.streaming_content) == stored  # streamed by the app: no redirect, no signed link
    assert client.get("/media/crops/2026/01/01/missing.jpg").status_code == 404


def test_the_bucket_refuses_anyone_without_the_keys(object_store):
    client = object_store.client()
    client.put_object(Bucket=object_store.bucket, Key="frames/probe.jpg", Body=b"evidence")
    try:
        for url in (
            f"{object_store.endpoint}/{object_store.bucket}/frames/probe.jpg",
            f"{object_store.endpoint}/{object_store.bucket}/",
        ):
            with pytest.raises(urllib.error.HTTPError) as refused:
                urllib.request.urlopen(url, timeout=5)
            assert refused.value.code == 403, url
    finally:
        client.delete_object(Bucket=object_store.bucket, Key="frames/probe.jpg")


@pytest.mark.django_db
def test_retention_deletes_the_objects_of_purged_reads_and_frames(
    s3_media, client, camera_and_token, fake_pipeline, django_capture_on_commit_callbacks, settings
):
    from oversight.retention import purge

    settings.ALPR_CAPTURED_AT_PAST_DAYS = 3650  # a frame from a camera whose backlog reaches back 400 days
    from cameras.models import Frame

    _, token = camera_and_token
    fake_pipeline("OLD111")
    with django_capture_on_commit_callbacks(execute=True):
        old = push_frame(client, token, captured_at=timezone.now() - timedelta(days=400)).json()["frame"]
    fake_pipeline("NEW222")
    with django_capture_on_commit_callbacks(execute=True):
        new = push_frame(client, token).json()["frame"]
    Frame.objects.filter(pk=old).update(received_at=timezone.now() - timedelta(days=400))
    new_frame = Frame.objects.get(pk=new)
    kept = sorted([new_frame.image.name, new_frame.thumbnail.name, *new_frame.reads.values_list("crop", flat=True)])
    assert len(bucket_keys(s3_media)) == 6

    counts = purge()
    assert counts["files_deleted"] == 3
    assert bucket_keys(s3_media) == kept


@pytest.mark.django_db
def test_ensure_bucket_creates_a_missing_bucket(object_store, settings):
    from django.core.management import call_command

    env = {**object_store.env, "S3_BUCKET": f"alpr-new-{int(time.time())}"}
    settings.STORAGES = {**settings.STORAGES, "default": media_storage(env)}
    client = object_store.client()
    call_command("ensure_bucket")
    assert env["S3_BUCKET"] in {b["Name"] for b in client.list_buckets()["Buckets"]}
    call_command("ensure_bucket")  # a second run finds it
    client.delete_bucket(Bucket=env["S3_BUCKET"])


@pytest.mark.django_db(transaction=True)
def test_an_uploaded_video_kept_in_the_bucket_is_read_from_a_local_copy(
    s3_media, settings, client, admin_user, fake_pipeline, tmp_path
):
    import cv2
    import numpy as np
    from django.core.files.uploadedfile import SimpleUploadedFile

    from cameras.models import Camera, Frame
    from cameras.readers import Reader, SourceConfig

    video = tmp_path / "pass.avi"
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"MJPG"), 4, (320, 240))
    for i in range(4):
        writer.write(np.full((240, 320, 3), 40 * i, np.uint8))
    writer.release()
    client.force_login(admin_user)
    response = client.post(
        "/cameras/new/",
        {
            "name": "Lot C video",
            "region": "us",
            "enabled": "on",
            "source": "file",
            "sample_fps": 4,
            "silence_minutes": 0,
            "masks": "[]",
            "source_file": SimpleUploadedFile("pass.avi", video.read_bytes(), content_type="video/x-msvideo"),
        },
    )
    assert response.status_code == 200, response.content.decode()[:2000]
    camera = Camera.objects.get(name="Lot C video")
    assert camera.source_file.name in bucket_keys(s3_media) and camera.source_file.name.startswith("sources/")
    assert local_files(settings) == []

    fake_pipeline("VID123")
    config = SourceConfig.of(camera)
    assert config.stored and config.location == camera.source_file.name
    reader = Reader(config)
    reader.start()
    reader.join(60)
    assert not reader.is_alive() and reader.errors == 0, reader.last_error
    assert reader.submitted >= 2
    assert Frame.objects.filter(camera=camera, status=Frame.Status.DONE).count() == reader.submitted
    assert reader._copy is not None and not Path(reader._copy).exists()  # the temporary copy is gone
    assert local_files(settings) == []


@pytest.mark.django_db
def test_every_thread_shares_one_object_store_connection(s3_media):
    """Daphne runs each request in a new thread: a boto3 session per thread would cost each upload ~180 ms."""
    import threading

    from django.core.files.storage import default_storage

    seen = []
    threads = [threading.Thread(target=lambda: seen.append(default_storage.connection)) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len({id(c) for c in seen}) == 1 and seen[0] is default_storage.connection


@pytest.mark.django_db
def test_evidence_is_written_and_read_in_single_requests(s3_media, monkeypatch):
    """A frame, thumbnail or crop is one PutObject (uuid names need no existence check) and one GetObject
    to read: the managed transfers cost several times the CPU of the request itself on every frame."""
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage

    client = default_storage.connection.meta.client
    calls = []
    client.meta.events.register("before-call.s3.*", lambda model, **kw: calls.append(model.name))
    name = default_storage.save("crops/2026/01/01/0123456789abcdef0123456789abcdef.jpg", ContentFile(b"crop" * 100))
    with default_storage.open(name) as handle:
        assert handle.read() == b"crop" * 100
    assert calls == ["PutObject", "GetObject"]
    calls.clear()
    other = default_storage.save("sources/pass.avi", ContentFile(b"video"))
    assert default_storage.save("sources/pass.avi", ContentFile(b"other video")) != other  # never overwritten
    assert calls.count("HeadObject") >= 2


@pytest.mark.django_db
def test_the_audit_checkpoint_in_the_bucket_is_never_served_as_media(
    s3_media, client, admin_user, django_capture_on_commit_callbacks
):
    from audit.services import append

    with django_capture_on_commit_callbacks(execute=True):
        append(action="search.reads", username="auditor1")
    key = "audit/checkpoint/head-00000000000000000001.json"
    assert key in bucket_keys(s3_media)
    client.force_login(admin_user)
    for path in (key, f"frames/../{key}", f"crops/2026/../../{key}", "audit/", f"/{key}"):
        response = client.get(f"/media/{path}")
        assert response.status_code == 404, path
