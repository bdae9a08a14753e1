from celery import shared_task
from celery.signals import worker_process_init
from django.db import InterfaceError, OperationalError


@shared_task(name="recognition.process_frame", bind=True, acks_late=True, reject_on_worker_lost=True,
             autoretry_for=(OperationalError, InterfaceError), retry_backoff=True, retry_backoff_max=30,
             max_retries=8)
def process_frame(self, frame_id: int) -> int:
    """Recognise plates in a stored frame. Takes an id; safe to run twice (claims the frame with its task id)."""
    from .services import do_process_frame

    return len(do_process_frame(frame_id, claim_token=self.request.id or ""))


@worker_process_init.connect
def _load_models(**_kwargs) -> None:
    """Each worker process loads the models once, before its first task."""
    from .services import pipeline

    pipeline()


@shared_task(name="recognition.requeue_stale_frames", time_limit=60)
def requeue_stale_frames() -> int:
    """Beat job: re-enqueue frames whose task was lost (still queued, or claimed by a dead worker)."""
    from .services import stale_frame_ids

    ids = stale_frame_ids()
    for frame_id in ids:
        process_frame.delay(frame_id)
    return len(ids)


@shared_task(name="recognition.create_partitions", time_limit=300)
def create_partitions() -> list[str]:
    """Beat job (hourly): on PostgreSQL, create the day partitions of frames and reads for today and the next
    PARTITION_DAYS_AHEAD days, so that no day starts without one (a row of a day without one still goes to
    the default partition)."""
    from django.conf import settings

    from .partitions import ensure_partitions

    return ensure_partitions(ahead=settings.PARTITION_DAYS_AHEAD)
