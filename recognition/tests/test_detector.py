"""The int8 plate detector: the committed file, and the fallback made on first use."""

from __future__ import annotations

import json

import numpy as np
import pytest

from recognition.vision import detector
from recognition.vision.detector import OnnxPlateDetector
from recognition.vision.synth import render_vehicle_scene


def _finds_plate(det: OnnxPlateDetector, seed: int) -> bool:
    image, box = render_vehicle_scene("KDT4421", seed=seed)
    return any(d.box.iou(box) > 0.5 for d in det.detect(image))


def test_committed_int8_model_matches_the_installed_weights():
    meta = json.loads(detector.INT8_MODEL_PATH.with_suffix(".json").read_text())
    assert meta["weights_sha256_12"] == detector.weights_digest()
    assert detector.ensure_int8_model() == detector.INT8_MODEL_PATH


@pytest.mark.parametrize("precision", ["int8", "fp32"])
def test_both_precisions_find_rendered_plates(precision):
    det = OnnxPlateDetector(precision=precision)
    assert sum(_finds_plate(det, seed) for seed in range(6)) >= 5


def test_unknown_precision_is_refused():
    with pytest.raises(ValueError, match="precision"):
        OnnxPlateDetector(precision="int4")


def test_other_weights_get_an_int8_model_quantised_on_first_use(tmp_path, monkeypatch):
    # The committed model is for other weights: a new one is made in the cache, once.
    monkeypatch.setattr(detector, "INT8_MODEL_PATH", tmp_path / "absent" / "plate_detector_int8.onnx")
    path = detector.ensure_int8_model(cache_dir=tmp_path)
    assert path.parent == tmp_path and "int8" in path.name and path.is_file()
    assert detector.ensure_int8_model(cache_dir=tmp_path) == path  # cached
    det = OnnxPlateDetector(model_path=path)
    assert sum(_finds_plate(det, seed) for seed in range(6)) >= 5


@pytest.mark.parametrize(("pool", "shared"), [("", True), ("session", False)])
def test_onnx_sessions_share_one_thread_pool_unless_told_otherwise(pool, shared):
    import os
    import subprocess
    import sys

    code = (
        "from recognition.vision import config;"
        "from recognition.vision.ocr import PlateCrnnOCR;"
        "o = PlateCrnnOCR();"
        "print(config._global_pool, config.ort_session_options().use_per_session_threads)"
    )
    env = {**os.environ, "ALPR_ORT_POOL": pool}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True,
                         cwd=str(detector.config.REPO_ROOT)).stdout.split()
    assert out == [str(shared), str(not shared)]


def test_boxes_too_tall_for_a_plate_are_dropped():
    # a pillar-like box (0.5 as wide as tall) goes; a square box and one at the limit stay
    xyxy = np.array([[10, 10, 60, 110], [100, 10, 160, 70], [200, 10, 230, 60], [300, 10, 329, 60]], float)
    dets = detector._to_detections(xyxy, np.array([0.9, 0.8, 0.7, 0.6]), 400, 200)
    assert [(d.box.x, d.box.w, d.box.h) for d in dets] == [(100, 60, 60), (200, 30, 50)]


def test_a_plate_cut_off_by_the_frame_edge_keeps_its_box():
    # the model's box is 40 x 50; only 20 px of it lie inside the 400 px frame
    dets = detector._to_detections(np.array([[380, 10, 420, 60]], float), np.array([0.9]), 400, 200)
    assert [(d.box.x, d.box.w, d.box.h) for d in dets] == [(380, 20, 50)]


@pytest.mark.parametrize(("small", "size", "passes"), [
    (False, (480, 640), [640]),            # a small frame: one pass by default
    (True, (480, 640), [640, 1280]),       # ... and a second, upscaled, with ALPR_DET_FALLBACK_SMALL
    (False, (720, 1280), [640, 1280]),     # a large frame gets the second pass either way
])
def test_second_pass_runs_on_small_frames_only_when_asked(small, size, passes, monkeypatch):
    from recognition.vision.pipeline import build_pipeline

    monkeypatch.setenv("ALPR_DET_FALLBACK_SMALL", "1" if small else "0")
    det = build_pipeline(detector="onnx", ocr="crnn").detector
    assert det.fallback_small is small
    seen: list[int] = []
    monkeypatch.setattr(det, "_detect", lambda image, imgsz: seen.append(imgsz) or [])
    assert det.detect(np.zeros((*size, 3), np.uint8)) == []
    assert seen == passes
    monkeypatch.setenv("ALPR_DET_FALLBACK_SMALL", "yes")
    with pytest.raises(ValueError, match="ALPR_DET_FALLBACK_SMALL"):
        build_pipeline(detector="onnx", ocr="crnn")


def test_ort_spin_is_an_on_off_setting(monkeypatch):
    from recognition.vision import config

    monkeypatch.setattr(config, "_global_pool", False)  # sessions with their own pools read ALPR_ORT_SPIN
    monkeypatch.setenv("ALPR_ORT_SPIN", "1")
    assert config.ort_session_options().get_session_config_entry("session.intra_op.allow_spinning") == "1"
    monkeypatch.setenv("ALPR_ORT_SPIN", "2")
    with pytest.raises(ValueError, match="ALPR_ORT_SPIN"):
        config.ort_session_options()
