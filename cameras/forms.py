from django import forms

from .models import Camera


class CameraForm(forms.ModelForm):
    class Meta:
        model = Camera
        fields = [
            "name",
            "location",
            "latitude",
            "longitude",
            "region",
            "enabled",
            "source",
            "source_url",
            "source_file",
            "sample_fps",
            "motion_gating",
            "loop",
            "silence_minutes",
            "roi",
            "masks",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Fields with sensible defaults need not be filled in.
        for name in ("source", "sample_fps", "silence_minutes", "masks"):
            self.fields[name].required = False

    def clean(self):
        super().clean()
        data = self.cleaned_data
        defaults = {"source": "push", "sample_fps": 2.0, "silence_minutes": 10, "masks": []}
        for name, value in defaults.items():
            if data.get(name) in (None, ""):
                data[name] = value
                setattr(self.instance, name, value)
        source = data.get("source")
        url = (data.get("source_url") or "").strip()
        if source in ("rtsp", "mjpeg") and not url.startswith(("rtsp://", "rtsps://", "http://", "https://")):
            self.add_error("source_url", "Give the stream's rtsp:// or http:// address.")
        if source == "folder" and not url.startswith("/"):
            self.add_error("source_url", "Give the folder's absolute path on the reader's machine.")
        if (
            source == "file"
            and not url
            and not data.get("source_file")
            and not (self.instance and self.instance.source_file)
        ):
            self.add_error("source_file", "Upload a video file or give its path.")
        return data
