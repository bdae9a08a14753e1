"""Camera health: frames per second, last frame, errors, and incidents when a camera goes silent."""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from config import clock
from config.commit import after_commit

from .models import Camera, CameraIncident, Frame
from .signals import camera_notice

RATE_WINDOW = timedelta(minutes=5)


def camera_status(camera: Camera, now=None) -> dict:
    now = now or timezone.now()
    recent = Frame.objects.filter(camera=camera, received_at__gte=now - RATE_WINDOW)
    counts = recent.aggregate(
        total=Count("pk"),
        failed=Count("pk", filter=Q(status=Frame.Status.FAILED)),
        waiting=Count("pk", filter=Q(status__in=[Frame.Status.QUEUED, Frame.Status.PROCESSING])),
    )
    last_failed = Frame.objects.filter(camera=camera, status=Frame.Status.FAILED).order_by("-received_at").first()
    latest = Frame.objects.filter(camera=camera).exclude(thumbnail="").order_by("-received_at").first()
    open_incident = camera.incidents.filter(resolved_at__isnull=True).first()
    silent_for = (now - camera.last_frame_at).total_seconds() if camera.last_frame_at else None
    if not camera.enabled:
        state = "disabled"
    elif open_incident is not None:
        state = open_incident.kind
    elif counts["total"] and counts["failed"] == counts["total"]:
        state = "failing"
    elif camera.last_frame_at is None:
        state = "never seen"
    else:
        state = "ok"
    return {
        "id": camera.pk,
        "name": camera.name,
        "state": state,
        "enabled": camera.enabled,
        "last_frame_at": camera.last_frame_at.isoformat() if camera.last_frame_at else None,
        "last_frame_at_display": clock.display(camera.last_frame_at),
        "silent_seconds": round(silent_for) if silent_for is not None else None,
        "fps": round(counts["total"] / RATE_WINDOW.total_seconds(), 3),
        "frames_5min": counts["total"],
        "failed_5min": counts["failed"],
        "waiting": counts["waiting"],
        "last_error": last_failed.error[:300] if last_failed else "",
        "last_error_at": last_failed.received_at.isoformat() if last_failed else None,
        "last_error_at_display": clock.display(last_failed.received_at) if last_failed else "",
        "thumbnail": latest.thumbnail.name if latest else None,
    }


def do_check_health(now=None) -> dict:
    """Open an incident for each enabled camera silent past its limit; resolve those that are back.
    Admins' dashboards are told about both (``camera_notice``, which alerts subscribes to)."""
    now = now or timezone.now()
    opened = resolved = 0
    for camera in Camera.objects.filter(enabled=True, silence_minutes__gt=0):
        limit = timedelta(minutes=camera.silence_minutes)
        reference = camera.last_frame_at or camera.created_at
        silent = now - reference > limit
        with transaction.atomic():
            incident = (
                CameraIncident.objects.select_for_update()
                .filter(camera=camera, kind="silent", resolved_at__isnull=True)
                .first()
            )
            if silent and incident is None:
                CameraIncident.objects.create(
                    camera=camera, kind="silent", detail=f"no frame for more than {camera.silence_minutes} min"
                )
                opened += 1
                after_commit(
                    _notify,
                    {
                        "type": "camera.silent",
                        "camera": camera.name,
                        "id": camera.pk,
                        "message": f"{camera.name} has sent nothing for {camera.silence_minutes} minutes",
                    },
                )
            elif not silent and incident is not None:
                incident.resolved_at = now
                incident.save(update_fields=["resolved_at"])
                resolved += 1
                after_commit(
                    _notify,
                    {
                        "type": "camera.back",
                        "camera": camera.name,
                        "id": camera.pk,
                        "message": f"{camera.name} is sending again",
                    },
                )
    return {"opened": opened, "resolved": resolved}


def _notify(notice: dict) -> None:
    camera_notice.send(sender=Camera, notice=notice)
