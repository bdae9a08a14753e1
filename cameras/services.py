"""State changes of cameras and frames."""

from __future__ import annotations

import secrets
import uuid

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from .ingest import ImageInfo
from .models import Camera, Frame, hash_token


def new_token() -> str:
    return secrets.token_urlsafe(32)


@transaction.atomic
def do_create_camera(*, name: str, region: str = "us", location: str = "", latitude=None, longitude=None,
                     enabled: bool = True) -> tuple[Camera, str]:
    """Create a camera; returns it with its token, which is shown once and stored only as a hash."""
    token = new_token()
    camera = Camera(name=name, region=region, location=location, latitude=latitude, longitude=longitude,
                    enabled=enabled, token_hash=hash_token(token), token_hint=token[:6])
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


@transaction.atomic
def do_accept_frame(camera: Camera, data: bytes, info: ImageInfo, captured_at) -> Frame:
    """Store a validated frame and enqueue its recognition once the row is committed."""
    from recognition.tasks import process_frame

    frame = Frame(camera=camera, content_type=info.content_type, width=info.width, height=info.height,
                  captured_at=captured_at)
    frame.image.save(f"{uuid.uuid4().hex}.{info.extension}", ContentFile(data), save=False)
    frame.save()
    Camera.objects.filter(pk=camera.pk).update(last_frame_at=timezone.now())
    process_frame.delay_on_commit(frame.pk)
    return frame
