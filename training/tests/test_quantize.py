"""The recipes that make the committed int8 models (training/quantize_*.py)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from recognition.tests.test_line_finder import SHARED_DATA, _agree, crops, fp32_finder  # noqa: F401 (fixtures)
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
        [sys.executable, "-m", "training.quantize_line_finder", "--data", str(SHARED_DATA), "--crops", "24", "--out", str(out)],
        cwd=str(config.REPO_ROOT), check=True, capture_output=True, timeout=600,
    )
    meta = json.loads(out.with_suffix(".json").read_text())
    assert meta["calibration_crops"] == 24
    assert meta["source_sha256_12"] == config.file_digest(ocr.rapidocr_model_files()[0])
    assert _agree(TextLineFinder(out), fp32_finder, crops)
