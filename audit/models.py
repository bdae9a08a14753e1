import hashlib
import json

from django.conf import settings
from django.db import models

GENESIS = "0" * 64


class AuditLog(models.Model):
    """Who did what, when and why. Append-only and tamper-evident.

    Rows are only ever added (through ``audit.services.append``); on PostgreSQL triggers refuse
    UPDATE, TRUNCATE and DELETE (the retention purge alone may delete a prefix, named by its own
    ``retention.purge`` record). Each record carries a keyed hash (HMAC-SHA256, ``audit.checkpoint``)
    of its content and of the record before it, and a signed checkpoint outside the database holds
    the head, so ``manage.py verify_audit`` finds any altered, removed or inserted record.
    """

    seq = models.BigIntegerField(unique=True, help_text="Position in the chain (1, 2, 3, ...).")
    at = models.DateTimeField(db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.DO_NOTHING, null=True, related_name="+", db_constraint=False
    )  # the record keeps the id even if the user goes
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
        return json.dumps(
            {
                "seq": self.seq,
                "at": self.at.isoformat(),
                "user_id": self.user_id,
                "username": self.username,
                "action": self.action,
                "query": self.query,
                "reason": self.reason,
                "result_count": self.result_count,
                "ip": self.ip,
                "prev_hash": self.prev_hash,
            },
            sort_keys=True,
            separators=(",", ":"),
            ensure_ascii=True,
            default=str,
        ).encode()

    def compute_hash(self) -> str:
        """The keyed hash (HMAC-SHA256 under AUDIT_HMAC_KEY) of the content."""
        from .checkpoint import keyed_hash

        return keyed_hash(self.content())

    def legacy_hash(self) -> str:
        """The plain SHA-256 that records written before the keyed chain carry (see ``verify_audit --adopt``)."""
        return hashlib.sha256(self.content()).hexdigest()


# Retention of reads that hit nothing, by law or policy (days). See docs/retention.md.
RETENTION_PRESETS = {
    "virginia": ("Virginia", 7),
    "maine": ("Maine", 21),
    "vendor-default": ("Common vendor default", 30),
    "chp": ("California Highway Patrol", 60),
    "tennessee": ("Tennessee", 90),
    "north-carolina": ("North Carolina", 90),
    "arkansas": ("Arkansas", 150),
    "nebraska": ("Nebraska", 180),
    "utah": ("Utah (9 months)", 270),
    "vermont": ("Vermont (18 months)", 548),
}


class RetentionPolicy(models.Model):
    """The agency's retention periods (one row)."""

    non_hit_days = models.PositiveIntegerField(default=30, help_text="Reads that hit nothing are kept this many days.")
    hit_days = models.PositiveIntegerField(
        default=730, help_text="Reads with alerts, and their alerts, are kept this long."
    )
    audit_days = models.PositiveIntegerField(
        default=1095, help_text="The audit log is kept this long (CJIS: at least 365)."
    )
    preset = models.CharField(
        max_length=20, blank=True, choices=[(k, f"{v[0]}: {v[1]} days") for k, v in RETENTION_PRESETS.items()]
    )
    updated_at = models.DateTimeField(auto_now=True)

    @classmethod
    def current(cls) -> "RetentionPolicy":
        return cls.objects.get_or_create(pk=1)[0]


class RetentionRun(models.Model):
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True)
    dry_run = models.BooleanField(default=False)
    counts = models.JSONField(default=dict)

    class Meta:
        ordering = ["-started_at"]
