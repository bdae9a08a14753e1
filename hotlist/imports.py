"""Running a hotlist import from bytes: parse, check, write, report progress.

Used by ``manage.py load_hotlist`` (progress bar on the terminal) and by the upload page
(an ImportJob run by a Celery task; its progress goes to the cache for the page to poll).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

from .importing import ImportFailed, RowError, parse_bytes
from .models import Hotlist, ImportJob
from .services import Progress, do_import_entries

MAX_STORED_ERRORS = 1000


@dataclass
class ImportOutcome:
    ok: bool
    format: str = ""
    counts: dict = field(default_factory=dict)
    duplicates: int = 0
    errors: list[RowError] = field(default_factory=list)
    hotlist: Hotlist | None = None


def run_import(list_name: str, data: bytes, *, mode: str, fmt: str | None = None, mapping: dict | None = None,
               progress: Progress | None = None) -> ImportOutcome:
    progress = progress or (lambda phase, done, total: None)
    progress("parsing", 0, 0)
    try:
        result = parse_bytes(data, fmt=fmt or None, mapping=mapping, tz=ZoneInfo(settings.TIME_ZONE))
    except ImportFailed as exc:
        return ImportOutcome(ok=False, errors=list(exc.errors))
    if result.errors:
        return ImportOutcome(ok=False, format=result.format, errors=list(result.errors), duplicates=result.duplicates)
    if not result.rows and mode == "replace":
        return ImportOutcome(ok=False, format=result.format,
                             errors=[RowError(0, "the file has no entries; refusing to empty the list")])
    hotlist, _ = Hotlist.objects.get_or_create(name=list_name.strip())
    started = timezone.now()
    counts = do_import_entries(hotlist, result.rows, mode=mode, progress=progress)
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
    from audit.services import do_log

    claimed = ImportJob.objects.filter(pk=job_id, status=ImportJob.Status.QUEUED).update(status=ImportJob.Status.RUNNING)
    if not claimed:
        return
    job = ImportJob.objects.get(pk=job_id)

    def progress(phase: str, done: int, total: int) -> None:
        cache.set(progress_key(job_id), {"phase": phase, "done": done, "total": total}, 3600)

    try:
        with job.file.open("rb") as fh:
            data = fh.read()
        outcome = run_import(job.hotlist_name, data, mode=job.mode, fmt=job.requested_format or None,
                             progress=progress)
    except Exception as exc:
        ImportJob.objects.filter(pk=job_id).update(status=ImportJob.Status.FAILED, finished_at=timezone.now(),
                                                   errors=[[0, f"internal error: {exc}"]], error_count=1)
        raise
    job.detected_format = outcome.format
    job.finished_at = timezone.now()
    if outcome.ok:
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
    do_log(None, action, username=job.created_by.get_username() if job.created_by_id else "",
           query={"list": job.hotlist_name, "file": job.original_name, "mode": job.mode, "format": job.detected_format,
                  "job": job.pk, **job.counts}, result_count=job.error_count or None)
