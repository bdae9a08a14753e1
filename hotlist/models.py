from datetime import timedelta

from django.core.validators import MaxValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from accounts.roles import ADMIN, has_role


class Hotlist(models.Model):
    class MatchMode(models.TextChoices):
        EXACT = "exact", "Exact"
        LENIENT = "lenient", "Lenient (look-alikes and edits)"

    name = models.CharField(max_length=100, unique=True)
    description = models.CharField(max_length=300, blank=True)
    instructions = models.TextField(
        blank=True, max_length=1000, help_text="What an officer should do on a hit (shown on every alert of this list)."
    )
    active = models.BooleanField(default=True)
    # Defaults follow common vendor practice: one look-alike substitution, no plain edits.
    match_mode = models.CharField(max_length=10, choices=MatchMode.choices, default=MatchMode.LENIENT)
    lookalike_budget = models.PositiveSmallIntegerField(
        default=1, validators=[MaxValueValidator(2)], help_text="Look-alike substitutions allowed (0-2), e.g. 8 for B."
    )
    edit_budget = models.PositiveSmallIntegerField(
        default=0,
        validators=[MaxValueValidator(2)],
        help_text="Other differences allowed (0-2): a wrong, missing or extra character.",
    )
    lookalike_min_length = models.PositiveSmallIntegerField(
        default=0,
        validators=[MaxValueValidator(10)],
        help_text="Look-alikes are tolerated only on plates at least this long (0: all).",
    )
    edit_min_length = models.PositiveSmallIntegerField(
        default=0,
        validators=[MaxValueValidator(10)],
        help_text="Other differences are tolerated only on plates at least this long (0: all), e.g. 7.",
    )
    priority = models.CharField(
        max_length=10,
        choices=[("low", "low"), ("normal", "normal"), ("high", "high"), ("critical", "critical")],
        default="normal",
    )
    colour = models.CharField(
        max_length=7,
        default="#b3261e",
        help_text="Colour of this list's alerts (#rrggbb).",
        validators=[RegexValidator(r"^#[0-9a-fA-F]{6}$", "Use #rrggbb.")],
    )
    sound = models.CharField(
        max_length=10,
        choices=[("none", "none"), ("chime", "chime"), ("beep", "beep"), ("siren", "siren")],
        default="chime",
    )
    covert = models.BooleanField(
        default=False, help_text="Only admins and the users chosen below see this list and its alerts."
    )
    visible_to = models.ManyToManyField("auth.User", blank=True, related_name="covert_hotlists")
    active_from = models.TimeField(null=True, blank=True, help_text="Alert only from this time of day (local time)...")
    active_until = models.TimeField(null=True, blank=True, help_text="...until this time (may wrap past midnight).")
    expires_at = models.DateTimeField(null=True, blank=True, help_text="The whole list stops alerting after this.")
    refresh_hours = models.PositiveIntegerField(
        default=24, help_text="Expected time between imports; older lists are flagged as stale (0: no expectation)."
    )
    history_days = models.PositiveIntegerField(
        default=7,
        validators=[MaxValueValidator(365)],
        help_text="New entries are checked against the reads of this many days.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    last_imported_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def alerting_at(self, when) -> bool:
        """Whether the list alerts at ``when``: active, not expired, inside its hours."""
        if not self.active or (self.expires_at and when >= self.expires_at):
            return False
        if self.active_from is None or self.active_until is None:
            return True
        local = timezone.localtime(when).time()
        if self.active_from <= self.active_until:
            return self.active_from <= local < self.active_until
        return local >= self.active_from or local < self.active_until  # wraps past midnight

    def is_stale(self, now=None) -> bool:
        if not self.refresh_hours:
            return False
        last = self.last_imported_at or self.created_at
        return (now or timezone.now()) - last > timedelta(hours=self.refresh_hours)

    def visible_to_user(self, user) -> bool:
        return not self.covert or has_role(user, ADMIN) or self.visible_to.filter(pk=user.pk).exists()

    def policy(self):
        from .matching import MatchPolicy

        if self.match_mode == self.MatchMode.EXACT:
            return MatchPolicy.exact()

        def budget(value: int, min_length: int):
            return ((0, 0), (min_length, value)) if min_length and value else value

        return MatchPolicy.lenient(
            lookalike=budget(self.lookalike_budget, self.lookalike_min_length),
            edits=budget(self.edit_budget, self.edit_min_length),
        )


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
    category = models.CharField(max_length=40, blank=True, help_text="e.g. stolen vehicle, wanted person")
    nic = models.CharField("NCIC number", max_length=20, blank=True)
    ori = models.CharField("originating agency (ORI)", max_length=20, blank=True)
    vin = models.CharField("VIN", max_length=20, blank=True)
    make = models.CharField(max_length=30, blank=True)
    model = models.CharField(max_length=30, blank=True)
    colour = models.CharField(max_length=20, blank=True)
    vehicle_year = models.CharField(max_length=4, blank=True)
    plate_year = models.CharField(max_length=4, blank=True)
    plate_type = models.CharField(max_length=4, blank=True)
    entered_at = models.DateTimeField(null=True, blank=True)

    objects = EntryQuerySet.as_manager()

    class Meta:
        ordering = ["plate"]
        constraints = [
            models.UniqueConstraint(fields=["hotlist", "plate", "state"], name="unique_plate_state_per_list")
        ]

    def __str__(self) -> str:
        return f"{self.plate} ({self.hotlist_id})"


class ImportJob(models.Model):
    """An uploaded hotlist file and what became of it. Progress while it runs lives in the cache."""

    class Status(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        DONE = "done"
        REJECTED = "rejected", "rejected (errors; nothing imported)"
        FAILED = "failed"
        AWAITING = "awaiting", "waiting for confirmation (it would remove entries; nothing imported yet)"
        CANCELLED = "cancelled", "cancelled (nothing imported)"

    hotlist_name = models.CharField(max_length=100)
    hotlist = models.ForeignKey(Hotlist, on_delete=models.SET_NULL, null=True, blank=True, related_name="imports")
    file = models.FileField(upload_to="imports/%Y/%m/%d/")
    original_name = models.CharField(max_length=255)
    requested_format = models.CharField(max_length=20, blank=True, help_text="Empty: detected from the file.")
    detected_format = models.CharField(max_length=20, blank=True)
    mode = models.CharField(max_length=10, default="replace")
    confirmed_removals = models.PositiveIntegerField(
        default=0, help_text="Removals the admin agreed to; an import that would remove more waits for a confirmation."
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED, db_index=True)
    counts = models.JSONField(default=dict)
    errors = models.JSONField(default=list, help_text="The first row errors: [[line, message], ...]")
    error_count = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey("auth.User", on_delete=models.PROTECT, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
