"""The Celery configuration as deployed: every task and beat entry can be sent (config/celery.py's check)."""

from __future__ import annotations

import pytest
from celery import Celery


def test_every_task_and_beat_entry_passes_the_celery_check():
    from config.celery import app, task_limit_errors

    assert task_limit_errors(app) == []
    assert {"recognition.requeue_stale_frames", "cameras.check_health", "audit.purge_retention"} <= set(app.tasks)


def test_the_check_reports_a_task_whose_soft_limit_is_above_its_hard_limit():
    from config.celery import task_limit_errors

    other = Celery("limits-check", set_as_current=False)
    other.conf.task_soft_time_limit = 90
    other.conf.beat_schedule = {
        "job": {"task": "job", "schedule": 60.0},
        "ghost": {"task": "no.such.task", "schedule": 60.0},
    }

    @other.task(name="job", time_limit=60)
    def job():
        return None

    # (the project's shared tasks register with this app too, under its 90 s soft limit: they pass)
    ids = sorted(e.id for e in task_limit_errors(other))
    assert ids == ["celery.E001", "celery.E002"]


def test_django_check_command_runs_the_celery_check():
    from django.core import checks

    assert "celery" in checks.registry.registry.tags_available()
    assert checks.run_checks(tags=["celery"]) == []


@pytest.mark.django_db
def test_scheduled_tasks_can_be_sent_as_beat_sends_them():
    """apply_async is what beat calls; Celery refuses it when the limits are inconsistent."""
    from django.conf import settings

    from config.celery import app

    app.loader.import_default_modules()
    for entry in settings.CELERY_BEAT_SCHEDULE.values():
        if entry["task"] == "audit.purge_retention":
            continue  # a full retention run; its limits are checked above
        app.tasks[entry["task"]].apply_async()  # eager in the unit tests: runs here


@pytest.mark.django_db
def test_requeue_sends_a_stale_frame_once_per_lost_after_window(camera, monkeypatch):
    from datetime import timedelta

    from django.core.cache import cache
    from django.core.files.base import ContentFile
    from django.utils import timezone

    from cameras.models import Frame
    from conftest import png_bytes
    from recognition import tasks

    frame = Frame(camera=camera, content_type="image/png", width=1, height=1, captured_at=timezone.now())
    frame.image.save("x.png", ContentFile(png_bytes()), save=False)
    frame.save()
    Frame.objects.filter(pk=frame.pk).update(received_at=timezone.now() - timedelta(minutes=5))
    sent = []
    monkeypatch.setattr(tasks.process_frame, "delay", lambda frame_id: sent.append(frame_id))
    cache.clear()
    assert tasks.requeue_stale_frames() == 1
    assert tasks.requeue_stale_frames() == 0  # already sent within the window: no second copy
    cache.clear()  # the window has passed (the marker expired): it is sent again
    assert tasks.requeue_stale_frames() == 1
    assert sent == [frame.pk, frame.pk]
