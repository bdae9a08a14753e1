"""Value types of the vision core.

The vision core (everything under ``recognition/vision``) is plain Python: it
never imports Django. Django code calls it and translates these frozen
dataclasses into model rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

import numpy as np


@dataclass(frozen=True)
class Box:
    """Axis-aligned box in pixels of the full frame."""

    x: int
    y: int
    w: int
    h: int

    def iou(self, other: Box) -> float:
        x1, y1 = max(self.x, other.x), max(self.y, other.y)
        x2 = min(self.x + self.w, other.x + other.w)
        y2 = min(self.y + self.h, other.y + other.h)
        inter = max(0, x2 - x1) * max(0, y2 - y1)
        union = self.w * self.h + other.w * other.h - inter
        return inter / union if union > 0 else 0.0


@dataclass(frozen=True)
class Detection:
    """A plate found by a detector."""

    box: Box
    confidence: float


@dataclass(frozen=True)
class Candidate:
    """One reading of a plate with its confidence in [0, 1]."""

    text: str
    confidence: float


@dataclass(frozen=True)
class OcrResult:
    """What a plate OCR engine returns for one crop; candidates best first.

    ``engine``: the engine(s) whose reading this is, when an engine combines
    others (the ensemble's ``crnn`` when the CRNN alone decided); empty means
    the engine that returned it.
    """

    candidates: tuple[Candidate, ...]
    engine: str = ""

    @property
    def text(self) -> str:
        return self.candidates[0].text if self.candidates else ""

    @property
    def confidence(self) -> float:
        return self.candidates[0].confidence if self.candidates else 0.0


@dataclass(frozen=True, eq=False)
class PlateRead:
    """One plate read from a frame: where it is, what it says, and the crop."""

    box: Box
    detector_confidence: float
    text: str
    confidence: float
    candidates: tuple[Candidate, ...]
    crop: np.ndarray = field(repr=False)
    ocr_engine: str = ""  # the OCR engine(s) that produced the text
    country: str = ""  # the country of the region setting whose layouts the text fits ('' none)


class Detector(Protocol):
    """Finds plates in a BGR image."""

    name: str

    def detect(self, image: np.ndarray) -> list[Detection]: ...


class PlateOCR(Protocol):
    """Reads the text of one BGR plate crop."""

    name: str

    def read(self, crop: np.ndarray, region: str | None = None) -> OcrResult: ...
