"""The vision benchmark's scoring (benchmarks/vision.py): ground truth, scores, looks, scales, folds."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from benchmarks.vision import (
    GroundTruth,
    apply_look,
    o0,
    parse_ground_truth,
    scale_frame,
    score_image,
    summarize,
    transform_box,
)
from recognition.vision.synth import render_vehicle_scene
from recognition.vision.types import Box, Candidate, PlateRead

pytestmark = pytest.mark.bench


def test_parse_ground_truth_reads_tab_or_space_separated_lines():
    truths = parse_ground_truth("car1.jpg\t911 136 62\t31 0sg719\n\n")
    assert truths == [GroundTruth("car1.jpg", Box(911, 136, 62, 31), "0SG719")]
    with pytest.raises(ValueError):
        parse_ground_truth("car1.jpg 1 2 3")


def _read(text: str, box: Box) -> PlateRead:
    return PlateRead(box, 0.9, text, 0.9, (Candidate(text, 0.9),), np.zeros((1, 1, 3), np.uint8))


def test_score_image_counts_exact_o0_detected_and_extra_reads():
    gt = [GroundTruth("a.jpg", Box(100, 100, 60, 30), "RKO26AJ")]
    reads = [_read("RK026AJ", Box(102, 101, 60, 30)), _read("ZZZ999", Box(500, 500, 60, 30))]
    s = score_image(gt, reads, 12.0)
    assert (s.plates, s.exact, s.exact_o0, s.detected, s.extra_reads) == (1, 0, 1, 1, 1)
    missed = score_image(gt, [_read("RKO26AJ", Box(200, 100, 60, 30))], 5.0)
    assert (missed.exact, missed.detected, missed.extra_reads) == (0, 0, 1)
    assert o0("O0O") == "000"


def test_summarize_reports_percentages_and_timing():
    gt = [GroundTruth("a.jpg", Box(0, 0, 10, 10), "ABC123")]
    scores = [score_image(gt, [_read("ABC123", Box(0, 0, 10, 10))], ms) for ms in (10.0, 20.0, 30.0)]
    scores.append(score_image(gt, [], 40.0))
    out = summarize(scores)
    assert out["exact"] == 75.0 and out["detected"] == 75.0 and out["images"] == 4
    assert out["ms_median"] == 25.0 and out["ms_p90"] == 40.0 and out["ms_mean"] == 25.0
    assert out["box_iou_median"] == 1.0 and out["box_iou_min"] == 1.0  # the undetected plate adds none
    loose = score_image(gt, [_read("ABC123", Box(0, 0, 20, 10))], 5.0)
    assert loose.ious == (0.5,) and summarize([*scores, loose])["box_iou_min"] == 0.5


def test_bench_looks_darken_flatten_or_grey_a_photo_and_repeat():
    rng = np.random.default_rng(0)
    photo = rng.integers(0, 256, (60, 80, 3), dtype=np.uint8)
    night = apply_look(photo, "night", seed=7)
    assert night.shape == photo.shape and night.mean() < photo.mean() / 3
    assert np.array_equal(night, apply_look(photo, "night", seed=7))  # seeded: runs repeat
    flat = apply_look(photo, "low-contrast").astype(int)
    assert flat.max() - flat.min() <= 86 and abs(flat.mean() - 128) < abs(photo.mean() - 128) + 1
    grey = apply_look(photo, "grey")
    assert (grey[..., 0] == grey[..., 1]).all() and (grey[..., 1] == grey[..., 2]).all()
    with pytest.raises(ValueError, match="look"):
        apply_look(photo, "sepia")


def test_bench_scale_moves_the_labelled_boxes_with_the_photo():
    half, m = scale_frame(np.zeros((720, 1280, 3), np.uint8), 0.5)
    assert half.shape[:2] == (360, 640)
    assert transform_box(Box(100, 200, 60, 30), m) == Box(50, 100, 30, 15)


def test_bench_fold_scores_only_the_photos_of_that_half(tmp_path):
    from benchmarks.vision import plate_fold, run
    from recognition.vision.settings import VisionSettings

    (tmp_path / "us").mkdir()
    texts = ["KDT4421", "ABC1234", "7XYZ123", "LMN5678", "JKR2210"]
    for i, text in enumerate(texts):
        frame, box = render_vehicle_scene(text, seed=i, size=(640, 360))
        cv2.imwrite(str(tmp_path / "us" / f"{i}.jpg"), frame)
        (tmp_path / "us" / f"{i}.txt").write_text(f"{i}.jpg {box.x} {box.y} {box.w} {box.h} {text}\n")
    halves = [run(tmp_path, None, VisionSettings(), fold=f) for f in (0, 1)]
    for f, result in enumerate(halves):
        assert result["images"] == sum(plate_fold(t) == f for t in texts) and result["fold"] == f
    assert halves[0]["images"] and halves[1]["images"]  # both halves hold some of these plates
    assert "fold" not in run(tmp_path, 2, VisionSettings())


def test_bench_spread_reads_the_photos_resized_and_summarises_exact(tmp_path, capsys):
    import json

    from benchmarks.vision import SPREAD_SCALES, main

    (tmp_path / "us").mkdir()
    for i, text in enumerate(["KDT4421", "ABC1234", "7XYZ123"]):
        frame, box = render_vehicle_scene(text, seed=i, size=(640, 360))
        cv2.imwrite(str(tmp_path / "us" / f"{i}.jpg"), frame)
        (tmp_path / "us" / f"{i}.txt").write_text(f"{i}.jpg {box.x} {box.y} {box.w} {box.h} {text}\n")
    assert main([str(tmp_path), "--json", "--spread"]) == 0
    result = json.loads(capsys.readouterr().out)
    runs = result["spread"]["runs"]
    assert list(runs) == sorted(map(str, (1.0, *SPREAD_SCALES)), key=float)
    assert runs["1.0"]["exact"] == result["exact"]
    exacts = [r["exact"] for r in runs.values()]
    assert result["spread"]["exact_mean"] == round(sum(exacts) / len(exacts), 2)
    assert (result["spread"]["exact_min"], result["spread"]["exact_max"]) == (min(exacts), max(exacts))
    assert result["spread"]["exact_mean"] >= 60  # rendered plates are read at every size
    us = result["spread"]["regions"]["us"]  # one region here: its spread is the whole one
    assert us["runs"] == runs and us["exact_mean"] == result["spread"]["exact_mean"]
    assert main([str(tmp_path)]) == 0 and "spread" not in capsys.readouterr().out


def test_the_benchmark_still_runs_under_its_first_name(tmp_path):
    import subprocess
    import sys

    missing = tmp_path / "no-such-folder"
    done = subprocess.run(
        [sys.executable, "-m", "recognition.bench", str(missing), "--json"], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 2 and f"{missing} is not a folder" in done.stderr
    assert "python -m benchmarks.vision" in done.stderr  # the same program, not a copy
