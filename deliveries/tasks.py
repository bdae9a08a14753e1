from celery import shared_task

#: Tries after the first (with backoff: DELIVERY_RETRY_BASE_SECONDS x 1, 2, 4, 8, 16).
MAX_RETRIES = 5


@shared_task(
    name="deliveries.deliver", bind=True, acks_late=True, time_limit=60, soft_time_limit=50, max_retries=MAX_RETRIES
)
def deliver(self, delivery_id: int, alert_id: int) -> bool:
    """Deliver one alert by one delivery (email or webhook); each try is logged, failures retried later."""
    from .services import backoff_seconds, do_deliver

    retries = self.request.retries
    while True:
        ok, retry = do_deliver(delivery_id, alert_id, number=retries + 1)
        if not retry or retries >= MAX_RETRIES:
            return ok
        if not self.request.is_eager:
            raise self.retry(countdown=backoff_seconds(retries))
        retries += 1  # run in line (no broker, e.g. the demo): the next try at once
