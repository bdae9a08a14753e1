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


def make_stored_read(camera, text, when, *, hit=False):
    """A read at ``when`` with its frame image and crop saved in the media storage (retention deletes
    them), received when it was captured; ``hit``: with an alert pointing at it."""
    from django.core.files.base import ContentFile

    from alerts.models import Alert

    frame = Frame(camera=camera, content_type="image/jpeg", width=10, height=10, captured_at=when)
    frame.image.save("f.jpg", ContentFile(b"jpeg"), save=False)
    frame.save()
    Frame.objects.filter(pk=frame.pk).update(received_at=when)
    read = Read(
        frame=frame,
        camera=camera,
        captured_at=when,
        text=text,
        confidence=0.9,
        box_x=0,
        box_y=0,
        box_w=1,
        box_h=1,
        detector_confidence=0.9,
        engine="t",
    )
    read.crop.save("c.jpg", ContentFile(b"crop"), save=False)
    read.save()
    if hit:
        Alert.objects.create(read=read, hotlist_name="L", entry_plate=text, camera=camera)
    return read
