"""Failed-login counting: a user name is locked after repeated failures, and an address is throttled."""

from __future__ import annotations

from django.conf import settings
from django.core.cache import cache

USER_LIMIT = getattr(settings, "LOGIN_FAILURES_PER_USER", 5)
IP_LIMIT = getattr(settings, "LOGIN_FAILURES_PER_IP", 20)
WINDOW = getattr(settings, "LOGIN_LOCKOUT_SECONDS", 900)


def _user_key(username: str) -> str:
    return f"login-fail:user:{username.strip().lower()}"


def _ip_key(ip: str | None) -> str:
    return f"login-fail:ip:{ip or '-'}"


def is_locked(username: str, ip: str | None) -> bool:
    return cache.get(_user_key(username), 0) >= USER_LIMIT or cache.get(_ip_key(ip), 0) >= IP_LIMIT


def record_failure(username: str, ip: str | None) -> int:
    """Count a failure (the window restarts at each one); returns the user name's count."""
    counts = []
    for key in (_user_key(username), _ip_key(ip)):
        try:
            value = cache.incr(key)
            cache.touch(key, WINDOW)
        except ValueError:
            cache.set(key, 1, WINDOW)
            value = 1
        counts.append(value)
    return counts[0]


def clear(username: str) -> None:
    cache.delete(_user_key(username))
