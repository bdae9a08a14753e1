"""Detect plates in a frame, crop them and read them.

``build_pipeline(settings)`` builds a pipeline from a
:class:`~recognition.vision.settings.VisionSettings` (the detector and OCR
engines, their models and knobs); ``get_pipeline()`` returns one shared
pipeline per process, built from ``VisionSettings.from_env()``, so a worker
reads its settings and loads the models once.

A setting that needs a package or model file that is not installed fails in
``installed.check()``, which the Celery worker runs before it starts.
"""

from __future__ import annotations

import threading

import cv2
import numpy as np

from . import config, installed, plates
from .detector import get_detector
from .ocr import CROP_MARGIN_X, CROP_MARGIN_Y, ocr_from_settings
from .rectify import level_crop
from .settings import VisionSettings
from .types import Box, Detection, Detector, PlateOCR, PlateRead

# The default OCR, rapid+crnn (VisionSettings.ocr), is better than rapid on
# held-out real crops (337 vs 320 of 354) and at least as good on the bench;
# see docs/research-log.md.
MIN_PLATE_CHARS = 3
# Reads whose best text the OCR gives less than this probability are dropped
# (ALPR_MIN_READ_CONF, VisionSettings.min_read_conf; 0 keeps every read). Below it are mostly reads of
# lettering, badges and signs ("I600", "B55", "N899") and a few plates too
# blurred or turned to read. On the development split and its dark, small,
# turned, leaning and washed-out variants no right read is lost, and a
# fifth to a half of the reads that overlap no labelled plate go:
# docs/research-log.md.
MIN_READ_CONFIDENCE = 0.005


def decode_image(data: bytes) -> np.ndarray:
    """Decode encoded image bytes (JPEG, PNG, ...) into a BGR array."""
    if not data:
        raise ValueError("empty image data")
    image = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), cv2.IMREAD_COLOR)
    if image is None:
        raise ValueError("could not decode image data")
    return image


def expand_box(
    box: Box, width: int, height: int, margin_x: float = CROP_MARGIN_X, margin_y: float = CROP_MARGIN_Y
) -> Box:
    """Grow a box by a margin (fraction of its size) and clip it to the frame."""
    dx, dy = round(box.w * margin_x), round(box.h * margin_y)
    x0, y0 = max(0, box.x - dx), max(0, box.y - dy)
    x1, y1 = min(width, box.x + box.w + dx), min(height, box.y + box.h + dy)
    return Box(x0, y0, x1 - x0, y1 - y0)


# The detector's box takes in the plate's surround (its frame, the recess
# or bumper around it): on the development split the labelled plate is, at
# the median, 0.88 / 0.94 / 0.89 of the box's width and 0.76 / 0.59 / 0.71
# of its height (US / EU / BR), centred within 2 % either way. A read
# reports the detector's box scaled about its centre by this (width, height)
# factor (plate_box): the OCR crop is still cut from the detector's own box.
# Fitted on either half of the split (bench --fold) alone, the factor that
# gives the mean best overlap is the same (0.9, 0.7), and on the other half
# the median overlap with the labelled plate rises from 0.62 to 0.82 and the
# lowest from 0.30 to 0.48 (python -m training.box_scale
# fits it).
PLATE_BOX_SCALE = (0.9, 0.7)


def plate_box(box: Box, width: int, height: int, scale: tuple[float, float] = PLATE_BOX_SCALE) -> Box:
    """The plate inside a detector box: the box scaled by ``scale`` about its centre, clipped to the frame."""
    w, h = max(1, round(box.w * scale[0])), max(1, round(box.h * scale[1]))
    x = min(max(0, round(box.x + (box.w - w) / 2)), max(0, width - 1))
    y = min(max(0, round(box.y + (box.h - h) / 2)), max(0, height - 1))
    return Box(x, y, min(w, width - x), min(h, height - y))


# Frames darker than this mean grey level (0-255) are brightened for the
# models (ALPR_DARK_MEAN, VisionSettings.dark_mean; 0 turns it off): no photo of the development split is
# that dark (their means: 46-158); underexposed frames are
# (benchmarks.vision --look night: 6-40). See docs/research-log.md.
DARK_MEAN = 40.0
LIFTED_MEAN = 70.0


