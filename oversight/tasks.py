from celery import shared_task


@shared_task(name="audit.purge_retention", acks_late=True, time_limit=3600, soft_time_limit=3500)
def purge_retention() -> dict:
    """Daily (Celery beat): delete reads, frames, alerts and audit records past retention."""
    from .retention import purge

    return purge()
