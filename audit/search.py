"""Read search for auditors: plate (exact or wildcard), camera and time range."""

from __future__ import annotations

import re

from recognition.models import Read

_WILDCARD_OK = re.compile(r"^[A-Z0-9*?]+$")


def plate_filter(pattern: str) -> dict:
    """``ABC123`` exact; ``*`` any run of characters, ``?`` exactly one."""
    pattern = re.sub(r"[\s\-]", "", pattern.upper())
    if not _WILDCARD_OK.match(pattern):
        raise ValueError("Plates may contain letters, digits and the wildcards * and ?.")
    if "*" not in pattern and "?" not in pattern:
        return {"text": pattern}
    body = pattern.rstrip("*")
    if body and "*" not in body and "?" not in body:
        return {"text__startswith": body}
    regex = "^" + "".join(".*" if ch == "*" else "." if ch == "?" else ch for ch in pattern) + "$"
    return {"text__regex": regex}


def search_reads(*, plate: str = "", camera=None, start=None, end=None):
    qs = Read.objects.select_related("camera", "frame")
    if plate:
        qs = qs.filter(**plate_filter(plate))
    if camera is not None:
        qs = qs.filter(camera=camera)
    if start is not None:
        qs = qs.filter(captured_at__gte=start)
    if end is not None:
        qs = qs.filter(captured_at__lt=end)
    return qs.order_by("-captured_at", "-pk")
