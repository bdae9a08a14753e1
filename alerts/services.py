"""Creating, acknowledging and broadcasting alerts."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser, User
from django.db import transaction
from django.db.models import F, Q, QuerySet
from django.db.models.fields.files import FieldFile
from django.db.models.functions import Greatest
from django.urls import reverse
from django.utils import timezone

from accounts.roles import ADMIN, has_role
from cameras.models import Frame
from config import clock
from config.commit import after_commit
from hotlist.matching import Match
from hotlist.models import Entry, Hotlist
from recognition.models import PlateEvent, Read

from .models import Alert, AlertEvent, Sighting, WatchPreference
from .signals import alert_raised

log = logging.getLogger(__name__)
GROUP = "alerts"


def _media_url(field: FieldFile | None) -> str | None:
    return reverse("media", args=[field.name]) if field else None


def alert_payload(alert: Alert) -> dict[str, Any]:
    read = alert.read
    frame = read.frame
    camera = read.camera
    return {
        "id": alert.pk,
        "status": alert.status,
        "created_at": alert.created_at.isoformat(),
        "created_at_display": clock.display(alert.created_at),
        "read": {
            "id": read.pk,
            "text": read.text,
            "confidence": round(read.confidence, 3),
            "captured_at": read.captured_at.isoformat(),
            "captured_at_display": clock.display(read.captured_at),
            "crop_url": _media_url(read.crop),
            "box": list(read.box),
        },
        "frame": {
            "id": frame.pk,
            "thumb_url": _media_url(frame.thumbnail),
            "image_url": _media_url(frame.image),
            "width": frame.width,
            "height": frame.height,
        },
        "camera": {"id": camera.pk, "name": camera.name, "location": camera.location},
        "entry": {
            "plate": alert.entry_plate,
            "state": alert.entry_state,
            "list": alert.hotlist_name,
            "reason": alert.reason,
            "case_number": alert.case_number,
            "notes": alert.notes,
            "vehicle": alert.vehicle,
            "instructions": alert.instructions,
        },
        "match_kind": alert.match_kind,
        "matched_text": alert.matched_text or read.text,
        "differences": alert.differences,
        "explanation": alert.explanation,
        "priority": alert.priority,
        "colour": alert.colour,
        "sound": alert.sound,
        "covert": is_covert(alert),
        "historical": alert.historical,
        "hotlist_id": alert.hotlist_id,
        "event": (
            {
                "id": alert.event_id,
                "plate": alert.event.plate,
                "confidence": round(alert.event.confidence, 3),
                "reads": alert.event.read_count,
            }
            if alert.event is not None
            else None
        ),
        "repeats": alert.repeats,
        "last_seen_at": alert.last_seen_at.isoformat() if alert.last_seen_at else None,
        "last_seen_at_display": clock.display(alert.last_seen_at),
        "disposition": alert.disposition,
        "disposition_label": alert.get_disposition_display() if alert.disposition else "",
        "disposition_note": alert.disposition_note,
        "dispositioned_by": alert.dispositioned_by.get_username() if alert.dispositioned_by is not None else None,
        "url": reverse("alerts:detail", args=[alert.pk]),
        "acknowledged_by": alert.acknowledged_by.get_username() if alert.acknowledged_by is not None else None,
        "acknowledged_at": alert.acknowledged_at.isoformat() if alert.acknowledged_at else None,
        "acknowledged_at_display": clock.display(alert.acknowledged_at),
        "time_zone": clock.zone_name(),
    }


ADMIN_GROUP = "alerts-admins"


def notify_admins(message: dict) -> None:
    """A system notice (camera health) for the dashboards of admins."""
    layer = get_channel_layer()
    if layer is not None:
        async_to_sync(layer.group_send)(ADMIN_GROUP, {"type": "system.notice", "notice": message})


def user_group(user_id: int) -> str:
    return f"alerts-user-{user_id}"


def covert_audience(alert: Alert) -> list[int]:
    """Ids of the users who may see an alert of a covert list: active admins and the list's chosen users."""
    from django.contrib.auth import get_user_model

    users = get_user_model().objects.filter(is_active=True)
    admins = set(users.filter(groups__name=ADMIN).values_list("pk", flat=True))
    chosen = (
        set(alert.hotlist.visible_to.filter(is_active=True).values_list("pk", flat=True))
        if alert.hotlist is not None
        else set()
    )
    return sorted(admins | chosen)


