from django import forms

from cameras.models import Camera

from .search import plate_filter


class ReadSearchForm(forms.Form):
    plate = forms.CharField(required=False, max_length=20, help_text="Exact, or with * (any run) and ? (one character).")
    camera = forms.ModelChoiceField(queryset=Camera.objects.all(), required=False)
    start = forms.DateTimeField(required=False, widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    end = forms.DateTimeField(required=False, widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    reason = forms.CharField(max_length=500, widget=forms.Textarea(attrs={"rows": 2}),
                             help_text="Why you search (required; logged with the search).")

    def clean_plate(self):
        plate = self.cleaned_data["plate"]
        if plate:
            try:
                plate_filter(plate)
            except ValueError as exc:
                raise forms.ValidationError(str(exc)) from exc
        return plate

    def clean_reason(self):
        reason = self.cleaned_data["reason"].strip()
        if len(reason) < 5:
            raise forms.ValidationError("State the reason for this search (at least 5 characters).")
        return reason

    def clean(self):
        data = super().clean()
        if data.get("start") and data.get("end") and data["start"] >= data["end"]:
            raise forms.ValidationError("The start of the time range must be before its end.")
        return data

    def audit_query(self) -> dict:
        data = self.cleaned_data
        return {
            "plate": data.get("plate") or "",
            "camera": data["camera"].name if data.get("camera") else None,
            "start": data["start"].isoformat() if data.get("start") else None,
            "end": data["end"].isoformat() if data.get("end") else None,
        }
