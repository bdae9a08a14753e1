from celery import shared_task
from celery.signals import worker_process_init
from django.db import InterfaceError, OperationalError


@shared_task(
    name="recognition.process_frame",
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=True,
    retry_backoff_max=30,
    max_retries=8,
)
def process_frame(self, frame_id: int) -> int:
    """Recognise plates in a stored frame. Takes an id; safe to run twice (claims the frame with its task id)."""
    from .services import do_process_frame

    return len(do_process_frame(frame_id, claim_token=self.request.id or ""))


@worker_process_init.connect
def _load_models(**_kwargs) -> None:
    """Each worker process loads the models once, before its first task."""
    from .services import pipeline

    pipeline()


@shared_task(name="recognition.requeue_stale_frames", time_limit=60, soft_time_limit=50)
def requeue_stale_frames() -> int:
    """Beat job: re-enqueue frames whose task was lost (still queued, or claimed by a dead worker).

    A frame is sent again at most once per LOST_AFTER (a marker in the cache), so a backlog longer
    than that does not fill the queue with copies; a copy that does run finds the frame claimed or done.
    """
    from django.core.cache import cache

    from .services import LOST_AFTER, stale_frame_ids

    # Up to 5,000 per run (a minute-long outage of a busy site): sending them takes a few seconds.
    ids = stale_frame_ids(limit=5000)
    sent = 0
    for frame_id in ids:
        key = f"requeued-frame:{frame_id}"
        try:
            fresh = cache.add(key, 1, timeout=int(LOST_AFTER.total_seconds()))
        except Exception:
            fresh = True
        if fresh:
            try:
                process_frame.delay(frame_id)
            except BaseException:  # not sent (broker gone, time limit): the next run may send it
                cache.delete(key)
                raise
            sent += 1
    return sent


@shared_task(name="recognition.create_partitions", time_limit=300, soft_time_limit=280)
def create_partitions() -> list[str]:
    """Beat job (hourly): on PostgreSQL, create the day partitions of frames and reads for today and the next
    PARTITION_DAYS_AHEAD days, so that no day starts without one (a row of a day without one still goes to
    the default partition)."""
    from django.conf import settings

    from .partitions import ensure_partitions

    return ensure_partitions(ahead=settings.PARTITION_DAYS_AHEAD)
