"""Delivering alerts away from the dashboard: email and signed webhooks, each try logged.

A new alert (``alerts.signals.alert_raised``, sent after commit) enqueues one task per active
delivery of its list; the task makes one try, logs it as a DeliveryAttempt and retries with
backoff. Recognition never waits for a delivery: with Redis the tasks run on a worker.

A covert list delivers only to its audience: email to addresses of its admins and chosen users,
never to a webhook.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets
import time
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage
from django.db.models import QuerySet
from django.urls import reverse

from alerts.models import Alert
from alerts.services import covert_audience
from config import clock

from .models import Delivery, DeliveryAttempt

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-ALPR-Signature"
TIMESTAMP_HEADER = "X-ALPR-Timestamp"


def new_secret() -> str:
    return secrets.token_hex(32)


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """``sha256=<hex>``: HMAC-SHA256 of ``<timestamp>.<body>`` with the delivery's secret."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def on_alert_raised(sender: object, alert_id: int, **kwargs: object) -> None:
    """Enqueue the deliveries of a new alert's list. Never raises: the alert is already safe."""
    from .tasks import deliver

    hotlist_id = Alert.objects.filter(pk=alert_id).values_list("hotlist_id", flat=True).first()
    if hotlist_id is None:
        return
    for delivery_id in Delivery.objects.filter(hotlist_id=hotlist_id, active=True).values_list("pk", flat=True):
        try:
            deliver.delay(delivery_id, alert_id)
        except Exception:  # the broker is away: the alert is on the dashboards; log and go on
            log.exception("could not enqueue delivery %s of alert %s", delivery_id, alert_id)


def alert_document(alert: Alert) -> dict[str, Any]:
    """What a receiver gets: the alert, its entry and vehicle, the camera and the link."""
    read, camera = alert.read, alert.read.camera
    base = getattr(settings, "ALPR_BASE_URL", "").rstrip("/")
    return {
        "event": "alert.new",
        "alert": {
            "id": alert.pk,
            "url": base + reverse("alerts:detail", args=[alert.pk]),
            "list": alert.hotlist_name,
            "priority": alert.priority,
            "historical": alert.historical,
            "plate": alert.entry_plate,
            "state": alert.entry_state,
            "read": read.text,
            "match": alert.match_kind,
            "confidence": round(read.confidence, 3),
            "reason": alert.reason,
            "case_number": alert.case_number,
            "vehicle": alert.vehicle,
            "instructions": alert.instructions,
            "captured_at": read.captured_at.isoformat(),
            "captured_at_local": clock.local_iso(read.captured_at),
            "camera": {
                "name": camera.name,
                "location": camera.location,
                "latitude": camera.latitude,
                "longitude": camera.longitude,
            },
        },
    }


def audience_addresses(alert: Alert) -> set[str] | None:
    """Lower-cased email addresses a covert alert may go to (None: not covert, anyone named)."""
    if not alert.covert:
        return None
    from django.contrib.auth import get_user_model

    emails = get_user_model().objects.filter(pk__in=covert_audience(alert)).values_list("email", flat=True)
    return {e.lower() for e in emails if e}


def _send_email(delivery: Delivery, alert: Alert) -> tuple[bool, int | None, str]:
    addresses = delivery.addresses()
    allowed = audience_addresses(alert)
    refused = [a for a in addresses if allowed is not None and a.lower() not in allowed]
    to = [a for a in addresses if a not in refused]
    note = f"; not sent to {', '.join(refused)}: outside the covert list's audience" if refused else ""
    if not to:
        return False, None, "no recipient may receive it" + note
    doc = alert_document(alert)["alert"]
    subject = f"Hotlist alert: {doc['plate']} ({doc['list']}) at {doc['camera']['name']}"
    lines = [
        f"Plate: {doc['plate']}{' (' + doc['state'] + ')' if doc['state'] else ''}, read {doc['read']} ({doc['match']})",
        f"Vehicle: {doc['vehicle'] or '-'}",
        f"List: {doc['list']} ({doc['priority']} priority)",
        f"Reason: {doc['reason'] or '-'}; case number {doc['case_number'] or '-'}",
        f"Seen: {clock.display(alert.read.captured_at)} at {doc['camera']['name']}"
        + (f", {doc['camera']['location']}" if doc["camera"]["location"] else ""),
    ]
    if doc["instructions"]:
        lines.append(f"Instructions: {doc['instructions']}")
    lines += ["", "A hit is not probable cause: check the image and the entry before acting.", doc["url"]]
    message = EmailMessage(subject, "\n".join(lines), to=to)
    message.send(fail_silently=False)
    return True, None, f"sent to {', '.join(to)}" + note


def _post_webhook(delivery: Delivery, alert: Alert) -> tuple[bool, int | None, str]:
    import requests

    if alert.covert:
        return False, None, "refused: a covert list never delivers to a webhook"
    body = json.dumps(alert_document(alert), sort_keys=True).encode()
    timestamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/json",
        TIMESTAMP_HEADER: timestamp,
        SIGNATURE_HEADER: sign(delivery.secret, timestamp, body),
        "User-Agent": "alpr-alerts",
    }
    timeout = getattr(settings, "DELIVERY_TIMEOUT_SECONDS", 5)
    response = requests.post(delivery.url, data=body, headers=headers, timeout=timeout, allow_redirects=False)
    ok = 200 <= response.status_code < 300
    return ok, response.status_code, "" if ok else response.text[:200]


def do_deliver(delivery_id: int, alert_id: int, number: int) -> tuple[bool, bool]:
    """One try of one delivery; logged. Returns (delivered, worth retrying). Safe to run twice:
    a delivery that already succeeded for the alert is not sent again."""
    delivery = Delivery.objects.filter(pk=delivery_id, active=True).first()
    alert = Alert.objects.select_related("read__camera").filter(pk=alert_id).first()
    if delivery is None or alert is None:
        return False, False
    if DeliveryAttempt.objects.filter(delivery=delivery, alert=alert, ok=True).exists():
        return True, False
    started = time.perf_counter()
    retry = True
    try:
        sender = _send_email if delivery.kind == Delivery.Kind.EMAIL else _post_webhook
        ok, status, detail = sender(delivery, alert)
        if not ok and status is None:
            retry = False  # refused by policy: another try would be refused too
        elif status is not None and 400 <= status < 500 and status not in (408, 429):
            retry = False  # the receiver refuses it
    except Exception as exc:
        ok, status, detail = False, None, f"{type(exc).__name__}: {exc}"
    DeliveryAttempt.objects.create(
        delivery=delivery,
        alert=alert,
        number=number,
        ok=ok,
        status_code=status,
        detail=detail[:500],
        duration_ms=int((time.perf_counter() - started) * 1000),
    )
    if not ok:
        log.warning("delivery %s of alert %s, try %s failed: %s", delivery_id, alert_id, number, detail)
    return ok, (not ok and retry)


def backoff_seconds(retries_done: int) -> int:
    base = getattr(settings, "DELIVERY_RETRY_BASE_SECONDS", 10)
    return min(base * 2**retries_done, 900)


def recent_attempts(limit: int = 100) -> QuerySet[DeliveryAttempt]:
    return DeliveryAttempt.objects.select_related("delivery__hotlist", "alert")[:limit]
