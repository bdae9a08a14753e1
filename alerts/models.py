from django.conf import settings
from django.db import models

from hotlist.models import Entry, Hotlist
from recognition.models import Read


class Alert(models.Model):
    """A read that matched a hotlist entry. The entry's fields are copied so the alert stays true if the list changes."""

    class Status(models.TextChoices):
        NEW = "new"
        ACKNOWLEDGED = "acknowledged"
        DISPOSITIONED = "dispositioned"

    class Disposition(models.TextChoices):
        CONFIRMED = "confirmed", "Confirmed (stop made)"
        MISREAD = "misread", "Misread"
        WRONG_STATE = "wrong_state", "Wrong state"
        NOT_ACTIVE = "not_active", "Entry no longer active"
        DUPLICATE = "duplicate", "Duplicate"
        OTHER = "other", "Other (explain)"

    # No database constraint: on PostgreSQL reads are partitioned by day and their key is (id, captured_at).
    # Deleting a read still deletes its alerts (the ORM cascades); retention keeps reads that have alerts.
    read = models.ForeignKey(Read, on_delete=models.CASCADE, related_name="alerts", db_constraint=False)
    entry = models.ForeignKey(Entry, on_delete=models.SET_NULL, null=True, related_name="alerts")
    hotlist = models.ForeignKey(Hotlist, on_delete=models.SET_NULL, null=True, related_name="alerts")
    hotlist_name = models.CharField(max_length=100)
    entry_plate = models.CharField(max_length=16)
    entry_state = models.CharField(max_length=8, blank=True)
    reason = models.CharField(max_length=100, blank=True)
    case_number = models.CharField(max_length=50, blank=True)
    notes = models.TextField(blank=True)
    vehicle_make = models.CharField(max_length=30, blank=True)
    vehicle_model = models.CharField(max_length=30, blank=True)
    vehicle_colour = models.CharField(max_length=20, blank=True)
    vehicle_year = models.CharField(max_length=4, blank=True)
    instructions = models.TextField(blank=True, help_text="The list's instructions when the alert was raised.")
    match_kind = models.CharField(max_length=20, default="exact")
    matched_text = models.CharField(max_length=16, blank=True, help_text="The OCR candidate that hit the entry.")
    differences = models.JSONField(default=list, help_text="How the read differs from the entry, for highlighting.")
    explanation = models.CharField(max_length=300, blank=True)
    priority = models.CharField(max_length=10, default="normal")
    colour = models.CharField(max_length=7, default="#b3261e")
    sound = models.CharField(max_length=10, default="chime")
    covert = models.BooleanField(
        default=False, help_text="From a covert list: shown to admins and its chosen users only."
    )
    historical = models.BooleanField(default=False, help_text="Found when a new entry was checked against past reads.")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.NEW, db_index=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    disposition = models.CharField(max_length=20, choices=Disposition.choices, blank=True)
    disposition_note = models.TextField(blank=True)
    dispositioned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    dispositioned_at = models.DateTimeField(null=True, blank=True)
    camera = models.ForeignKey("cameras.Camera", on_delete=models.PROTECT, null=True, related_name="+")
    last_seen_at = models.DateTimeField(null=True, blank=True, help_text="Latest read of the same pass.")
    repeats = models.PositiveIntegerField(default=0, help_text="Further reads of the same pass folded into this alert.")
    event = models.ForeignKey(
        "recognition.PlateEvent", on_delete=models.SET_NULL, null=True, blank=True, related_name="alerts"
    )

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [models.UniqueConstraint(fields=["read", "entry"], name="one_alert_per_read_and_entry")]

    def __str__(self) -> str:
        return f"alert {self.pk}: {self.entry_plate}"

    @property
    def vehicle(self) -> str:
        """The entry's vehicle in words, e.g. "2019 black Toyota Camry" (empty if the entry had none)."""
        return " ".join(p for p in (self.vehicle_year, self.vehicle_colour, self.vehicle_make, self.vehicle_model) if p)

    @property
    def is_unhandled(self) -> bool:
        return self.status != self.Status.DISPOSITIONED


class Sighting(models.Model):
    """A read that matched an alert's entry: the read that raised the alert, and every repeat folded into it.

    Every matching read is recorded here, so a repeat that raised no alert of its own is still a hit
    (auditors' search, retention)."""

    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="sightings")
    read = models.ForeignKey(Read, on_delete=models.CASCADE, related_name="sightings", db_constraint=False)
    captured_at = models.DateTimeField()
    matched_text = models.CharField(max_length=16, blank=True)
    match_kind = models.CharField(max_length=20, default="exact")
    repeat = models.BooleanField(default=False, help_text="Folded into the alert instead of raising one.")

    class Meta:
        ordering = ["captured_at", "pk"]
        constraints = [models.UniqueConstraint(fields=["alert", "read"], name="one_sighting_per_alert_and_read")]

    def __str__(self) -> str:
        return f"sighting of alert {self.alert_id}: read {self.read_id}"


class AlertEvent(models.Model):
    """What happened to an alert, by whom and when."""

    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(auto_now_add=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+")
    kind = models.CharField(max_length=20)  # created, repeated, acknowledged, dispositioned
    detail = models.JSONField(default=dict)

    class Meta:
        ordering = ["at", "pk"]


class WatchPreference(models.Model):
    """Which cameras and lists an officer watches (none chosen = all)."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="watch")
    cameras = models.ManyToManyField("cameras.Camera", blank=True)
    hotlists = models.ManyToManyField("hotlist.Hotlist", blank=True)
