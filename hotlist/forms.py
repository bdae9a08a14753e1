from typing import cast

from django import forms
from django.conf import settings

from .models import Hotlist
from .services import IMPORT_MODES

#: Human names of the file formats (hotlist/importing.py FORMATS) and the import modes.
FORMAT_NAMES = {
    "csv": "CSV with a header row",
    "ncic": "NCIC fixed width",
    "tx_tcic": "Texas TCIC (8-column CSV)",
    "fl": "Florida (semicolon layout)",
    "plain": "One plate per line",
}
MODE_NAMES = {
    "replace": "Replace: the list becomes the file",
    "append": "Append: add and update",
    "delta": "Delta: add and remove as the file's action column says",
}


class UploadForm(forms.Form):
    hotlist = forms.ModelChoiceField(
        queryset=Hotlist.objects.all(), required=False, label="List", empty_label="(a new list, named below)"
    )
    list_name = forms.CharField(
        max_length=100,
        required=False,
        label="New list named",
        help_text="Only to create a list; a name already in use is refused, so a typo cannot make a second list.",
    )
    file = forms.FileField(
        help_text="CSV with a header, NCIC fixed width, Texas TCIC, Florida semicolon layout, "
        "or one plate per line. UTF-8."
    )
    format = forms.ChoiceField(
        required=False, choices=[], help_text="Leave on 'Detect from the file' unless detection picks wrong."
    )
    mode = forms.ChoiceField(
        choices=[(m, MODE_NAMES.get(m, m)) for m in IMPORT_MODES],
        initial="replace",
        help_text="replace: the list becomes the file; append: add and update; "
        "delta: add, update and remove to match the file.",
    )

    def __init__(self, *args, **kwargs):
        from .importing import FORMATS

        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["format"]).choices = [
            ("", "Detect from the file"),
            *[(f, FORMAT_NAMES.get(f, f)) for f in FORMATS],
        ]

    def clean(self):
        super().clean()
        data = self.cleaned_data
        chosen, name = data.get("hotlist"), (data.get("list_name") or "").strip()
        if chosen and name:
            raise forms.ValidationError("Pick an existing list or name a new one, not both.")
        if chosen:
            data["list_name"] = chosen.name
        elif not name:
            self.add_error("hotlist", "Pick the list to import into, or name a new one.")
        elif Hotlist.objects.filter(name__iexact=name).exists():
            self.add_error("list_name", f"A list named {name!r} exists already; pick it under List.")
        else:
            data["list_name"] = name
        return data

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > settings.ALPR_MAX_HOTLIST_BYTES:
            raise forms.ValidationError(f"The file is larger than {settings.ALPR_MAX_HOTLIST_BYTES} bytes.")
        if upload.size == 0:
            raise forms.ValidationError("The file is empty.")
        return upload


class HotlistSettingsForm(forms.ModelForm):
    class Meta:
        model = Hotlist
        fields = [
            "description",
            "instructions",
            "active",
            "match_mode",
            "lookalike_budget",
            "lookalike_min_length",
            "edit_budget",
            "edit_min_length",
            "priority",
            "colour",
            "sound",
            "covert",
            "visible_to",
            "active_from",
            "active_until",
            "expires_at",
            "refresh_hours",
            "history_days",
        ]
        widgets = {
            "colour": forms.TextInput(attrs={"type": "color"}),
            "instructions": forms.Textarea(attrs={"rows": 2}),
            "active_from": forms.TimeInput(attrs={"type": "time"}),
            "active_until": forms.TimeInput(attrs={"type": "time"}),
            "expires_at": forms.DateTimeInput(attrs={"type": "datetime-local"}),
        }

    def clean_expires_at(self):
        from .importing import EARLIEST_DATE, LATEST_DATE

        expires = self.cleaned_data.get("expires_at")
        if expires is not None and not EARLIEST_DATE <= expires < LATEST_DATE:
            raise forms.ValidationError(
                f"Give a date between {EARLIEST_DATE.year} and {LATEST_DATE.year - 1}, or leave it empty."
            )
        return expires

    def clean(self):
        super().clean()
        data = self.cleaned_data
        if (data.get("active_from") is None) != (data.get("active_until") is None):
            raise forms.ValidationError("Give both ends of the active hours, or neither.")
        return data


