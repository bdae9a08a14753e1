from django.apps import AppConfig


class DeliveriesConfig(AppConfig):
    name = "deliveries"
    verbose_name = "Alert deliveries (email, webhooks)"

    def ready(self) -> None:
        from alerts.signals import alert_raised

        from .services import on_alert_raised

        alert_raised.connect(on_alert_raised, dispatch_uid="deliveries.on_alert_raised")
