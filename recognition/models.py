from django.db import models

from cameras.models import Camera, Frame


class PlateEvent(models.Model):
    """One vehicle passing one camera: its reads, and the plate they agree on (weighted voting)."""

    camera = models.ForeignKey(Camera, on_delete=models.PROTECT, related_name="events")
    started_at = models.DateTimeField(db_index=True)
    last_seen_at = models.DateTimeField(db_index=True)
    plate = models.CharField(max_length=16, db_index=True, help_text="Consensus plate.")
    confidence = models.FloatField(default=0)
    votes = models.JSONField(default=dict)
    read_count = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-last_seen_at"]
        indexes = [models.Index(fields=["camera", "last_seen_at"])]

    def __str__(self) -> str:
        return f"{self.plate} at {self.camera_id} ({self.read_count} reads)"


class Read(models.Model):
    """One plate read in one frame."""

    # No database constraint: frames are partitioned by day on PostgreSQL (see recognition/partitions.py).
    frame = models.ForeignKey(Frame, on_delete=models.CASCADE, related_name="reads", db_constraint=False)
    camera = models.ForeignKey(Camera, on_delete=models.PROTECT, related_name="reads")
    captured_at = models.DateTimeField()
    # indexed for searches by recognition/migrations/0006 (text, captured_at, id)
    text = models.CharField(max_length=16)
    confidence = models.FloatField()
    candidates = models.JSONField(default=list, help_text="[[text, confidence], ...] best first.")
    box_x = models.IntegerField()
    box_y = models.IntegerField()
    box_w = models.IntegerField()
    box_h = models.IntegerField()
    detector_confidence = models.FloatField()
    crop = models.FileField(upload_to="crops/%Y/%m/%d/")
    engine = models.CharField(max_length=40, help_text="detector+ocr that produced the read")
    country = models.CharField(
        max_length=8,
        blank=True,
        default="",
        help_text="Country (or region group) of the camera's setting whose plate layouts "
        "the text fits; empty when it fits none (custom, foreign, vanity).",
    )
    event = models.ForeignKey(PlateEvent, on_delete=models.SET_NULL, null=True, blank=True, related_name="reads")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-captured_at", "-pk"]
        indexes = [
            models.Index(fields=["camera", "captured_at"]),
            models.Index(fields=["captured_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.text} @ {self.camera_id} {self.captured_at:%Y-%m-%d %H:%M:%S}"

    @property
    def box(self) -> tuple[int, int, int, int]:
        return (self.box_x, self.box_y, self.box_w, self.box_h)