def is_covert(alert: Alert) -> bool:
    """Whether an alert is covert now: its list's current setting (the copy on the alert once the list is gone)."""
    return alert.hotlist.covert if alert.hotlist is not None else alert.covert


def _visibility(user: AbstractBaseUser | AnonymousUser) -> tuple[Q, Q] | None:
    """(visible, hidden) conditions on alerts for ``user``; None when nothing is hidden (admins).

    Visibility follows each list's current ``covert`` setting and chosen users, so a list made covert
    hides its earlier alerts too. Alerts whose list was deleted keep the setting they were last given.
    """
    if has_role(user, ADMIN):
        return None
    cleared = Hotlist.visible_to.through.objects.filter(user=user.pk).values("hotlist_id")
    visible = Q(hotlist__covert=False) | Q(hotlist_id__in=cleared) | Q(hotlist__isnull=True, covert=False)
    # Hidden: alerts of the (few) covert lists not cleared, found through the alerts' list index.
    hidden_lists = Hotlist.objects.filter(covert=True).exclude(pk__in=cleared).values("pk")
    hidden = Q(hotlist_id__in=hidden_lists) | Q(hotlist__isnull=True, covert=True)
    return visible, hidden


def visible_alerts(user: AbstractBaseUser | AnonymousUser) -> QuerySet[Alert]:
    """Alerts ``user`` may see: all but those of lists that are covert now and that they are not cleared for."""
    qs = Alert.objects.all()
    conditions = _visibility(user)
    return qs if conditions is None else qs.filter(conditions[0])


def may_see_media(user: AbstractBaseUser | AnonymousUser, name: str) -> bool:
    """Whether ``user`` may be served the stored frame, thumbnail or crop ``name``: not when it belongs to
    an alert hidden from them (a covert list they are not cleared for)."""
    conditions = _visibility(user)
    if conditions is None:
        return True
    shows = Q(read__crop=name) | Q(read__frame__image=name) | Q(read__frame__thumbnail=name)
    return not Alert.objects.filter(conditions[1]).filter(shows).exists()


def visible_hits(
    user: AbstractBaseUser | AnonymousUser,
    hotlist: Hotlist | None = None,
) -> tuple[QuerySet[Alert], QuerySet[Sighting]]:
    """(alerts, sightings) that ``user`` may see, optionally of one list. A read is a hit when it raised
    one of these alerts or is one of these sightings (a repeat folded into an alert)."""
    alerts = visible_alerts(user).order_by()
    if hotlist is not None:
        alerts = alerts.filter(hotlist=hotlist)
    return alerts, Sighting.objects.filter(alert__in=alerts.values("pk")).order_by()


def hit_filter(user: AbstractBaseUser | AnonymousUser, hotlist: Hotlist | None = None, field: str = "pk") -> Q:
    """A filter on reads (``field`` names the read's id) keeping those that hit a list in an alert
    ``user`` may see, whether the read raised the alert or repeated it."""
    alerts, sightings = visible_hits(user, hotlist)
    return Q(**{f"{field}__in": alerts.values("read_id")}) | Q(**{f"{field}__in": sightings.values("read_id")})


def with_read(alert: Alert) -> Alert:
    """``alert`` with its read, the read's camera and frame loaded, each by its own key. One query joining
    them is planned over every day partition of reads and of frames, twice: about 6 ms on PostgreSQL
    with ten days, which every alert and repeat paid, against under 1 ms for these three."""
    read = Read.objects.select_related("camera").get(pk=alert.read_id)
    read.frame = Frame.objects.get(pk=read.frame_id, captured_at=read.captured_at)
    alert.read = read
    return alert


