from __future__ import annotations

from .models import AuditLog


def client_ip(request) -> str | None:
    return request.META.get("REMOTE_ADDR") or None


def do_log(request, action: str, *, query: dict | None = None, reason: str = "", result_count: int | None = None,
           username: str | None = None) -> AuditLog:
    """Append one audit record. ``request`` may be None for command-line actions (pass ``username``)."""
    user = request.user if request is not None and request.user.is_authenticated else None
    name = user.get_username() if user else (username or "")
    return AuditLog.objects.create(user=user, username=name, action=action, query=query or {}, reason=reason,
                                   result_count=result_count, ip=client_ip(request) if request is not None else None)
