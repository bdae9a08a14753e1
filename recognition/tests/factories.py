"""Rows for tests: a read with its frame, without files (the tests that need files save their own)."""

from __future__ import annotations

from cameras.models import Frame
from recognition.models import Read


def make_read(camera, text, when, candidates=None, crop=""):
    """A read of ``text`` at ``when`` by ``camera``, in a frame of its own marked done."""
    frame = Frame.objects.create(
        camera=camera,
        image="frames/x.jpg",
        content_type="image/jpeg",
        width=1,
        height=1,
        captured_at=when,
        status="done",
    )
    return Read.objects.create(
        frame=frame,
        camera=camera,
        captured_at=when,
        text=text,
        confidence=0.9,
        candidates=candidates or [[text, 0.9]],
        box_x=0,
        box_y=0,
        box_w=1,
        box_h=1,
        detector_confidence=0.9,
        crop=crop,
        engine="test",
    )
