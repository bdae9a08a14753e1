"""Pulling frames from camera streams: RTSP, HTTP MJPEG, video files and watched folders.

``run_camera_readers`` runs one ``Supervisor``: it starts a thread per enabled camera whose source
is not ``push``, restarts readers whose camera settings changed, and stops those of cameras that
were disabled. Each reader reconnects with exponential backoff, takes ``sample_fps`` frames per
second (optionally only when something moved), and hands each frame to the same service as the
push API (``cameras.services.do_accept_frame``), so frames go through the same validation,
storage, task and alerting.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import cv2
import numpy as np
from django.db import close_old_connections
from django.utils import timezone

from .ingest import IngestError, inspect_image
from .models import Camera

log = logging.getLogger(__name__)

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png"}
MAX_BACKOFF = 60.0


@dataclass(frozen=True)
class SourceConfig:
    camera_id: int
    kind: str
    location: str
    sample_fps: float
    motion_gating: bool
    loop: bool
    stored: bool = False  # location is the name of an uploaded video in the media storage, not a path or URL

    @classmethod
    def of(cls, camera: Camera) -> SourceConfig:
        location, stored = camera.source_url.strip(), False
        if camera.source == Camera.Source.FILE and camera.source_file.name:
            location, stored = camera.source_file.name, True
        return cls(camera.pk, camera.source, location, camera.sample_fps, camera.motion_gating, camera.loop, stored)


def local_copy(name: str) -> tuple[str, bool]:
    """A local path of the stored file ``name`` for OpenCV, which needs one: the file itself on local disk,
    else a temporary copy downloaded from the object store. Returns (path, is_temporary)."""
    import shutil
    import tempfile

    from django.core.files.storage import default_storage

    try:
        return default_storage.path(name), False
    except NotImplementedError:
        pass
    fd, path = tempfile.mkstemp(prefix="alpr-source-", suffix=Path(name).suffix)
    try:
        with os.fdopen(fd, "wb") as out, default_storage.open(name, "rb") as stored:
            shutil.copyfileobj(stored, out, 1024 * 1024)  # streamed: a video never sits in memory whole
    except BaseException:
        os.unlink(path)
        raise
    return path, True


class MotionGate:
    """Passes a frame when it differs enough from the last frame that passed."""

    def __init__(self, threshold: float = 4.0):
        self.threshold = threshold
        self.previous: np.ndarray | None = None

    def moved(self, frame: np.ndarray) -> bool:
        small = cv2.cvtColor(cv2.resize(frame, (160, 90), interpolation=cv2.INTER_AREA), cv2.COLOR_BGR2GRAY)
        small = cv2.GaussianBlur(small, (5, 5), 0).astype(np.int16)
        if self.previous is None:
            self.previous = small
            return True
        diff = float(np.mean(np.abs(small - self.previous)))
        if diff >= self.threshold:
            self.previous = small
            return True
        return False


def submit(camera_id: int, image: np.ndarray | None = None, data: bytes | None = None, captured_at=None) -> int | None:
    """Store one frame through the ingest service; returns the frame id (None if refused)."""
    from django.conf import settings

    from .services import do_accept_frame

    if data is None:
        if image is None:
            raise ValueError("submit needs the image or its encoded data")
        ok, buf = cv2.imencode(".jpg", image, [int(cv2.IMWRITE_JPEG_QUALITY), 92])
        if not ok:
            return None
        data = buf.tobytes()
    close_old_connections()
    try:
        camera = Camera.objects.filter(pk=camera_id, enabled=True).first()
        if camera is None:
            return None
        try:
            info = inspect_image(data, max_bytes=settings.ALPR_MAX_UPLOAD_BYTES, max_pixels=settings.ALPR_MAX_PIXELS)
        except IngestError as exc:
            log.warning("camera %s: frame refused: %s", camera_id, exc.message)
            return None
        frame, _ = do_accept_frame(camera, data, info, captured_at or timezone.now())
        return frame.pk
    finally:
        # Give the connection back (to the pool) between frames: one readers process serves many cameras.
        close_old_connections()


class Reader(threading.Thread):
    """One camera's reader thread."""

    def __init__(self, config: SourceConfig, stop: threading.Event | None = None):
        super().__init__(name=f"camera-{config.camera_id}", daemon=True)
        self.config = config
        self.stop_event = stop or threading.Event()
        self.submitted = 0
        self.errors = 0
        self.last_error = ""
        self._copy: str | None = None  # temporary local copy of a video kept in the object store

    def stop(self) -> None:
        self.stop_event.set()

    def run(self) -> None:
        try:
            self._run()
        finally:
            if self._copy is not None:
                Path(self._copy).unlink(missing_ok=True)

    def _location(self) -> str:
        """Where OpenCV opens the source: the URL or path, or a local copy of an uploaded video."""
        if not self.config.stored:
            return self.config.location
        if self._copy is None or not Path(self._copy).exists():
            path, temporary = local_copy(self.config.location)
            if not temporary:
                return path
            self._copy = path
        return self._copy

    def _run(self) -> None:
        backoff = 1.0
        while not self.stop_event.is_set():
            try:
                if self.config.kind == Camera.Source.FOLDER:
                    self._watch_folder()
                else:
                    finished = self._read_stream()
                    if finished and not self.config.loop:
                        log.info("camera %s: %s ended", self.config.camera_id, self.config.location)
                        return
                backoff = 1.0
            except Exception as exc:
                self.errors += 1
                self.last_error = str(exc)[:300]
                log.warning("camera %s: %s; retrying in %.0f s", self.config.camera_id, exc, backoff)
                if self.stop_event.wait(backoff):
                    return
                backoff = min(backoff * 2, MAX_BACKOFF)

    def _read_stream(self) -> bool:
        """Read until the stream ends (True) or the reader is stopped (False); raise if it cannot open."""
        capture = cv2.VideoCapture(self._location())
        if not capture.isOpened():
            raise ConnectionError(f"cannot open {self.config.location}")
        is_file = self.config.kind == Camera.Source.FILE
        source_fps = capture.get(cv2.CAP_PROP_FPS) or 25.0
        interval = 1.0 / self.config.sample_fps
        gate = MotionGate() if self.config.motion_gating else None
        next_at = time.monotonic()
        next_video_time = 0.0
        frame_index = 0
        try:
            while not self.stop_event.is_set():
                ok, frame = capture.read()
                if not ok:
                    if is_file:
                        return True
                    raise ConnectionError(f"{self.config.location}: stream ended")
                frame_index += 1
                if is_file:
                    video_time = frame_index / source_fps
                    if video_time < next_video_time:
                        continue
                    next_video_time += interval
                    # Play the file in real time, as a camera would deliver it.
                    if self.stop_event.wait(interval):
                        return False
                else:
                    now = time.monotonic()
                    if now < next_at:
                        continue
                    next_at = max(next_at + interval, now)
                if gate is not None and not gate.moved(frame):
                    continue
                if submit(self.config.camera_id, frame) is not None:
                    self.submitted += 1
        finally:
            capture.release()
        return False

    def _watch_folder(self) -> None:
        folder = Path(self.config.location)
        if not folder.is_dir():
            raise FileNotFoundError(f"folder {folder} does not exist")
        done = folder / ".alpr-processed"
        done.mkdir(exist_ok=True)
        while not self.stop_event.is_set():
            for path in sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES):
                if self.stop_event.is_set():
                    return
                if time.time() - path.stat().st_mtime < 0.5:
                    continue  # still being written
                captured = datetime.fromtimestamp(path.stat().st_mtime, tz=UTC)
                if submit(self.config.camera_id, data=path.read_bytes(), captured_at=captured) is not None:
                    self.submitted += 1
                # Moved aside either way, so a bad file is not retried forever (it stays for inspection).
                os.replace(path, done / path.name)
            if self.stop_event.wait(1.0):
                return


