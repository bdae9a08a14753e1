"""The CRNN training code: data shapes, labels, the split, the model, the exported model.

Fast: no training here. Tests that need ``../shared/data`` are marked and
skipped without it; the ONNX test is skipped when no model has been trained.
"""

from __future__ import annotations

import random
from pathlib import Path

import cv2
import numpy as np
import pytest

pytestmark = pytest.mark.training
torch = pytest.importorskip("torch")

from recognition.vision.ocr import (
    CRNN_HEIGHT,
    CRNN_MODEL_PATH,
    CRNN_WIDTH,
    PLATE_ALPHABET,
    REGION_PATTERNS,
    EnsemblePlateOCR,
    PlateCrnnOCR,
    crnn_preprocess,
    merge_candidates,
)
from recognition.vision.synth import render_plate
from recognition.vision.types import Candidate, OcrResult
from training.dataset import (
    CHAR_TO_CLASS,
    PlateSamples,
    RealCrop,
    encode_label,
    is_validation_plate,
    jitter_crop,
    load_real_crops,
    plate_layout,
    split_real_crops,
    us_layouts,
)
from training.model import NUM_CLASSES, PlateCRNN, count_parameters
from training.synth_plates import (
    PILLOW_FONT,
    US_LAYOUTS,
    SynthAssets,
    _gap_mark,
    _grouped_text,
    degrade,
    random_text,
    synth_sample,
)

SHARED_DATA = Path(__file__).resolve().parents[3] / "shared" / "data"
needs_shared = pytest.mark.skipif(not SHARED_DATA.is_dir(), reason=f"{SHARED_DATA} is absent")


def _rendered_crops(tmp_path: Path, texts: list[str]) -> list[RealCrop]:
    out = []
    for i, text in enumerate(texts):
        path = tmp_path / f"p{i}.png"
        cv2.imwrite(str(path), render_plate(text, style="us", seed=i, width=200))
        out.append(RealCrop(path, text, "us"))
    return out


def test_labels_encode_to_ctc_classes_without_the_blank():
    assert encode_label("A0Z9") == [1, 27, 26, 36]
    assert min(CHAR_TO_CLASS.values()) == 1 and max(CHAR_TO_CLASS.values()) == len(PLATE_ALPHABET)


def test_validation_split_keeps_every_frame_of_a_plate_on_one_side():
    crops = [
        RealCrop(Path(f"{i}.jpg"), t, "br") for i, t in enumerate(["ABC1234", "XYZ9876", "ABC1234", "QWE1111"] * 20)
    ]
    train, val = split_real_crops(crops, val_percent=50)
    assert not {c.text for c in train} & {c.text for c in val}
    assert len(train) + len(val) == len(crops)
    assert is_validation_plate("ABC1234", 50) == is_validation_plate("ABC1234", 50)


def test_preprocess_gives_a_normalised_grey_image_of_the_model_size():
    x = crnn_preprocess(render_plate("ABC123", style="eu", width=300))
    assert x.shape == (1, CRNN_HEIGHT, CRNN_WIDTH) and x.dtype == np.float32
    assert abs(float(x.mean())) < 1e-3


def test_samples_yield_batches_of_model_shaped_tensors_with_their_labels(tmp_path):
    samples = PlateSamples(_rendered_crops(tmp_path, ["ABC1234", "7XYZ12"]), assets=None, seed=1)
    x, labels, texts = samples.batch(4)
    assert x.shape == (4, 1, CRNN_HEIGHT, CRNN_WIDTH) and x.dtype == np.float32
    assert [encode_label(t) for t in texts] == labels
    assert set(texts) <= {"ABC1234", "7XYZ12"}


def test_crop_jitter_and_degradations_keep_a_colour_image():
    rng = random.Random(0)
    plate = render_plate("ABC1234", style="us", width=200)
    for _ in range(10):
        out = degrade(jitter_crop(plate, rng), rng)
        assert out.ndim == 3 and out.shape[2] == 3 and out.dtype == np.uint8 and min(out.shape[:2]) > 10


def test_layouts_give_labels_without_separators():
    drawn, label = random_text("LL-DDD-LL", random.Random(0))
    assert len(drawn) == 9 and len(label) == 7 and label.isalnum() and drawn.replace("-", "") == label