class BoloForm(forms.Form):
    """A single entry added by an officer or admin: plate, a reason and an expiry are required."""

    plate = forms.CharField(max_length=20)
    state = forms.CharField(max_length=8, required=False)
    reason = forms.CharField(max_length=100)
    expires = forms.DateTimeField(widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    case_number = forms.CharField(max_length=50, required=False)
    notes = forms.CharField(max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def clean_plate(self):
        from .importing import check_plate

        plate, problem = check_plate(self.cleaned_data["plate"])
        if problem:
            raise forms.ValidationError(problem)
        return plate

    def clean_state(self):
        from .importing import check_state

        state, problem = check_state(self.cleaned_data["state"])
        if problem:
            raise forms.ValidationError(problem)
        return state

    def clean_reason(self):
        reason = self.cleaned_data["reason"].strip()
        if len(reason) < 3:
            raise forms.ValidationError("Give the reason for this entry.")
        return reason

    def clean_expires(self):
        from datetime import timedelta

        from django.utils import timezone

        expires = self.cleaned_data["expires"]
        now = timezone.now()
        if expires <= now:
            raise forms.ValidationError("The expiry must be in the future.")
        if expires > now + timedelta(days=90):
            raise forms.ValidationError("A BOLO may run for at most 90 days; renew it if it must run longer.")
        return expires


class ChangeReasonMixin(forms.Form):
    change_reason = forms.CharField(
        label="Reason for the change",
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Required; kept in the audit log.",
    )

    def clean_change_reason(self):
        reason = self.cleaned_data["change_reason"].strip()
        if len(reason) < 5:
            raise forms.ValidationError("Say why (at least 5 characters).")
        return reason


class EntryForm(ChangeReasonMixin, forms.ModelForm):
    """One entry of a list, edited by an admin."""

    class Meta:
        from .models import Entry

        model = Entry
        fields = [
            "plate",
            "state",
            "reason",
            "case_number",
            "make",
            "model",
            "colour",
            "vehicle_year",
            "expires_at",
            "notes",
        ]
        widgets = {
            "expires_at": forms.DateTimeInput(attrs={"type": "datetime-local"}),
            "notes": forms.Textarea(attrs={"rows": 2}),
        }

    field_order = [*Meta.fields, "change_reason"]

    def clean_plate(self):
        from .importing import check_plate

        plate, problem = check_plate(self.cleaned_data["plate"])
        if problem:
            raise forms.ValidationError(problem)
        return plate

    def clean_state(self):
        return self.cleaned_data["state"].strip().upper()

    def clean(self):
        super().clean()
        data = self.cleaned_data
        from .models import Entry

        if (
            data.get("plate")
            and Entry.objects.filter(hotlist=self.instance.hotlist, plate=data["plate"], state=data.get("state", ""))
            .exclude(pk=self.instance.pk)
            .exists()
        ):
            raise forms.ValidationError("The list already has an entry with this plate and state.")
        return data


class DeleteForm(ChangeReasonMixin):
    """Deleting an entry or a whole list: a reason; for a list, its name typed again."""

    def __init__(self, *args, confirm_name: str | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.confirm_name = confirm_name
        if confirm_name is not None:
            self.fields["confirm"] = forms.CharField(
                label=f"Type the list's name ({confirm_name}) to confirm", max_length=100
            )

    def clean_confirm(self):
        value = self.cleaned_data["confirm"].strip()
        if value != self.confirm_name:
            raise forms.ValidationError("The name does not match; nothing was deleted.")
        return value
