"""What an auditor is shown of the audit log: records about covert lists they are not cleared for are redacted.

The records themselves stay complete in the table (and in the chain); only what is shown and exported is
redacted. Cleared for a covert list: admins and the list's chosen users (``Hotlist.visible_to``), the same
audience that sees its alerts (``alerts.services.visible_alerts``). A record is about a covert list when its
query names the list (``list``/``hotlist``, by its current name), gives its id (``list_id``), or names an
alert that the viewer may not see (``alert``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser

from accounts.roles import ADMIN, has_role
from alerts.models import Alert
from alerts.services import visible_alerts
from hotlist.models import Hotlist

REDACTED_QUERY = {"redacted": "covert list"}
REDACTED_REASON = "(redacted: covert list)"


@dataclass
class Scope:
    """The covert lists hidden from one viewer."""

    user: AbstractBaseUser | AnonymousUser
    names: set[str] = field(default_factory=set)
    ids: set[int] = field(default_factory=set)
    everything: bool = False  # admins: nothing is hidden

    @classmethod
    def of(cls, user) -> Scope:
        if has_role(user, ADMIN):
            return cls(user=user, everything=True)
        hidden = Hotlist.objects.filter(covert=True).exclude(visible_to=user).values_list("pk", "name")
        return cls(user=user, ids={pk for pk, _ in hidden}, names={name for _, name in hidden})

    def hidden_alerts(self, alert_ids: Iterable[int]) -> set[int]:
        ids = set(alert_ids)
        if self.everything or not ids:
            return set()

        existing = set(Alert.objects.filter(pk__in=ids).values_list("pk", flat=True))
        return existing - set(visible_alerts(self.user).filter(pk__in=existing).values_list("pk", flat=True))


def _alert_id(query) -> int | None:
    value = query.get("alert") if isinstance(query, dict) else None
    return value if isinstance(value, int) else (int(value) if isinstance(value, str) and value.isdigit() else None)


def redact(records: Iterable, scope: Scope) -> list:
    """The records as ``scope``'s viewer may see them (a record about a hidden list shows no query or reason).
    Each gets ``redacted`` (True or False); the model instances are changed in memory only, never saved."""
    records = list(records)
    hidden_alerts = scope.hidden_alerts(a for a in (_alert_id(r.query) for r in records) if a is not None)
    for record in records:
        query = record.query if isinstance(record.query, dict) else {}
        about_hidden = not scope.everything and (
            query.get("list") in scope.names
            or query.get("hotlist") in scope.names
            or query.get("list_id") in scope.ids
            or query.get("hotlist_id") in scope.ids
            or _alert_id(query) in hidden_alerts
        )
        record.redacted = about_hidden
        if about_hidden:
            record.query, record.reason = dict(REDACTED_QUERY), REDACTED_REASON
    return records
