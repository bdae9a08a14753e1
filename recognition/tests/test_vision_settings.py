"""The vision settings (recognition/vision/settings.py): read once from the
environment, passed to the constructors, tuning knobs only through arguments."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import cv2
import pytest

from recognition.vision import config, pipeline
from recognition.vision.ocr import EnsemblePlateOCR, PlateCrnnOCR, RapidPlateOCR
from recognition.vision.settings import ENVIRONMENT, RETIRED, VisionSettings
from recognition.vision.synth import render_vehicle_scene


def test_from_env_reads_the_operator_settings_and_leaves_the_knobs_at_their_defaults(tmp_path):
    env = {
        "ALPR_DETECTOR": "YOLO",
        "ALPR_OCR": "crnn",
        "ALPR_PRECISION": "fp32",
        "ALPR_THREADS": "3",
        "ALPR_CRNN_MODEL": str(tmp_path / "m.onnx"),
        "ALPR_MODEL_CACHE": str(tmp_path),
        "ALPR_MIN_READ_CONF": "0.1",
        "ALPR_DARK_MEAN": " 0 ",
    }
    got = VisionSettings.from_env(env)
    assert got == VisionSettings(
        detector="yolo",
        ocr="crnn",
        det_precision="fp32",
        line_precision="fp32",
        threads=3,
        crnn_model=tmp_path / "m.onnx",
        model_cache=tmp_path,
        min_read_conf=0.1,
        dark_mean=0.0,
    )
    assert set(env) == set(ENVIRONMENT)
    assert VisionSettings.from_env({}) == VisionSettings()
    assert VisionSettings().ocr_exit == 0.85 and VisionSettings().crnn_views == 2 and VisionSettings().rectify
    with pytest.raises(AttributeError):
        got.threads = 1  # type: ignore[misc]  # frozen


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("ALPR_THREADS", "0", "ALPR_THREADS: threads must be >= 1"),
        ("ALPR_THREADS", "two", "ALPR_THREADS: threads must be an integer"),
        ("ALPR_OCR", "tesseract", "ALPR_OCR: ocr must be one of"),
        ("ALPR_PRECISION", "fp16", "ALPR_PRECISION: det_precision must be one of"),
        ("ALPR_MIN_READ_CONF", "1", r"ALPR_MIN_READ_CONF: min_read_conf must be in \[0, 1\)"),
        ("ALPR_DARK_MEAN", "nan", "ALPR_DARK_MEAN: dark_mean must be a number"),
    ],
)
def test_a_bad_value_names_its_variable(name, value, message):
    with pytest.raises(ValueError, match=message):
        VisionSettings.from_env({name: value})


def test_a_retired_variable_that_is_still_set_is_refused_with_where_it_went():
    with pytest.raises(ValueError, match=r"ALPR_OCR_EXIT \(now --set ocr_exit=\)"):
        VisionSettings.from_env({"ALPR_OCR_EXIT": "0.9"})
    with pytest.raises(ValueError, match=r"ALPR_DET_PRECISION \(now ALPR_PRECISION\)"):
        VisionSettings.from_env({"ALPR_DET_PRECISION": "fp32"})
    assert VisionSettings.from_env({"ALPR_OCR_EXIT": ""}) == VisionSettings()  # empty is unset
    assert not set(RETIRED) & set(ENVIRONMENT)


def test_set_texts_change_any_field_and_refuse_unknown_ones():
    s = VisionSettings().with_text(
        ["ocr_exit=0.9", "crnn_views=1", "rectify=0", "det_fallback_small=1", "model_cache=/tmp/x", "ort_pool=session"]
    )
    assert (s.ocr_exit, s.crnn_views, s.rectify, s.det_fallback_small, s.model_cache, s.ort_pool) == (
        0.9,
        1,
        False,
        True,
        Path("/tmp/x"),
        "session",
    )
    with pytest.raises(ValueError, match="unknown vision setting 'ocr_exits'"):
        VisionSettings().with_text(["ocr_exits=0.9"])
    with pytest.raises(ValueError, match="expected name=value"):
        VisionSettings().with_text(["ocr_exit"])
    with pytest.raises(ValueError, match="crnn_views must be 1 or 2"):
        VisionSettings().with_text(["crnn_views=3"])


def test_build_pipeline_passes_the_settings_to_the_constructors():
    settings = VisionSettings().with_text(
        [
            "ocr_exit=0.9",
            "ocr_exit_custom=0.95",
            "crnn_views=1",
            "rectify=0",
            "det_conf=0.3",
            "det_imgsz=480",
            "det_fallback_imgsz=0",
            "min_read_conf=0.01",
            "dark_mean=30",
        ]
    )
    p = pipeline.build_pipeline(settings)
    assert isinstance(p.ocr, EnsemblePlateOCR)
    crnn, rapid = p.ocr.engines
    assert isinstance(crnn, PlateCrnnOCR) and isinstance(rapid, RapidPlateOCR)
    assert (p.ocr.exit_confidence, p.ocr.custom_exit_confidence, crnn.views) == (0.9, 0.95, 1)
    assert (p.rectify, p.min_confidence, p.dark_mean) == (False, 0.01, 30.0)
    assert (p.detector.conf, p.detector.imgsz, p.detector.fallback_imgsz) == (0.3, 480, 0)  # type: ignore[attr-defined]
    default = pipeline.build_pipeline()
    assert (default.ocr.exit_confidence, default.ocr.engines[0].views, default.rectify) == (0.85, 2, True)  # type: ignore[attr-defined]


def test_constructors_do_not_read_the_environment(monkeypatch):
    # a value set in the environment after the settings were read changes nothing built from them
    monkeypatch.setenv("ALPR_MIN_READ_CONF", "0.5")
    monkeypatch.setenv("ALPR_DARK_MEAN", "0")
    p = pipeline.build_pipeline(VisionSettings(), ocr="crnn")
    assert (p.min_confidence, p.dark_mean) == (0.005, 40.0)


def test_get_pipeline_reads_the_environment_once(monkeypatch):
    monkeypatch.setattr(pipeline, "_pipeline", None)
    monkeypatch.setenv("ALPR_OCR", "crnn")
    monkeypatch.setenv("ALPR_MIN_READ_CONF", "0.25")
    first = pipeline.get_pipeline()
    assert first.ocr.name == "crnn" and first.min_confidence == 0.25
    monkeypatch.setenv("ALPR_MIN_READ_CONF", "0.5")
    assert pipeline.get_pipeline() is first and first.min_confidence == 0.25


def test_threads_setting_sizes_the_runtime(monkeypatch):
    monkeypatch.setattr(config, "_threads", None)
    pipeline.build_pipeline(VisionSettings(threads=1), ocr="crnn")
    assert config.threads() == 1
    with pytest.raises(ValueError, match="threads"):
        config.configure_runtime(0)


def test_the_vision_core_imports_no_django():
    code = (
        "import sys, recognition.vision.pipeline, recognition.vision.settings, recognition.vision.installed;"
        "import benchmarks.vision;"
        "print(sorted(m for m in sys.modules if m == 'django' or m.startswith('django.')))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=str(config.REPO_ROOT),
        env={"PATH": "/usr/bin:/bin"},
    ).stdout
    assert out.strip() == "[]"


def test_the_benchmark_takes_tuning_knobs_as_arguments(tmp_path, capsys):
    from benchmarks.vision import main

    (tmp_path / "us").mkdir()
    frame, box = render_vehicle_scene("KDT4421", seed=0, size=(640, 360))
    cv2.imwrite(str(tmp_path / "us" / "0.jpg"), frame)
    (tmp_path / "us" / "0.txt").write_text(f"0.jpg {box.x} {box.y} {box.w} {box.h} KDT4421\n")
    assert main([str(tmp_path), "--json", "--ocr", "crnn", "--set", "crnn_views=1", "--set", "rectify=0"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["ocr"] == "crnn" and result["settings"] == {"ocr": "crnn", "crnn_views": "1", "rectify": "False"}
    assert main([str(tmp_path), "--json"]) == 0
    assert "settings" not in json.loads(capsys.readouterr().out)
    with pytest.raises(SystemExit):
        main([str(tmp_path), "--set", "ocr_exit=2"])
    assert "ocr_exit must be in (0, 1]" in capsys.readouterr().err
