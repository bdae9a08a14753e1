from django import forms

from .models import Camera


class CameraForm(forms.ModelForm):
    class Meta:
        model = Camera
        fields = ["name", "location", "latitude", "longitude", "region", "enabled", "silence_minutes", "roi", "masks"]
