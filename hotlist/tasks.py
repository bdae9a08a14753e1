from celery import shared_task


@shared_task(
    name="hotlist.run_import_job", acks_late=True, reject_on_worker_lost=True, time_limit=1800, soft_time_limit=1700
)
def run_import_job(job_id: int) -> None:
    """Run an uploaded hotlist import (claims the job first, so it runs once)."""
    from .imports import do_run_import_job

    do_run_import_job(job_id)


@shared_task(name="hotlist.check_history", acks_late=True, time_limit=1800, soft_time_limit=1700)
def check_history(
    hotlist_id: int, since_iso: str | None = None, entry_ids: list[int] | None = None, max_hours: float | None = None
) -> int:
    """Historical hits: new entries of a list against the reads of its history window (at most ``max_hours``)."""
    from django.utils.dateparse import parse_datetime

    from .services import do_check_history

    return do_check_history(
        hotlist_id, parse_datetime(since_iso) if since_iso else None, entry_ids=entry_ids, max_hours=max_hours
    )
