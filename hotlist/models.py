from django.core.validators import MaxValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone


class Hotlist(models.Model):
    class MatchMode(models.TextChoices):
        EXACT = "exact", "Exact"
        LENIENT = "lenient", "Lenient (look-alikes and edits)"

    name = models.CharField(max_length=100, unique=True)
    description = models.CharField(max_length=300, blank=True)
    active = models.BooleanField(default=True)
    # Defaults follow common vendor practice: one look-alike substitution, no plain edits.
    match_mode = models.CharField(max_length=10, choices=MatchMode.choices, default=MatchMode.LENIENT)
    lookalike_budget = models.PositiveSmallIntegerField(default=1, validators=[MaxValueValidator(2)],
                                                        help_text="Look-alike substitutions allowed (0-2), e.g. 8 for B.")
    edit_budget = models.PositiveSmallIntegerField(default=0, validators=[MaxValueValidator(2)],
                                                   help_text="Other differences allowed (0-2): a wrong, missing or extra character.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def policy(self):
        from .matching import MatchPolicy

        if self.match_mode == self.MatchMode.EXACT:
            return MatchPolicy.exact()
        return MatchPolicy.lenient(lookalike=self.lookalike_budget, edits=self.edit_budget)


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
