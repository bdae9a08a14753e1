import hashlib
import json

from django.conf import settings
from django.db import models

GENESIS = "0" * 64


class AuditLog(models.Model):
    """Who did what, when and why. Append-only and tamper-evident.

    Rows are only ever added (through ``audit.services.append``); on PostgreSQL a trigger
    refuses UPDATE and DELETE (the retention purge alone may delete, and says so in the log).
    Each record carries the SHA-256 of its own content and of the record before it, so
    ``manage.py verify_audit`` finds any altered, removed or inserted record.
    """

    seq = models.BigIntegerField(unique=True, help_text="Position in the chain (1, 2, 3, ...).")
    at = models.DateTimeField(db_index=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.DO_NOTHING, null=True, related_name="+",
                             db_constraint=False)  # the record keeps the id even if the user goes
    username = models.CharField(max_length=150)
    action = models.CharField(max_length=40, db_index=True)
    query = models.JSONField(default=dict)
    reason = models.TextField(blank=True)
    result_count = models.IntegerField(null=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    class Meta:
        ordering = ["-seq"]

    def __str__(self) -> str:
        return f"#{self.seq} {self.at:%Y-%m-%d %H:%M:%S} {self.username} {self.action}"

    def content(self) -> bytes:
        """The canonical bytes that the hash covers."""
        return json.dumps({
            "seq": self.seq, "at": self.at.isoformat(), "user_id": self.user_id, "username": self.username,
            "action": self.action, "query": self.query, "reason": self.reason, "result_count": self.result_count,
            "ip": self.ip, "prev_hash": self.prev_hash,
        }, sort_keys=True, separators=(",", ":"), ensure_ascii=True, default=str).encode()

    def compute_hash(self) -> str:
        return hashlib.sha256(self.content()).hexdigest()