def test_us_gap_marks_sit_between_groups_and_are_smaller_than_a_character():
    rng = random.Random(0)
    inked = 0
    for _ in range(60):
        mark = np.asarray(_gap_mark(60, (20, 20, 20), rng, us=True))
        assert mark.shape[0] == 60 and mark.shape[1] < 60
        rows = np.nonzero(mark[..., 3].max(axis=1))[0]
        if rows.size:
            inked += 1
            assert rows.min() >= 3 and rows.max() <= 57  # never the full character height
    assert inked >= 40  # most US gaps carry a mark
    assert any(" " in layout and any(k == "A" for k in layout) for layout in US_LAYOUTS)
    text = _grouped_text("ABC 123", PILLOW_FONT, (20, 20, 20), 0, random.Random(1), us=True)
    assert text.height > 0 and text.width > 0


def test_crnn_forward_gives_log_probabilities_per_timestep():
    model = PlateCRNN().eval()
    assert count_parameters(model) < 1_000_000
    with torch.no_grad():
        out = model(torch.zeros(2, 1, CRNN_HEIGHT, CRNN_WIDTH))
    assert out.shape == (2, CRNN_WIDTH // 4, NUM_CLASSES)
    assert torch.allclose(out.exp().sum(-1), torch.ones(2, CRNN_WIDTH // 4), atol=1e-4)


def test_merged_candidates_average_engines_and_prefer_the_region_format():
    a = OcrResult((Candidate("ABC1234", 0.6), Candidate("ABC123456", 0.3)))
    b = OcrResult((Candidate("ABC123456", 0.9), Candidate("ABC1234", 0.1)))
    merged = merge_candidates([a, b], region="us")
    assert merged.text == "ABC1234"  # 9 characters does not fit the US format
    assert merged.candidates[0].confidence == pytest.approx(0.35)
    assert merge_candidates([a, b], region=None).text == "ABC123456"


class _FakeEngine:
    name = "fake"

    def __init__(self, *candidates: tuple[str, float]) -> None:
        self.result = OcrResult(tuple(Candidate(t, c) for t, c in candidates))
        self.calls = 0

    def read(self, crop, region=None):  # type: ignore[no-untyped-def]
        self.calls += 1
        return self.result


def test_ensemble_stops_after_a_confident_format_valid_first_read():
    crop = np.zeros((40, 120, 3), np.uint8)
    crnn, rapid = _FakeEngine(("ABC1234", 0.95), ("A8C1234", 0.03)), _FakeEngine(("ABC1284", 0.9))
    crnn.name = "crnn"
    ocr = EnsemblePlateOCR(engines=[crnn, rapid], exit_confidence=0.9)  # type: ignore[list-item]
    result = ocr.read(crop, region="us")
    assert (result.text, rapid.calls, result.engine) == ("ABC1234", 0, "crnn")  # the read says who decided it
    assert [c.text for c in result.candidates] == ["ABC1234", "A8C1234"]


@pytest.mark.parametrize(
    "first, region, exit_confidence",
    [
        (("ABC1234", 0.85), "us", 0.9),  # not confident enough
        (("ABC123456", 0.999), "us", 0.9),  # 9 characters: not a US format
        (("AB12345", 0.999), "br", 0.9),  # not a BR layout
        (("UG9LL8U", 0.97), "us", 0.9),  # fits the US length but no US layout: needs 0.98
        (("ABC12345", 0.97), "us", 0.9),  # 8 characters: a US vanity length, no layout
        (("ABC1234", 0.99), "us", 1.0),  # 1 turns the early exit off
        (("UG9LL8U", 0.999), "us", 1.0),  # ... for custom readings too
    ],
)
def test_ensemble_asks_every_engine_otherwise(first, region, exit_confidence):
    crop = np.zeros((40, 120, 3), np.uint8)
    crnn, rapid = _FakeEngine(first), _FakeEngine(("ABC1D34", 0.9))
    result = EnsemblePlateOCR(engines=[crnn, rapid], exit_confidence=exit_confidence).read(crop, region=region)  # type: ignore[list-item]
    assert rapid.calls == 1 and result.engine == "rapid+crnn"
    assert {c.text for c in result.candidates} >= {"ABC1D34"}


def test_ensemble_takes_a_custom_plate_alone_only_when_nearly_sure():
    """A reading in no layout of the region (a vanity plate) stops at the custom threshold."""
    crop = np.zeros((40, 120, 3), np.uint8)
    for conf, custom_exit, asked in ((0.99, 0.98, 0), (0.975, 0.98, 1), (0.999, 1.0, 1)):
        crnn, rapid = _FakeEngine(("UG9LL8U", conf)), _FakeEngine(("UG9L8U", 0.9))
        ocr = EnsemblePlateOCR(engines=[crnn, rapid], exit_confidence=0.85, custom_exit_confidence=custom_exit)  # type: ignore[list-item]
        ocr.read(crop, region="us")
        assert rapid.calls == asked, (conf, custom_exit)
    # the standard threshold still decides standard readings
    crnn, rapid = _FakeEngine(("ABC1234", 0.9)), _FakeEngine(("ABC1284", 0.9))
    EnsemblePlateOCR(engines=[crnn, rapid], exit_confidence=0.85, custom_exit_confidence=1.0).read(crop, region="us")  # type: ignore[list-item]
    assert rapid.calls == 0


def test_ensemble_exit_setting_is_validated():
    from recognition.vision.settings import VisionSettings

    with pytest.raises(ValueError, match="ocr_exit"):
        EnsemblePlateOCR(engines=[_FakeEngine()], exit_confidence=1.5)  # type: ignore[list-item]
    with pytest.raises(ValueError, match="ocr_exit must be a number"):
        VisionSettings().with_text(["ocr_exit=soon"])
    with pytest.raises(ValueError, match="ocr_exit_custom"):
        EnsemblePlateOCR(engines=[_FakeEngine()], custom_exit_confidence=0.0)  # type: ignore[list-item]
    assert EnsemblePlateOCR(engines=[_FakeEngine()], custom_exit_confidence=0.99).custom_exit_confidence == 0.99  # type: ignore[list-item]
    assert EnsemblePlateOCR(engines=[_FakeEngine()]).exit_confidence == VisionSettings().ocr_exit == 0.85  # type: ignore[list-item]


@pytest.mark.shared
@needs_shared
def test_real_crops_and_synthetic_plates_load_from_shared():
    crops = load_real_crops(SHARED_DATA)
    assert {c.source for c in crops} == {"us", "br"} and len(crops) > 1000
    assets = SynthAssets.load(SHARED_DATA, max_backgrounds=5)
    rng = random.Random(0)
    for _ in range(5):
        img, label = synth_sample(assets, rng)
        assert img.ndim == 3 and 2 <= len(label) <= 8 and all(c in CHAR_TO_CLASS for c in label)
        assert crnn_preprocess(img).shape == (1, CRNN_HEIGHT, CRNN_WIDTH)


@pytest.mark.shared
@needs_shared
def test_us_layouts_are_the_ones_the_labelled_crops_have():
    assert us_layouts(load_real_crops(SHARED_DATA)) == REGION_PATTERNS["us"]
    assert plate_layout("RDN464") == "LLLDDD"


@pytest.mark.skipif(not CRNN_MODEL_PATH.exists(), reason="no trained recognition/models/plate_crnn.onnx")
def test_exported_crnn_reads_a_rendered_plate():
    ocr = PlateCrnnOCR()
    probs = ocr.probabilities(render_plate("KDT4421", style="us", width=240))
    assert probs.shape == (CRNN_WIDTH // 4, NUM_CLASSES)
    assert np.allclose(probs.sum(axis=1), 1.0, atol=1e-3)
    hits = 0
    for i, (text, style) in enumerate([("KDT4421", "us"), ("ABC1234", "us"), ("RK755AJ", "eu"), ("BRA2E19", "br")]):
        result = ocr.read(render_plate(text, style=style, seed=i, width=240), region=style)
        assert result.candidates and all(0.0 < c.confidence <= 1.0 for c in result.candidates)
        hits += result.text == text
    assert hits >= 2, "the trained CRNN should read most clean rendered plates"


def test_benchmark_folds_split_by_plate_and_eu_labels_lose_o_in_digit_blocks():
    from training.dataset import _eu_label, bench_fold

    assert {bench_fold(t) for t in ("RK755AJ", "ABC1234", "7EAV033", "OEL1145")} <= {0, 1}
    assert bench_fold("RK755AJ") == bench_fold("RK755AJ")
    assert _eu_label("RK3OOAG") == "RK300AG"  # fits no layout; RK300AG fits LLDDDLL
    assert _eu_label("RK896AO") == "RK896AO"  # letters where the layout wants letters
    assert _eu_label("KMBORAK") == "KMBORAK"  # custom plate: no layout either way


def test_benchmark_crops_of_one_fold_or_both(tmp_path):
    from training.dataset import bench_fold, load_bench_crops

    plates = {"us": ["ABC1234", "7EAV033", "KDT4421"], "eu": ["RK3OOAG", "RK755AJ"]}
    for region, texts in plates.items():
        (tmp_path / region).mkdir()
        for i, text in enumerate(texts):
            cv2.imwrite(str(tmp_path / region / f"{i}.png"), np.zeros((40, 80, 3), np.uint8))
            (tmp_path / region / f"{i}.txt").write_text(f"{i}.png 5 6 30 12 {text}\n")
    folds = [load_bench_crops(tmp_path, f) for f in (0, 1)]
    both = load_bench_crops(tmp_path, None)
    assert sorted(c.text for c in both) == sorted(c.text for c in folds[0] + folds[1])
    assert len(both) == 5 and all(c.box == (5, 6, 30, 12) for c in both)
    assert all(bench_fold(c.text) == f for f, crops in enumerate(folds) for c in crops if c.text != "RK300AG")
    assert "RK300AG" in [c.text for c in both]  # the EU label's O in the digit block read as 0


@pytest.mark.parametrize("module", ["train", "eval_ocr"])
def test_a_benchmark_fold_without_the_benchmark_is_refused(module, capsys):
    import importlib

    main = importlib.import_module(f"training.{module}").main
    with pytest.raises(SystemExit) as exit_info:
        main(["--bench-fold", "1"])
    assert exit_info.value.code == 2 and "--bench-fold needs --bench" in capsys.readouterr().err


def test_eval_ocr_refuses_a_folder_without_labelled_crops(tmp_path, capsys):
    from training.eval_ocr import main

    with pytest.raises(SystemExit) as exit_info:
        main(["--data", str(tmp_path), "--engines", "crnn"])
    assert exit_info.value.code == 2 and f"no labelled crops under {tmp_path}" in capsys.readouterr().err


def test_detector_margins_give_crops_as_loose_as_the_pipelines():
    from training.synth_plates import DETECTOR_MARGINS

    plate = np.full((100, 200, 3), 255, np.uint8)
    rng = random.Random(0)
    tight = [jitter_crop(plate, rng).shape[:2] for _ in range(200)]
    loose = [jitter_crop(plate, rng, margins=DETECTOR_MARGINS).shape[:2] for _ in range(200)]
    # the pipeline's crops of the benchmark plates: median 1.58 x the plate's height, 1.27 x its width (US)
    assert np.median([h for h, _ in tight]) / 100 < 1.2
    assert 1.5 < np.median([h for h, _ in loose]) / 100 < 1.9
    assert 1.15 < np.median([w for _, w in loose]) / 200 < 1.35
    assert min(h for h, _ in loose) < 100  # a tight crop now and then, too


@pytest.mark.skipif(not CRNN_MODEL_PATH.exists(), reason="no trained recognition/models/plate_crnn.onnx")
def test_training_can_start_from_the_exported_model():
    from training.onnx_init import load_onnx_weights

    rng = random.Random(0)
    crops = [render_plate(t, style="us", seed=i, width=240) for i, t in enumerate(["KDT4421", "ABC1234", "7XYZ12"])]
    batch = np.stack([crnn_preprocess(degrade(jitter_crop(c, rng), rng)) for c in crops * 8])
    model = load_onnx_weights(CRNN_MODEL_PATH, batch)  # raises if it differs from the ONNX model
    probs = PlateCrnnOCR(model_path=CRNN_MODEL_PATH).probabilities(crops[0])
    model.eval()
    with torch.no_grad():
        ours = model.logits(torch.from_numpy(crnn_preprocess(crops[0])[None])).softmax(-1)[0].numpy()
    assert np.abs(ours - probs).max() < 1e-3
    # in training mode (batch statistics) it stays close to the exported model
    model.train()
    with torch.no_grad():
        train_mode = model.features(torch.from_numpy(batch))
        model.eval()
        eval_mode = model.features(torch.from_numpy(batch))
    assert torch.allclose(train_mode, eval_mode, atol=1e-3, rtol=1e-3)


def test_inner_view_is_the_detector_box_inside_the_pipelines_crop():
    from recognition.vision.ocr import inner_view
    from recognition.vision.pipeline import expand_box
    from recognition.vision.types import Box

    frame = np.zeros((600, 800, 3), np.uint8)
    box = Box(300, 200, 150, 60)
    frame[box.y : box.y + box.h, box.x : box.x + box.w] = 255
    b = expand_box(box, 800, 600)
    inner = inner_view(frame[b.y : b.y + b.h, b.x : b.x + b.w])
    assert abs(inner.shape[0] - box.h) <= 2 and abs(inner.shape[1] - box.w) <= 2
    assert inner.mean() > 240  # (almost) only the detector's box


@pytest.mark.skipif(not CRNN_MODEL_PATH.exists(), reason="no trained recognition/models/plate_crnn.onnx")
def test_two_view_crnn_merges_the_crop_and_its_inner_view(monkeypatch):
    from recognition.vision.ocr import inner_view

    one, two = PlateCrnnOCR(top=10, views=1), PlateCrnnOCR(top=10, views=2)
    rng = random.Random(3)
    for i, text in enumerate(["KDT4421", "7XYZ12", "BRA2E19"]):
        crop = degrade(jitter_crop(render_plate(text, style="us", seed=i, width=240), rng), rng)
        want = merge_candidates([one.read(crop, region="us"), one.read(inner_view(crop), region="us")], "us", 10)
        got = two.read(crop, region="us")
        assert [c.text for c in got.candidates] == [c.text for c in want.candidates]
        assert np.allclose([c.confidence for c in got.candidates], [c.confidence for c in want.candidates], atol=1e-4)
    with pytest.raises(ValueError, match="crnn_views"):
        PlateCrnnOCR(views=3)
    assert PlateCrnnOCR().views == 2


@pytest.mark.skipif(not CRNN_MODEL_PATH.exists(), reason="no trained recognition/models/plate_crnn.onnx")
def test_crnn_model_setting_loads_another_model_or_names_the_missing_file(monkeypatch, tmp_path):
    import shutil

    other = tmp_path / "retrained.onnx"
    shutil.copy(CRNN_MODEL_PATH, other)
    crop = render_plate("KDT4421", style="us", width=240)
    from recognition.vision.ocr import ocr_from_settings
    from recognition.vision.settings import VisionSettings

    settings = VisionSettings.from_env({"ALPR_CRNN_MODEL": str(other), "ALPR_OCR": "crnn"})
    engine = ocr_from_settings(settings)
    assert np.allclose(engine.probabilities(crop), PlateCrnnOCR(model_path=CRNN_MODEL_PATH).probabilities(crop))  # type: ignore[union-attr]
    other.unlink()  # the setting, not the committed file, is what is loaded
    with pytest.raises(RuntimeError, match="retrained.onnx not found"):
        ocr_from_settings(settings)


def test_box_scale_recovers_the_factor_between_detector_and_labelled_boxes():
    from benchmarks.vision import plate_fold
    from recognition.vision.pipeline import plate_box
    from recognition.vision.types import Box
    from training.box_scale import Pair, best_scale, fit

    pairs = []
    for i in range(12):
        det = Box(100 + 37 * i, 80 + 11 * i, 200 + 10 * i, 100 + 4 * i)
        pairs.append(Pair("us", f"ABC{100 + i}", det, plate_box(det, 2000, 2000, (0.8, 0.6)), 2000, 2000))
    assert best_scale(pairs) == (0.8, 0.6)
    assert {plate_fold(p.plate) for p in pairs} == {0, 1}
    out = fit(pairs)
    assert out["fit_on_fold_0"]["scale"] == (0.8, 0.6) and out["fit_on_fold_1"]["other_fold"]["min"] > 0.95
    assert out["unscaled"]["mean"] < 0.6 and out["shape"]["us"]["height"] == pytest.approx(0.6, abs=0.02)
