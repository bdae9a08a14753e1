from django.db import models
from django.db.models import Q
from django.utils import timezone


class Hotlist(models.Model):
    name = models.CharField(max_length=100, unique=True)
    description = models.CharField(max_length=300, blank=True)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class EntryQuerySet(models.QuerySet):
    def live(self, at=None):
        """Entries of active lists that have not expired at ``at`` (default now)."""
        at = at or timezone.now()
        return self.filter(hotlist__active=True).filter(Q(expires_at__isnull=True) | Q(expires_at__gt=at))


class Entry(models.Model):
    hotlist = models.ForeignKey(Hotlist, on_delete=models.CASCADE, related_name="entries")
    plate = models.CharField(max_length=16, db_index=True, help_text="Normalised: A-Z and 0-9 only.")
    plate_raw = models.CharField(max_length=32, help_text="As it appeared in the source.")
    state = models.CharField(max_length=8, blank=True)
    reason = models.CharField(max_length=100, blank=True)
    case_number = models.CharField(max_length=50, blank=True)
    notes = models.TextField(blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = EntryQuerySet.as_manager()

    class Meta:
        ordering = ["plate"]
        constraints = [models.UniqueConstraint(fields=["hotlist", "plate", "state"], name="unique_plate_state_per_list")]

    def __str__(self) -> str:
        return f"{self.plate} ({self.hotlist_id})"
