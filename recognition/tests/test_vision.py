"""The vision core: real models on frames the project renders itself.

No Django here: the vision core is plain Python. The pipeline is built once per
module (loading models takes a few seconds).
"""

from __future__ import annotations

import csv
from pathlib import Path

import cv2
import numpy as np
import pytest

from benchmarks.vision import o0, parse_ground_truth
from recognition.vision.ocr import (
    beam_decode,
    clean_plate_text,
    decode_plate,
    decode_with_pattern,
    fits_any_layout,
    fits_layout,
    fits_region_format,
    greedy_decode,
    merge_candidates,
    rank_by_region_format,
    rank_candidates,
    select_plate_lines,
    settle_lone_o0,
    settle_o0_by_layout,
)
from recognition.vision.pipeline import (
    PlatePipeline,
    build_pipeline,
    dark_frame_gain,
    decode_image,
    expand_box,
    plate_box,
)
from recognition.vision.settings import VisionSettings
from recognition.vision.synth import random_plate_text, render_plate, render_vehicle_scene
from recognition.vision.types import Box, Candidate, Detection, OcrResult, PlateRead

SHARED = Path(__file__).resolve().parents[3] / "shared"


@pytest.fixture(scope="module")
def pipeline() -> PlatePipeline:
    return build_pipeline()


def _read_at(pipeline: PlatePipeline, image: np.ndarray, box: Box, region: str | None = None) -> list[PlateRead]:
    return [r for r in pipeline.read(image, region=region) if r.box.iou(box) > 0.3]


# --------------------------------------------------------------------------- #
# Rendered scenes
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize(
    ("text", "seed", "style"),
    [("ABC1234", 0, "us"), ("7XYZ123", 1, "us"), ("KDT4421", 2, "us"), ("RK755AJ", 3, "eu"), ("BRA2E19", 4, "br")],
)
def test_pipeline_reads_the_plate_of_a_rendered_scene(pipeline, text, seed, style):
    image, box = render_vehicle_scene(text, seed=seed, style=style)
    assert image.shape == (720, 1280, 3) and image.dtype == np.uint8
    reads = _read_at(pipeline, image, box)
    assert reads, "the detector should find the rendered plate"
    assert reads[0].text == text
    assert 0.0 < reads[0].confidence <= 1.0
    assert reads[0].candidates[0] == Candidate(reads[0].text, reads[0].confidence)
    assert reads[0].crop.ndim == 3
    assert reads[0].ocr_engine in ("crnn", "rapid+crnn")  # the default ensemble says which engines read it


def test_reads_report_the_plate_not_the_detectors_looser_box(pipeline):
    # the detector's box takes in the plate's surround; the read's box is the plate
    # inside it (plate_box), and the OCR crop is still cut from the detector's box
    for text, seed, style in [("ABC1234", 0, "us"), ("RK755AJ", 3, "eu"), ("BRA2E19", 4, "br")]:
        image, box = render_vehicle_scene(text, seed=seed, style=style)
        (det,) = [d for d in pipeline.detector.detect(image) if d.box.iou(box) > 0.3]
        (read,) = _read_at(pipeline, image, box)
        assert read.box == plate_box(det.box, image.shape[1], image.shape[0])
        assert read.box.iou(box) > det.box.iou(box) and read.box.iou(box) > 0.75
        assert read.crop.shape[:2] == (
            expand_box(det.box, image.shape[1], image.shape[0]).h,
            expand_box(det.box, image.shape[1], image.shape[0]).w,
        )


