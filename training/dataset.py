"""Training data for the plate CRNN: real crops plus synthetic plates.

Real crops: ``../shared/data/us-plate-crops`` (``groundtruth.csv``: file,
state, plate) and ``../shared/data/br-plate-crops`` (``labels.csv``: file,
plate). The validation part is chosen by a hash of the plate text, so every
frame of one car lands on the same side. The OpenALPR benchmark photos
(``../shared/bench``) are read only by :func:`load_bench_crops`, for
``train.py --bench``: one fold of its plates, the other kept unseen.
"""

from __future__ import annotations

import csv
import random
import zlib
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from benchmarks.vision import plate_fold as bench_fold  # the fold `benchmarks.vision --fold` scores
from recognition.vision.ocr import PLATE_ALPHABET, crnn_preprocess

from .synth_countries import RENDERED_COUNTRIES, country_sample
from .synth_plates import DETECTOR_MARGINS, CropMargins, SynthAssets, default_data_dir, degrade, synth_sample

CHAR_TO_CLASS = {c: i + 1 for i, c in enumerate(PLATE_ALPHABET)}  # 0 = CTC blank
MAX_LABEL = 10


@dataclass(frozen=True)
class RealCrop:
    path: Path
    text: str
    source: str  # "us", "br" or "eu"
    box: tuple[int, int, int, int] | None = None  # x, y, w, h of the plate when path is a whole photo


def _eu_label(text: str) -> str:
    """Fix the benchmark's EU labels that write the letter O in a digit block (RKO26AJ -> RK026AJ).

    Only when the label fits no standard EU layout and the O -> 0 variant does
    (``RK3OOAG``); ``RKO26AJ`` also fits the Polish ``LLLDDLL`` and is kept.
    """
    from recognition.vision.ocr import fits_any_layout

    if "O" not in text or fits_any_layout(text, "eu"):
        return text
    fixed = text.replace("O", "0")
    return fixed if fits_any_layout(fixed, "eu") else text


def load_bench_crops(bench_dir: Path, fold: int | None) -> list[RealCrop]:
    """Plates of the development split of the OpenALPR benchmark in one fold, as crops to train on.

    The other fold stays unseen, so the benchmark can still be scored on it;
    ``fold=None`` takes both (the benchmark then scores plates the model has seen).
    """
    from benchmarks.vision import find_labelled_images

    out = []
    for folder in sorted(p for p in bench_dir.iterdir() if p.is_dir()):
        for image, truths in find_labelled_images(folder):
            for t in truths:
                text = _eu_label(t.plate) if folder.name == "eu" else t.plate
                if fold in (None, bench_fold(t.plate)) and 2 <= len(text) <= MAX_LABEL:
                    out.append(RealCrop(image, text, folder.name, (t.box.x, t.box.y, t.box.w, t.box.h)))
    return out


def plate_layout(text: str) -> str:
    """``L`` per letter and ``D`` per digit: "RDN464" -> "LLLDDD"."""
    return "".join("D" if c.isdigit() else "L" for c in text)


def us_layouts(crops: list[RealCrop], min_plates: int = 3) -> tuple[str, ...]:
    """The US layouts of ``recognition.vision.ocr.REGION_PATTERNS``, rebuilt from labelled crops.

    Every layout of 5 to 7 characters with at least two digits that
    ``min_plates`` or more US crops of the training part have, most common
    first (ties in first-seen order).
    """
    train, _ = split_real_crops([c for c in crops if c.source == "us"])
    counts = Counter(plate_layout(c.text) for c in train)
    return tuple(
        lay for lay, n in counts.most_common() if n >= min_plates and 5 <= len(lay) <= 7 and lay.count("D") >= 2
    )


def is_validation_plate(text: str, val_percent: int = 20) -> bool:
    """Deterministic split by plate text (same plate -> same side)."""
    return zlib.crc32(text.encode()) % 100 < val_percent


