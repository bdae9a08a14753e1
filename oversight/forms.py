from typing import cast

from django import forms
from django.db.models import Q

from accounts.roles import ADMIN, has_role
from cameras.models import Camera
from hotlist.models import Hotlist

from .search import is_wildcard, normalize_query, plate_filter

BUDGET_CHOICES = [(0, "0"), (1, "1"), (2, "2")]


def hotlists_visible_to(user):
    """Lists whose hits ``user`` may filter on: all but covert lists they are not cleared for."""
    qs = Hotlist.objects.all()
    if user is None or not has_role(user, ADMIN):
        qs = qs.filter(Q(covert=False) | Q(visible_to=user) if user is not None else Q(covert=False)).distinct()
    return qs


class ReadSearchForm(forms.Form):
    plate = forms.CharField(
        required=False, max_length=20, help_text="Exact, or with * (any run) and ? (one character)."
    )
    mode = forms.ChoiceField(
        required=False,
        initial="exact",
        choices=[
            ("exact", "Exact (wildcards * and ? allowed)"),
            ("wildcard", "Wildcard"),
            ("lenient", "Lenient (look-alikes and edits, as the hotlist matcher)"),
        ],
    )
    lookalikes = forms.TypedChoiceField(
        required=False,
        coerce=int,
        empty_value=None,
        choices=BUDGET_CHOICES,
        initial=1,
        label="Look-alikes",
        help_text="Lenient: look-alike substitutions allowed (0-2).",
    )
    edits = forms.TypedChoiceField(
        required=False,
        coerce=int,
        empty_value=None,
        choices=BUDGET_CHOICES,
        initial=0,
        label="Edits",
        help_text="Lenient: other differences allowed (0-2).",
    )
    camera = forms.ModelChoiceField(queryset=Camera.objects.all(), required=False)
    start = forms.DateTimeField(required=False, widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    end = forms.DateTimeField(required=False, widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    hotlist = forms.ModelChoiceField(
        queryset=Hotlist.objects.none(), required=False, help_text="Only reads that hit this list."
    )
    hits_only = forms.BooleanField(required=False, label="Hits only")
    reason = forms.CharField(
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Why you search (required; logged with the search).",
    )
    case_number = forms.CharField(
        max_length=50, label="Case number", help_text="Case or incident number (required; logged with the search)."
    )

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        cast(forms.ModelChoiceField, self.fields["hotlist"]).queryset = hotlists_visible_to(user)

    def clean_plate(self):
        plate = self.cleaned_data["plate"]
        if plate:
            try:
                plate_filter(plate)
            except ValueError as exc:
                raise forms.ValidationError(str(exc)) from exc
        return plate

    def clean_mode(self):
        return self.cleaned_data.get("mode") or "exact"

    def clean_lookalikes(self):
        value = self.cleaned_data.get("lookalikes")
        return 1 if value is None else value

    def clean_edits(self):
        value = self.cleaned_data.get("edits")
        return 0 if value is None else value

    def clean_reason(self):
        reason = self.cleaned_data["reason"].strip()
        if len(reason) < 5:
            raise forms.ValidationError("State the reason for this search (at least 5 characters).")
        return reason

    def clean_case_number(self):
        case = self.cleaned_data["case_number"].strip()
        if not case:
            raise forms.ValidationError("Give the case number this search is for.")
        return case

    def clean(self):
        super().clean()
        data = self.cleaned_data
        if data.get("start") and data.get("end") and data["start"] >= data["end"]:
            raise forms.ValidationError("The start of the time range must be before its end.")
        plate = data.get("plate")
        if data.get("mode") == "lenient":
            if not plate:
                self.add_error("plate", "Lenient search needs a plate.")
            elif is_wildcard(normalize_query(plate)):
                literals = sum(1 for c in normalize_query(plate) if c not in "*?")
                if literals < 2:
                    self.add_error("plate", "A lenient wildcard search needs at least two letters or digits.")
        return data

    def audit_query(self) -> dict:
        data = self.cleaned_data
        return {
            "plate": data.get("plate") or "",
            "mode": data.get("mode") or "exact",
            "lookalikes": data.get("lookalikes") if data.get("mode") == "lenient" else None,
            "edits": data.get("edits") if data.get("mode") == "lenient" else None,
            "camera": data["camera"].name if data.get("camera") else None,
            "start": data["start"].isoformat() if data.get("start") else None,
            "end": data["end"].isoformat() if data.get("end") else None,
            "hotlist": data["hotlist"].name if data.get("hotlist") else None,
            "hits_only": bool(data.get("hits_only")),
            "case_number": data.get("case_number") or "",
        }


class RetentionForm(forms.ModelForm):
    class Meta:
        from audit.models import RetentionPolicy

        model = RetentionPolicy
        fields = ["preset", "non_hit_days", "hit_days", "audit_days"]

    def clean(self):
        from audit.models import RETENTION_PRESETS

        super().clean()
        data = self.cleaned_data
        if data.get("preset"):
            data["non_hit_days"] = RETENTION_PRESETS[data["preset"]][1]
        if data.get("audit_days") is not None and data["audit_days"] < 365:
            self.add_error("audit_days", "Keep the audit log at least 365 days (CJIS).")
        if (
            data.get("hit_days") is not None
            and data.get("non_hit_days") is not None
            and data["hit_days"] < data["non_hit_days"]
        ):
            self.add_error("hit_days", "Hits are kept at least as long as reads without hits.")
        return data