def test_a_weak_box_without_a_plate_does_not_keep_the_larger_pass_from_running(pipeline):
    image, box = render_vehicle_scene("KDT4421", seed=2)
    real = pipeline.detector

    class Detector:
        name = "stub"
        calls: list[str] = []

        def detect(self, frame):
            raise AssertionError("the pipeline asks for the passes one by one")

        def detect_first(self, frame):
            self.calls.append("first")
            return first_pass

        def detect_more(self, frame):
            self.calls.append("close-up")
            yield []
            self.calls.append("larger")
            yield real.detect_first(frame)
            self.calls.append("full")
            yield []

    stub = Detector()
    two_pass = PlatePipeline(stub, pipeline.ocr)
    first_pass = [Detection(Box(10, 10, 80, 30), 0.3)]  # sky: nothing to read there
    reads = two_pass.read(image, region="us")
    assert stub.calls == ["first", "close-up", "larger"] and [r.text for r in reads] == ["KDT4421"]
    assert reads[0].box.iou(box) > 0.5
    # a first pass that reads the plate is enough
    stub.calls.clear()
    first_pass = real.detect_first(image)
    assert [r.text for r in two_pass.read(image, region="us")] == ["KDT4421"] and stub.calls == ["first"]


def test_a_distant_plate_in_a_large_frame_is_read_by_the_full_size_pass():
    # A car far down the road: its plate 14 px tall in a 1920 x 1080 frame. At 640 and 1280 px the
    # detector sees it 5 and 9 px tall and finds nothing; the pass at the frame's own size reads it.
    without = build_pipeline(det_closeup_shrink=0.0, det_full_imgsz=0)
    full = build_pipeline(det_full_imgsz=1920)  # off by default (MODEL_CARD "Limits")
    old = new = 0
    for seed in (1, 4, 6):
        scene, box = render_vehicle_scene("KDT4421", seed=seed)
        k = 14 / box.h
        small = cv2.resize(scene, None, fx=k, fy=k, interpolation=cv2.INTER_AREA)
        frame = np.full((1080, 1920, 3), 100, np.uint8)
        frame[500 : 500 + small.shape[0], 800 : 800 + small.shape[1]] = small
        plate = Box(800 + round(box.x * k), 500 + round(box.y * k), round(box.w * k), round(box.h * k))
        old += any(r.text == "KDT4421" for r in without.read(frame, region="us"))
        reads = [r for r in full.read(frame, region="us") if r.box.iou(plate) > 0.3]
        new += bool(reads) and reads[0].text == "KDT4421"
    assert old == 0 and new >= 2, (old, new)


def test_plate_box_scales_about_the_centre_and_stays_in_the_frame():
    assert plate_box(Box(100, 100, 100, 50), 1000, 1000) == Box(105, 108, 90, 35)
    assert plate_box(Box(100, 100, 100, 50), 1000, 1000, scale=(1.0, 1.0)) == Box(100, 100, 100, 50)
    edge = plate_box(Box(0, 0, 20, 10), 15, 8)
    assert edge.x >= 0 and edge.y >= 0 and edge.x + edge.w <= 15 and edge.y + edge.h <= 8
    assert plate_box(Box(5, 5, 1, 1), 10, 10).w == 1  # never empty


def test_rendered_scenes_are_read_reliably_across_seeds(pipeline):
    plates = ["ABC1234", "7XYZ123", "KDT4421"]
    exact = 0
    for seed in range(10, 22):
        text = plates[seed % 3]
        image, box = render_vehicle_scene(text, seed=seed)
        reads = _read_at(pipeline, image, box)
        exact += bool(reads and reads[0].text == text)
    assert exact >= 11


def test_scene_plate_has_a_plausible_size():
    for seed in range(5):
        image, box = render_vehicle_scene("ABC1234", seed=seed)
        assert box is not None
        assert 120 <= box.w <= 220
        assert box.x >= 0 and box.x + box.w <= image.shape[1] and box.y + box.h <= image.shape[0]


def test_scene_is_deterministic_for_a_seed():
    a, box_a = render_vehicle_scene("KDT4421", seed=7)
    b, box_b = render_vehicle_scene("KDT4421", seed=7)
    assert box_a == box_b and np.array_equal(a, b)


def test_small_frames_keep_the_plate_readable(pipeline):
    image, box = render_vehicle_scene("KDT4421", seed=3, size=(640, 360))
    assert image.shape == (360, 640, 3)
    reads = _read_at(pipeline, image, box)
    assert reads and reads[0].text == "KDT4421"


