"""Purging reads, frames, alerts and audit records past their retention periods.

On PostgreSQL reads and frames are partitioned by capture day (recognition/partitions.py): a day goes
whole, its partitions dropped, once its start is past the period for reads without hits; before that
its reads with alerts, and their frames, move to the default partition, where they stay until the
period for hits. A day whose tables stay busy past the lock timeout waits for the next run. What no
day partition holds (that default partition; every row on SQLite) is deleted in batches.
"""

from __future__ import annotations

import logging
from datetime import date, timedelta
from typing import Any

from django.core.files.storage import default_storage
from django.db import OperationalError, connection, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from accounts.lockout import forget_stale
from alerts.models import Alert, Sighting
from audit.models import AuditLog, RetentionPolicy, RetentionRun
from audit.services import PURGE_ACTION, append
from cameras.models import Frame
from recognition import partitions
from recognition.models import Read
from recognition.partitions import bounds

BATCH = 2000
logger = logging.getLogger(__name__)


def _delete_file(name) -> bool:
    """Delete one file from local disk or the object store; one that cannot be deleted is logged and
    left (its row is already gone), and does not stop the purge."""
    try:
        default_storage.delete(name)
        return True
    except Exception:
        logger.warning("retention: could not delete %s", name, exc_info=True)
        return False


def _delete_files(names) -> int:
    return sum(_delete_file(name) for name in names if name)


def candidates(policy: RetentionPolicy, now=None, skip_days=()) -> dict:
    """Querysets of what is due: reads without hits, reads that hit a list (raised or repeated an alert),
    frames left without reads, audit records. ``skip_days``: days whose partitions are dropped whole
    instead (their rows are left out here)."""
    now = now or timezone.now()
    has_alert = Q(Exists(Alert.objects.filter(read=OuterRef("pk")))) | Q(
        Exists(Sighting.objects.filter(read=OuterRef("pk")))
    )
    non_hit_cutoff = now - timedelta(days=policy.non_hit_days)
    hit_cutoff = now - timedelta(days=policy.hit_days)
    has_read = Exists(Read.objects.filter(frame=OuterRef("pk")))
    reads = Read.objects.all()
    frames = Frame.objects.all()
    for day in skip_days:
        start, end = bounds(day)
        reads = reads.exclude(captured_at__gte=start, captured_at__lt=end)
        frames = frames.exclude(captured_at__gte=start, captured_at__lt=end)
    return {
        "non_hit_reads": reads.filter(captured_at__lt=non_hit_cutoff).exclude(has_alert),
        "hit_reads": reads.filter(captured_at__lt=hit_cutoff).filter(has_alert),
        # By capture time too, like reads: on PostgreSQL that keeps the search to the partitions it concerns.
        "empty_frames": frames.filter(received_at__lt=non_hit_cutoff, captured_at__lt=non_hit_cutoff).exclude(has_read),
        "audit_records": AuditLog.objects.filter(at__lt=now - timedelta(days=policy.audit_days)),
    }


def _purge_audit(through: int, through_hash: str, run_id: int) -> None:
    """Remove audit records #..``through``, the only deletion the table allows.

    The purge names itself first: a keyed ``retention.purge`` record that says what goes, whose number
    the PostgreSQL trigger requires (``alpr.audit_purge``) before it lets a row go. Records after it
    cannot be removed that way, and a forged purge record fails ``verify_audit`` (its keyed hash).
    """
    with transaction.atomic():
        authority = append(
            action=PURGE_ACTION,
            username="retention",
            query={"through": through, "through_hash": through_hash, "run": run_id},
        )
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT set_config('alpr.audit_purge', %s, true)", [str(authority.seq)])
        AuditLog.objects.filter(seq__lte=through)._raw_delete(AuditLog.objects.db)


def _purge_partitions(cutoff, dry_run: bool, enabled: bool = True) -> tuple[list, dict]:
    """Drop the day partitions due (PostgreSQL). Returns the days the batched purge must leave alone (those
    only counted, or postponed) and what was dropped and kept."""
    counts: dict[str, Any] = {
        "partitions_dropped": [],
        "partitions_postponed": [],
        "non_hit_reads": 0,
        "empty_frames": 0,
        "kept_reads": 0,
        "kept_frames": 0,
        "files_deleted": 0,
        "locked_s": 0.0,
    }
    if not enabled or not partitions.is_partitioned():
        return [], counts
    # A purge that stopped after detaching a day finishes it first.
    leftovers = sorted(
        set(partitions.detached_leftovers(partitions.READS)) | set(partitions.detached_leftovers(partitions.FRAMES))
    )
    days = partitions.due_days(cutoff)
    for day in leftovers + days:
        if dry_run:
            done = partitions.count_day(day) if day in days else partitions.DayPurge(day)
        else:
            try:
                done = (
                    partitions.drop_day(day, _delete_file) if day in days else partitions.finish_day(day, _delete_file)
                )
            except OperationalError as exc:  # the tables stayed busy past LOCK_TIMEOUT: the next run tries again
                logger.warning("retention: day %s postponed (%s)", day, exc)
                counts["partitions_postponed"].append(day.isoformat())
                continue
        counts["partitions_dropped"].append(day.isoformat())
        counts["non_hit_reads"] += done.reads
        counts["empty_frames"] += done.frames
        counts["kept_reads"] += done.kept_reads
        counts["kept_frames"] += done.kept_frames
        counts["files_deleted"] += done.files_deleted
        counts["locked_s"] = max(counts["locked_s"], round(done.locked_s, 3))
    if dry_run:
        return days, counts
    return [date.fromisoformat(d) for d in counts["partitions_postponed"]], counts


def purge(*, dry_run: bool = False, now=None, log=None, by_partition: bool = True) -> dict:
    """Delete what is past retention (or only count it, with ``dry_run``). Every run is recorded.
    ``by_partition=False`` deletes row by row even where days are partitioned (the benchmark's baseline)."""
    policy = RetentionPolicy.current()
    run = RetentionRun.objects.create(dry_run=dry_run)
    now = now or timezone.now()
    days, dropped = _purge_partitions(now - timedelta(days=policy.non_hit_days), dry_run, enabled=by_partition)
    due = candidates(policy, now, skip_days=days)
    counts = {name: qs.count() for name, qs in due.items()}
    counts.update(non_hit_days=policy.non_hit_days, hit_days=policy.hit_days, audit_days=policy.audit_days)
    if not dry_run:
        files = dropped["files_deleted"]
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
        due = candidates(policy, now, skip_days=days)
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
        counts["login_counters_expired"] = forget_stale()
    for name in ("non_hit_reads", "empty_frames"):
        counts[name] += dropped[name]
    if dropped["partitions_dropped"]:
        counts.update(
            partitions_dropped=dropped["partitions_dropped"],
            kept_reads=dropped["kept_reads"],
            kept_frames=dropped["kept_frames"],
            partition_lock_s=dropped["locked_s"],
        )
    if dropped["partitions_postponed"]:
        counts["partitions_postponed"] = dropped["partitions_postponed"]
    run.counts = counts
    run.finished_at = timezone.now()
    run.save(update_fields=["counts", "finished_at"])
    append(
        action="retention.dry_run" if dry_run else "retention.run",
        username="retention",
        query={"run": run.pk, **counts},
    )
    return counts