class Supervisor:
    """Keeps one reader per enabled camera with a pull source, in step with the database."""

    def __init__(self, poll_seconds: float = 10.0):
        self.poll_seconds = poll_seconds
        self.readers: dict[int, Reader] = {}
        self.stop_event = threading.Event()

    def sync(self) -> None:
        close_old_connections()
        wanted = {
            c.pk: SourceConfig.of(c) for c in Camera.objects.filter(enabled=True).exclude(source=Camera.Source.PUSH)
        }
        for camera_id, reader in list(self.readers.items()):
            if wanted.get(camera_id) != reader.config or not reader.is_alive():
                if (
                    not reader.is_alive()
                    and wanted.get(camera_id) == reader.config
                    and reader.config.kind == "file"
                    and not reader.config.loop
                ):
                    wanted.pop(camera_id)  # a finished file stays finished
                    continue
                reader.stop()
                del self.readers[camera_id]
        for camera_id, config in wanted.items():
            if camera_id not in self.readers:
                reader = Reader(config)
                self.readers[camera_id] = reader
                reader.start()
                log.info(
                    "camera %s: reading %s (%s, %.1f frames/s)",
                    camera_id,
                    config.location,
                    config.kind,
                    config.sample_fps,
                )

    def run(self) -> None:
        while not self.stop_event.is_set():
            self.sync()
            self.stop_event.wait(self.poll_seconds)
        for reader in self.readers.values():
            reader.stop()
        for reader in self.readers.values():
            reader.join(5)

    def stop(self) -> None:
        self.stop_event.set()
