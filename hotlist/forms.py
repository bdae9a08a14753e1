from django import forms
from django.conf import settings

from .services import IMPORT_MODES


class UploadForm(forms.Form):
    list_name = forms.CharField(max_length=100, label="List")
    file = forms.FileField(help_text="CSV with a header row: plate (required), state, reason, case_number, notes, expires.")
    mode = forms.ChoiceField(choices=[(m, m) for m in IMPORT_MODES], initial="replace")

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > settings.ALPR_MAX_HOTLIST_BYTES:
            raise forms.ValidationError(f"The file is larger than {settings.ALPR_MAX_HOTLIST_BYTES} bytes.")
        return upload
