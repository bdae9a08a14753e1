"""Turn a stored frame into reads, matches and alerts.

The vision work is done by ``recognition.vision`` (plain Python); this module
translates its results into rows and hands them to hotlist matching.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from datetime import timedelta
from typing import TYPE_CHECKING

import cv2
import numpy as np
from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import FileField, Q
from django.utils import timezone

from cameras.models import Frame

from .events import do_assign_event
from .models import Read
from .signals import reads_stored

if TYPE_CHECKING:
    from .vision.pipeline import PlatePipeline, PlateRead

log = logging.getLogger(__name__)

_pipeline_lock = threading.Lock()
THUMB_WIDTH = 480
# A frame claimed longer ago than the task's hard time limit was abandoned by a dead worker.
STALE_CLAIM = timedelta(seconds=getattr(settings, "CELERY_TASK_TIME_LIMIT", 120) + 30)


def pipeline() -> PlatePipeline:
    from .vision.pipeline import get_pipeline

    return get_pipeline()


def _encode_jpeg(image: np.ndarray, quality: int = 90) -> bytes:
    ok, buf = cv2.imencode(".jpg", image, [int(cv2.IMWRITE_JPEG_QUALITY), quality])
    if not ok:
        raise ValueError("could not encode JPEG")
    return buf.tobytes()


def _thumbnail(image: np.ndarray) -> bytes:
    h, w = image.shape[:2]
    if w > THUMB_WIDTH:
        image = cv2.resize(image, (THUMB_WIDTH, round(h * THUMB_WIDTH / w)), interpolation=cv2.INTER_AREA)
    return _encode_jpeg(image, 80)


def _claim_without_waiting_for_disk() -> None:
    """A claim need not survive a database crash: lost, the frame is queued again and requeued by beat.
    So its commit does not wait for the WAL flush (PostgreSQL's synchronous_commit, for this transaction
    only); the store transaction that follows does wait, and flushes the claim with it."""
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO OFF")


def claim_frame(frame_id: int, token: str = "") -> bool:
    """Atomically take a frame for processing; False if it is done or being done by a live worker.

    ``token`` is the task's id, which stays the same when the task is retried or redelivered after
    its worker died: the same task may re-take its own claim at once; another only once the claim
    is stale (older than the task's hard time limit).
    """
    from django.db import connection

    now = timezone.now()
    with transaction.atomic():
        if len(connection.atomic_blocks) == 1:  # only a transaction of its own may skip the flush
            _claim_without_waiting_for_disk()
        queued = Frame.objects.filter(pk=frame_id, status=Frame.Status.QUEUED).update(
            status=Frame.Status.PROCESSING, claimed_at=now, claim_token=token
        )
        if queued:
            return True
        retaken = (
            Frame.objects.filter(pk=frame_id, status=Frame.Status.PROCESSING)
            .filter(Q(claimed_at__lt=now - STALE_CLAIM) | (Q(claim_token=token) & ~Q(claim_token="")))
            .update(claimed_at=now, claim_token=token)
        )
    return bool(retaken)


def do_process_frame(frame_id: int, claim_token: str = "") -> list[Read]:
    """Run the plate pipeline on a frame and store its reads; safe to call twice."""
    if not claim_frame(frame_id, claim_token):
        log.info("frame %s already processed or in progress; skipping", frame_id)
        return []
    frame = Frame.objects.select_related("camera").get(pk=frame_id)
    started = time.perf_counter()
    try:
        with frame.image.open("rb") as fh:
            data = fh.read()
        from .vision.pipeline import decode_image

        image = decode_image(data)
        pipe = pipeline()
        with _pipeline_lock:
            plate_reads = pipe.read(image, region=frame.camera.region)
        height, width = image.shape[:2]
        plate_reads = [
            pr for pr in plate_reads if frame.camera.keeps(pr.box.x, pr.box.y, pr.box.w, pr.box.h, width, height)
        ]
        thumb = _thumbnail(image)
    except Exception as exc:  # a broken frame must not be retried forever
        log.exception("frame %s failed", frame_id)
        Frame.objects.filter(pk=frame_id).update(
            status=Frame.Status.FAILED, error=str(exc)[:2000], processed_at=timezone.now()
        )
        return []
    engines = (getattr(pipe.detector, "name", "?"), getattr(pipe.ocr, "name", "?"))
    elapsed_ms = int((time.perf_counter() - started) * 1000)

    try:
        return _store_results(frame, plate_reads, thumb, engines, elapsed_ms)
    except Exception:
        # Give the frame back so that the task's retry can claim it again at once.
        try:
            Frame.objects.filter(pk=frame_id, status=Frame.Status.PROCESSING).update(status=Frame.Status.QUEUED)
        except Exception:  # the database is away; the retry re-takes its own claim
            log.error("could not release frame %s; its task's retry will take it again", frame_id)
        raise


def _save_file(field: FileField, data: bytes) -> str:
    """Store ``data`` under the field's folder with a fresh name (local disk or the object store)."""
    name = field.generate_filename(None, f"{uuid.uuid4().hex}.jpg")  # type: ignore[arg-type]  # stub: None is fine with a string upload_to
    return field.storage.save(name, ContentFile(data), max_length=field.max_length)


def _delete_files(names: list[str]) -> None:
    from django.core.files.storage import default_storage

    for name in names:
        try:
            default_storage.delete(name)
        except Exception:
            log.warning("could not delete %s", name, exc_info=True)


def _store_results(
    frame: Frame, plate_reads: list[PlateRead], thumb: bytes, engines: tuple[str, str], elapsed_ms: int
) -> list[Read]:
    # The files go first, outside the transaction: with an object store each one is a network round
    # trip, which must not hold the frame's row lock. They are removed again if the rows are not stored.
    thumb_name = _save_file(Frame._meta.get_field("thumbnail"), thumb)
    crop_field = Read._meta.get_field("crop")
    crop_names = [_save_file(crop_field, _encode_jpeg(pr.crop)) for pr in plate_reads]
    stored = False
    try:
        with transaction.atomic():
            # Finishing the frame takes its row lock, as SELECT ... FOR UPDATE would, in the same statement.
            finished = Frame.objects.filter(pk=frame.pk, status=Frame.Status.PROCESSING).update(
                status=Frame.Status.DONE, thumbnail=thumb_name, processed_at=timezone.now(), processing_ms=elapsed_ms
            )
            if not finished:
                return []  # another worker finished it meanwhile
            reads = [
                Read(
                    frame_id=frame.pk,
                    camera_id=frame.camera_id,
                    captured_at=frame.captured_at,
                    text=pr.text,
                    confidence=float(pr.confidence),
                    candidates=[[c.text, round(float(c.confidence), 4)] for c in pr.candidates],
                    box_x=pr.box.x,
                    box_y=pr.box.y,
                    box_w=pr.box.w,
                    box_h=pr.box.h,
                    detector_confidence=float(pr.detector_confidence),
                    # detector+OCR engine(s) that read this plate: "onnx+crnn" when the
                    # CRNN alone decided, "onnx+rapid+crnn" when both engines read it
                    engine=f"{engines[0]}+{pr.ocr_engine or engines[1]}"[:40],
                    country=pr.country[:8],
                    crop=crop_name,
                )
                for pr, crop_name in zip(plate_reads, crop_names)
            ]
            # Events first, so that each read is inserted with its event (one INSERT for all the reads).
            assigned = []
            for i, read in enumerate(reads):
                event, consensus_changed = do_assign_event(read, pending=reads[:i])
                assigned.append((event, event.plate, event.confidence, consensus_changed))
            Read.objects.bulk_create(reads)
            # Matching and alerts belong to the apps above (alerts subscribes), in this transaction.
            reads_stored.send(sender=Read, reads=[(read, *a) for read, a in zip(reads, assigned)])
        stored = True
        return reads
    finally:
        if not stored:
            _delete_files([thumb_name, *crop_names])


# A queued frame whose task has not started after this long is taken to be lost (e.g. it was
# accepted while the broker was down); beat's requeue_stale_frames then sends it again.
LOST_AFTER = timedelta(seconds=getattr(settings, "FRAME_LOST_AFTER_SECONDS", 60))


def stale_frame_ids(limit: int = 500) -> list[int]:
    now = timezone.now()
    queued = Frame.objects.filter(status=Frame.Status.QUEUED, received_at__lt=now - LOST_AFTER)
    abandoned = Frame.objects.filter(status=Frame.Status.PROCESSING, claimed_at__lt=now - STALE_CLAIM)
    return list((queued | abandoned).order_by("pk").values_list("pk", flat=True)[:limit])
