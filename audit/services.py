"""Appending to the audit chain."""

from __future__ import annotations

import hmac
import json
from typing import TYPE_CHECKING

from django.db import connection, transaction
from django.utils import timezone

from . import checkpoint
from .models import GENESIS, AuditLog

if TYPE_CHECKING:
    from django.contrib.auth.models import User
    from django.http import HttpRequest, QueryDict

PURGE_ACTION = "retention.purge"

# Any constant: the key of the PostgreSQL advisory lock that serialises appends to the chain.
_CHAIN_LOCK = 0x41554449


def client_ip(request: HttpRequest | None) -> str | None:
    return request.META.get("REMOTE_ADDR") or None if request is not None else None


def append(
    *,
    action: str,
    user: User | None = None,
    username: str = "",
    query: dict | None = None,
    reason: str = "",
    result_count: int | None = None,
    ip: str | None = None,
) -> AuditLog:
    """Add one record at the end of the chain (serialised, so the chain never forks)."""
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_CHAIN_LOCK])
        last = AuditLog.objects.order_by("-seq").values_list("seq", "hash").first()
        seq, prev = (last[0] + 1, last[1]) if last else (1, GENESIS)
        record = AuditLog(
            seq=seq,
            at=timezone.now(),
            user=user,
            username=(user.get_username() if user is not None else username)[:150],
            action=action,
            query=query or {},
            reason=reason,
            result_count=result_count,
            ip=ip,
            prev_hash=prev,
        )
        # Round-trip the JSON so the hash covers exactly what the database will give back.
        record.query = json.loads(json.dumps(record.query, default=str))
        record.hash = record.compute_hash()
        record.save(force_insert=True)
        transaction.on_commit(lambda: checkpoint.advance(record.seq, record.hash), robust=True)
    return record


def search_token(request: HttpRequest) -> str:
    """A token bound to the user's session that search, export and filter links carry: a link made on another
    site lacks it, so it cannot run a search (and write an audit record) in the victim's name."""
    from django.utils.crypto import salted_hmac

    session_key = request.session.session_key or ""
    return salted_hmac("alpr.audit.search", f"{request.user.pk}:{session_key}").hexdigest()[:32]


def has_search_token(request: HttpRequest, params: QueryDict) -> bool:
    from django.utils.crypto import constant_time_compare

    return bool(request.session.session_key) and constant_time_compare(params.get("t", ""), search_token(request))


def do_log(
    request: HttpRequest | None,
    action: str,
    *,
    query: dict | None = None,
    reason: str = "",
    result_count: int | None = None,
    username: str | None = None,
) -> AuditLog:
    """Append one audit record. ``request`` may be None for command-line actions (pass ``username``)."""
    user = request.user if request is not None and request.user.is_authenticated else None
    return append(
        action=action,
        user=user,
        username=username or "",
        query=query,
        reason=reason,
        result_count=result_count,
        ip=client_ip(request),
    )


def _purge_anchor(record: AuditLog) -> tuple[int, str] | None:
    """(seq, hash) of the last record a purge record says it removed."""
    if record.action == PURGE_ACTION:
        through, through_hash = record.query.get("through"), record.query.get("through_hash")
    elif record.action == "retention.run" and isinstance(record.query.get("audit_purged_through"), dict):
        purged = record.query["audit_purged_through"]
        through, through_hash = purged.get("seq"), purged.get("hash")
    else:
        return None
    return (through, through_hash) if isinstance(through, int) and isinstance(through_hash, str) else None


def verify_chain(*, against_file: bool = False) -> tuple[int, AuditLog | None, str]:
    """Check every record's keyed hash and link, the start of the chain, and its end against the checkpoint
    (the configured one; with ``against_file``, the file at ``AUDIT_CHECKPOINT_PATH`` whatever the store).

    Returns (records checked, first bad record or None, why); ``why`` is empty when all is well.
    """
    try:
        mark = checkpoint.read_file() if against_file else checkpoint.read()
        where = str(checkpoint.path()) if against_file else checkpoint.where()
    except checkpoint.CheckpointError as exc:
        return 0, None, f"the checkpoint cannot be trusted: {exc}"
    legacy_through = mark["legacy_through"] if mark else 0
    first = None
    prev: AuditLog | None = None
    anchors: set[tuple[int, str]] = set()
    checked = 0
    at_mark = None
    for record in AuditLog.objects.order_by("seq").iterator(chunk_size=2000):
        if prev is None:
            first = record
            if record.seq == 1 and record.prev_hash != GENESIS:
                return checked, record, "the first record does not start the chain"
            if record.seq != 1 and record.prev_hash == GENESIS:
                return checked, record, "the first record claims to start the chain but is not #1"
        else:
            if record.seq != prev.seq + 1:
                return checked, record, f"record #{prev.seq + 1} is missing before #{record.seq}"
            if record.prev_hash != prev.hash:
                return (
                    checked,
                    record,
                    "its link to the previous record does not match (a record was changed or removed)",
                )
        expected = record.legacy_hash() if record.seq <= legacy_through else record.compute_hash()
        if not hmac.compare_digest(expected, record.hash):
            return checked, record, "its content does not match its keyed hash (the record was altered or forged)"
        anchor = _purge_anchor(record)
        if anchor is not None:
            anchors.add(anchor)
        if mark and record.seq == mark["head_seq"]:
            at_mark = record
        prev = record
        checked += 1
    if first is not None and first.seq != 1 and (first.seq - 1, first.prev_hash) not in anchors:
        return (
            checked,
            first,
            (
                f"records #1 to #{first.seq - 1} are missing and no retention purge "
                "record accounts for them (records were removed from the start)"
            ),
        )
    if mark is None:
        if prev is None:
            return 0, None, ""
        return (
            checked,
            None,
            (
                f"there is no checkpoint at {where}, so removal of the last records "
                "cannot be ruled out (a new server: check the chain, then run verify_audit --adopt)"
            ),
        )
    if mark["head_seq"] and (prev is None or prev.seq < mark["head_seq"]):
        last = f"#{prev.seq}" if prev is not None else "none"
        return (
            checked,
            prev,
            (
                f"records after {last} are missing: the checkpoint says the chain reached "
                f"#{mark['head_seq']} (records were removed from the end)"
            ),
        )
    signed_still_kept = first is not None and mark["head_seq"] >= first.seq  # not purged (anchored) since
    if mark["head_seq"] and signed_still_kept and (at_mark is None or at_mark.hash != mark["head_hash"]):
        return checked, at_mark, f"record #{mark['head_seq']} is not the one the checkpoint signed"
    return checked, None, ""