def test_a_car_without_a_plate_gives_no_reads(pipeline):
    image, box = render_vehicle_scene(None, seed=5)
    assert box is None
    assert pipeline.read(image) == []


def test_plain_noise_gives_no_reads(pipeline):
    noise = np.random.default_rng(0).integers(0, 256, (480, 640, 3), dtype=np.uint8)
    assert pipeline.read(noise) == []


def test_render_plate_styles_have_plate_proportions():
    for style, ratio in (("us", 2.0), ("eu", 4.7), ("br", 3.1)):
        plate = render_plate("ABC1234", style=style, width=400)
        assert plate.shape[1] == 400
        assert abs(plate.shape[1] / plate.shape[0] - ratio) < 0.1
    with pytest.raises(ValueError):
        render_plate("ABC1234", style="xx")


def test_ocr_reads_a_rendered_plate_crop(pipeline):
    result = pipeline.ocr.read(render_plate("KDT4421", style="us", width=200))
    assert result.text == "KDT4421"
    assert len(result.candidates) > 1
    assert [c.confidence for c in result.candidates] == sorted((c.confidence for c in result.candidates), reverse=True)


def _two_line_plate(top: str, bottom: str) -> np.ndarray:
    """A square plate with two rows of characters, as on motorcycles and trailers."""
    from PIL import Image, ImageDraw

    from recognition.vision.synth import _font

    img = Image.new("RGB", (200, 170), (235, 235, 235))
    draw = ImageDraw.Draw(img)
    draw.rectangle([2, 2, 197, 167], outline=(20, 20, 20), width=4)
    font = _font(64)
    for text, y in ((top, 10), (bottom, 88)):
        draw.text(((200 - draw.textlength(text, font=font)) / 2, y), text, fill=(15, 15, 15), font=font)
    return cv2.cvtColor(np.array(img), cv2.COLOR_RGB2BGR)


@pytest.mark.parametrize(("top", "bottom", "region"), [("ABC", "1D23", "br"), ("KL", "4821", "us")])
def test_ocr_reads_two_line_plates_top_row_first(pipeline, top, bottom, region):
    result = pipeline.ocr.read(_two_line_plate(top, bottom), region=region)
    assert result.text == top + bottom
    assert result.confidence >= 0.3  # well above ALPR_MIN_READ_CONF: such reads are kept


def test_random_plate_text_follows_the_style_formats():
    assert len(random_plate_text(1, "us")) == 7
    br = random_plate_text(2, "br")
    assert br[:3].isalpha() and br[3].isdigit() and br[5:].isdigit()


# --------------------------------------------------------------------------- #
# Pipeline helpers
# --------------------------------------------------------------------------- #


def test_decode_image_round_trips_a_jpeg():
    image, _ = render_vehicle_scene("ABC1234", seed=0, size=(320, 180))
    ok, buf = cv2.imencode(".jpg", image)
    assert ok
    decoded = decode_image(buf.tobytes())
    assert decoded.shape == image.shape


@pytest.mark.parametrize("data", [b"", b"not an image", b"\xff\xd8\xff\xe0broken"])
def test_decode_image_rejects_bad_bytes(data):
    with pytest.raises(ValueError):
        decode_image(data)


def test_expand_box_adds_a_margin_and_stays_in_the_frame():
    assert expand_box(Box(100, 100, 100, 50), 1000, 1000) == Box(94, 95, 112, 60)
    assert expand_box(Box(0, 0, 100, 50), 100, 50) == Box(0, 0, 100, 50)


class _FakeDetector:
    name = "fake"

    def detect(self, image):
        return [Detection(Box(0, 0, 20, 10), 0.9), Detection(Box(20, 0, 20, 10), 0.8)]


class _FakeOCR:
    name = "fake"

    def __init__(self):
        self.texts = iter(["AB", "XYZ123"])

    def read(self, crop, region=None):
        text = next(self.texts)
        return OcrResult((Candidate(text, 0.9), Candidate(text[:2], 0.1)))


