"""State changes of users and roles."""

from __future__ import annotations

import secrets

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.contrib.auth.models import User as UserModel
from django.contrib.auth.password_validation import validate_password
from django.db import transaction

from .roles import ROLE_PERMISSIONS, ROLES

User = get_user_model()


def do_sync_role_groups() -> None:
    """Create the role groups and give them their permissions (idempotent)."""
    for role, perms in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=role)
        wanted = []
        for dotted in perms:
            app_label, codename = dotted.split(".")
            perm = Permission.objects.filter(content_type__app_label=app_label, codename=codename).first()
            if perm is not None:
                wanted.append(perm)
        group.permissions.set(wanted)


class UsernameTaken(ValueError):
    pass


def check_username_free(username: str) -> str:
    """The name as it will be stored (Unicode NFKC, so full-width letters become plain ones), if no user has
    it in any letter case; else UsernameTaken."""
    normalized = User.normalize_username(username.strip())
    if User.objects.filter(username__iexact=normalized).exists():
        message = "A user with that name exists."
        if normalized != username.strip():
            message = f"A user with that name exists ({username.strip()!r} is written {normalized!r})."
        raise UsernameTaken(message)
    return normalized


@transaction.atomic
def do_create_user(username: str, password: str, role: str, *, email: str = "", validate: bool = True) -> UserModel:
    if role not in ROLES:
        raise ValueError(f"Unknown role {role!r}; choose one of {', '.join(ROLES)}.")
    username = check_username_free(username)
    if validate:
        validate_password(password, User(username=username, email=email))
    user = User.objects.create_user(username=username, password=password, email=email)
    do_set_role(user, role)
    return user


@transaction.atomic
def do_set_role(user: UserModel, role: str) -> None:
    if role not in ROLES:
        raise ValueError(f"Unknown role {role!r}; choose one of {', '.join(ROLES)}.")
    do_sync_role_groups()
    user.groups.remove(*Group.objects.filter(name__in=ROLES))
    user.groups.add(Group.objects.get(name=role))
    if hasattr(user, "_alpr_roles"):
        del user._alpr_roles


def do_set_active(user: UserModel, active: bool) -> None:
    user.is_active = active
    user.save(update_fields=["is_active"])


def generate_password() -> str:
    return secrets.token_urlsafe(12)


def do_change_password(user: UserModel, new_password: str) -> None:
    """The user chose a new password (already validated); a pending reset is done with."""
    from .models import Security

    with transaction.atomic():
        user.set_password(new_password)
        user.save(update_fields=["password"])
        Security.objects.filter(user=user).update(must_change_password=False)


def do_reset_password(user: UserModel) -> str:
    """An admin resets ``user``'s password: a one-time password the user must change at the next login.
    The user's open sessions end (their session hash no longer matches). Returns the new password."""
    from .models import Security

    password = generate_password()
    with transaction.atomic():
        user.set_password(password)
        user.save(update_fields=["password"])
        security = Security.of(user)
        security.must_change_password = True
        security.save(update_fields=["must_change_password"])
    return password
