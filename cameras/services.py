"""State changes of cameras and frames."""

from __future__ import annotations

import logging
import secrets
import uuid
from datetime import datetime
from typing import Any

from celery import Task, current_app
from django.core.files.base import ContentFile
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from config.commit import after_commit

from .ingest import ImageInfo
from .models import Camera, Frame, hash_token

log = logging.getLogger(__name__)
IDEMPOTENCY_LOCK = 0x1D3  # first key of the advisory locks that serialise uploads with one Idempotency-Key


def new_token() -> str:
    return secrets.token_urlsafe(32)


@transaction.atomic
def do_create_camera(
    *,
    name: str,
    region: str = "us",
    location: str = "",
    latitude: float | None = None,
    longitude: float | None = None,
    enabled: bool = True,
    **settings: Any,
) -> tuple[Camera, str]:
    """Create a camera; returns it with its token, which is shown once and stored only as a hash.
    ``settings``: further Camera fields (e.g. silence_minutes)."""
    token = new_token()
    camera = Camera(
        name=name,
        region=region,
        location=location,
        latitude=latitude,
        longitude=longitude,
        enabled=enabled,
        token_hash=hash_token(token),
        token_hint=token[:6],
        **settings,
    )
    camera.full_clean()
    camera.save()
    return camera, token


def do_rotate_token(camera: Camera) -> str:
    token = new_token()
    camera.token_hash = hash_token(token)
    camera.token_hint = token[:6]
    camera.save(update_fields=["token_hash", "token_hint"])
    return token


def camera_for_token(token: str) -> Camera | None:
    return Camera.objects.filter(token_hash=hash_token(token)).first()


def _eager() -> bool:
    from django.conf import settings

    return bool(getattr(settings, "CELERY_TASK_ALWAYS_EAGER", False))


def _process_frame_task() -> Task:
    """recognition's task, found by its name in Celery's registry: recognition is above cameras, so
    cameras knows the task's name (the message it sends), not its module."""
    return current_app.tasks["recognition.process_frame"]


def enqueue_frame(frame_id: int) -> bool:
    """Hand a stored frame to the workers. If the broker is away the frame stays queued in the
    database, and beat's requeue_stale_frames sends it once the broker is back: nothing is lost."""
    process_frame = _process_frame_task()
    if _eager():  # the demo: run it here, and let errors show
        process_frame.delay(frame_id)
        return True
    try:
        process_frame.apply_async(
            (frame_id,),
            retry=True,
            retry_policy={"max_retries": 1, "interval_start": 0.2, "interval_step": 0.2, "interval_max": 0.5},
        )
        return True
    except Exception as exc:
        log.warning("frame %s stored but not enqueued (%s); it will be requeued", frame_id, exc)
        return False


def frame_for_key(camera: Camera, key: str) -> Frame | None:
    return Frame.objects.filter(camera=camera, idempotency_key=key).first() if key else None


class IdempotencyConflict(Exception):
    """An Idempotency-Key the camera already used for a different image."""

    def __init__(self, frame: Frame) -> None:
        super().__init__(f"Idempotency-Key already used for frame {frame.pk} with a different image")
        self.frame = frame


def _same_image(frame: Frame, data: bytes) -> bool:
    try:
        with frame.image.open("rb") as fh:
            return fh.read() == data
    except Exception:
        log.warning("frame %s: stored image unreadable; a repeated Idempotency-Key is taken as a retry", frame.pk)
        return True


def _repeat(existing: Frame, data: bytes) -> tuple[Frame, bool]:
    if not _same_image(existing, data):
        raise IdempotencyConflict(existing)
    return existing, False


def do_accept_frame(
    camera: Camera, data: bytes, info: ImageInfo, captured_at: datetime, *, idempotency_key: str = ""
) -> tuple[Frame, bool]:
    """Store a validated frame and enqueue its recognition once the row is committed.

    Returns (frame, created): with an idempotency key already used by this camera, the frame stored
    the first time is returned and nothing is stored again; if that key came with a different image,
    :class:`IdempotencyConflict` is raised (the second image would otherwise be silently dropped).
    """
    existing = frame_for_key(camera, idempotency_key)
    if existing is not None:
        return _repeat(existing, data)
    if idempotency_key and connection.vendor == "postgresql":
        # Frames are partitioned by capture day there, and a partitioned table cannot hold a unique index
        # without its capture time (which a retry may not repeat): concurrent uploads with one key take
        # turns on a lock of that key, and the second finds the first's frame.
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT pg_advisory_xact_lock(%s, hashtext(%s))",
                    [IDEMPOTENCY_LOCK, f"{camera.pk}:{idempotency_key}"],
                )
            existing = frame_for_key(camera, idempotency_key)
            if existing is not None:
                return _repeat(existing, data)
            return _store_frame(camera, data, info, captured_at, idempotency_key)
    return _store_frame(camera, data, info, captured_at, idempotency_key)


def _store_frame(
    camera: Camera, data: bytes, info: ImageInfo, captured_at: datetime, idempotency_key: str
) -> tuple[Frame, bool]:
    frame = Frame(
        camera=camera,
        content_type=info.content_type,
        width=info.width,
        height=info.height,
        captured_at=captured_at,
        idempotency_key=idempotency_key,
    )
    frame.image.save(f"{uuid.uuid4().hex}.{info.extension}", ContentFile(data), save=False)
    try:
        with transaction.atomic():
            frame.save()
            Camera.objects.filter(pk=camera.pk).update(last_frame_at=timezone.now())
            after_commit(enqueue_frame, frame.pk)
    except IntegrityError:
        frame.image.delete(save=False)
        existing = frame_for_key(camera, idempotency_key)
        if existing is None:
            raise
        return _repeat(existing, data)
    return frame, True
