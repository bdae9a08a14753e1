"""Turn a stored frame into reads, matches and alerts.

The vision work is done by ``recognition.vision`` (plain Python); this module
translates its results into rows and hands them to hotlist matching.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import cv2
import numpy as np
from django.conf import settings
from django.core.files.base import ContentFile
from django.db import InterfaceError, OperationalError, transaction
from django.db.backends.utils import CursorWrapper
from django.db.models import FileField, Q
from django.utils import timezone

from cameras.models import Frame

from .events import do_assign_events
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


# Several frames are stored in one transaction when a worker finds others waiting: set-based writes
# for all of them and one commit (one WAL flush) instead of one per frame. A worker claims only as many
# as it can prepare (decode, models, thumbnail) within FRAME_BATCH_MS, by its own average so far, so that
# a frame waits at most that long for the others of its batch and the other workers are not left idle
# while one holds a backlog; a batch of one when nothing else is waiting.
_prepare_ms: dict[str, float | None] = {"average": None}  # this process's moving average of a frame's preparation time


def batch_size(limit: int | None = None) -> int:
    """How many frames this worker claims at once: up to ``limit`` (default FRAME_BATCH_SIZE), as many as
    fit in FRAME_BATCH_MS by its average preparation time; 1 until it has prepared a frame."""
    from django.db import connection

    limit = getattr(settings, "FRAME_BATCH_SIZE", 1) if limit is None else limit
    if limit <= 1 or connection.vendor != "postgresql":  # claiming others takes SELECT ... SKIP LOCKED
        return 1
    average = _prepare_ms["average"]
    if average is None:
        return 1
    budget = getattr(settings, "FRAME_BATCH_MS", 100)
    return max(1, min(limit, int(budget / max(average, 0.1))))


def _claimable(token: str, now: datetime) -> Q:
    """Frames a task with ``token`` may take: queued; or being processed, but by a dead worker (the claim is
    stale), or by this very task before (the same task id across retries and redelivery)."""
    retake = Q(claimed_at__lt=now - STALE_CLAIM)
    if token:
        retake |= Q(claim_token=token)
    return Q(status=Frame.Status.QUEUED) | (Q(status=Frame.Status.PROCESSING) & retake)


_prepared_cursor_class: list[type] = []


@contextmanager
def _prepared_cursor() -> Iterator[CursorWrapper]:
    """A cursor whose statements PostgreSQL plans once per connection (prepared statements), through
    Django's wrappers (errors, query logging). For the look every task takes at its frame: planning a
    lookup by id cost ten times running it, as every day's partition of the frames is considered.
    (Django leaves prepared statements off for the sake of transaction-mode poolers such as PgBouncer
    before 1.21; this one statement needs a pooler that keeps them, or none.)"""
    from django.db import connection

    if not _prepared_cursor_class:
        from django.db.backends.postgresql.base import ServerBindingCursor  # psycopg 3

        class Prepared(ServerBindingCursor):
            def execute(self, query, params=None, *, prepare=None, binary=None):  # type: ignore[no-untyped-def]
                # Django's connections have prepared statements off (threshold None); on for this call only.
                conn = self.connection  # type: ignore[attr-defined]  # psycopg's Cursor.connection
                threshold, conn.prepare_threshold = conn.prepare_threshold, 0
                try:
                    return super().execute(query, params, prepare=True, binary=binary)  # type: ignore[misc]
                finally:
                    conn.prepare_threshold = threshold

        _prepared_cursor_class.append(Prepared)
    connection.ensure_connection()
    connection.validate_thread_sharing()
    cursor = connection.make_cursor(_prepared_cursor_class[0](connection.connection))
    try:
        yield cursor
    finally:
        cursor.close()


def _look_at_frame(frame_id: int) -> tuple | None:
    """The frame's (status, claimed_at, claim_token, captured_at), without a lock."""
    from django.db import connection

    if connection.vendor != "postgresql":  # SQLite: the ORM turns its stored texts into times
        fields = ("status", "claimed_at", "claim_token", "captured_at")
        return Frame.objects.filter(pk=frame_id).values_list(*fields).first()
    sql = f"SELECT status, claimed_at, claim_token, captured_at FROM {Frame._meta.db_table} WHERE id = %s"
    started = time.monotonic()
    with _prepared_cursor() as cursor:
        cursor.execute(sql, [frame_id])
        row = cursor.fetchone()
    if connection.queries_logged:  # Django's query log (DEBUG, tests), which cannot show a prepared statement
        connection.queries_log.append({"sql": sql % int(frame_id), "time": f"{time.monotonic() - started:.3f}"})
    return row


