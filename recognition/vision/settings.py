"""The vision core's settings: one frozen object, read from the environment once.

An operator sets the eight variables of :data:`ENVIRONMENT` (README,
"Configuration"). Every other field is a tuning knob of the models: its
default is the measured choice, and only the benchmark and training commands
change it (``python -m benchmarks.vision --set ocr_exit=0.9``). The
pipeline's constructors take this object or explicit arguments and never
read the environment themselves.
"""

from __future__ import annotations

import dataclasses
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .config import DEFAULT_MODEL_CACHE

DETECTORS = ("onnx", "yolo")
OCR_ENGINES = ("rapid", "crnn", "rapid+crnn", "easyocr")
PRECISIONS = ("int8", "fp32")
ORT_POOLS = ("global", "session")

# Operator-facing environment variable -> field(s) it sets.
ENVIRONMENT: dict[str, tuple[str, ...]] = {
    "ALPR_DETECTOR": ("detector",),
    "ALPR_OCR": ("ocr",),
    "ALPR_PRECISION": ("det_precision", "line_precision"),
    "ALPR_THREADS": ("threads",),
    "ALPR_CRNN_MODEL": ("crnn_model",),
    "ALPR_MODEL_CACHE": ("model_cache",),
    "ALPR_MIN_READ_CONF": ("min_read_conf",),
    "ALPR_DARK_MEAN": ("dark_mean",),
}

# Variables read by earlier versions: setting one now stops the process
# instead of being ignored, and says where the knob went.
RETIRED = {
    "ALPR_DET_PRECISION": "ALPR_PRECISION",
    "ALPR_LINE_PRECISION": "ALPR_PRECISION",
    "ALPR_CRNN_VIEWS": "--set crnn_views=",
    "ALPR_OCR_EXIT": "--set ocr_exit=",
    "ALPR_OCR_EXIT_CUSTOM": "--set ocr_exit_custom=",
    "ALPR_RECTIFY": "--set rectify=",
    "ALPR_DET_CONF": "--set det_conf=",
    "ALPR_DET_IMGSZ": "--set det_imgsz=",
    "ALPR_DET_FALLBACK_IMGSZ": "--set det_fallback_imgsz=",
    "ALPR_DET_FALLBACK_SMALL": "--set det_fallback_small=",
    "ALPR_ORT_POOL": "--set ort_pool=",
    "ALPR_ORT_SPIN": "--set ort_spin=",
}


def _cpu_count() -> int:
    return os.cpu_count() or 1


def _in_range(
    name: str, value: float, low: float, high: float, *, low_open: bool = False, high_open: bool = False
) -> None:
    above = value > low if low_open else value >= low
    below = value < high if high_open else value <= high
    if not (above and below):  # NaN fails both
        span = f"{'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"
        raise ValueError(f"{name} must be in {span}, got {value}")


def _one_of(name: str, value: str, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(choices)}; got {value!r}")