def test_pipeline_drops_reads_with_too_short_text_and_short_candidates():
    reads = PlatePipeline(_FakeDetector(), _FakeOCR()).read(np.zeros((10, 40, 3), np.uint8))
    assert [r.text for r in reads] == ["XYZ123"]
    assert reads[0].candidates == (Candidate("XYZ123", 0.9),)
    assert reads[0].detector_confidence == 0.8


def test_settings_check_their_ranges_with_open_or_closed_ends():
    assert VisionSettings(min_read_conf=0.0).min_read_conf == 0.0
    assert VisionSettings(ocr_exit=1.0).ocr_exit == 1.0
    with pytest.raises(ValueError, match=r"ocr_exit must be in \(0, 1\], got 0.0"):
        VisionSettings(ocr_exit=0.0)
    with pytest.raises(ValueError, match=r"min_read_conf must be in \[0, 1\), got 1.0"):
        VisionSettings(min_read_conf=1.0)
    with pytest.raises(ValueError, match="dark_mean"):
        VisionSettings(dark_mean=float("nan"))


class _SureAndUnsureOCR:
    name = "fake"

    def __init__(self, confidences):
        self.confidences = iter(confidences)

    def read(self, crop, region=None):
        return OcrResult((Candidate("ABC123", next(self.confidences)),))


def test_pipeline_drops_reads_the_ocr_cannot_read():
    frame = np.zeros((10, 40, 3), np.uint8)
    reads = PlatePipeline(_FakeDetector(), _SureAndUnsureOCR([0.004, 0.006])).read(frame)
    assert [r.confidence for r in reads] == [0.006]  # default ALPR_MIN_READ_CONF 0.005
    reads = PlatePipeline(_FakeDetector(), _SureAndUnsureOCR([0.004, 0.0]), min_confidence=0.0).read(frame)
    assert [r.confidence for r in reads] == [0.004, 0.0]
    reads = PlatePipeline(_FakeDetector(), _SureAndUnsureOCR([0.4, 0.6]), min_confidence=0.5).read(frame)
    assert [r.confidence for r in reads] == [0.6]
    for bad in (1.0, -0.1, float("nan")):
        with pytest.raises(ValueError, match="min_read_conf"):
            PlatePipeline(_FakeDetector(), _SureAndUnsureOCR([]), min_confidence=bad)


class _Recorder:
    """A detector and OCR that keep what they were given."""

    name = "recorder"

    def __init__(self):
        self.frames, self.crops = [], []

    def detect(self, image):
        self.frames.append(image)
        return [Detection(Box(10, 10, 40, 20), 0.9)]

    def read(self, crop, region=None):
        self.crops.append(crop)
        return OcrResult((Candidate("ABC123", 0.9),))


