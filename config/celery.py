"""The Celery application. Configuration comes from Django settings (CELERY_*).

A Django system check (``celery.E001``-``E003``; ``manage.py check`` and ``migrate``, which the web
container runs before Daphne, stop on it) refuses task options that Celery would only reject when a
task is sent: a soft time limit above the hard one makes every ``delay()`` of that task, and every
beat run of it, fail.
"""

from __future__ import annotations

import importlib
import importlib.util
import os

from celery import Celery
from celery.signals import worker_init
from django.core import checks

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("alpr")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_init.connect
def _refuse_without_vision_packages(**_kwargs) -> None:
    """A worker whose settings choose an engine that is not installed (EasyOCR, the
    ultralytics detector) or a model file not made yet stops here, saying what to install."""
    from recognition.vision import installed

    try:
        installed.check()
    except (
        RuntimeError,
        ValueError,
    ) as exc:  # SystemExit: Celery logs and swallows ordinary exceptions from signal handlers
        raise SystemExit(f"worker not started: {exc}") from None


def task_limit_errors(celery_app: Celery) -> list[checks.CheckMessage]:
    """Every registered task and beat entry checked as Celery checks them when sending."""
    from django.apps import apps

    for config in apps.get_app_configs():  # what autodiscover_tasks imports (not through its signal: the
        if importlib.util.find_spec(f"{config.name}.tasks"):  # worker's own start runs these checks from it)
            importlib.import_module(f"{config.name}.tasks")
    errors: list[checks.CheckMessage] = []
    for name, task in sorted(celery_app.tasks.items()):
        if name.startswith("celery."):
            continue
        soft, hard = task.soft_time_limit, task.time_limit
        if soft and hard and soft > hard:
            errors.append(
                checks.Error(
                    f"Task {name}: soft_time_limit {soft} s is above its time_limit {hard} s, so Celery refuses to "
                    f"send it (beat logs a SchedulingError on every run).",
                    hint="Give the task a soft_time_limit below its time_limit (or raise the time_limit).",
                    id="celery.E001",
                )
            )
    for entry_name, entry in sorted((celery_app.conf.beat_schedule or {}).items()):
        task = celery_app.tasks.get(entry.get("task", ""))
        if task is None:
            errors.append(
                checks.Error(
                    f"Beat entry {entry_name!r} names the unknown task {entry.get('task')!r}.",
                    hint="Use the name given in @shared_task(name=...).",
                    id="celery.E002",
                )
            )
            continue
        options = entry.get("options") or {}
        soft = options.get("soft_time_limit", task.soft_time_limit)
        hard = options.get("time_limit", task.time_limit)
        overrides = "soft_time_limit" in options or "time_limit" in options  # else reported for the task
        if overrides and soft and hard and soft > hard:
            errors.append(
                checks.Error(
                    f"Beat entry {entry_name!r}: soft_time_limit {soft} s above time_limit {hard} s.",
                    hint="Fix the entry's options or the task's limits.",
                    id="celery.E001",
                )
            )
        schedule = entry.get("schedule")
        if isinstance(schedule, (int, float)) and schedule <= 0:
            errors.append(
                checks.Error(
                    f"Beat entry {entry_name!r} has the schedule {schedule!r}.",
                    hint="Use a positive number of seconds.",
                    id="celery.E003",
                )
            )
    return errors


@checks.register("celery")
def check_celery_tasks(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    return task_limit_errors(app)
