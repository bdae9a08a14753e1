from django.db import models


class Delivery(models.Model):
    """Where a list's alerts go besides the dashboard: email to named recipients, or a signed webhook."""

    class Kind(models.TextChoices):
        EMAIL = "email", "Email"
        WEBHOOK = "webhook", "Webhook (JSON, signed with HMAC-SHA256)"

    hotlist = models.ForeignKey("hotlist.Hotlist", on_delete=models.CASCADE, related_name="deliveries")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    name = models.CharField(max_length=100, help_text="e.g. Dispatch CAD, Auto theft unit")
    recipients = models.TextField(blank=True, help_text="Email: addresses, one a line.")
    url = models.URLField(blank=True, max_length=500, help_text="Webhook: the receiver's https:// address.")
    secret = models.CharField(max_length=64, blank=True, help_text="Webhook: the HMAC-SHA256 key.")
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["hotlist", "name"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.name}"

    def addresses(self) -> list[str]:
        return [a.strip() for a in self.recipients.replace(",", "\n").splitlines() if a.strip()]


class DeliveryAttempt(models.Model):
    """One try to deliver one alert; every try is kept, failed ones included."""

    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="attempts")
    alert = models.ForeignKey("alerts.Alert", on_delete=models.CASCADE, related_name="delivery_attempts")
    number = models.PositiveSmallIntegerField(help_text="1 for the first try, then each retry.")
    at = models.DateTimeField(auto_now_add=True, db_index=True)
    ok = models.BooleanField(default=False)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    detail = models.CharField(max_length=500, blank=True)
    duration_ms = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-at", "-pk"]

    def __str__(self) -> str:
        return f"attempt {self.number} of {self.delivery_id} for alert {self.alert_id}: {'ok' if self.ok else 'failed'}"
