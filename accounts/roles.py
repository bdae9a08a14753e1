"""The three roles of the product and how views check them.

A role is a Django group. Admins manage cameras, users and hotlists; officers
watch and acknowledge alerts; auditors search reads and the audit trail.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser, PermissionsMixin
from django.core.exceptions import PermissionDenied

OFFICER = "officer"
ADMIN = "admin"
AUDITOR = "auditor"
ROLES = (OFFICER, ADMIN, AUDITOR)

# Model permissions granted to each role's group (app_label.codename).
ROLE_PERMISSIONS: dict[str, list[str]] = {
    OFFICER: [
        "alerts.view_alert",
        "alerts.change_alert",
        "recognition.view_read",
        "cameras.view_camera",
        "hotlist.view_hotlist",
        "hotlist.view_entry",
    ],
    ADMIN: [
        "alerts.view_alert",
        "alerts.change_alert",
        "recognition.view_read",
        "cameras.view_camera",
        "cameras.add_camera",
        "cameras.change_camera",
        "cameras.delete_camera",
        "hotlist.view_hotlist",
        "hotlist.add_hotlist",
        "hotlist.change_hotlist",
        "hotlist.delete_hotlist",
        "hotlist.view_entry",
        "hotlist.add_entry",
        "hotlist.change_entry",
        "hotlist.delete_entry",
        "auth.view_user",
        "auth.add_user",
        "auth.change_user",
    ],
    AUDITOR: [
        "recognition.view_read",
        "cameras.view_camera",
        "audit.view_auditlog",
        "hotlist.view_hotlist",
    ],
}


def user_roles(user: AbstractBaseUser | AnonymousUser) -> frozenset[str]:
    # Roles are groups: a user without them (AnonymousUser) holds none.
    if not isinstance(user, PermissionsMixin) or not getattr(user, "is_authenticated", False) or not user.is_active:
        return frozenset()
    cached = getattr(user, "_alpr_roles", None)
    if cached is None:
        cached = frozenset(user.groups.filter(name__in=ROLES).values_list("name", flat=True))
        setattr(user, "_alpr_roles", cached)  # noqa: B010  (a cache the model does not declare)
    return cached


def has_role(user: AbstractBaseUser | AnonymousUser, *roles: str) -> bool:
    return bool(user_roles(user) & set(roles))


def role_required(*roles: str) -> Callable:
    """View decorator: 403 unless the logged-in user holds one of ``roles``.

    Anonymous users never get here: LoginRequiredMiddleware sends them to the
    login page first.
    """

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if not has_role(request.user, *roles):
                raise PermissionDenied("Your role does not allow this page.")
            return view(request, *args, **kwargs)

        return wrapper

    return decorator