def _may_claim(status: str, claimed_at: datetime | None, claim_token: str, *, token: str, now: datetime) -> bool:
    """``_claimable`` on a frame's values."""
    if status == Frame.Status.QUEUED:
        return True
    if status != Frame.Status.PROCESSING:
        return False
    return (claimed_at is not None and claimed_at < now - STALE_CLAIM) or bool(token and claim_token == token)


def claim_frames(frame_id: int, token: str = "", limit: int = 1) -> list[int]:
    """Atomically take a frame for processing and, when ``limit`` > 1, up to ``limit`` - 1 other queued
    frames (oldest first, skipping those another worker is taking). Returns their ids, ``frame_id`` first;
    empty when ``frame_id`` is done or being done by a live worker (nothing else is taken then).

    ``token`` is the task's id, which stays the same when the task is retried or redelivered after
    its worker died: the same task may re-take its own claims at once (the other frames of its batch
    too); another only once the claim is stale (older than the task's hard time limit). The other
    frames' own tasks find them done or claimed, and skip them.
    """
    return list(_claim_frames(frame_id, token, limit))


def _claim_frames(frame_id: int, token: str = "", limit: int = 1) -> dict[int, datetime]:
    """``claim_frames``, with each frame's capture time: {id: captured_at}."""
    from django.db import connection

    now = timezone.now()
    table = Frame._meta.db_table
    # A look first, without a lock: a frame another worker took (in its batch) or finished is skipped
    # at the cost of one read, instead of a transaction that would wait for that worker's to end.
    row = _look_at_frame(frame_id)
    if row is None or not _may_claim(*row[:3], token=token, now=now):
        return {}
    captured_at = row[3]  # with it PostgreSQL looks in the frame's own partition only (frames never move)
    with transaction.atomic():
        taken = Frame.objects.filter(_claimable(token, now), pk=frame_id, captured_at=captured_at).update(
            status=Frame.Status.PROCESSING, claimed_at=now, claim_token=token
        )
        if not taken:
            return {}
        if len(connection.atomic_blocks) == 1:  # only a transaction of its own may skip the flush
            _claim_without_waiting_for_disk()
        if limit <= 1:
            return {frame_id: captured_at}
        with connection.cursor() as cursor:
            cursor.execute(
                f"""UPDATE {table} f SET status = %s, claimed_at = %s, claim_token = %s
                FROM (SELECT id, captured_at FROM {table}
                      WHERE (status = %s OR (status = %s AND claim_token = %s AND claim_token <> ''))
                        AND id <> %s
                      ORDER BY id LIMIT %s FOR UPDATE SKIP LOCKED) q
                WHERE f.id = q.id AND f.captured_at = q.captured_at RETURNING f.id, f.captured_at""",
                [
                    Frame.Status.PROCESSING,
                    now,
                    token,
                    Frame.Status.QUEUED,
                    Frame.Status.PROCESSING,
                    token,
                    frame_id,
                    limit - 1,
                ],
            )
            others = sorted(cursor.fetchall())
    return {frame_id: captured_at, **dict(others)}


def claim_frame(frame_id: int, token: str = "") -> bool:
    """Atomically take one frame for processing; False if it is done or being done by a live worker."""
    return bool(claim_frames(frame_id, token))


@dataclass
class _Prepared:
    """A frame whose models have run, ready to be stored."""

    frame: Frame
    plate_reads: list[PlateRead]
    thumb: bytes
    engines: tuple[str, str]
    elapsed_ms: int
    thumb_name: str = ""
    crop_names: list[str] = field(default_factory=list)
    stored: bool = False  # its rows are committed (or another worker had finished it)


