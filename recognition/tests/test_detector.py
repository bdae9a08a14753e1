"""The plate detector: the committed int8 model, the float one made by a training
command, the box rules, and the settings that pick them."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

from recognition.vision import config, detector, installed
from recognition.vision.detector import OnnxPlateDetector
from recognition.vision.pipeline import build_pipeline
from recognition.vision.settings import VisionSettings
from recognition.vision.synth import render_vehicle_scene


def _finds_plate(det: OnnxPlateDetector, seed: int) -> bool:
    image, box = render_vehicle_scene("KDT4421", seed=seed)
    return any(d.box.iou(box) > 0.5 for d in det.detect(image))


def test_int8_detector_loads_the_committed_model_and_finds_rendered_plates():
    det = OnnxPlateDetector(precision="int8")
    assert detector.model_file("int8") == detector.INT8_MODEL_PATH
    assert sum(_finds_plate(det, seed) for seed in range(6)) >= 5


def test_unknown_precision_is_refused():
    with pytest.raises(ValueError, match="precision"):
        OnnxPlateDetector(precision="int4")


def test_fp32_without_its_export_is_refused_with_the_command_that_makes_it(tmp_path):
    # The worker never exports the weights itself (that needs torch): it names the training command.
    with pytest.raises(RuntimeError, match="training.export_detector"):
        OnnxPlateDetector(precision="fp32", model_cache=tmp_path)
    with pytest.raises(RuntimeError, match="ALPR_PRECISION=fp32"):
        installed.check(VisionSettings(det_precision="fp32", model_cache=tmp_path))
    assert not any(tmp_path.iterdir())


def test_fp32_loads_the_export_from_the_model_cache(tmp_path):
    (tmp_path / detector.FP32_MODEL_NAME).write_bytes(detector.INT8_MODEL_PATH.read_bytes())  # any model file
    assert detector.model_file("fp32", tmp_path) == tmp_path / detector.FP32_MODEL_NAME
    settings = VisionSettings.from_env({"ALPR_PRECISION": "fp32", "ALPR_MODEL_CACHE": str(tmp_path)})
    assert build_pipeline(settings, ocr="crnn").detector.precision == "fp32"


def test_easyocr_chosen_but_not_installed_names_the_set_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "easyocr", None)  # import machinery: "not installed"
    with pytest.raises(installed.MissingPackage, match="ALPR_OCR=easyocr needs easyocr.*requirements-easyocr.txt"):
        installed.check(VisionSettings(ocr="easyocr"))
    installed.check(VisionSettings())  # the default engines need nothing optional


def test_ultralytics_detector_chosen_but_not_installed_names_the_training_set(monkeypatch):
    monkeypatch.setitem(sys.modules, "ultralytics", None)
    with pytest.raises(installed.MissingPackage, match="ALPR_DETECTOR=yolo needs ultralytics.*requirements-train.txt"):
        build_pipeline(detector="yolo", ocr="crnn")


def test_worker_configured_for_easyocr_without_it_refuses_to_start():
    code = (
        "import sys; sys.modules['easyocr'] = None\n"
        "from celery.bin.celery import main\n"
        "sys.argv = ['celery', '-A', 'config', 'worker', '--pool', 'solo', '--without-mingle', '--without-gossip']\n"
        "main()\n"
    )
    env = {**os.environ, "ALPR_OCR": "easyocr", "DJANGO_SETTINGS_MODULE": "config.settings_test"}
    env.pop("REDIS_URL", None)
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120, cwd=str(config.REPO_ROOT)
    )
    assert done.returncode != 0
    assert "worker not started: ALPR_OCR=easyocr needs easyocr" in done.stderr + done.stdout
    assert "requirements-easyocr.txt" in done.stderr + done.stdout


@pytest.mark.parametrize(("pool", "shared"), [("global", True), ("session", False)])
def test_onnx_sessions_share_one_thread_pool_unless_told_otherwise(pool, shared):
    code = (
        "from recognition.vision import config;"
        "from recognition.vision.pipeline import build_pipeline;"
        f"build_pipeline(ocr='crnn', ort_pool='{pool}');"
        "print(config._global_pool, config.ort_session_options().use_per_session_threads)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=str(detector.config.REPO_ROOT)
    ).stdout.split()
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


@pytest.mark.parametrize(
    ("small", "size", "passes"),
    [
        # a small frame: the first pass and the close-up pass (shrunk by a third)
        (False, (480, 640), [(640, 1.0), (640, 0.33)]),
        # ... and the larger pass, upscaled, with det_fallback_small
        (True, (480, 640), [(640, 1.0), (640, 0.33), (1280, 1.0)]),
        # a large frame gets the larger pass either way ...
        (False, (720, 1280), [(640, 1.0), (640, 0.33), (1280, 1.0)]),
        # ... and one larger than that a pass at its own size, up to det_full_imgsz
        (False, (1080, 1920), [(640, 1.0), (640, 0.33), (1280, 1.0), (1920, 1.0)]),
        (False, (2160, 3840), [(640, 1.0), (640, 0.33), (1280, 1.0), (1920, 1.0)]),
    ],
)
def test_further_passes_run_in_turn_while_none_finds_a_box(small, size, passes, monkeypatch):
    settings = VisionSettings().with_text([f"det_fallback_small={int(small)}", "det_full_imgsz=1920"])
    det = build_pipeline(settings, ocr="crnn").detector
    assert det.fallback_small is small
    seen: list[tuple[int, float]] = []
    monkeypatch.setattr(det, "_detect", lambda image, imgsz, shrink=1.0: seen.append((imgsz, shrink)) or [])
    assert det.detect(np.zeros((*size, 3), np.uint8)) == []
    assert seen == passes
    with pytest.raises(ValueError, match="det_fallback_small must be 0 or 1"):
        VisionSettings().with_text(["det_fallback_small=yes"])


def test_the_passes_stop_at_the_first_that_finds_a_box_and_each_can_be_turned_off(monkeypatch):
    plate = detector.Detection(detector.Box(100, 100, 800, 300), 0.7)
    assert VisionSettings().det_full_imgsz == 0  # the full-size pass is off unless asked for
    det = build_pipeline(VisionSettings().with_text(["det_full_imgsz=1920"]), ocr="crnn").detector
    seen: list[tuple[int, float]] = []
    monkeypatch.setattr(det, "_detect", lambda image, imgsz, shrink=1.0: seen.append((imgsz, shrink)) or [plate])
    assert det.detect(np.zeros((1080, 1920, 3), np.uint8)) == [plate] and seen == [(640, 1.0)]
    off = build_pipeline(VisionSettings().with_text(["det_closeup_shrink=0", "det_full_imgsz=0"]), ocr="crnn").detector
    seen.clear()
    monkeypatch.setattr(off, "_detect", lambda image, imgsz, shrink=1.0: seen.append((imgsz, shrink)) or [])
    assert off.detect(np.zeros((1080, 1920, 3), np.uint8)) == [] and seen == [(640, 1.0), (1280, 1.0)]
    with pytest.raises(ValueError, match="det_closeup_shrink must be in"):
        VisionSettings().with_text(["det_closeup_shrink=1"])
    with pytest.raises(ValueError, match="det_full_imgsz must be >= 0"):
        VisionSettings().with_text(["det_full_imgsz=-1"])


def test_the_close_up_pass_keeps_only_boxes_wide_for_the_frame(monkeypatch):
    # In the shrunk copy of a large frame a sign becomes a plate-sized box; only a box at least
    # CLOSEUP_MIN_WIDTH of the frame's width is the close-up plate that pass is for.
    det = build_pipeline(VisionSettings(), ocr="crnn").detector
    wide = detector.Detection(detector.Box(100, 100, 500, 200), 0.6)
    narrow = detector.Detection(detector.Box(900, 100, 300, 120), 0.9)
    monkeypatch.setattr(det, "_detect", lambda image, imgsz, shrink=1.0: [narrow, wide] if shrink < 1 else [])
    assert next(det.detect_more(np.zeros((1080, 1920, 3), np.uint8))) == [wide]


def test_the_close_up_canvas_maps_boxes_back_to_the_frame():
    # letterbox(shrink=...) keeps the first pass's canvas and centres the shrunk frame on it
    image = np.zeros((480, 640, 3), np.uint8)
    padded, scale, (left, top) = detector.letterbox(image, 640, 0.33)
    assert padded.shape[:2] == detector.letterbox(image, 640)[0].shape[:2] == (480, 640)
    assert abs(scale - 0.33) < 1e-9 and (left, top) == ((640 - 211) // 2, (480 - 158) // 2)
    assert (padded[:top] == 114).all() and (padded[top : top + 158, left : left + 211] == 0).all()


def test_ort_spin_is_an_on_off_setting(monkeypatch):
    from recognition.vision import config

    monkeypatch.setattr(config, "_global_pool", False)  # sessions with their own pools spin only when told
    monkeypatch.setattr(config, "_ort_spin", False)
    assert config.ort_session_options().get_session_config_entry("session.intra_op.allow_spinning") == "0"
    monkeypatch.setattr(config, "_ort_spin", True)
    assert config.ort_session_options().get_session_config_entry("session.intra_op.allow_spinning") == "1"
    with pytest.raises(ValueError, match="ort_spin must be 0 or 1"):
        VisionSettings().with_text(["ort_spin=2"])
