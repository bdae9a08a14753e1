"""The Celery application. Configuration comes from Django settings (CELERY_*)."""

import os

from celery import Celery
from celery.signals import worker_init

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
    except (RuntimeError, ValueError) as exc:  # SystemExit: Celery logs and swallows ordinary exceptions from signal handlers
        raise SystemExit(f"worker not started: {exc}") from None
