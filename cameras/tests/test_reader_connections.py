"""A camera reader thread gives its database connection back after each frame, so one readers process
with more cameras than its pool's connections never waits for one."""

from __future__ import annotations

import threading

import pytest

from conftest import png_bytes, require


@pytest.mark.django_db(transaction=True)
def test_a_reader_thread_holds_no_database_connection_between_frames(camera, fake_pipeline):
    from django.db import connection

    from cameras.readers import submit

    require(
        connection.vendor == "postgresql",
        "DATABASE_URL (PostgreSQL) is not set (SQLite's test database is in memory and never closed)",
    )
    fake_pipeline()
    seen = {}

    def read_one_frame():
        seen["frame"] = submit(camera.pk, data=png_bytes())
        seen["still_open"] = connection.connection is not None

    thread = threading.Thread(target=read_one_frame)
    thread.start()
    thread.join(60)
    from cameras.models import Frame

    assert Frame.objects.get(pk=seen["frame"]).camera_id == camera.pk
    assert seen["still_open"] is False