def test_dark_frames_are_brightened_for_the_models_and_stored_as_sent():
    rng = np.random.default_rng(1)
    normal = rng.integers(60, 200, (80, 120, 3), dtype=np.uint8)
    dark = (normal // 8).astype(np.uint8)  # mean about 16 of 255
    assert dark_frame_gain(normal) == 1.0 and dark_frame_gain(np.zeros((80, 120, 3), np.uint8)) == 1.0
    assert dark_frame_gain(dark) == pytest.approx(70.0 / cv2.cvtColor(dark, cv2.COLOR_BGR2GRAY).mean(), rel=0.05)

    rec = _Recorder()
    PlatePipeline(rec, rec, rectify=False).read(normal)
    assert rec.frames[0] is normal  # a normal frame goes to the models as it is

    rec = _Recorder()
    reads = PlatePipeline(rec, rec, rectify=False).read(dark)
    seen, crop = rec.frames[0], rec.crops[0]
    assert 60 < seen.mean() < 80 and seen.std() < 8 * dark.std()  # brightened, smoothed for the detector
    box = expand_box(Box(10, 10, 40, 20), 120, 80)
    original = dark[box.y : box.y + box.h, box.x : box.x + box.w]
    gain = dark_frame_gain(dark)
    assert np.abs(crop.astype(int) - np.clip(np.rint(original * gain), 0, 255)).max() <= 1  # not smoothed for OCR
    assert np.array_equal(reads[0].crop, original)  # evidence as the camera sent it


def test_dark_frame_setting_is_validated_and_can_be_turned_off():
    with pytest.raises(ValueError, match="dark_mean"):
        PlatePipeline(_Recorder(), _Recorder(), dark_mean=300.0)
    rec = _Recorder()
    dark = np.full((80, 120, 3), 10, np.uint8)
    PlatePipeline(rec, rec, rectify=False, dark_mean=0.0).read(dark)
    assert rec.frames[0] is dark


# --------------------------------------------------------------------------- #
# OCR decoding
# --------------------------------------------------------------------------- #


def _one_hot(seq: str, p: float = 0.9) -> np.ndarray:
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
    rows = []
    for ch in seq:
        row = np.full(37, (1 - p) / 36, np.float32)
        row[0 if ch == "-" else alphabet.index(ch) + 1] = p
        rows.append(row)
    return np.array(rows)


def test_greedy_decode_collapses_repeats_and_blanks():
    text, confs = greedy_decode(_one_hot("AA-B--BB-1"))
    assert text == "ABB1" and len(confs) == 4


def test_beam_decode_returns_the_best_text_first_with_alternatives():
    probs = _one_hot("-K-D-T-4-4-2-1-")
    probs[1] = 0.0
    probs[1, 11] = 0.6  # K
    probs[1, 24] = 0.4  # X
    cands = beam_decode(probs, top=3)
    assert cands[0].text == "KDT4421"
    assert cands[1].text == "XDT4421"
    assert 0 < cands[1].confidence < cands[0].confidence <= 1


def test_pattern_decode_turns_a_digit_in_a_letter_position_into_its_best_letter():
    probs = _one_hot("-A-B-0-1-2-3-4-")
    probs[5, 15] = 0.3  # O is the runner-up to 0 in the third position
    assert greedy_decode(probs)[0] == "AB01234"
    fixed = decode_with_pattern(probs, "LLLDADD")
    assert fixed is not None and fixed.text == "ABO1234"
    assert decode_with_pattern(probs, "LLLDAD") is None  # length differs


def test_reads_that_fit_the_region_format_rank_first():
    cands = [Candidate("4ASC7399A", 0.8), Candidate("ASC7399", 0.1)]
    assert rank_by_region_format(cands, "us")[0].text == "ASC7399"
    assert rank_by_region_format(cands, None)[0].text == "4ASC7399A"
    # 8-character vanity plates are issued in the US; 9 characters are not read
    vanity = [Candidate("NEILDMND", 0.7), Candidate("NELDMND", 0.01)]
    assert rank_by_region_format(vanity, "us")[0].text == "NEILDMND"
    assert fits_region_format("ABC1D23", "br") and not fits_region_format("AB12345", "br")
    # an eu-group camera reads Irish numbers of 10 characters (year, county, serial) and
    # Luxembourg's and Austria's short ones
    assert fits_region_format("191D123456", "eu") and not fits_region_format("191D1234567", "eu")
    assert fits_region_format("957", "eu") and not fits_region_format("95", "eu")


def test_eu_reads_prefer_a_standard_layout_when_o_and_0_are_close():
    # RK896A0 as the recogniser's best path, O a close runner-up in the last position
    probs = _one_hot("-R-K-8-9-6-A-0-")
    probs[13] = 0.0
    probs[13, 37 - 10 + 0] = 0.7  # 0
    probs[13, 15] = 0.3  # O
    assert decode_plate(probs, None)[0].text == "RK896A0"
    eu = decode_plate(probs, "eu")
    assert eu[0].text == "RK896AO"  # LLDDDLL (HR, SK, FR, IT)
    # RK896A0 fits no layout: settled to RK896AO, whose probability it adds
    plain = {c.text: c.confidence for c in decode_plate(probs, None)}
    assert all(c.text != "RK896A0" for c in eu)
    assert eu[0].confidence == pytest.approx(plain["RK896A0"] + plain["RK896AO"])


def test_eu_layout_prior_does_not_override_a_clearly_read_custom_plate():
    probs = _one_hot("-K-M-B-O-R-A-K-")
    probs[7] = 0.0
    probs[7, 15] = 0.97  # O
    probs[7, 27] = 0.03  # 0 would give KMB0RAK, which fits no layout either
    assert decode_plate(probs, "eu")[0].text == "KMBORAK"
    probs2 = _one_hot("-W-A-5-6-6-6-0-")
    probs2[13] = 0.0
    probs2[13, 27] = 0.995  # 0: WA56660 (PL LLDDDDD)
    probs2[13, 15] = 0.005
    assert decode_plate(probs2, "eu")[0].text == "WA56660"


def test_eu_lone_o_and_0_take_the_kind_of_their_neighbours():
    assert settle_lone_o0("KMB0RAK") == "KMBORAK" and settle_lone_o0("W0BVWMK4") == "WOBVWMK4"
    assert settle_lone_o0("RK6O5AB") == "RK605AB"
    # pairs and characters at either end stay as read
    assert settle_lone_o0("RK300AG") == "RK300AG" and settle_lone_o0("RK3OOAG") == "RK3OOAG"
    assert settle_lone_o0("0Y09FEU") == "0Y09FEU" and settle_lone_o0("BB135BO") == "BB135BO"
    # the recogniser's best path KMB0RAK: read as KMBORAK in the EU only
    probs = _one_hot("-K-M-B-0-R-A-K-")
    probs[7] = 0.0
    probs[7, 27] = 0.9  # 0
    probs[7, 15] = 0.1  # O
    assert decode_plate(probs, None)[0].text == "KMB0RAK"
    assert decode_plate(probs, "us")[0].text == "KMB0RAK"
    eu = decode_plate(probs, "eu")
    assert eu[0].text == "KMBORAK" and all(c.text != "KMB0RAK" for c in eu)
    # candidates that become one text add their probabilities
    merged = rank_candidates([Candidate("KMB0RAK", 0.6), Candidate("KMBORAK", 0.3), Candidate("KMBDRAK", 0.1)], "eu", 3)
    assert [(c.text, round(c.confidence, 6)) for c in merged] == [("KMBORAK", 0.9), ("KMBDRAK", 0.1)]


def test_eu_layouts_of_one_country_need_its_codes():
    # LLDDDDL is Croatian only: a Zagreb plate fits it, a Bratislava read does not
    assert fits_any_layout("ZG1234A", "eu") and not fits_any_layout("BA3020Z", "eu")
    assert fits_any_layout("BA302OZ", "eu")  # LLDDDLL: SK, FR, IT and HR alike
    assert fits_any_layout("ST302OZ", "eu") and fits_any_layout("ST3020Z", "eu")


def test_eu_o_and_0_take_the_kind_a_layout_has_there():
    assert settle_o0_by_layout("BA3020Z", "eu") == "BA302OZ"
    assert settle_o0_by_layout("W053011", "eu") == "WO53011"  # PL LLDDDDD
    # reads that fit a layout, reads no swap can fit, and other regions stay as read
    assert settle_o0_by_layout("ST3020Z", "eu") == "ST3020Z"
    assert settle_o0_by_layout("WOBVWMK4", "eu") == "WOBVWMK4"
    assert settle_o0_by_layout("BA3020Z", "us") == "BA3020Z"
    # layouts that disagree (OO000OO for LLDDDLL, 0000OOO for DDDDLLL, ...): left as read
    assert settle_o0_by_layout("O00000O", "eu") == "O00000O"
    # in ranking, the settled read takes the probability of the read it came from
    ranked = rank_candidates([Candidate("BA3020Z", 0.995), Candidate("BA302OZ", 0.0025)], "eu", 2)
    assert [(c.text, round(c.confidence, 4)) for c in ranked] == [("BA302OZ", 0.9975)]


def test_us_long_read_drops_a_mark_beside_the_plate():
    cands = [Candidate("YAVP2403", 0.35), Candidate("AVP2403", 0.31), Candidate("AUP2403", 0.21)]
    ranked = rank_candidates(cands, "us", 3)
    assert [(c.text, round(c.confidence, 2)) for c in ranked] == [("AVP2403", 0.66), ("AUP2403", 0.21)]
    # the last character, too
    assert rank_candidates([Candidate("ABC12345", 0.5), Candidate("ABC1234", 0.2)], "us", 1)[0].text == "ABC1234"
    # a clearly read 8-character vanity plate stays, and so does one whose shorter read fits no layout
    vanity = [Candidate("PADDL10S", 0.99), Candidate("PADDL10", 0.001)]
    assert rank_candidates(vanity, "us", 2)[0].text == "PADDL10S"
    assert rank_candidates([Candidate("NTGUILTY", 0.4), Candidate("NTGUILT", 0.4)], "us", 1)[0].text == "NTGUILTY"
    # only in the US
    assert rank_candidates(cands, None, 1)[0].text == "YAVP2403"


def test_us_reads_prefer_a_state_layout_between_look_alike_characters():
    # R0N464 is the best path; D is a close runner-up in the second position
    probs = _one_hot("-R-0-N-4-6-4-")
    probs[3] = 0.0
    probs[3, 27] = 0.52  # 0
    probs[3, 4] = 0.48  # D
    assert decode_plate(probs, None)[0].text == "R0N464"
    us = decode_plate(probs, "us")
    assert us[0].text == "RDN464"  # LLLDDD
    assert us[0].confidence < next(c for c in us if c.text == "R0N464").confidence


def test_us_layout_prior_never_decides_the_number_of_characters():
    # a 4-digit plate stays a 4-digit plate although 2861W fits a layout (DDDDL)
    cands = [Candidate("2861", 0.52), Candidate("2861W", 0.42), Candidate("286LW", 0.02)]
    assert rank_candidates(cands, "us", 3)[0].text == "2861"
    # between reads of one length the layout decides, and a clear read stays
    assert rank_candidates([Candidate("DL9EIU", 0.5), Candidate("DL9E1U", 0.44)], "us", 2)[0].text == "DL9E1U"
    assert rank_candidates([Candidate("DL9EIU", 0.9), Candidate("DL9E1U", 0.05)], "us", 2)[0].text == "DL9EIU"


def test_fits_layout():
    assert fits_layout("RK896AO", "LLDDDLL") and not fits_layout("RK896A0", "LLDDDLL")
    assert fits_layout("AB1", "LLA") and fits_layout("AB", "LA") and not fits_layout("AB", "LLL")


def test_merged_candidates_apply_the_eu_layout_prior():
    a = OcrResult((Candidate("BB135B0", 0.6), Candidate("BB135BO", 0.3)))
    b = OcrResult((Candidate("BB135B0", 0.5), Candidate("BB135BO", 0.4)))
    assert merge_candidates([a, b], None).text == "BB135B0"
    assert merge_candidates([a, b], "eu").text == "BB135BO"


def test_clean_plate_text_keeps_upper_case_letters_and_digits():
    assert clean_plate_text("ab-12 3·x") == "AB123X"


def test_select_plate_lines_keeps_the_tallest_line_and_drops_state_names():
    boxes = [(10, 5, 80, 12, 0.9), (5, 25, 190, 50, 0.9), (40, 80, 120, 10, 0.9)]  # state, chars, slogan
    assert select_plate_lines(boxes, 200, 100) == [(5, 25, 190, 50)]


def test_select_plate_lines_reads_two_line_plates_top_to_bottom():
    boxes = [(10, 55, 180, 40, 0.9), (30, 5, 140, 40, 0.9)]
    assert select_plate_lines(boxes, 200, 100) == [(30, 5, 140, 40), (10, 55, 180, 40)]


def test_select_plate_lines_finds_a_short_second_line_where_countries_issue_two_line_plates():
    # a French square plate as the line finder boxed one (XD-331 over XR): the EU band's F, and a
    # second line of two letters, boxed a little lower than the first; under it a bumper edge
    # boxed bigger than the second line but too low to be a row of the plate's characters
    top, band, bottom, edge = (24, 8, 129, 60), (9, 56, 23, 30), (58, 64, 52, 43), (10, 120, 150, 38)
    boxes = [(*b, 0.9) for b in (top, band, bottom, edge)]
    assert select_plate_lines(boxes, 160, 170, two_line=True) == [top, bottom]
    assert select_plate_lines(boxes, 160, 170) == [top]  # elsewhere such rows are not a plate's


def test_which_settings_issue_two_line_plates():
    from recognition.vision.ocr import issues_two_line

    assert issues_two_line("fr") and issues_two_line("es,sk") and issues_two_line("eu")
    assert not issues_two_line("es") and not issues_two_line("us") and not issues_two_line("br")
    assert not issues_two_line(None) and not issues_two_line("zz")  # an unknown code reads as none


def test_two_line_layouts_of_square_plates():
    from recognition.vision.ocr import two_line_matcher

    swiss, italian = two_line_matcher("ch"), two_line_matcher("it")
    assert swiss is not None and italian is not None
    assert swiss("ZH123456") and swiss("GL9") and not swiss("XX123")  # a canton's code above its number
    assert italian("AB12345") and not italian("AB123CD")  # motorcycles: two letters above five digits


# --------------------------------------------------------------------------- #
# Bench scoring
# --------------------------------------------------------------------------- #


def test_box_iou():
    assert Box(0, 0, 10, 10).iou(Box(0, 0, 10, 10)) == 1.0
    assert Box(0, 0, 10, 10).iou(Box(20, 20, 5, 5)) == 0.0
    assert Box(0, 0, 10, 10).iou(Box(5, 0, 10, 10)) == pytest.approx(50 / 150)


# --------------------------------------------------------------------------- #
# Real photos and crops from ../shared (not part of the repository)
# --------------------------------------------------------------------------- #

needs_shared = pytest.mark.skipif(not SHARED.is_dir(), reason=f"{SHARED} (benchmark photos and real crops) is absent")


@pytest.mark.shared
@needs_shared
@pytest.mark.parametrize("region", ["us", "eu", "br"])
def test_pipeline_reads_most_real_bench_photos(pipeline, region):
    folder = SHARED / "bench" / "openalpr-dev" / region
    items = []
    labels = sorted(folder.glob("*.txt"))
    for label in labels[:: max(1, len(labels) // 8)][:8]:  # spread over the folder
        for gt in parse_ground_truth(label.read_text()):
            items.append((folder / gt.image, gt))
    exact = 0
    for path, gt in items:
        reads = _read_at(pipeline, decode_image(path.read_bytes()), gt.box, region=region)
        exact += bool(reads) and o0(reads[0].text) == o0(gt.plate)
    assert exact >= len(items) // 2, f"{exact}/{len(items)} {region} photos read exactly"


@pytest.mark.shared
@needs_shared
def test_ocr_reads_real_brazilian_crops(pipeline):
    folder = SHARED / "data" / "br-plate-crops"
    with (folder / "labels.csv").open() as fh:
        rows = [r for r in csv.reader(fh) if len(r) >= 2 and r[0] != "file"][:40:4]
    exact = 0
    for name, plate in rows:
        crop = cv2.imread(str(folder / "images" / name))
        exact += crop is not None and pipeline.ocr.read(crop, region="br").text == plate.upper()
    assert exact >= len(rows) * 0.6, f"{exact}/{len(rows)} BR crops read exactly"