def _prepare(frame: Frame) -> _Prepared | None:
    """Decode the frame and run the models; a frame that fails is marked failed (None): a broken frame
    must not be retried forever, nor stop the other frames of its batch."""
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
    except Exception as exc:
        log.exception("frame %s failed", frame.pk)
        Frame.objects.filter(pk=frame.pk).update(
            status=Frame.Status.FAILED, error=str(exc)[:2000], processed_at=timezone.now()
        )
        return None
    engines = (getattr(pipe.detector, "name", "?"), getattr(pipe.ocr, "name", "?"))
    elapsed = (time.perf_counter() - started) * 1000
    average = _prepare_ms["average"]
    _prepare_ms["average"] = elapsed if average is None else 0.8 * average + 0.2 * elapsed
    return _Prepared(frame, plate_reads, thumb, engines, int(elapsed))


def do_process_frame(frame_id: int, claim_token: str = "", batch: int | None = None) -> list[Read]:
    """Run the plate pipeline on a frame and store its reads; safe to call twice.

    With ``batch`` (default FRAME_BATCH_SIZE) above 1 it also takes other queued frames, as many as
    ``batch_size`` allows, and stores them all in one transaction. Returns the reads of all of them."""
    taken = _claim_frames(frame_id, claim_token, batch_size(batch))
    ids = list(taken)
    if not ids:
        # the usual fate of a frame taken in another task's batch: not worth a line of the log each time
        log.debug("frame %s already processed or in progress; skipping", frame_id)
        return []
    # their capture times let PostgreSQL look in their partitions only
    frames = Frame.objects.select_related("camera").filter(captured_at__in=set(taken.values())).in_bulk(ids)
    prepared = [p for p in (_prepare(frames[pk]) for pk in ids if pk in frames) if p is not None]
    if not prepared:
        return []
    return _store_batch(prepared)


def _save_file(file_field: FileField, data: bytes) -> str:
    """Store ``data`` under the field's folder with a fresh name (local disk or the object store)."""
    name = file_field.generate_filename(None, f"{uuid.uuid4().hex}.jpg")  # type: ignore[arg-type]  # stub: None is fine with a string upload_to
    return file_field.storage.save(name, ContentFile(data), max_length=file_field.max_length)


def _delete_files(names: list[str]) -> None:
    from django.core.files.storage import default_storage

    for name in names:
        try:
            default_storage.delete(name)
        except Exception:
            log.warning("could not delete %s", name, exc_info=True)


def _release(frame_ids: list[int]) -> None:
    """Give frames back so that the task's retry (or another batch) can claim them again at once."""
    try:
        Frame.objects.filter(pk__in=frame_ids, status=Frame.Status.PROCESSING).update(status=Frame.Status.QUEUED)
    except Exception:  # the database is away; the retry re-takes its own claims
        log.error("could not release frames %s; their task's retry will take them again", frame_ids)


def _store_batch(prepared: list[_Prepared]) -> list[Read]:
    """Store the frames' files, then their rows in one transaction.

    When the database fails (OperationalError, InterfaceError) the frames are given back and the error
    raised: the task's retry claims them again at once. When the batch fails for another reason (one bad
    frame), each frame is stored on its own, so that the others are kept; a frame that fails alone stays
    claimed (beat's requeue sends it again once the claim is stale, not every batch at once) and the
    first such error is raised after the others are stored."""
    # The files go first, outside the transaction: with an object store each one is a network round
    # trip, which must not hold the frames' row locks. They are removed again if the rows are not stored.
    thumb_field, crop_field = Frame._meta.get_field("thumbnail"), Read._meta.get_field("crop")
    release = True
    try:
        for p in prepared:
            p.thumb_name = _save_file(thumb_field, p.thumb)
            p.crop_names = [_save_file(crop_field, _encode_jpeg(pr.crop)) for pr in p.plate_reads]
        try:
            return _store_rows(prepared)
        except (OperationalError, InterfaceError):
            raise
        except Exception:
            if len(prepared) == 1:
                release = False
                raise
            log.exception("storing a batch of %d frames failed; storing them one by one", len(prepared))
        reads: list[Read] = []
        error: Exception | None = None
        for p in prepared:
            try:
                reads += _store_rows([p])
            except (OperationalError, InterfaceError):
                raise
            except Exception as exc:
                log.exception("frame %s could not be stored", p.frame.pk)
                error = error or exc
        if error is not None:
            release = False
            raise error
        return reads
    finally:
        left = [p for p in prepared if not p.stored]
        if left:
            if release:
                _release([p.frame.pk for p in left])
            _delete_files([name for p in left for name in (p.thumb_name, *p.crop_names) if name])


