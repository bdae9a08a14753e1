"""Levelling turned plates before OCR (recognition/vision/rectify.py) and the bench's --rotate."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from benchmarks.vision import o0, parse_ground_truth, rotate_frame, shear_frame, transform_box
from recognition.vision.ocr import CROP_MARGIN_X, CROP_MARGIN_Y
from recognition.vision.pipeline import PlatePipeline, build_pipeline, decode_image, expand_box
from recognition.vision.rectify import MIN_ANGLE, MIN_SHEAR, level_crop, plate_angle, plate_shear, plate_size
from recognition.vision.settings import VisionSettings
from recognition.vision.synth import render_plate, render_vehicle_scene
from recognition.vision.types import Box

SHARED = Path(__file__).resolve().parents[3] / "shared"
BENCH = SHARED / "bench" / "openalpr-dev"


def _crop_after(transform, plate: np.ndarray, amount: float) -> np.ndarray:  # type: ignore[no-untyped-def]
    """The plate on a grey background, turned or leant by ``transform`` (the bench's
    rotate_frame or shear_frame), cropped like the pipeline crops a detector box."""
    h, w = plate.shape[:2]
    canvas = np.full((h * 4, w * 2, 3), 90, np.uint8)
    y, x = (canvas.shape[0] - h) // 2, (canvas.shape[1] - w) // 2
    canvas[y : y + h, x : x + w] = plate
    moved, m = transform(canvas, amount)
    b = expand_box(transform_box(Box(x, y, w, h), m), moved.shape[1], moved.shape[0])
    return moved[b.y : b.y + b.h, b.x : b.x + b.w]


def _turned_crop(plate: np.ndarray, degrees: float) -> np.ndarray:
    return _crop_after(rotate_frame, plate, degrees)


def _leaning_crop(plate: np.ndarray, shear: float) -> np.ndarray:
    return _crop_after(shear_frame, plate, shear)


@pytest.mark.parametrize("degrees", [-20.0, -12.0, 12.0, 20.0])
@pytest.mark.parametrize("style", ["us", "eu", "br"])
def test_plate_angle_finds_how_far_a_plate_is_turned(style, degrees):
    crop = _turned_crop(render_plate("KDT4421" if style != "br" else "BRA2E19", style=style, width=240), degrees)
    assert plate_angle(crop) == pytest.approx(degrees, abs=2.0)


def test_a_level_plate_is_left_as_it_is():
    crop = _turned_crop(render_plate("KDT4421", width=240), 0.0)
    assert abs(plate_angle(crop)) < MIN_ANGLE
    same, angle, shear = level_crop(crop, CROP_MARGIN_X, CROP_MARGIN_Y)
    assert angle == 0.0 and shear == 0.0 and same is crop


def test_level_crop_turns_the_plate_back_and_cuts_it_out():
    plate = render_plate("KDT4421", width=240)
    crop = _turned_crop(plate, 18.0)
    level, angle, _ = level_crop(crop, CROP_MARGIN_X, CROP_MARGIN_Y)
    assert angle == pytest.approx(18.0, abs=2.0)
    # about the plate's own proportions again, with the pipeline's margins
    want = plate.shape[1] * (1 + 2 * CROP_MARGIN_X) / (plate.shape[0] * (1 + 2 * CROP_MARGIN_Y))
    assert level.shape[1] / level.shape[0] == pytest.approx(want, rel=0.2)
    assert level.shape[0] < crop.shape[0]


def _turned_crop_with_surround(plate: np.ndarray, degrees: float, share: tuple[float, float]) -> np.ndarray:
    """The plate in a darker surround (a recess) that takes up 1 - ``share`` of the
    box around it, all turned; cropped like the pipeline crops the turned box."""
    h, w = plate.shape[:2]
    bw, bh = round(w / share[0]), round(h / share[1])
    boxed = np.full((bh, bw, 3), 60, np.uint8)
    boxed[(bh - h) // 2 : (bh - h) // 2 + h, (bw - w) // 2 : (bw - w) // 2 + w] = plate
    return _crop_after(rotate_frame, boxed, degrees)


@pytest.mark.parametrize("degrees", [-20.0, 12.0, 20.0])
def test_a_turned_plate_in_a_looser_box_is_levelled_using_the_plates_share_of_the_box(degrees):
    from recognition.vision.pipeline import PLATE_BOX_SCALE

    plate = render_plate("KDT4421", width=240)
    crop = _turned_crop_with_surround(plate, degrees, (0.9, 0.6))  # a deep recess above and below
    # taken as the turned plate's own box, the box gives no plate shape: left as it was before
    assert level_crop(crop, CROP_MARGIN_X, CROP_MARGIN_Y)[1] == 0.0
    level, angle, _ = level_crop(crop, CROP_MARGIN_X, CROP_MARGIN_Y, plate_in_box=PLATE_BOX_SCALE)
    assert angle == pytest.approx(degrees, abs=2.5)
    # cut like an upright crop of the box: the box's proportions with the pipeline's margins
    want = (
        plate.shape[1]
        / PLATE_BOX_SCALE[0]
        * (1 + 2 * CROP_MARGIN_X)
        / (plate.shape[0] / PLATE_BOX_SCALE[1] * (1 + 2 * CROP_MARGIN_Y))
    )
    assert level.shape[1] / level.shape[0] == pytest.approx(want, rel=0.2)
    assert abs(plate_angle(level)) < MIN_ANGLE


@pytest.mark.parametrize("shear", [-0.3, -0.2, 0.2, 0.3])
def test_plate_shear_finds_how_far_the_characters_lean(shear):
    crop = _leaning_crop(render_plate("KDT4421", width=240), shear)
    assert plate_shear(crop) == pytest.approx(-shear, abs=0.06)  # the correction undoes the lean
    level, angle, taken_out = level_crop(crop, CROP_MARGIN_X, CROP_MARGIN_Y)
    assert angle == 0.0 and taken_out == pytest.approx(-shear, abs=0.06)
    assert abs(plate_shear(level)) < MIN_SHEAR  # upright afterwards


def test_upright_characters_are_left_as_they_are():
    for style in ("us", "eu", "br"):
        assert abs(plate_shear(_leaning_crop(render_plate("BRA2E19", style=style, width=240), 0.0))) < MIN_SHEAR


def test_plate_size_undoes_the_bounding_box_of_a_turned_plate():
    w, h, a = 200.0, 50.0, 15.0
    c, s = np.cos(np.radians(a)), np.sin(np.radians(a))
    assert plate_size(w * c + h * s, w * s + h * c, a) == pytest.approx((w, h))
    assert plate_size(w * c + h * s, w * s + h * c, -a) == pytest.approx((w, h))
    assert plate_size(200.0, 40.0, 30.0) is None  # too flat a box for a plate turned that far


def test_shear_frame_moves_rows_by_their_height():
    frame = np.zeros((100, 200, 3), np.uint8)
    leaning, m = shear_frame(frame, 0.3)
    assert leaning.shape[:2] == (100, 230)
    box = transform_box(Box(50, 0, 20, 100), m)  # a full-height column becomes 30 px wider
    assert abs(box.w - 50) <= 1 and box.h == 100
    leaning, m = shear_frame(frame, -0.3)
    assert transform_box(Box(0, 0, 200, 100), m) == Box(0, 0, 230, 100)


def test_transform_box_follows_the_frame():
    frame = np.zeros((100, 200, 3), np.uint8)
    same, m = rotate_frame(frame, 0.0)
    assert same.shape == frame.shape and transform_box(Box(10, 20, 30, 40), m) == Box(10, 20, 30, 40)
    turned, m = rotate_frame(frame, 90.0)
    assert turned.shape[:2] == (200, 100)
    box = transform_box(Box(0, 0, 200, 100), m)
    assert abs(box.w - 100) <= 1 and abs(box.h - 200) <= 1


@pytest.fixture(scope="module")
def pipelines() -> tuple[PlatePipeline, PlatePipeline]:
    levelled = build_pipeline()
    raw = PlatePipeline(levelled.detector, levelled.ocr, rectify=False)
    return levelled, raw


def test_the_pipeline_levels_turned_plates_by_default(pipelines):
    levelled, raw = pipelines
    assert levelled.rectify and not raw.rectify
    assert VisionSettings().rectify and not VisionSettings().with_text(["rectify=0"]).rectify
    with pytest.raises(ValueError, match="rectify must be 0 or 1"):
        VisionSettings().with_text(["rectify=maybe"])


@pytest.mark.parametrize(
    ("text", "seed", "style", "degrees"), [("RK755AJ", 3, "eu", -15.0), ("KDT4421", 2, "us", 25.0)]
)
def test_pipeline_reads_a_turned_rendered_scene(pipelines, text, seed, style, degrees):
    image, box = render_vehicle_scene(text, seed=seed, style=style)
    turned, m = rotate_frame(image, degrees)
    reads = [r for r in pipelines[0].read(turned) if r.box.iou(transform_box(box, m)) > 0.3]
    assert reads and reads[0].text == text


@pytest.mark.shared
@pytest.mark.skipif(not BENCH.is_dir(), reason="../shared/bench/openalpr-dev not present")
def test_levelling_reads_more_of_the_real_photos_turned_by_20_degrees(pipelines):
    levelled, raw = pipelines
    exact = {"levelled": 0, "raw": 0}
    n = 0
    for region in ("us", "eu", "br"):
        labels = sorted((BENCH / region).glob("*.txt"))
        for label in labels[:: max(1, len(labels) // 6)][:6]:  # spread over the folder
            for gt in parse_ground_truth(label.read_text()):
                image, m = rotate_frame(decode_image((BENCH / region / gt.image).read_bytes()), -20.0)
                box = transform_box(gt.box, m)
                n += 1
                for name, p in (("levelled", levelled), ("raw", raw)):
                    reads = [r for r in p.read(image, region=region) if r.box.iou(box) > 0.3]
                    exact[name] += bool(reads) and o0(reads[0].text) == o0(gt.plate)
    assert exact["levelled"] > exact["raw"], exact
    assert exact["levelled"] >= 0.75 * n, (exact, n)


def test_cv2_turn_direction_matches_the_angle_convention():
    # a bar whose right end is higher: turned counter-clockwise, a positive angle
    img = np.full((80, 240), 255, np.uint8)
    for _i, x in enumerate(range(30, 210, 30)):
        cv2.rectangle(img, (x, 20), (x + 14, 60), 0, -1)
    turned, _ = rotate_frame(cv2.cvtColor(img, cv2.COLOR_GRAY2BGR), 10.0)
    assert plate_angle(turned) == pytest.approx(10.0, abs=2.0)
