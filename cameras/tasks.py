from celery import shared_task


@shared_task(name="cameras.check_health", time_limit=60, soft_time_limit=50)
def check_health() -> dict:
    """Every minute (Celery beat): cameras silent past their limit open an incident and alert admins."""
    from .health import do_check_health

    return do_check_health()
