"""Running the CRNN training: sample workers, device choice, model size.

Uses a small data folder of the project's own rendered plates (the layout of
``../shared/data``), so it runs without ``../shared``. One test trains for a
few seconds with a sample-rendering worker process and reads the exported model.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import cv2
import numpy as np
import pytest

pytestmark = pytest.mark.training
torch = pytest.importorskip("torch")

from recognition.vision.ocr import CRNN_HEIGHT, CRNN_WIDTH, PlateCrnnOCR
from recognition.vision.synth import render_plate
from training import train
from training.dataset import PlateSamples, load_real_crops, split_real_crops
from training.synth_plates import SynthAssets

US_TEXTS = ["KDT4421", "ABC1234", "7XYZ123", "RDN464", "FE9N6K", "6TIX874", "PADDL10", "AVP2403", "JQS5683", "8P62983"]
BR_TEXTS = ["OKL0817", "PJB2414", "NZF7823", "GWT2180", "MTW5608", "ODC9387", "JRK5336", "OZU5764"]


def _font() -> Path:
    import matplotlib

    return Path(matplotlib.__file__).parent / "mpl-data" / "fonts" / "ttf" / "DejaVuSans.ttf"


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder laid out like ../shared/data, with rendered plates, blanks and noise frames."""
    root = tmp_path_factory.mktemp("data")
    us = root / "us-plate-crops" / "images"
    us.mkdir(parents=True)
    with open(root / "us-plate-crops" / "groundtruth.csv", "w", newline="") as f:
        for i, text in enumerate(US_TEXTS):
            cv2.imwrite(str(us / f"u{i}.png"), render_plate(text, style="us", seed=i, width=240))
            csv.writer(f).writerow([f"u{i}.png", "ca", text])
    br = root / "br-plate-crops" / "images"
    br.mkdir(parents=True)
    with open(root / "br-plate-crops" / "labels.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["file", "plate"])
        for i, text in enumerate(BR_TEXTS):
            cv2.imwrite(str(br / f"b{i}.jpg"), render_plate(text, style="br", seed=i, width=200))
            w.writerow([f"b{i}.jpg", text])
    (root / "fonts").mkdir()
    (root / "fonts" / "DejaVuSans.ttf").write_bytes(_font().read_bytes())
    (root / "us-plate-blanks").mkdir()
    blank = np.full((125, 250, 3), 240, np.uint8)
    blank[8:24] = (40, 40, 160)  # a state band
    cv2.imwrite(str(root / "us-plate-blanks" / "ca-2000.png"), blank)
    (root / "backgrounds").mkdir()
    rng = np.random.default_rng(0)
    for i in range(3):
        frame = cv2.GaussianBlur(rng.integers(0, 255, (600, 800, 3), dtype=np.uint8), (9, 9), 0)
        cv2.imwrite(str(root / "backgrounds" / f"f{i}.png"), frame)
    return root


def _samples(data_dir: Path, seed: int = 0) -> PlateSamples:
    train_real, _ = split_real_crops(load_real_crops(data_dir))
    return PlateSamples(train_real, SynthAssets.load(data_dir), seed=seed)


def test_in_process_stream_continues_the_samples_own_draws(data_dir):
    a, b = _samples(data_dir, seed=3), _samples(data_dir, seed=3)
    x, targets, lengths = next(train.batch_stream(a, 4, seed=3, workers=0, pin=False))
    want_x, want_labels, _ = b.batch(4)
    assert x.shape == (4, 1, CRNN_HEIGHT, CRNN_WIDTH) and torch.equal(x, torch.from_numpy(want_x))
    assert lengths.tolist() == [len(lab) for lab in want_labels]
    assert targets.tolist() == [k for lab in want_labels for k in lab]


def test_each_sample_worker_draws_with_its_own_seed(data_dir, monkeypatch):
    class Info:
        def __init__(self, id: int) -> None:
            self.id = id

    def first_batch(worker: int) -> torch.Tensor:
        monkeypatch.setattr(torch.utils.data, "get_worker_info", lambda: Info(worker))
        return next(iter(train.SampleStream(_samples(data_dir), 3, seed=5)))[0]

    assert torch.equal(first_batch(0), first_batch(0))  # repeatable per worker
    assert not torch.equal(first_batch(0), first_batch(1))  # workers do not repeat each other


def test_device_and_channel_options_are_checked():
    assert train.pick_device("cpu").type == "cpu"
    assert train.pick_device("auto").type == ("cuda" if torch.cuda.is_available() else "cpu")
    if not torch.cuda.is_available():
        with pytest.raises(SystemExit, match="no CUDA device"):
            train.pick_device("cuda")
    assert train.parse_channels("32,64,112,160") == (32, 64, 112, 160)
    with pytest.raises(Exception, match="four channel counts"):
        train.parse_channels("32,64")


def test_a_sized_model_trains_with_a_sample_worker_and_exports_a_model_the_pipeline_reads(data_dir, tmp_path):
    out = tmp_path / "m.onnx"
    rc = train.main(
        [
            "--data-dir",
            str(data_dir),
            "--minutes",
            "0.05",
            "--eval-minutes",
            "10",
            "--workers",
            "1",
            "--batch",
            "8",
            "--channels",
            "8,8,16,16",
            "--hidden",
            "16",
            "--out",
            str(out),
            "--checkpoint",
            str(tmp_path / "m.pt"),
        ]
    )
    assert rc == 0
    summary = json.loads(out.with_suffix(".json").read_text())
    assert summary["workers"] == 1 and summary["channels"] == [8, 8, 16, 16] and summary["hidden"] == 16
    assert summary["steps"] >= 1 and summary["samples_seen"] == 8 * summary["steps"]
    probs = PlateCrnnOCR(model_path=out, views=1).probabilities(render_plate("KDT4421", style="us", width=240))
    assert probs.shape == (CRNN_WIDTH // 4, 37)
    assert np.allclose(probs.sum(-1), 1.0, atol=1e-4)
    # continued from that export, a run writes a model only if it beats the one it started from
    again = tmp_path / "again.onnx"
    common = ["--data-dir", str(data_dir), "--minutes", "0.02", "--eval-minutes", "10", "--batch", "8"]
    sizes = ["--channels", "8,8,16,16", "--hidden", "16", "--checkpoint", str(tmp_path / "again.pt")]
    assert train.main([*common, *sizes, "--init", str(out), "--out", str(again)]) == 0
    second = json.loads(again.with_suffix(".json").read_text())
    assert second["start_val_all"] is not None and second["exported"] == again.exists()
    assert second["best_val_all"] >= second["start_val_all"]
    assert second["exported"] == (second["best_val_all"] > second["start_val_all"])


def test_sample_rate_measures_one_cores_samples_per_second(data_dir, monkeypatch):
    import time

    from training.dataset import sample_rate

    # A clock under the test's control: three batches of 4 samples that take 0.5 s, 0.25 s and 1 s.
    ticks = iter([0.0, 0.5, 1.0, 1.25, 2.0, 3.0])
    monkeypatch.setattr(time, "perf_counter", lambda: next(ticks))
    assert sample_rate(data_dir, batches=3, size=4) == 4 / 0.5  # the median batch, not the mean (6.9/s)


def test_country_weights_follow_each_countrys_validation_errors():
    weights = train.country_weights_from_errors({"fr": 100.0, "gb": 90.0, "de": 80.0})
    assert weights == {"fr": 1.0, "gb": 2.0, "de": 3.0}  # 1 + error / mean error (10 points)
    capped = train.country_weights_from_errors({"fr": 100.0, "gb": 100.0, "de": 100.0, "at": 0.0})
    assert capped["at"] == train.MAX_COUNTRY_WEIGHT and capped["fr"] == 1.0
    assert train.country_weights_from_errors({"fr": 100.0, "gb": 100.0}) == {"fr": 1.0, "gb": 1.0}
    assert train.parse_country_weights("auto") == "auto"
    assert train.parse_country_weights("FR=3, gb=2.5") == {"fr": 3.0, "gb": 2.5}
    for bad in ("fr", "fr=0", "fr=x"):
        with pytest.raises(Exception, match="CODE=WEIGHT|positive"):
            train.parse_country_weights(bad)


def test_weighted_countries_are_drawn_as_often_as_weighed(data_dir, monkeypatch):
    import training.dataset as dataset

    drawn: list[str] = []

    def fake_country_sample(assets, code, rng, margins, unfold=False):
        drawn.append(code)
        return np.full((30, 100, 3), 128, np.uint8), "AB123"

    monkeypatch.setattr(dataset, "country_sample", fake_country_sample)
    samples = _samples(data_dir)
    samples.real_fraction, samples.country_fraction = 0.0, 1.0
    samples.countries = ["fr", "gb", "de"]
    with pytest.raises(ValueError, match="not rendered"):
        samples.set_country_weights({"xx": 2.0})
    samples.set_country_weights({"gb": 4.0})
    for _ in range(600):
        samples.sample()
    assert drawn.count("gb") > 2.5 * drawn.count("fr") and drawn.count("de") > 60
