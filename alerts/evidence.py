"""An alert as one evidence package for a case file: a zip of the frame, the crops, the read, the
entry, the trail and the audit records, with a manifest of SHA-256 digests."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from pathlib import PurePosixPath

from django.utils import timezone

from audit.models import AuditLog
from config import clock

from .models import Alert


def _when(value) -> dict | None:
    return {"utc": value.isoformat(), "local": clock.local_iso(value)} if value else None


def _file(field) -> bytes | None:
    if not field:
        return None
    try:
        with field.open("rb") as fh:
            return fh.read()
    except (FileNotFoundError, OSError):
        return None


def alert_record(alert: Alert) -> dict:
    read, camera = alert.read, alert.read.camera
    trail = [
        {
            "at": _when(e.at),
            "kind": e.kind,
            "user": e.user.get_username() if e.user is not None else None,
            "detail": e.detail,
        }
        for e in alert.events.select_related("user")
    ]
    sightings = [
        {
            "read": s.read_id,
            "text": s.read.text,
            "confidence": round(s.read.confidence, 4),
            "captured_at": _when(s.captured_at),
            "repeat": s.repeat,
            "matched_text": s.matched_text,
        }
        for s in alert.sightings.select_related("read")
    ]
    audit = [
        {
            "seq": a.seq,
            "at": _when(a.at),
            "user": a.username,
            "action": a.action,
            "query": a.query,
            "reason": a.reason,
            "hash": a.hash,
            "prev_hash": a.prev_hash,
        }
        for a in AuditLog.objects.filter(query__alert=alert.pk).order_by("seq")
    ]
    return {
        "alert": {
            "id": alert.pk,
            "raised_at": _when(alert.created_at),
            "status": alert.status,
            "historical": alert.historical,
            "covert": alert.covert,
            "match_kind": alert.match_kind,
            "matched_text": alert.matched_text,
            "explanation": alert.explanation,
            "priority": alert.priority,
            "acknowledged_by": alert.acknowledged_by.get_username() if alert.acknowledged_by is not None else None,
            "acknowledged_at": _when(alert.acknowledged_at),
            "disposition": alert.disposition,
            "disposition_note": alert.disposition_note,
            "dispositioned_by": alert.dispositioned_by.get_username() if alert.dispositioned_by is not None else None,
            "dispositioned_at": _when(alert.dispositioned_at),
            "repeats": alert.repeats,
        },
        "entry": {
            "list": alert.hotlist_name,
            "plate": alert.entry_plate,
            "state": alert.entry_state,
            "reason": alert.reason,
            "case_number": alert.case_number,
            "notes": alert.notes,
            "vehicle": {
                "year": alert.vehicle_year,
                "colour": alert.vehicle_colour,
                "make": alert.vehicle_make,
                "model": alert.vehicle_model,
            },
            "instructions": alert.instructions,
            "still_listed": alert.entry_id is not None,
        },
        "read": {
            "id": read.pk,
            "text": read.text,
            "confidence": read.confidence,
            "candidates": read.candidates,
            "box": {"x": read.box_x, "y": read.box_y, "w": read.box_w, "h": read.box_h},
            "engine": read.engine,
            "captured_at": _when(read.captured_at),
            "frame": read.frame_id,
            "frame_size": [read.frame.width, read.frame.height],
        },
        "camera": {
            "id": camera.pk,
            "name": camera.name,
            "location": camera.location,
            "latitude": camera.latitude,
            "longitude": camera.longitude,
        },
        "sightings": sightings,
        "trail": trail,
        "audit_records": audit,
        "time_zone": clock.zone_name(),
    }


def build_package(alert: Alert, exported_by: str) -> bytes:
    """The zip's bytes. ``manifest.json`` lists every other file with its size and SHA-256."""
    files: dict[str, bytes] = {}
    record = alert_record(alert)
    files["alert.json"] = json.dumps(record, indent=2, sort_keys=True, default=str).encode()
    frame = _file(alert.read.frame.image)
    if frame is not None:
        files["frame" + (PurePosixPath(alert.read.frame.image.name or "").suffix or ".jpg")] = frame
    crop = _file(alert.read.crop)
    if crop is not None:
        files["crop.jpg"] = crop
    for s in alert.sightings.select_related("read").exclude(read_id=alert.read_id):
        data = _file(s.read.crop)
        if data is not None:
            files[f"sightings/read-{s.read_id}-crop.jpg"] = data
    files["README.txt"] = (
        f"Evidence package of alert {alert.pk} ({alert.entry_plate}, list {alert.hotlist_name}).\n"
        "alert.json: the alert, the hotlist entry as copied when it was raised, the read, the camera,\n"
        "every sighting, the trail (who did what when) and the audit records that name the alert.\n"
        "frame.*: the full frame; crop.jpg: the plate as read; sightings/: crops of the repeat reads.\n"
        f"Times are UTC and {clock.zone_name()} (the agency's zone). manifest.json: SHA-256 of each file.\n"
    ).encode()
    manifest = {
        "alert": alert.pk,
        "exported_at": _when(timezone.now()),
        "exported_by": exported_by,
        "files": {
            name: {"bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}
            for name, data in sorted(files.items())
        },
    }
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, data in sorted(files.items()):
            zf.writestr(f"alert-{alert.pk}/{name}", data)
        zf.writestr(f"alert-{alert.pk}/manifest.json", json.dumps(manifest, indent=2, sort_keys=True))
    return buf.getvalue()
