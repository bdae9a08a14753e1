"""Failed-login counting: a user name is locked after repeated failures, an address is throttled, and a
user's second factor is locked on its own count.

Each attempt first *claims* a place under the limit (``begin``), in one locked row update, before the
password or code is checked; a success gives the place back (``succeeded``), a failure keeps it. So at most
the limit is ever checked, however many guesses arrive at once. A window of ``LOGIN_LOCKOUT_SECONDS``
restarts at each attempt. The counts live in the database (``LoginThrottle``), not the cache.
"""

from __future__ import annotations

import unicodedata
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from .models import LoginThrottle

USER_LIMIT = getattr(settings, "LOGIN_FAILURES_PER_USER", 5)
IP_LIMIT = getattr(settings, "LOGIN_FAILURES_PER_IP", 20)
SECOND_FACTOR_LIMIT = getattr(settings, "LOGIN_SECOND_FACTOR_FAILURES", 5)
WINDOW = getattr(settings, "LOGIN_LOCKOUT_SECONDS", 900)


def _user_key(username: str) -> str:
    return "user:" + unicodedata.normalize("NFKC", username.strip()).casefold()[:150]


def _ip_key(ip: str | None) -> str:
    return f"ip:{ip or '-'}"


def _second_factor_key(user_id: int) -> str:
    return f"2fa:{user_id}"


def _claim(key: str, limit: int) -> int | None:
    """Count one attempt under ``key`` unless ``limit`` attempts are already counted: the new count, or None."""
    now = timezone.now()
    with transaction.atomic():
        row = LoginThrottle.objects.select_for_update().filter(key=key).first()
        if row is None:
            try:
                with transaction.atomic():
                    LoginThrottle.objects.create(key=key, failures=0, last_at=now)
            except IntegrityError:
                pass  # created by a concurrent attempt
            row = LoginThrottle.objects.select_for_update().get(key=key)
        failures = 0 if now - row.last_at > timedelta(seconds=WINDOW) else row.failures
        if failures >= limit:
            return None
        row.failures, row.last_at = failures + 1, now
        row.save(update_fields=["failures", "last_at"])
        return row.failures


def _release(key: str) -> None:
    LoginThrottle.objects.filter(key=key, failures__gt=0).update(failures=F("failures") - 1)


def _count(key: str) -> int:
    row = LoginThrottle.objects.filter(key=key).first()
    if row is None or timezone.now() - row.last_at > timedelta(seconds=WINDOW):
        return 0
    return row.failures


def begin(username: str, ip: str | None) -> int | None:
    """Claim a password attempt for ``username`` from ``ip``: the user name's count with it, or None when
    the name is locked or the address throttled (then nothing may be checked)."""
    count = _claim(_user_key(username), USER_LIMIT)
    if count is None:
        return None
    if _claim(_ip_key(ip), IP_LIMIT) is None:
        _release(_user_key(username))
        return None
    return count


def succeeded(username: str, ip: str | None) -> None:
    """The password was right: the user name's failures are forgotten and the address's place given back.
    (The second factor keeps its own count: a right password does not reset it.)"""
    clear(username)
    _release(_ip_key(ip))


def is_locked(username: str, ip: str | None) -> bool:
    return _count(_user_key(username)) >= USER_LIMIT or _count(_ip_key(ip)) >= IP_LIMIT


def begin_second_factor(user_id: int) -> int | None:
    """Claim a second-factor attempt: the count with it, or None when the second factor is locked."""
    return _claim(_second_factor_key(user_id), SECOND_FACTOR_LIMIT)


def second_factor_succeeded(user_id: int) -> None:
    LoginThrottle.objects.filter(key=_second_factor_key(user_id)).delete()


def clear(username: str) -> None:
    LoginThrottle.objects.filter(key=_user_key(username)).delete()


def forget_stale() -> int:
    """Delete counters whose window has passed (they count 0 anyway); returns how many (hourly, with retention)."""
    cutoff = timezone.now() - timedelta(seconds=WINDOW)
    return LoginThrottle.objects.filter(last_at__lt=cutoff).delete()[0]


def unlock(user) -> None:
    """An admin's unlock: the user name's and the second factor's failures are forgotten."""
    clear(user.get_username())
    second_factor_succeeded(user.pk)
