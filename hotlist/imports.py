"""Running a hotlist import from bytes: parse, check, write, report progress.

Used by ``manage.py load_hotlist`` (progress bar on the terminal) and by the upload page
(an ImportJob run by a Celery task; its progress goes to the cache for the page to poll).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from audit.services import do_log

from .importing import ImportFailed, RowError, parse_bytes
from .models import Hotlist, ImportJob
from .services import Progress, RemovalsNotConfirmed, do_import_entries

MAX_STORED_ERRORS = 1000


@dataclass
class ImportOutcome:
    ok: bool
    format: str = ""
    counts: dict = field(default_factory=dict)
    duplicates: int = 0
    errors: list[RowError] = field(default_factory=list)
    hotlist: Hotlist | None = None
    needs_confirmation: bool = False  # it would remove more entries than allowed; nothing was written


def run_import(
    list_name: str,
    data: bytes,
    *,
    mode: str,
    fmt: str | None = None,
    mapping: dict | None = None,
    progress: Progress | None = None,
    max_removals: int | None = None,
) -> ImportOutcome:
    """Parse, check and write a list file. With ``max_removals``, an import that would remove more
    entries writes nothing and comes back with ``needs_confirmation`` and its counts."""
    progress = progress or (lambda phase, done, total: None)
    progress("parsing", 0, 0)
    try:
        result = parse_bytes(data, fmt=fmt or None, mapping=mapping, tz=ZoneInfo(settings.TIME_ZONE))
    except ImportFailed as exc:
        return ImportOutcome(ok=False, errors=list(exc.errors))
    if result.errors:
        return ImportOutcome(ok=False, format=result.format, errors=list(result.errors), duplicates=result.duplicates)
    if not result.rows and mode == "replace":
        return ImportOutcome(
            ok=False, format=result.format, errors=[RowError(0, "the file has no entries; refusing to empty the list")]
        )
    hotlist, _ = Hotlist.objects.get_or_create(name=list_name.strip())
    started = timezone.now()
    try:
        counts = do_import_entries(hotlist, result.rows, mode=mode, progress=progress, max_removals=max_removals)
    except RemovalsNotConfirmed as exc:
        return ImportOutcome(
            ok=False,
            format=result.format,
            counts=exc.counts,
            duplicates=result.duplicates,
            hotlist=hotlist,
            needs_confirmation=True,
        )
    if counts["added"]:
        from .tasks import check_history

        check_history.delay_on_commit(hotlist.pk, started.isoformat())
    progress("done", 1, 1)
    return ImportOutcome(ok=True, format=result.format, counts=counts, duplicates=result.duplicates, hotlist=hotlist)


def progress_key(job_id: int) -> str:
    return f"hotlist-import-progress:{job_id}"


def job_progress(job_id: int) -> dict:
    return cache.get(progress_key(job_id)) or {}


def do_run_import_job(job_id: int) -> None:
    claimed = ImportJob.objects.filter(pk=job_id, status=ImportJob.Status.QUEUED).update(
        status=ImportJob.Status.RUNNING
    )
    if not claimed:
        return
    job = ImportJob.objects.get(pk=job_id)

    def progress(phase: str, done: int, total: int) -> None:
        cache.set(progress_key(job_id), {"phase": phase, "done": done, "total": total}, 3600)

    try:
        with job.file.open("rb") as fh:
            data = fh.read()
        outcome = run_import(
            job.hotlist_name,
            data,
            mode=job.mode,
            fmt=job.requested_format or None,
            progress=progress,
            max_removals=job.confirmed_removals,
        )
    except Exception as exc:
        ImportJob.objects.filter(pk=job_id).update(
            status=ImportJob.Status.FAILED,
            finished_at=timezone.now(),
            errors=[[0, f"internal error: {exc}"]],
            error_count=1,
        )
        raise
    job.detected_format = outcome.format
    job.finished_at = timezone.now()
    if outcome.needs_confirmation:
        # Nothing was written: the admin sees what it would add, change and remove, and confirms.
        job.status = ImportJob.Status.AWAITING
        job.hotlist = outcome.hotlist
        job.counts = {**outcome.counts, "duplicates": outcome.duplicates}
        action = "hotlist.import_awaiting"
    elif outcome.ok:
        job.status = ImportJob.Status.DONE
        job.hotlist = outcome.hotlist
        job.counts = {**outcome.counts, "duplicates": outcome.duplicates}
        action = "hotlist.import"
    else:
        job.status = ImportJob.Status.REJECTED
        job.errors = [[e.line, e.message] for e in outcome.errors[:MAX_STORED_ERRORS]]
        job.error_count = len(outcome.errors)
        action = "hotlist.import_rejected"
    job.save(update_fields=["detected_format", "finished_at", "status", "hotlist", "counts", "errors", "error_count"])
    do_log(
        None,
        action,
        username=job.created_by.get_username() if job.created_by is not None else "",
        query={
            "list": job.hotlist_name,
            "file": job.original_name,
            "mode": job.mode,
            "format": job.detected_format,
            "job": job.pk,
            **job.counts,
        },
        result_count=job.error_count or None,
    )


def do_confirm_import_job(job_id: int, removals: int) -> bool:
    """The admin agreed to ``removals`` removals: the job runs again (and asks again if, by then, it would
    remove more). False if the job was not waiting for a confirmation."""
    from .tasks import run_import_job

    with transaction.atomic():
        confirmed = ImportJob.objects.filter(pk=job_id, status=ImportJob.Status.AWAITING).update(
            status=ImportJob.Status.QUEUED, confirmed_removals=removals
        )
        if confirmed:
            run_import_job.delay_on_commit(job_id)
    return bool(confirmed)


def do_cancel_import_job(job_id: int) -> bool:
    """Drop an import that was waiting for a confirmation; the list stays as it is."""
    return bool(
        ImportJob.objects.filter(pk=job_id, status=ImportJob.Status.AWAITING).update(
            status=ImportJob.Status.CANCELLED, finished_at=timezone.now()
        )
    )
