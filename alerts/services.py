"""Creating, acknowledging and broadcasting alerts."""

from __future__ import annotations

import logging

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from .models import Alert

log = logging.getLogger(__name__)
GROUP = "alerts"


def _media_url(field) -> str | None:
    return reverse("media", args=[field.name]) if field else None


def alert_payload(alert: Alert) -> dict:
    read = alert.read
    frame = read.frame
    camera = read.camera
    return {
        "id": alert.pk,
        "status": alert.status,
        "created_at": alert.created_at.isoformat(),
        "read": {
            "id": read.pk,
            "text": read.text,
            "confidence": round(read.confidence, 3),
            "captured_at": read.captured_at.isoformat(),
            "crop_url": _media_url(read.crop),
            "box": list(read.box),
        },
        "frame": {"id": frame.pk, "thumb_url": _media_url(frame.thumbnail), "image_url": _media_url(frame.image),
                  "width": frame.width, "height": frame.height},
        "camera": {"id": camera.pk, "name": camera.name, "location": camera.location},
        "entry": {"plate": alert.entry_plate, "state": alert.entry_state, "list": alert.hotlist_name,
                  "reason": alert.reason, "case_number": alert.case_number, "notes": alert.notes},
        "match_kind": alert.match_kind,
        "matched_text": alert.matched_text or read.text,
        "differences": alert.differences,
        "explanation": alert.explanation,
        "priority": alert.priority,
        "colour": alert.colour,
        "sound": alert.sound,
        "covert": alert.covert,
        "historical": alert.historical,
        "acknowledged_by": alert.acknowledged_by.get_username() if alert.acknowledged_by_id else None,
        "acknowledged_at": alert.acknowledged_at.isoformat() if alert.acknowledged_at else None,
    }


def user_group(user_id: int) -> str:
    return f"alerts-user-{user_id}"


def covert_audience(alert: Alert) -> list[int]:
    """Ids of the users who may see an alert of a covert list: active admins and the list's chosen users."""
    from django.contrib.auth import get_user_model

    from accounts.roles import ADMIN

    users = get_user_model().objects.filter(is_active=True)
    admins = set(users.filter(groups__name=ADMIN).values_list("pk", flat=True))
    chosen = set(alert.hotlist.visible_to.filter(is_active=True).values_list("pk", flat=True)) if alert.hotlist_id else set()
    return sorted(admins | chosen)


def visible_alerts(user):
    """Alerts ``user`` may see: all but those of covert lists they are not cleared for."""
    from accounts.roles import ADMIN, has_role

    qs = Alert.objects.all()
    if has_role(user, ADMIN):
        return qs
    return qs.filter(Q(covert=False) | Q(hotlist__visible_to=user)).distinct()


def broadcast(event_type: str, alert_id: int) -> None:
    """Send an alert to the browsers that may show it (called after commit)."""
    alert = Alert.objects.select_related("read__frame", "read__camera", "acknowledged_by").get(pk=alert_id)
    layer = get_channel_layer()
    if layer is None:
        return
    message = {"type": event_type, "alert": alert_payload(alert)}
    if not alert.covert:
        async_to_sync(layer.group_send)(GROUP, message)
        return
    for user_id in covert_audience(alert):
        async_to_sync(layer.group_send)(user_group(user_id), message)


def _differences(match) -> list[dict]:
    return [{"kind": d.kind, "position": d.position, "entry_position": d.entry_position, "entry_char": d.entry_char,
             "read_char": d.read_char, "sentence": d.sentence} for d in match.differences]


def do_create_alerts(read, matches, *, historical: bool = False) -> list[Alert]:
    """One alert per (read, entry) for the (entry, match) pairs from ``hotlist.services.match_read``."""
    alerts = []
    for entry, match in matches:
        hotlist = entry.hotlist
        alert, created = Alert.objects.get_or_create(
            read=read, entry=entry,
            defaults=dict(hotlist=hotlist, hotlist_name=hotlist.name, entry_plate=entry.plate,
                          entry_state=entry.state, reason=entry.reason, case_number=entry.case_number,
                          notes=entry.notes, match_kind=match.kind, matched_text=match.read,
                          differences=_differences(match), explanation=match.description[:300],
                          priority=hotlist.priority, colour=hotlist.colour, sound=hotlist.sound,
                          covert=hotlist.covert, historical=historical),
        )
        if created:
            alerts.append(alert)
            transaction.on_commit(lambda pk=alert.pk: broadcast("alert.new", pk))
    return alerts


def do_acknowledge(alert_id: int, user) -> Alert:
    """Mark an alert acknowledged by ``user``; a second acknowledgement changes nothing."""
    with transaction.atomic():
        changed = Alert.objects.filter(pk=alert_id, status=Alert.Status.NEW).update(
            status=Alert.Status.ACKNOWLEDGED, acknowledged_by=user, acknowledged_at=timezone.now())
        if changed:
            transaction.on_commit(lambda: broadcast("alert.updated", alert_id))
    return Alert.objects.get(pk=alert_id)
