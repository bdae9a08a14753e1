from typing import cast

from django import forms

from accounts.roles import ADMIN, has_role
from cameras.models import Camera
from hotlist.models import Hotlist

from .models import Alert


def lists_visible_to(user):
    """Lists the user may pick: all but covert lists they are not cleared for."""
    from django.db.models import Q

    lists = Hotlist.objects.all()
    if not has_role(user, ADMIN):
        lists = lists.filter(Q(covert=False) | Q(visible_to=user)).distinct()
    return lists


class DispositionForm(forms.Form):
    disposition = forms.ChoiceField(choices=Alert.Disposition.choices)
    note = forms.CharField(required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))

    def clean(self):
        super().clean()
        data = self.cleaned_data
        if data.get("disposition") == Alert.Disposition.OTHER and not (data.get("note") or "").strip():
            self.add_error("note", "Say what happened.")
        return data


class WatchForm(forms.Form):
    cameras = forms.ModelMultipleChoiceField(
        queryset=Camera.objects.all(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="None ticked: all cameras.",
    )
    hotlists = forms.ModelMultipleChoiceField(
        queryset=Hotlist.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="None ticked: all lists.",
    )

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["hotlists"]).queryset = lists_visible_to(user)


class HistoryForm(forms.Form):
    """Filters of the alert history. Dates are days in the agency's time zone."""

    STATUS_CHOICES = (
        ("", "any"),
        ("unhandled", "unhandled (new or acknowledged)"),
        ("new", "new"),
        ("acknowledged", "acknowledged"),
        ("dispositioned", "dispositioned"),
    )

    status = forms.ChoiceField(required=False, choices=STATUS_CHOICES)
    hotlist = forms.ModelChoiceField(queryset=Hotlist.objects.none(), required=False, label="List")
    camera = forms.ModelChoiceField(queryset=Camera.objects.all(), required=False)
    start = forms.DateField(required=False, label="From", widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(required=False, label="To (inclusive)", widget=forms.DateInput(attrs={"type": "date"}))
    plate = forms.CharField(required=False, max_length=16)

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["hotlist"]).queryset = lists_visible_to(user)

    def clean(self):
        super().clean()
        data = self.cleaned_data
        if data.get("start") and data.get("end") and data["start"] > data["end"]:
            raise forms.ValidationError("The first day must not be after the last.")
        return data

    def filter(self, qs):
        from datetime import datetime, time, timedelta

        from django.utils import timezone

        data = self.cleaned_data
        status = data.get("status")
        if status == "unhandled":
            qs = qs.exclude(status=Alert.Status.DISPOSITIONED)
        elif status:
            qs = qs.filter(status=status)
        if data.get("hotlist"):
            qs = qs.filter(hotlist=data["hotlist"])
        if data.get("camera"):
            qs = qs.filter(camera=data["camera"])
        zone = timezone.get_default_timezone()
        if data.get("start"):
            qs = qs.filter(created_at__gte=datetime.combine(data["start"], time.min, tzinfo=zone))
        if data.get("end"):
            qs = qs.filter(created_at__lt=datetime.combine(data["end"] + timedelta(days=1), time.min, tzinfo=zone))
        if data.get("plate"):
            plate = "".join(c for c in data["plate"].upper() if c.isalnum())
            qs = qs.filter(entry_plate__startswith=plate)
        return qs
