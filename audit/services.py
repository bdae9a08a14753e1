from __future__ import annotations

from .models import AuditLog


def client_ip(request) -> str | None:
    return request.META.get("REMOTE_ADDR") or None


def do_log(request, action: str, *, query: dict | None = None, reason: str = "", result_count: int | None = None) -> AuditLog:
    user = request.user if request.user.is_authenticated else None
    return AuditLog.objects.create(user=user, username=user.get_username() if user else "", action=action,
                                   query=query or {}, reason=reason, result_count=result_count, ip=client_ip(request))