def _finish_frames(prepared: list[_Prepared]) -> set[int]:
    """Mark the frames done (with their thumbnails), each only if still being processed; returns the ids
    finished. Finishing a frame takes its row lock, as SELECT ... FOR UPDATE would, in the same statement."""
    from django.db import connection

    now = timezone.now()
    if connection.vendor != "postgresql" or len(prepared) == 1:
        finished = set()
        for p in prepared:
            if Frame.objects.filter(
                pk=p.frame.pk, captured_at=p.frame.captured_at, status=Frame.Status.PROCESSING
            ).update(status=Frame.Status.DONE, thumbnail=p.thumb_name, processed_at=now, processing_ms=p.elapsed_ms):
                finished.add(p.frame.pk)
        return finished
    table = Frame._meta.db_table
    with connection.cursor() as cursor:
        # One statement for all; each frame's capture time lets PostgreSQL go straight to its day's partition.
        cursor.execute(
            f"""UPDATE {table} f SET status = %s, thumbnail = v.thumbnail, processed_at = %s, processing_ms = v.ms
            FROM unnest(%s::bigint[], %s::timestamptz[], %s::text[], %s::integer[]) AS v(id, captured_at, thumbnail, ms)
            WHERE f.id = v.id AND f.captured_at = v.captured_at AND f.status = %s RETURNING f.id""",
            [
                Frame.Status.DONE,
                now,
                [p.frame.pk for p in prepared],
                [p.frame.captured_at for p in prepared],
                [p.thumb_name for p in prepared],
                [p.elapsed_ms for p in prepared],
                Frame.Status.PROCESSING,
            ],
        )
        return {row[0] for row in cursor.fetchall()}


def _store_rows(prepared: list[_Prepared]) -> list[Read]:
    with transaction.atomic():
        finished = _finish_frames(prepared)
        done = [p for p in prepared if p.frame.pk in finished]  # the others were finished by another worker
        reads = [
            Read(
                frame_id=p.frame.pk,
                camera_id=p.frame.camera_id,
                captured_at=p.frame.captured_at,
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
                engine=f"{p.engines[0]}+{pr.ocr_engine or p.engines[1]}"[:40],
                country=pr.country[:8],
                crop=crop_name,
            )
            for p in done
            for pr, crop_name in zip(p.plate_reads, p.crop_names)
        ]
        # Events first, so that each read is inserted with its event (one INSERT for all the reads).
        assigned = do_assign_events(reads)
        Read.objects.bulk_create(reads)
        # Matching and alerts belong to the apps above (alerts subscribes), in this transaction.
        if reads:
            reads_stored.send(sender=Read, reads=[(read, *a) for read, a in zip(reads, assigned)])
    for p in prepared:
        p.stored = True
        if p.frame.pk not in finished:
            _delete_files([p.thumb_name, *p.crop_names])
    return reads


# A queued frame whose task has not started after this long is taken to be lost (e.g. it was
# accepted while the broker was down); beat's requeue_stale_frames then sends it again.
LOST_AFTER = timedelta(seconds=getattr(settings, "FRAME_LOST_AFTER_SECONDS", 60))


def stale_frame_ids(limit: int = 500) -> list[int]:
    now = timezone.now()
    queued = Frame.objects.filter(status=Frame.Status.QUEUED, received_at__lt=now - LOST_AFTER)
    abandoned = Frame.objects.filter(status=Frame.Status.PROCESSING, claimed_at__lt=now - STALE_CLAIM)
    return list((queued | abandoned).order_by("pk").values_list("pk", flat=True)[:limit])
