from __future__ import annotations

import hashlib

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from recognition.vision.plates import format_regions, parse_regions


def hash_token(token: str) -> str:
    """Camera tokens are 256-bit random strings, so a plain SHA-256 is a safe hash."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class Region(models.TextChoices):
    """The region groups a camera's setting may name besides countries (recognition/vision/plates)."""

    US = "us", "United States"
    EU = "eu", "Europe"
    BR = "br", "Brazil"
    NA = "na", "Canada and Mexico"


def validate_region(value: str) -> None:
    """A region setting: country codes (ISO 3166-1, US states as us-ca) and groups, comma-separated."""
    try:
        parse_regions(value)
    except ValueError as exc:
        raise ValidationError(f"{exc}.", code="invalid_region") from exc


class Camera(models.Model):
    name = models.CharField(max_length=100, unique=True)
    location = models.CharField(max_length=200, blank=True, help_text="Where the camera is, in words.")
    latitude = models.FloatField(null=True, blank=True, validators=[MinValueValidator(-90), MaxValueValidator(90)])
    longitude = models.FloatField(null=True, blank=True, validators=[MinValueValidator(-180), MaxValueValidator(180)])
    region = models.CharField(
        max_length=200,
        blank=True,
        default=Region.US,
        validators=[validate_region],
        help_text="Countries whose plates the camera sees, likeliest first, comma-separated: ISO 3166-1 codes "
        "(fr, de, gb), US states as us-ca, or the groups us, eu, br, na. Empty: any country.",
    )
    enabled = models.BooleanField(default=True)
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    token_hint = models.CharField(
        max_length=8, editable=False, help_text="First characters of the token, for recognising it."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    last_frame_at = models.DateTimeField(null=True, blank=True)

    class Source(models.TextChoices):
        PUSH = "push", "Pushes frames to the API"
        RTSP = "rtsp", "RTSP stream"
        MJPEG = "mjpeg", "HTTP MJPEG stream"
        FILE = "file", "Video file"
        FOLDER = "folder", "Watched folder of images"

    source = models.CharField(max_length=8, choices=Source.choices, default=Source.PUSH)
    source_url = models.CharField(
        max_length=500, blank=True, help_text="rtsp://... or http://... (MJPEG), a video file path, or a folder path."
    )
    source_file = models.FileField(upload_to="sources/", blank=True, help_text="Or upload a video file.")
    sample_fps = models.FloatField(
        default=2.0,
        validators=[MinValueValidator(0.1), MaxValueValidator(30)],
        help_text="Frames per second taken from a stream for recognition.",
    )
    motion_gating = models.BooleanField(default=False, help_text="Skip frames where nothing moved.")
    loop = models.BooleanField(default=False, help_text="Play a video file again when it ends (demos, tests).")
    # Areas as fractions of the frame: [x, y, width, height], each in 0..1.
    roi = models.JSONField(
        null=True,
        blank=True,
        help_text="Region of interest [x, y, w, h] (fractions of the frame); "
        "plates outside it are ignored. Empty: the whole frame.",
    )
    masks = models.JSONField(
        default=list,
        blank=True,
        help_text="Areas to ignore (time stamps, signs): [[x, y, w, h], ...] as fractions of the frame.",
    )
    silence_minutes = models.PositiveIntegerField(
        default=10, help_text="Admins are alerted when the camera sends nothing for this long (0: never)."
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def countries(self) -> tuple[str, ...]:
        """The region setting as an ordered tuple of codes."""
        return parse_regions(self.region)

    def clean(self):
        try:  # stored as lower-case codes joined by commas; a bad code is reported by its field's validator
            self.region = format_regions(parse_regions(self.region))
        except ValueError:
            pass

        def check(rect, what):
            if not (
                isinstance(rect, (list, tuple))
                and len(rect) == 4
                and all(isinstance(v, (int, float)) and 0 <= v <= 1 for v in rect)
                and rect[0] + rect[2] <= 1.0001
                and rect[1] + rect[3] <= 1.0001
                and rect[2] > 0
                and rect[3] > 0
            ):
                raise ValidationError(
                    {what: f"{rect!r}: use [x, y, width, height] with fractions of the frame (0 to 1)."}
                )

        if self.roi:
            check(self.roi, "roi")
        if not isinstance(self.masks, list):
            raise ValidationError({"masks": "A list of [x, y, width, height] areas."})
        for rect in self.masks:
            check(rect, "masks")

    def keeps(self, box_x: float, box_y: float, box_w: float, box_h: float, width: int, height: int) -> bool:
        """Whether a plate box (pixels) lies inside the region of interest and outside every mask (by its centre)."""
        cx, cy = (box_x + box_w / 2) / width, (box_y + box_h / 2) / height

        def inside(rect):
            x, y, w, h = rect
            return x <= cx <= x + w and y <= cy <= y + h

        return (not self.roi or inside(self.roi)) and not any(inside(m) for m in self.masks or [])


class Frame(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued"
        PROCESSING = "processing"
        DONE = "done"
        FAILED = "failed"

    camera = models.ForeignKey(Camera, on_delete=models.PROTECT, related_name="frames")
    image = models.FileField(upload_to="frames/%Y/%m/%d/")
    thumbnail = models.FileField(upload_to="thumbs/%Y/%m/%d/", blank=True)
    content_type = models.CharField(max_length=20)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    captured_at = models.DateTimeField(db_index=True)
    received_at = models.DateTimeField(auto_now_add=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.QUEUED, db_index=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    claim_token = models.CharField(
        max_length=64,
        blank=True,
        db_index=True,
        help_text="Id of the task that claimed the frame (the same across its retries).",
    )
    processed_at = models.DateTimeField(null=True, blank=True)
    processing_ms = models.PositiveIntegerField(null=True, blank=True)
    error = models.TextField(blank=True)
    idempotency_key = models.CharField(
        max_length=100, blank=True, help_text="The camera's Idempotency-Key: a retried upload is stored once."
    )

    class Meta:
        ordering = ["-captured_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["camera", "idempotency_key"],
                condition=~models.Q(idempotency_key=""),
                name="one_frame_per_camera_idempotency_key",
            )
        ]

    def __str__(self) -> str:
        return f"frame {self.pk} from {self.camera_id}"


class CameraIncident(models.Model):
    """A camera that went silent (or keeps sending frames that fail), until it recovers."""

    camera = models.ForeignKey(Camera, on_delete=models.CASCADE, related_name="incidents")
    kind = models.CharField(max_length=20)  # silent
    started_at = models.DateTimeField(auto_now_add=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    detail = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-started_at"]