def broadcast(event_type: str, alert_id: int) -> None:
    """Send an alert to the browsers that may show it (called after commit)."""
    layer = get_channel_layer()
    if layer is None:
        return
    alert = with_read(
        Alert.objects.select_related("acknowledged_by", "dispositioned_by", "event", "hotlist").get(pk=alert_id)
    )
    message = {"type": event_type, "alert": alert_payload(alert)}
    if not is_covert(alert):
        async_to_sync(layer.group_send)(GROUP, message)
        return
    for user_id in covert_audience(alert):
        async_to_sync(layer.group_send)(user_group(user_id), message)


def _differences(match: Match) -> list[dict]:
    return [
        {
            "kind": d.kind,
            "position": d.position,
            "entry_position": d.entry_position,
            "entry_char": d.entry_char,
            "read_char": d.read_char,
            "sentence": d.sentence,
        }
        for d in match.differences
    ]


def dedup_window() -> timedelta:
    return timedelta(seconds=getattr(settings, "ALERT_DEDUP_SECONDS", 120))


def do_update_event_alerts(event: PlateEvent, alert_ids: Iterable[int] | None = None) -> None:
    """The consensus plate of an event changed: its alerts (``alert_ids``, default all) show the new one."""
    if alert_ids is None:
        alert_ids = Alert.objects.filter(event=event).values_list("pk", flat=True)
    for alert_id in alert_ids:
        AlertEvent.objects.create(
            alert_id=alert_id, kind="consensus", detail={"plate": event.plate, "reads": event.read_count}
        )
        after_commit(broadcast, "alert.updated", alert_id)


def _entry_copy(entry: Entry, hotlist: Hotlist) -> dict[str, Any]:
    """The entry's and list's fields an alert keeps, so it stays true when the list changes."""
    return {
        "hotlist": hotlist,
        "hotlist_name": hotlist.name,
        "entry_plate": entry.plate,
        "entry_state": entry.state,
        "reason": entry.reason,
        "case_number": entry.case_number,
        "notes": entry.notes,
        "vehicle_make": entry.make,
        "vehicle_model": entry.model,
        "vehicle_colour": entry.colour,
        "vehicle_year": entry.vehicle_year,
        "instructions": hotlist.instructions,
        "priority": hotlist.priority,
        "colour": hotlist.colour,
        "sound": hotlist.sound,
        "covert": hotlist.covert,
    }


def alert_to_repeat(entry: Entry, read: Read, event: PlateEvent | None = None) -> Alert | None:
    """The alert that a read of ``entry`` at ``read``'s camera repeats, locked, or None.

    A read repeats an alert of the same entry and camera when it belongs to the same plate event
    (the vehicle never left the camera's view), or when it was captured less than
    ``ALERT_DEDUP_SECONDS`` from the read that raised the alert. The window is measured from that
    read, not from the latest repeat, so a vehicle that comes back again and again is alerted again
    once per window; another camera always alerts at once."""
    window = dedup_window()
    same = Q(event=event) if event is not None else Q(pk__in=[])
    if window > timedelta(0):
        at = read.captured_at
        same |= Q(read__captured_at__gt=at - window, read__captured_at__lt=at + window)
    return (
        Alert.objects.select_for_update()
        .filter(same, entry=entry, camera_id=read.camera_id, historical=False)
        .exclude(read_id=read.pk)
        .order_by("-read__captured_at", "-pk")
        .first()
    )