def load_real_crops(data_dir: Path | None = None) -> list[RealCrop]:
    data_dir = data_dir or default_data_dir()
    out: list[RealCrop] = []
    us = data_dir / "us-plate-crops"
    if (us / "groundtruth.csv").exists():
        with open(us / "groundtruth.csv", newline="") as f:
            for row in csv.reader(f):
                if len(row) >= 3 and row[2].strip():
                    out.append(RealCrop(us / "images" / row[0], row[2].strip().upper(), "us"))
    br = data_dir / "br-plate-crops"
    if (br / "labels.csv").exists():
        with open(br / "labels.csv", newline="") as f:
            for row in csv.DictReader(f):
                out.append(RealCrop(br / "images" / row["file"], row["plate"].strip().upper(), "br"))
    # labels the model can learn: plate alphabet, 2..MAX_LABEL characters
    return [c for c in out if 2 <= len(c.text) <= MAX_LABEL and all(ch in CHAR_TO_CLASS for ch in c.text)]


def split_real_crops(crops: list[RealCrop], val_percent: int = 20) -> tuple[list[RealCrop], list[RealCrop]]:
    train = [c for c in crops if not is_validation_plate(c.text, val_percent)]
    val = [c for c in crops if is_validation_plate(c.text, val_percent)]
    return train, val


# Margins of the real crops before DETECTOR_MARGINS (the crops are tight scans).
REAL_CROP_MARGINS = CropMargins(x=(-0.04, 0.14), y=(-0.04, 0.14))


def encode_label(text: str) -> list[int]:
    return [CHAR_TO_CLASS[c] for c in text]