@dataclass(frozen=True)
class VisionSettings:
    """What the pipeline is built from. Defaults are today's measured choices."""

    # -- operator settings (environment, see ENVIRONMENT) --
    detector: str = "onnx"
    ocr: str = "rapid+crnn"
    det_precision: str = "int8"
    line_precision: str = "int8"
    threads: int = field(default_factory=_cpu_count)
    crnn_model: Path | None = None  # None: recognition/models/plate_crnn.onnx
    model_cache: Path = DEFAULT_MODEL_CACHE
    # Reads whose best text is less likely than this are dropped (0 keeps all);
    # see pipeline.MIN_READ_CONFIDENCE.
    min_read_conf: float = 0.005
    # Frames darker than this mean grey level are brightened (0 turns it off);
    # see pipeline.DARK_MEAN.
    dark_mean: float = 40.0
    # -- tuning knobs (benchmark and training arguments) --
    ocr_exit: float = 0.85  # ocr.DEFAULT_EXIT_CONFIDENCE
    ocr_exit_custom: float = 0.98  # ocr.DEFAULT_CUSTOM_EXIT_CONFIDENCE
    crnn_views: int = 2  # ocr.DEFAULT_CRNN_VIEWS
    rectify: bool = True
    det_conf: float = 0.25
    det_imgsz: int = 640
    det_fallback_imgsz: int = 1280  # 0 turns the second pass off
    det_fallback_small: bool = False
    # Passes after that one, while no plate is read (0 turns each off): the
    # frame shrunk by this onto the first pass's canvas (close-ups) ...
    det_closeup_shrink: float = 0.33
    # ... and the frame at its own size, up to this, where larger than
    # det_fallback_imgsz (small, distant plates). Off by default: at 1920 it found 3 more of 100
    # plates 12-30 px tall in 1080p frames, but a 1080p frame with no plate cost 2.8 times as much.
    det_full_imgsz: int = 0
    ort_pool: str = "global"  # "session": one thread pool per model
    ort_spin: bool = False  # with ort_pool=session: idle threads spin

    def __post_init__(self) -> None:
        _one_of("detector", self.detector, DETECTORS)
        _one_of("ocr", self.ocr, OCR_ENGINES)
        _one_of("det_precision", self.det_precision, PRECISIONS)
        _one_of("line_precision", self.line_precision, PRECISIONS)
        _one_of("ort_pool", self.ort_pool, ORT_POOLS)
        if self.threads < 1:
            raise ValueError(f"threads must be >= 1, got {self.threads}")
        _in_range("min_read_conf", self.min_read_conf, 0.0, 1.0, high_open=True)
        _in_range("dark_mean", self.dark_mean, 0.0, 255.0)
        _in_range("ocr_exit", self.ocr_exit, 0.0, 1.0, low_open=True)
        _in_range("ocr_exit_custom", self.ocr_exit_custom, 0.0, 1.0, low_open=True)
        if self.crnn_views not in (1, 2):
            raise ValueError(f"crnn_views must be 1 or 2, got {self.crnn_views}")
        _in_range("det_conf", self.det_conf, 0.0, 1.0)
        if self.det_imgsz < 32:
            raise ValueError(f"det_imgsz must be >= 32, got {self.det_imgsz}")
        if self.det_fallback_imgsz < 0:
            raise ValueError(f"det_fallback_imgsz must be >= 0, got {self.det_fallback_imgsz}")
        _in_range("det_closeup_shrink", self.det_closeup_shrink, 0.0, 1.0, high_open=True)
        if self.det_full_imgsz < 0:
            raise ValueError(f"det_full_imgsz must be >= 0, got {self.det_full_imgsz}")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> VisionSettings:
        """The operator settings from ``environ`` (default ``os.environ``), the
        tuning knobs at their defaults. A bad value, or a retired variable that
        is set, is a ValueError naming the variable."""
        env = os.environ if environ is None else environ
        retired = sorted(name for name in RETIRED if env.get(name, "").strip())
        if retired:
            raise ValueError(
                "no longer read: "
                + "; ".join(f"{name} (now {RETIRED[name]})" for name in retired)
                + ". Unset it; tuning knobs are arguments of python -m benchmarks.vision"
            )
        values: dict[str, Any] = {}  # parsed by parse_field; the fields' checks run in cls()
        for name, fields in ENVIRONMENT.items():
            raw = env.get(name, "").strip()
            if not raw:
                continue
            for name_of_field in fields:
                try:
                    values[name_of_field] = parse_field(name_of_field, raw)
                except ValueError as exc:
                    raise ValueError(f"{name}: {exc}") from None
        try:
            return cls(**values)
        except ValueError as exc:
            var = next((n for n, fs in ENVIRONMENT.items() if str(exc).startswith(fs)), None)
            raise ValueError(f"{var}: {exc}" if var else str(exc)) from None

    def replace(self, **changes: Any) -> VisionSettings:
        """A copy with ``changes`` (field name -> value), checked like a new object."""
        return dataclasses.replace(self, **changes)

    def with_text(self, assignments: list[str]) -> VisionSettings:
        """A copy with ``name=value`` texts applied (``--set`` of the benchmark)."""
        changes: dict[str, object] = {}
        for text in assignments:
            name, sep, raw = text.partition("=")
            if not sep:
                raise ValueError(f"expected name=value, got {text!r}")
            changes[name.strip()] = parse_field(name.strip(), raw.strip())
        return self.replace(**changes)


FIELDS = {f.name: f for f in dataclasses.fields(VisionSettings)}


def parse_field(name: str, raw: str) -> object:
    """The text ``raw`` as the value of field ``name``; a ValueError for an
    unknown field or a value of the wrong kind."""
    if name not in FIELDS:
        raise ValueError(f"unknown vision setting {name!r}; choose one of {', '.join(FIELDS)}")
    kind = str(FIELDS[name].type)
    if kind == "bool":
        if raw not in ("0", "1"):
            raise ValueError(f"{name} must be 0 or 1, got {raw!r}")
        return raw == "1"
    if kind == "int":
        try:
            return int(raw)
        except ValueError:
            raise ValueError(f"{name} must be an integer, got {raw!r}") from None
    if kind == "float":
        try:
            value = float(raw)
        except ValueError:
            raise ValueError(f"{name} must be a number, got {raw!r}") from None
        if math.isnan(value):
            raise ValueError(f"{name} must be a number, got {raw!r}")
        return value
    if "Path" in kind:
        return Path(raw)
    return raw.lower()
