"""Celery beat as deployed, on its real schedule, with a real worker: the periodic jobs run.

The schedule's intervals come from settings (FRAME_REQUEUE_INTERVAL_SECONDS, CAMERA_HEALTH_INTERVAL_SECONDS),
shortened here through the environment; the entries, tasks and options are the deployed ones.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
from datetime import timedelta

import pytest

from benchmarks import worker_command
from conftest import png_bytes, require
from tests.conftest import Proc, free_port, stack_env, start_beat

pytestmark = [pytest.mark.stack]


@pytest.fixture
def beat_env(django_db_setup, django_db_blocker, transactional_db):
    import os

    from django.conf import settings

    require(
        bool(os.environ.get("DATABASE_URL")) and settings.DATABASES["default"]["ENGINE"].endswith("postgresql"),
        "DATABASE_URL (PostgreSQL) is not set",
    )
    require(bool(os.environ.get("REDIS_URL")), "REDIS_URL is not set")
    var_dir = tempfile.mkdtemp(prefix="alpr-beat-")
    env = stack_env(
        var_dir,
        f"beat-{free_port()}",
        ALPR_THREADS="1",
        FRAME_REQUEUE_INTERVAL_SECONDS="3",
        CAMERA_HEALTH_INTERVAL_SECONDS="3",
    )
    yield var_dir, env
    shutil.rmtree(var_dir, ignore_errors=True)


def _stored_frame(camera, media_root: str, received_ago: timedelta):
    """A frame accepted earlier whose task never reached a worker (e.g. the broker was down)."""
    from django.core.files.base import ContentFile
    from django.core.files.storage import FileSystemStorage
    from django.utils import timezone

    from cameras.models import Frame

    name = FileSystemStorage(location=media_root).save("frames/lost.png", ContentFile(png_bytes()))
    frame = Frame.objects.create(
        camera=camera, image=name, content_type="image/png", width=64, height=48, captured_at=timezone.now()
    )
    Frame.objects.filter(pk=frame.pk).update(received_at=timezone.now() - received_ago)
    return frame


def test_beat_requeues_a_lost_frame_and_checks_camera_health_on_its_own(beat_env):
    from django.utils import timezone

    from cameras.models import CameraIncident, Frame
    from cameras.services import do_create_camera

    var_dir, env = beat_env
    camera, _ = do_create_camera(name="Beat camera", region="us")
    from cameras.models import Camera

    # Silent for an hour past its 10-minute limit: the health job must open an incident.
    Camera.objects.filter(pk=camera.pk).update(last_frame_at=timezone.now() - timedelta(hours=1))
    frame = _stored_frame(camera, env["MEDIA_ROOT"], timedelta(minutes=5))
    worker = Proc(
        "celery worker",
        worker_command(f"beat-{free_port()}@%h"),
        env,
    )
    beat = start_beat(env, var_dir)
    procs = [worker, beat]

    def logs():
        return "\n".join(p.tail(60) for p in procs)

    try:
        assert worker.wait_for_line("ready.", 120), "the worker did not start\n" + logs()
        deadline = time.monotonic() + 60
        status = None
        while time.monotonic() < deadline:
            status = Frame.objects.get(pk=frame.pk).status
            if status == Frame.Status.DONE and CameraIncident.objects.filter(camera=camera).exists():
                break
            time.sleep(0.5)
        sent = [line for line in beat.lines if "Sending due task" in line]
        assert status == Frame.Status.DONE, f"the lost frame was not requeued by beat: {status}\n{logs()}"
        assert CameraIncident.objects.filter(camera=camera).exists(), "camera-health never ran\n" + logs()
        assert any("requeue-stale-frames" in line for line in sent), logs()
        assert not any("SchedulingError" in line or "soft_time_limit" in line for line in beat.lines), logs()
        assert any("recognition.requeue_stale_frames" in line and "succeeded" in line for line in worker.lines), logs()
    finally:
        for proc in procs:
            proc.stop()