def jitter_crop(
    img: np.ndarray,
    rng: random.Random,
    backgrounds: list[np.ndarray] | None = None,
    margins: CropMargins = REAL_CROP_MARGINS,
) -> np.ndarray:
    """Random margins (in or out) and a small rotation, like a detector's crop of a real plate.

    Outer margins show a piece of a street frame (``backgrounds``) or, without
    them, the replicated edge.
    """
    h, w = img.shape[:2]
    pad = [int(rng.uniform(*margins.y) * h) for _ in range(2)]  # top, bottom
    pad += [int(rng.uniform(*margins.x) * w) for _ in range(2)]  # left, right
    if backgrounds and rng.random() < 0.7:
        t, b, l, r = (max(p, 0) for p in pad)
        bg = rng.choice(backgrounds)
        bh, bw = bg.shape[:2]
        x0, y0 = rng.randint(0, bw // 2), rng.randint(0, bh // 2)
        out = cv2.resize(bg[y0 : y0 + bh // 2, x0 : x0 + bw // 2], (w + l + r, h + t + b))
        if rng.random() < 0.5:  # plate holder frame
            v = rng.randint(0, 90)
            f = max(1, int(0.06 * h))
            cv2.rectangle(out, (max(0, l - f), max(0, t - f)), (l + w + f, t + h + f), (v, v, v), -1)
        out[t : t + h, l : l + w] = img
    else:
        out = cv2.copyMakeBorder(img, *[max(p, 0) for p in pad], cv2.BORDER_REPLICATE)
    t, b, l, r = (max(-p, 0) for p in pad)
    out = out[t : out.shape[0] - b, l : out.shape[1] - r]
    if rng.random() < 0.5:
        hh, ww = out.shape[:2]
        m = cv2.getRotationMatrix2D((ww / 2, hh / 2), rng.uniform(-5, 5), 1.0)
        m[0, 1] += rng.uniform(-0.1, 0.1)  # shear
        out = cv2.warpAffine(out, m, (ww, hh), borderMode=cv2.BORDER_REPLICATE)
    return out


def _read_crop(c: RealCrop) -> np.ndarray | None:
    im = cv2.imread(str(c.path))
    if im is None or c.box is None:
        return im
    x, y, w, h = c.box
    crop = im[max(0, y) : y + h, max(0, x) : x + w]
    return crop if crop.size else None


class PlateSamples:
    """Endless mixed stream of (image (1,H,W) float32, label classes)."""

    def __init__(
        self,
        real: list[RealCrop],
        assets: SynthAssets | None,
        real_fraction: float = 0.5,
        seed: int = 0,
        margins: tuple[CropMargins, CropMargins] = (REAL_CROP_MARGINS, CropMargins()),
        country_fraction: float = 0.0,
        country_weights: dict[str, float] | None = None,
    ) -> None:
        self.rng = random.Random(seed)
        # share of the synthetic crops drawn as plates of the countries of
        # recognition/vision/plates (synth_countries), each country alike unless weighted
        self.country_fraction = country_fraction
        self.countries = list(RENDERED_COUNTRIES) if country_fraction > 0 else []
        self.country_weights: list[float] | None = None
        if country_weights:
            self.set_country_weights(country_weights)
        self.margins = margins  # real crops, synthetic crops
        self.images = [_read_crop(c) for c in real]
        self.real = [(im, c.text) for im, c in zip(self.images, real, strict=True) if im is not None]
        self.assets = assets
        self.real_fraction = real_fraction if self.real else 0.0
        if assets is None and not self.real:
            raise ValueError("no real crops and no synthetic assets")

    def set_country_weights(self, weights: dict[str, float]) -> None:
        """Draw each country ``weights[code]`` times as often as one not named (weight 1)."""
        unknown = set(weights) - set(RENDERED_COUNTRIES)
        if unknown:
            raise ValueError(f"country weights for countries that are not rendered: {sorted(unknown)}")
        self.country_weights = [weights.get(c, 1.0) for c in self.countries]

    def sample(self) -> tuple[np.ndarray, str]:
        rng = self.rng
        if self.assets is None or rng.random() < self.real_fraction:
            img, text = rng.choice(self.real)
            backgrounds = self.assets.backgrounds if self.assets else None
            img = degrade(jitter_crop(img, rng, backgrounds, self.margins[0]), rng, strength=0.6)
        elif self.countries and rng.random() < self.country_fraction:
            if self.country_weights:
                code = rng.choices(self.countries, weights=self.country_weights)[0]
            else:
                code = rng.choice(self.countries)
            img, text = country_sample(self.assets, code, rng, self.margins[1], unfold=True)
        else:
            img, text = synth_sample(self.assets, rng, self.margins[1])
        return crnn_preprocess(img), text

    def batch(self, size: int) -> tuple[np.ndarray, list[list[int]], list[str]]:
        xs, labels, texts = [], [], []
        for _ in range(size):
            x, text = self.sample()
            xs.append(x)
            labels.append(encode_label(text))
            texts.append(text)
        return np.stack(xs), labels, texts


def load_validation(
    real: list[RealCrop], loose: list[np.ndarray] | None = None, seed: int = 0
) -> list[tuple[np.ndarray, str, str]]:
    """(preprocessed image, text, source) for each readable validation crop.

    With ``loose`` (background frames), each crop is also added once more
    with detector-like margins (DETECTOR_MARGINS, a seeded draw, the same
    every run) showing a piece of those frames, as source ``<source>_loose``.
    """
    rng = random.Random(seed)
    out = []
    for c in real:
        im = cv2.imread(str(c.path))
        if im is not None:
            out.append((crnn_preprocess(im), c.text, c.source))
            if loose:
                wide = jitter_crop(im, rng, loose, DETECTOR_MARGINS)
                out.append((crnn_preprocess(wide), c.text, f"{c.source}_loose"))
    return out


def sample_rate(data_dir: Path | None = None, batches: int = 30, size: int = 48) -> float:
    """Training samples (detector-like margins, as ``train.py --detector-margins``) one core makes
    per second: the median over ``batches`` batches. It bounds how fast a GPU can train (the samples are made on the CPU)."""
    import statistics
    import time

    data_dir = data_dir or default_data_dir()
    train, _ = split_real_crops(load_real_crops(data_dir))
    samples = PlateSamples(train, SynthAssets.load(data_dir), seed=0, margins=(DETECTOR_MARGINS, DETECTOR_MARGINS))
    times = []
    for _ in range(batches):
        start = time.perf_counter()
        samples.batch(size)
        times.append(time.perf_counter() - start)
    return size / statistics.median(times)


if __name__ == "__main__":
    import argparse

    cv2.setNumThreads(1)
    ap = argparse.ArgumentParser(
        description="Training samples made per second on one core (python -m training.dataset)"
    )
    ap.add_argument("--data-dir", type=Path, default=None, help="default ../shared/data")
    ap.add_argument("--batches", type=int, default=30)
    args = ap.parse_args()
    print(f"{sample_rate(args.data_dir, args.batches):.0f} samples/s on one core")
