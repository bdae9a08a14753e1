"""The recipes that make the committed int8 models (training/quantize_*.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from recognition.tests.test_line_finder import SHARED_DATA, _agree, crops, fp32_finder
from recognition.vision import config, ocr
from recognition.vision.ocr import TextLineFinder

pytestmark = pytest.mark.training
needs_shared = pytest.mark.skipif(not SHARED_DATA.is_dir(), reason=f"{SHARED_DATA} is absent")


@needs_shared
def test_quantize_line_finder_recipe_makes_a_working_model(tmp_path, crops, fp32_finder):
    # In a fresh interpreter: calibration makes onnxruntime sessions of its own,
    # which a process using the shared thread pool cannot make.
    out = tmp_path / "lf.onnx"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "training.quantize_line_finder",
            "--data",
            str(SHARED_DATA),
            "--crops",
            "24",
            "--out",
            str(out),
        ],
        cwd=str(config.REPO_ROOT),
        check=True,
        capture_output=True,
        timeout=600,
    )
    meta = json.loads(out.with_suffix(".json").read_text())
    assert meta["calibration_crops"] == 24
    assert meta["source_sha256_12"] == config.file_digest(ocr.rapidocr_model_files()[0])
    assert _agree(TextLineFinder(out), fp32_finder, crops)


def test_committed_int8_detector_was_made_from_the_pinned_weights():
    from recognition.vision import detector

    meta = json.loads(detector.INT8_MODEL_PATH.with_suffix(".json").read_text())
    assert meta["weights_sha256_12"] == config.file_digest(detector.weights_path())


def _finds_plates(det) -> int:
    from recognition.vision.synth import render_vehicle_scene

    found = 0
    for seed in range(6):
        image, box = render_vehicle_scene("KDT4421", seed=seed)
        found += any(d.box.iou(box) > 0.5 for d in det.detect(image))
    return found


def test_export_detector_makes_the_float_model_the_fp32_setting_loads(tmp_path, monkeypatch):
    from recognition.vision import detector

    subprocess.run(
        [sys.executable, "-m", "training.export_detector"],
        cwd=str(config.REPO_ROOT),
        check=True,
        capture_output=True,
        timeout=600,
        env={**os.environ, "ALPR_MODEL_CACHE": str(tmp_path)},
    )
    out = tmp_path / detector.FP32_MODEL_NAME
    assert json.loads(out.with_suffix(".json").read_text())["weights_sha256_12"] == config.file_digest(
        detector.weights_path()
    )
    assert _finds_plates(detector.OnnxPlateDetector(precision="fp32", model_cache=tmp_path)) >= 5


@needs_shared
def test_quantize_detector_recipe_makes_a_working_model(tmp_path):
    from recognition.vision import detector

    out = tmp_path / "det.onnx"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "training.quantize_detector",
            "--data",
            str(SHARED_DATA),
            "--frames",
            "12",
            "--out",
            str(out),
        ],
        cwd=str(config.REPO_ROOT),
        check=True,
        capture_output=True,
        timeout=600,
    )
    assert json.loads(out.with_suffix(".json").read_text())["calibration_frames"] == 12
    assert _finds_plates(detector.OnnxPlateDetector(model_path=out)) >= 5
