"""The detection benchmark (benchmarks/detection.py): what counts as found, its frames, and the
close-up pass measured on real plate crops that fill most of a frame."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from benchmarks import detection
from recognition.vision.types import Box, Candidate, PlateRead

pytestmark = pytest.mark.bench

SHARED = Path(__file__).resolve().parents[3] / "shared"
needs_shared = pytest.mark.skipif(not SHARED.is_dir(), reason=f"{SHARED} (benchmark photos and real crops) is absent")


def _read(text: str, box: Box) -> PlateRead:
    return PlateRead(box, 0.9, text, 0.9, (Candidate(text, 0.9),), np.zeros((1, 1, 3), np.uint8))


def test_a_plate_is_found_by_a_read_that_overlaps_it_or_holds_its_centre():
    plate = Box(100, 100, 40, 12)
    loose = _read("LOOSE", Box(60, 90, 120, 40))  # holds the centre, IoU 0.1
    near = _read("NEAR", Box(104, 102, 40, 12))  # IoU 0.7
    beside = _read("BESIDE", Box(141, 100, 40, 12))
    assert detection.found_read([loose, near, beside], plate) is near
    assert detection.found_read([loose, beside], plate) is loose
    assert detection.found_read([beside], plate) is None


@pytest.mark.shared
@needs_shared
def test_the_frames_are_the_same_on_every_run_and_hold_their_plate():
    bench, data = SHARED / "bench" / "openalpr-dev", SHARED / "data"
    for name in detection.SETS:
        first = list(detection.scenes(name, bench, data, 2))
        again = list(detection.scenes(name, bench, data, 2))
        assert [s.bucket for s in first] == [s.bucket for s in again] and len(first) == 8
        for a, b in zip(first, again, strict=True):
            assert a.plate == b.plate and a.box == b.box and np.array_equal(a.frame, b.frame)
            h, w = a.frame.shape[:2]
            assert (w, h) == (detection.DISTANT_SIZE if name == "distant" else detection.CLOSEUP_SIZE)
            assert a.box.x >= 0 and a.box.x + a.box.w <= w and a.box.y >= 0 and a.box.y + a.box.h <= h
            if name == "distant":
                assert 11 <= a.box.h <= 31
            else:
                assert 0.28 <= a.box.w / w <= 0.92 or a.box.h >= 0.85 * h


@pytest.mark.shared
@needs_shared
def test_the_close_up_pass_finds_real_plates_that_fill_most_of_the_frame():
    # Real US and Brazilian plate crops at 30-90 % of a street frame's width, no car around them:
    # the larger ones are larger in the detector's 640 px input than the plates it was trained on.
    result = detection.run(
        SHARED / "bench" / "openalpr-dev",
        SHARED / "data",
        ["closeup-crops"],
        8,
        detection.VisionSettings(),
        detection.VisionSettings(det_closeup_shrink=0.0, det_full_imgsz=0),
    )
    new = result["closeup-crops"]["all"]["found"]
    old = result["baseline"]["closeup-crops"]["all"]["found"]
    assert new >= old + 6, (old, new)  # two frames or more of the 32
