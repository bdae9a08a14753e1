"""Appending to the audit chain."""

from __future__ import annotations

import json

from django.db import connection, transaction
from django.utils import timezone

from .models import GENESIS, AuditLog

# Any constant: the key of the PostgreSQL advisory lock that serialises appends to the chain.
_CHAIN_LOCK = 0x41554449


def client_ip(request) -> str | None:
    return request.META.get("REMOTE_ADDR") or None if request is not None else None


def append(*, action: str, user=None, username: str = "", query: dict | None = None, reason: str = "",
           result_count: int | None = None, ip: str | None = None) -> AuditLog:
    """Add one record at the end of the chain (serialised, so the chain never forks)."""
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_CHAIN_LOCK])
        last = AuditLog.objects.order_by("-seq").values_list("seq", "hash").first()
        seq, prev = (last[0] + 1, last[1]) if last else (1, GENESIS)
        record = AuditLog(seq=seq, at=timezone.now(), user=user,
                          username=(user.get_username() if user is not None else username)[:150], action=action,
                          query=query or {}, reason=reason, result_count=result_count, ip=ip, prev_hash=prev)
        # Round-trip the JSON so the hash covers exactly what the database will give back.
        record.query = json.loads(json.dumps(record.query, default=str))
        record.hash = record.compute_hash()
        record.save(force_insert=True)
    return record


def search_token(request) -> str:
    """A token bound to the user's session that search, export and filter links carry: a link made on another
    site lacks it, so it cannot run a search (and write an audit record) in the victim's name."""
    from django.utils.crypto import salted_hmac

    session_key = request.session.session_key or ""
    return salted_hmac("alpr.audit.search", f"{request.user.pk}:{session_key}").hexdigest()[:32]


def has_search_token(request, params) -> bool:
    from django.utils.crypto import constant_time_compare

    return bool(request.session.session_key) and constant_time_compare(params.get("t", ""), search_token(request))


def do_log(request, action: str, *, query: dict | None = None, reason: str = "", result_count: int | None = None,
           username: str | None = None) -> AuditLog:
    """Append one audit record. ``request`` may be None for command-line actions (pass ``username``)."""
    user = request.user if request is not None and request.user.is_authenticated else None
    return append(action=action, user=user, username=username or "", query=query, reason=reason,
                  result_count=result_count, ip=client_ip(request))


def verify_chain() -> tuple[int, AuditLog | None, str]:
    """Check every record's hash and link. Returns (records checked, first bad record or None, why)."""
    prev_hash = None
    prev_seq = None
    checked = 0
    for record in AuditLog.objects.order_by("seq").iterator(chunk_size=2000):
        if prev_seq is None:
            # The first record left after a retention purge is anchored by the purge's own record.
            if record.seq != 1 and record.prev_hash == GENESIS:
                return checked, record, "the first record claims to start the chain but is not #1"
        else:
            if record.seq != prev_seq + 1:
                return checked, record, f"record #{prev_seq + 1} is missing before #{record.seq}"
            if record.prev_hash != prev_hash:
                return checked, record, "its link to the previous record does not match (a record was changed or removed)"
        if record.compute_hash() != record.hash:
            return checked, record, "its content does not match its hash (the record was altered)"
        prev_hash, prev_seq = record.hash, record.seq
        checked += 1
    return checked, None, ""