def dark_frame_gain(image: np.ndarray, dark_mean: float = DARK_MEAN, target: float = LIFTED_MEAN) -> float:
    """The factor that takes a dark frame's mean grey level to ``target``; 1 for a
    frame whose mean is ``dark_mean`` or more."""
    h, w = image.shape[:2]
    # every 8th pixel of every 8th row: well under 0.1 ms
    b, g, r, _ = cv2.mean(cv2.resize(image, (max(1, w // 8), max(1, h // 8)), interpolation=cv2.INTER_NEAREST))
    mean = 0.114 * b + 0.587 * g + 0.299 * r
    return target / mean if 1.0 <= mean < dark_mean else 1.0


class PlatePipeline:
    """Detector + OCR. Both are loaded by the caller; ``read`` is stateless."""

    def __init__(
        self,
        detector: Detector,
        ocr: PlateOCR,
        min_chars: int = MIN_PLATE_CHARS,
        rectify: bool = True,
        min_confidence: float = MIN_READ_CONFIDENCE,
        dark_mean: float = DARK_MEAN,
    ) -> None:
        if not 0.0 <= min_confidence < 1.0:  # NaN fails too
            raise ValueError(f"min_read_conf must be in [0, 1), got {min_confidence}")
        if not 0.0 <= dark_mean <= 255.0:
            raise ValueError(f"dark_mean must be in [0, 255], got {dark_mean}")
        self.detector = detector
        self.ocr = ocr
        self.min_chars = min_chars
        self.min_confidence = min_confidence
        self.rectify = rectify
        self.dark_mean = dark_mean

    def read(self, image_bgr: np.ndarray, region: str | None = None) -> list[PlateRead]:
        """All plates read in a BGR frame, most confident detection first."""
        if image_bgr is None or image_bgr.ndim not in (2, 3) or image_bgr.size == 0:
            raise ValueError("expected a non-empty BGR image array")
        if image_bgr.ndim == 2:
            image_bgr = cv2.cvtColor(image_bgr, cv2.COLOR_GRAY2BGR)
        elif image_bgr.shape[2] == 4:
            image_bgr = cv2.cvtColor(image_bgr, cv2.COLOR_BGRA2BGR)
        # A dark frame is brightened for the models: smoothed first for the
        # detector (amplified sensor noise hides plates from it), its crops
        # as they are for OCR. The stored crop stays as the camera sent it.
        gain = dark_frame_gain(image_bgr, self.dark_mean) if self.dark_mean > 0 else 1.0
        seen = image_bgr if gain == 1.0 else cv2.convertScaleAbs(cv2.GaussianBlur(image_bgr, (3, 3), 0), alpha=gain)
        # A detector with further passes (the ONNX one: close-ups, then small,
        # distant plates) runs them one by one while no plate has been read:
        # where a pass finds no box, and also where it finds boxes but no plate
        # is read in them (a weak box on a badge or a window must not hide the
        # plate). A box an earlier pass had is not read twice.
        first = getattr(self.detector, "detect_first", self.detector.detect)
        more_passes = getattr(self.detector, "detect_more", None)
        dets = first(seen)
        reads = self._read_detections(image_bgr, dets, gain, region)
        if reads or more_passes is None:
            return reads
        for found in more_passes(seen):
            new = [d for d in found if all(d.box.iou(o.box) <= 0.5 for o in dets)]
            reads = self._read_detections(image_bgr, new, gain, region)
            if reads:
                break
            dets = dets + new
        return reads

    def _read_detections(
        self, image_bgr: np.ndarray, dets: list[Detection], gain: float, region: str | None
    ) -> list[PlateRead]:
        """OCR of each detection's crop; reads too short or too unsure are dropped."""
        height, width = image_bgr.shape[:2]
        reads: list[PlateRead] = []
        for det in dets:
            crop_box = expand_box(det.box, width, height)
            crop = image_bgr[crop_box.y : crop_box.y + crop_box.h, crop_box.x : crop_box.x + crop_box.w]
            lit = crop if gain == 1.0 else cv2.convertScaleAbs(crop, alpha=gain)
            # a turned plate or leaning characters are set level first (rectify.py)
            level = (
                level_crop(lit, CROP_MARGIN_X, CROP_MARGIN_Y, plate_in_box=PLATE_BOX_SCALE)[0] if self.rectify else lit
            )
            result = self.ocr.read(level, region=region)
            if len(result.text) < self.min_chars or result.confidence < self.min_confidence:
                continue
            candidates = tuple(c for c in result.candidates if len(c.text) >= self.min_chars)
            reads.append(
                PlateRead(
                    box=plate_box(det.box, width, height),
                    detector_confidence=det.confidence,
                    text=result.text,
                    confidence=result.confidence,
                    candidates=candidates,
                    crop=crop.copy(),
                    ocr_engine=result.engine or self.ocr.name,
                    country=read_country(result.text, region),
                )
            )
        return reads

    def read_bytes(self, data: bytes, region: str | None = None) -> list[PlateRead]:
        """Decode an encoded image and read it."""
        return self.read(decode_image(data), region=region)


def read_country(text: str, region: str | None) -> str:
    """The country of the region setting whose layouts ``text`` fits
    (plates.fit_country); '' for none or for a setting with unknown codes."""
    try:
        return plates.fit_country(text, region)
    except ValueError:
        return ""


def build_pipeline(settings: VisionSettings | None = None, **changes: object) -> PlatePipeline:
    """Build a pipeline from ``settings`` (default: ``VisionSettings()``, the
    defaults, not the environment) with ``changes`` (field name -> value)."""
    settings = (settings or VisionSettings()).replace(**changes)
    installed.check(settings)
    config.configure_runtime(settings.threads, settings.ort_pool, settings.ort_spin)
    det_kwargs: dict[str, object] = {"conf": settings.det_conf, "imgsz": settings.det_imgsz}
    if settings.detector == "onnx":
        det_kwargs["fallback_imgsz"] = settings.det_fallback_imgsz
        det_kwargs["precision"] = settings.det_precision
        det_kwargs["fallback_small"] = settings.det_fallback_small
        det_kwargs["model_cache"] = settings.model_cache
        det_kwargs["closeup_shrink"] = settings.det_closeup_shrink
        det_kwargs["full_imgsz"] = settings.det_full_imgsz
    return PlatePipeline(
        get_detector(settings.detector, **det_kwargs),
        ocr_from_settings(settings),
        rectify=settings.rectify,
        min_confidence=settings.min_read_conf,
        dark_mean=settings.dark_mean,
    )


_pipeline: PlatePipeline | None = None
_lock = threading.Lock()


def get_pipeline() -> PlatePipeline:
    """The process-wide pipeline, built on first use from the settings read
    once from the environment (VisionSettings.from_env)."""
    global _pipeline
    if _pipeline is None:
        with _lock:
            if _pipeline is None:
                _pipeline = build_pipeline(VisionSettings.from_env())
    return _pipeline
