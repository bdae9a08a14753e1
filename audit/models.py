from django.conf import settings
from django.db import models


class AuditLog(models.Model):
    """Who did what, when and why. Rows are only ever added."""

    at = models.DateTimeField(auto_now_add=True, db_index=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+")
    username = models.CharField(max_length=150)
    action = models.CharField(max_length=40, db_index=True)
    query = models.JSONField(default=dict)
    reason = models.TextField(blank=True)
    result_count = models.IntegerField(null=True)
    ip = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        ordering = ["-at", "-pk"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.username} {self.action}"