def do_create_alerts(
    read: Read, matches: Iterable[tuple[Entry, Match]], *, historical: bool = False, event: PlateEvent | None = None
) -> list[Alert]:
    """One alert per (entry, match) pair from ``match_read``, unless the read repeats a recent alert.

    Every matching read is recorded as a ``Sighting``. A read of an entry alerted at the same
    camera less than ``ALERT_DEDUP_SECONDS`` before (or after) it, or in the same plate event, is a
    repeat (``alert_to_repeat``): it is attached to that alert (``repeats``, ``last_seen_at``, a "repeated" trail event) and raises no new one.
    """
    alerts = []
    for entry, match in matches:
        hotlist = entry.hotlist
        previous = None if historical else alert_to_repeat(entry, read, event)
        if previous is not None:
            _, new = Sighting.objects.get_or_create(
                alert=previous,
                read=read,
                defaults={
                    "captured_at": read.captured_at,
                    "matched_text": match.read,
                    "match_kind": match.kind,
                    "repeat": True,
                },
            )
            if new:
                Alert.objects.filter(pk=previous.pk).update(
                    repeats=F("repeats") + 1, last_seen_at=Greatest(F("last_seen_at"), read.captured_at)
                )
                AlertEvent.objects.create(alert=previous, kind="repeated", detail={"read": read.pk, "text": read.text})
                after_commit(broadcast, "alert.updated", previous.pk)
            continue
        alert, created = Alert.objects.get_or_create(
            read=read,
            entry=entry,
            defaults=dict(
                **_entry_copy(entry, hotlist),
                match_kind=match.kind,
                matched_text=match.read,
                differences=_differences(match),
                explanation=match.description[:300],
                historical=historical,
                camera_id=read.camera_id,
                last_seen_at=read.captured_at,
                event=event,
            ),
        )
        if created:
            Sighting.objects.create(
                alert=alert, read=read, captured_at=read.captured_at, matched_text=match.read, match_kind=match.kind
            )
            AlertEvent.objects.create(
                alert=alert, kind="created", detail={"read": read.pk, "match": match.kind, "historical": historical}
            )
            alerts.append(alert)
            after_commit(broadcast, "alert.new", alert.pk)
            after_commit(alert_raised.send, sender=Alert, alert_id=alert.pk)
    return alerts


def do_acknowledge(alert_id: int, user: User) -> Alert:
    """Mark an alert acknowledged by ``user``; a second acknowledgement changes nothing."""
    with transaction.atomic():
        changed = Alert.objects.filter(pk=alert_id, status=Alert.Status.NEW).update(
            status=Alert.Status.ACKNOWLEDGED, acknowledged_by=user, acknowledged_at=timezone.now()
        )
        if changed:
            AlertEvent.objects.create(alert_id=alert_id, user=user, kind="acknowledged")
            after_commit(broadcast, "alert.updated", alert_id)
    return Alert.objects.get(pk=alert_id)


class DispositionError(ValueError):
    pass


def do_disposition(alert_id: int, user: User, disposition: str, note: str = "") -> Alert:
    """Record what the officer found. Acknowledges first if needed; a dispositioned alert is final."""
    note = note.strip()
    if disposition not in Alert.Disposition.values:
        raise DispositionError(f"unknown disposition {disposition!r}")
    if disposition == Alert.Disposition.OTHER and not note:
        raise DispositionError("say what happened when the disposition is 'other'")
    now = timezone.now()
    with transaction.atomic():
        alert = Alert.objects.select_for_update().get(pk=alert_id)
        if alert.status == Alert.Status.DISPOSITIONED:
            raise DispositionError(f"the alert was already dispositioned as {alert.get_disposition_display()}")
        if alert.status == Alert.Status.NEW:
            alert.acknowledged_by, alert.acknowledged_at = user, now
            AlertEvent.objects.create(alert=alert, user=user, kind="acknowledged")
        alert.status = Alert.Status.DISPOSITIONED
        alert.disposition, alert.disposition_note = disposition, note[:2000]
        alert.dispositioned_by, alert.dispositioned_at = user, now
        alert.save(
            update_fields=[
                "status",
                "acknowledged_by",
                "acknowledged_at",
                "disposition",
                "disposition_note",
                "dispositioned_by",
                "dispositioned_at",
            ]
        )
        AlertEvent.objects.create(
            alert=alert, user=user, kind="dispositioned", detail={"disposition": disposition, "note": note[:2000]}
        )
        after_commit(broadcast, "alert.updated", alert_id)
    return alert


def watched(user: AbstractBaseUser | AnonymousUser) -> tuple[set[int], set[int]]:
    """(camera ids, list ids) the user chose to watch; an empty set means all."""
    pref = WatchPreference.objects.filter(user=user.pk).first()
    if pref is None:
        return set(), set()
    return set(pref.cameras.values_list("pk", flat=True)), set(pref.hotlists.values_list("pk", flat=True))


def is_watched(payload: dict, cameras: set[int], hotlists: set[int]) -> bool:
    return (not cameras or payload["camera"]["id"] in cameras) and (not hotlists or payload["hotlist_id"] in hotlists)
