"""PP-OCR's text-line finder in int8 (the default) and float: the committed file,
its agreement with the float model and the setting (the recipe that makes it:
training/tests/test_quantize.py)."""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest

from recognition.vision import config, ocr
from recognition.vision.ocr import RapidPlateOCR, TextLineFinder, line_finder_model, select_plate_lines
from recognition.vision.settings import VisionSettings
from recognition.vision.synth import render_plate

SHARED_DATA = Path(__file__).resolve().parents[3] / "shared" / "data"

PLATES = [
    ("KDT4421", "us"),
    ("7XYZ123", "us"),
    ("RK755AJ", "eu"),
    ("BA302OZ", "eu"),
    ("BRA2E19", "br"),
    ("ODC9387", "br"),
]


def _detector_like_crop(text: str, style: str, seed: int) -> np.ndarray:
    """A rendered plate with the margins the pipeline adds around a detector box."""
    plate = render_plate(text, style=style, seed=seed, width=220)
    h, w = plate.shape[:2]
    return cv2.copyMakeBorder(plate, int(0.4 * h), int(0.4 * h), int(0.12 * w), int(0.12 * w), cv2.BORDER_REPLICATE)


def _lines(finder: TextLineFinder, crop: np.ndarray) -> list[tuple[int, int, int, int]]:
    return select_plate_lines(finder.find(crop), crop.shape[1], crop.shape[0])


def _agree(a: TextLineFinder, b: TextLineFinder, crops: list[np.ndarray], tolerance: float = 0.05) -> bool:
    """Both finders pick the same number of lines, each within ``tolerance`` of the crop's size."""
    for crop in crops:
        la, lb = _lines(a, crop), _lines(b, crop)
        if len(la) != len(lb) or not la:
            return False
        h, w = crop.shape[:2]
        for (ax, ay, aw, ah), (bx, by, bw, bh) in zip(la, lb):
            if (
                max(abs(ax - bx) / w, abs(ax + aw - bx - bw) / w, abs(ay - by) / h, abs(ay + ah - by - bh) / h)
                > tolerance
            ):
                return False
    return True


@pytest.fixture(scope="module")
def crops() -> list[np.ndarray]:
    return [_detector_like_crop(text, style, seed) for seed in range(2) for text, style in PLATES]


@pytest.fixture(scope="module")
def fp32_finder() -> TextLineFinder:
    return TextLineFinder(line_finder_model("fp32"))


def test_committed_int8_line_finder_is_made_from_the_installed_model():
    float_model, _ = ocr.rapidocr_model_files()
    meta = json.loads(ocr.LINE_FINDER_INT8_PATH.with_suffix(".json").read_text())
    assert meta["source_sha256_12"] == config.file_digest(float_model)
    assert line_finder_model("int8") == ocr.LINE_FINDER_INT8_PATH
    assert line_finder_model("fp32") == float_model
    assert RapidPlateOCR().line_finder_path == ocr.LINE_FINDER_INT8_PATH  # the default


def test_int8_line_finder_finds_the_lines_the_float_one_finds(crops, fp32_finder):
    assert _agree(TextLineFinder(ocr.LINE_FINDER_INT8_PATH), fp32_finder, crops)


@pytest.mark.parametrize("precision", ["int8", "fp32"])
def test_both_line_finders_read_rendered_plates(precision, crops):
    engine = RapidPlateOCR(line_precision=precision)
    texts = [text for seed in range(2) for text, _ in PLATES]
    regions = [style for seed in range(2) for _, style in PLATES]
    read = sum(engine.read(crop, region=region).text == text for crop, text, region in zip(crops, texts, regions))
    assert read >= len(crops) - 1


def test_unknown_line_precision_is_refused():
    with pytest.raises(ValueError, match="ALPR_PRECISION"):
        VisionSettings.from_env({"ALPR_PRECISION": "fp16"})
    with pytest.raises(ValueError, match="line_precision"):
        RapidPlateOCR(line_precision="int4")


def test_line_finder_made_from_another_model_is_not_used(tmp_path, monkeypatch, caplog):
    # A committed int8 file whose source digest is not the installed model's: the float model runs.
    fake = tmp_path / "line_finder_int8.onnx"
    shutil.copyfile(ocr.LINE_FINDER_INT8_PATH, fake)
    fake.with_suffix(".json").write_text(json.dumps({"source_sha256_12": "000000000000"}))
    monkeypatch.setattr(ocr, "LINE_FINDER_INT8_PATH", fake)
    with caplog.at_level(logging.WARNING, logger="recognition.vision.ocr"):
        assert line_finder_model("int8") == ocr.rapidocr_model_files()[0]
    assert "quantize_line_finder" in caplog.text
