"""Purging reads, frames, alerts and audit records past their retention periods, in batches."""

from __future__ import annotations

import logging
from datetime import timedelta

from django.core.files.storage import default_storage
from django.db import connection, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from accounts.lockout import forget_stale
from alerts.models import Alert, Sighting
from audit.models import AuditLog, RetentionPolicy, RetentionRun
from audit.services import PURGE_ACTION, append
from cameras.models import Frame
from recognition.models import Read

BATCH = 2000
logger = logging.getLogger(__name__)


def _delete_files(names) -> int:
    """Delete the rows' files from local disk or the object store; a file that cannot be deleted is
    logged and left (its row is already gone), and does not stop the purge."""
    deleted = 0
    for name in names:
        if name:
            try:
                default_storage.delete(name)
                deleted += 1
            except Exception:  # noqa: BLE001 - OSError on disk, botocore errors from an object store
                logger.warning("retention: could not delete %s", name, exc_info=True)
    return deleted


def candidates(policy: RetentionPolicy, now=None) -> dict:
    """Querysets of what is due: reads without hits, reads that hit a list (raised or repeated an alert),
    frames left without reads, audit records."""
    now = now or timezone.now()
    has_alert = Q(Exists(Alert.objects.filter(read=OuterRef("pk")))) | Q(Exists(Sighting.objects.filter(read=OuterRef("pk"))))
    non_hit_cutoff = now - timedelta(days=policy.non_hit_days)
    hit_cutoff = now - timedelta(days=policy.hit_days)
    has_read = Exists(Read.objects.filter(frame=OuterRef("pk")))
    return {
        "non_hit_reads": Read.objects.filter(captured_at__lt=non_hit_cutoff).exclude(has_alert),
        "hit_reads": Read.objects.filter(captured_at__lt=hit_cutoff).filter(has_alert),
        "empty_frames": Frame.objects.filter(received_at__lt=non_hit_cutoff).exclude(has_read),
        "audit_records": AuditLog.objects.filter(at__lt=now - timedelta(days=policy.audit_days)),
    }


def _purge_audit(through: int, through_hash: str, run_id: int) -> None:
    """Remove audit records #..``through``, the only deletion the table allows.

    The purge names itself first: a keyed ``retention.purge`` record that says what goes, whose number
    the PostgreSQL trigger requires (``alpr.audit_purge``) before it lets a row go. Records after it
    cannot be removed that way, and a forged purge record fails ``verify_audit`` (its keyed hash).
    """
    with transaction.atomic():
        authority = append(action=PURGE_ACTION, username="retention",
                           query={"through": through, "through_hash": through_hash, "run": run_id})
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT set_config('alpr.audit_purge', %s, true)", [str(authority.seq)])
        AuditLog.objects.filter(seq__lte=through)._raw_delete(AuditLog.objects.db)


def purge(*, dry_run: bool = False, now=None, log=None) -> dict:
    """Delete what is past retention (or only count it, with ``dry_run``). Every run is recorded."""
    policy = RetentionPolicy.current()
    run = RetentionRun.objects.create(dry_run=dry_run)
    due = candidates(policy, now)
    counts = {name: qs.count() for name, qs in due.items()}
    counts.update(non_hit_days=policy.non_hit_days, hit_days=policy.hit_days, audit_days=policy.audit_days)
    if not dry_run:
        files = 0
        for name in ("non_hit_reads", "hit_reads"):
            while True:
                batch = list(due[name].values_list("pk", "crop")[:BATCH])
                if not batch:
                    break
                ids = [pk for pk, _ in batch]
                with transaction.atomic():
                    Alert.objects.filter(read_id__in=ids).delete()
                    Read.objects.filter(pk__in=ids).delete()
                files += _delete_files(crop for _, crop in batch)
        # Frames are evidence only through their reads: once none is left (and the frame is old), it goes.
        due = candidates(policy, now)
        counts["empty_frames"] = due["empty_frames"].count()
        while True:
            batch = list(due["empty_frames"].values_list("pk", "image", "thumbnail")[:BATCH])
            if not batch:
                break
            Frame.objects.filter(pk__in=[b[0] for b in batch]).delete()
            files += _delete_files(name for _, image, thumb in batch for name in (image, thumb))
        counts["files_deleted"] = files
        last_purged = due["audit_records"].order_by("-seq").values_list("seq", "hash").first()
        if last_purged:
            counts["audit_purged_through"] = {"seq": last_purged[0], "hash": last_purged[1]}
            _purge_audit(last_purged[0], last_purged[1], run.pk)
    if not dry_run:
        counts["login_counters_expired"] = forget_stale()
    run.counts = counts
    run.finished_at = timezone.now()
    run.save(update_fields=["counts", "finished_at"])
    append(action="retention.dry_run" if dry_run else "retention.run", username="retention",
           query={"run": run.pk, **counts})
    return counts
