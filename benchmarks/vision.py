"""End-to-end benchmark of the vision pipeline on a labelled image folder.

Usage::

    python -m benchmarks.vision DIR [--json] [--limit N] [--detector X] [--ocr Y] [--set NAME=VALUE ...] [--rotate DEG] [--shear K] [--look L] [--scale S] [--fold F] [--spread] [--baseline NAME=VALUE ...]

DIR holds region folders (``us/``, ``eu/``, ``br/``, or a country: ``fr/``) of images, each with a
``.txt`` ground truth next to it (``IMAGE X Y W H PLATE``, whitespace
separated, one plate per line); images without one are skipped. The folder
name is passed to the pipeline as the region. Plain Python: no Django import.

The pipeline is built from the operator's settings (``VisionSettings.from_env``:
ALPR_PRECISION, ALPR_CRNN_MODEL...) with the tuning knobs at their defaults;
``--set NAME=VALUE`` (repeatable) changes any field of
``recognition.vision.settings.VisionSettings``, e.g. ``--set ocr_exit=0.9
--set crnn_views=1 --set det_fallback_small=1``. The JSON names the fields
that differ from the defaults under ``settings``.

``--rotate DEG`` turns every photo (and its labelled boxes) by DEG degrees,
counter-clockwise, on a canvas grown to hold all of it, before the timer
starts: the same plates as a tilted camera would see them. ``--shear K``
moves each row of every photo sideways by K times its height below the
middle (characters that lean, as from a camera beside and above the lane);
with both, the shear comes first.

``--look night|low-contrast|grey`` and ``--scale S`` test the robustness the
photos do not: ``night`` darkens every photo as an underexposed frame at dusk
(gamma 2.2, a third of the light) with sensor noise (seeded by the file
name, so runs repeat); ``low-contrast`` squeezes the range to a third around
mid-grey (haze, glare, a washed-out camera); ``grey`` keeps the brightness
only, as a monochrome infrared camera gives it; ``--scale 0.5`` shrinks every
photo to half its size, the plates as from twice the distance. They are
applied after the shear and turn, before the timer starts.

``--fold 0|1`` scores only the images whose plates are all in that half of
the benchmark (``plate_fold``, a hash of the plate text): the half that a
CRNN trained with ``train.py --bench-fold`` on the other half has not seen
(``ALPR_CRNN_MODEL`` picks that model).

``--baseline NAME=VALUE`` (repeatable) also reads every photo with a second
pipeline that has these changes on top of ``--set``, the two taking turns
to read a photo first, so both see the same load on a shared machine; its
figures are under ``baseline`` (e.g. ``--baseline det_closeup_shrink=0
--baseline det_full_imgsz=0``: the pipeline without its last two passes).

``--spread`` reads the photos four more times, resized by 0.9, 0.95, 1.05
and 1.1 (times ``--scale``), and adds ``spread``: each run's exact,
exact_o0 and detected, and the mean, lowest and highest exact of the five,
for all images and per region.
The detector's boxes, and so the crops, move by a pixel or two between
these runs, and reads near a decision move with them: on the development
split the default reads 92.8-94.9 % across them (docs/benchmarks.md).
A change worth keeping should hold up across the spread,
not only on the one draw of the photos as they are.

A folder may also be named for a country (``fr/``, ``us-ca/``) or hold a
comma-separated setting (``fr,be/``): the pipeline reads it with that
country's rules (recognition/vision/plates). Each region's ``countries``
counts the plates by the country their read fits (``none``: a custom or
foreign read; a group's code where several of its countries fit).

Besides the issue's keys, ``box_iou_median`` and ``box_iou_min`` give how
well the reads' boxes fit the labelled plates: the IoU of the read that
counts for each detected plate, median and lowest. A plate whose read
overlaps it by 0.3 or less counts as not detected, so a low minimum is a
plate near that edge.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import statistics
import sys
import time
import zlib
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from recognition.vision.settings import DETECTORS, FIELDS, OCR_ENGINES, VisionSettings
from recognition.vision.types import Box

IMAGE_EXTS = (".jpg", ".jpeg", ".png", ".bmp", ".webp")
IOU_MATCH = 0.3
SPREAD_SCALES = (0.9, 0.95, 1.05, 1.1)


@dataclass(frozen=True)
class GroundTruth:
    image: str
    box: Box
    plate: str


@dataclass(frozen=True)
class ImageScore:
    plates: int
    exact: int
    exact_o0: int
    detected: int
    extra_reads: int
    ms: float
    ious: tuple[float, ...] = ()  # per detected plate: IoU of the read that counts with the labelled box
    countries: tuple[str, ...] = ()  # per detected plate: the country its read fits ('' none)
    got: tuple = ()  # type: ignore[type-arg]  # (text, next two candidates) per read, for --verbose


def parse_ground_truth(text: str) -> list[GroundTruth]:
    """Parse ``IMAGE X Y W H PLATE`` lines; blank lines are ignored."""
    out = []
    for n, line in enumerate(text.splitlines(), 1):
        parts = line.split()
        if not parts:
            continue
        if len(parts) < 6:
            raise ValueError(f"line {n}: expected IMAGE X Y W H PLATE, got {line!r}")
        x, y, w, h = (int(float(v)) for v in parts[1:5])
        out.append(GroundTruth(parts[0], Box(x, y, w, h), parts[5].upper()))
    return out


def transform_box(box: Box, m) -> Box:  # type: ignore[no-untyped-def]
    """The upright bounding box of ``box`` moved by the 2x3 affine matrix ``m``."""
    corners = [(box.x, box.y), (box.x + box.w, box.y), (box.x, box.y + box.h), (box.x + box.w, box.y + box.h)]
    xs = [m[0][0] * x + m[0][1] * y + m[0][2] for x, y in corners]
    ys = [m[1][0] * x + m[1][1] * y + m[1][2] for x, y in corners]
    x0, y0 = round(min(xs)), round(min(ys))
    return Box(x0, y0, round(max(xs)) - x0, round(max(ys)) - y0)


def transform_frame(image, m):  # type: ignore[no-untyped-def]
    """(the image moved by the 2x3 affine matrix ``m`` on a canvas that holds all of
    it, the matrix including the shift onto that canvas)."""
    import cv2
    import numpy as np

    h, w = image.shape[:2]
    m = np.array(m, dtype=np.float64)
    corners = m[:, :2] @ np.array([[0.0, w, 0.0, w], [0.0, 0.0, h, h]]) + m[:, 2:]
    lo, hi = corners.min(axis=1), corners.max(axis=1)
    size = np.rint(hi - lo).astype(int)
    m[:, 2] += size / 2.0 - (lo + hi) / 2.0  # the moved image's centre to the canvas's centre
    out = cv2.warpAffine(image, m, (int(size[0]), int(size[1])), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
    return out, m


def rotate_frame(image, degrees: float):  # type: ignore[no-untyped-def]
    """:func:`transform_frame` turning by ``degrees`` counter-clockwise."""
    import cv2

    h, w = image.shape[:2]
    return transform_frame(image, cv2.getRotationMatrix2D((w / 2.0, h / 2.0), degrees, 1.0))


def shear_frame(image, shear: float):  # type: ignore[no-untyped-def]
    """:func:`transform_frame` moving each row right by ``shear`` times its height
    below the middle: leaning plates."""
    h = image.shape[0]
    return transform_frame(image, [[1.0, shear, -shear * h / 2.0], [0.0, 1.0, 0.0]])


LOOKS = ("night", "low-contrast", "grey")


def apply_look(image, look: str, seed: int = 0):  # type: ignore[no-untyped-def]
    """The photo as a dark, washed-out or monochrome camera would give it (``LOOKS``)."""
    import cv2
    import numpy as np

    if look == "grey":
        return cv2.cvtColor(cv2.cvtColor(image, cv2.COLOR_BGR2GRAY), cv2.COLOR_GRAY2BGR)
    if look == "low-contrast":
        return np.clip(128.0 + (image.astype(np.float32) - 128.0) / 3.0, 0, 255).astype(np.uint8)
    if look == "night":
        dark = 255.0 * (image.astype(np.float32) / 255.0) ** 2.2 / 3.0
        noise = np.random.default_rng(seed).normal(0.0, 3.0, image.shape[:2])[..., None]
        return np.clip(dark + noise, 0, 255).astype(np.uint8)
    raise ValueError(f"unknown look {look!r}; choose one of {', '.join(LOOKS)}")


def scale_frame(image, scale: float):  # type: ignore[no-untyped-def]
    """(the photo resized by ``scale``, the 2x3 matrix that moves its boxes)."""
    import cv2

    h, w = image.shape[:2]
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    out = cv2.resize(image, size, interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
    return out, [[size[0] / w, 0.0, 0.0], [0.0, size[1] / h, 0.0]]


def vary_photo(
    frame, truths: list[GroundTruth], name: str, shear: float, rotate: float, look: str | None, scale: float
):  # type: ignore[no-untyped-def]
    """(the photo leant, turned and resized, then given a look, its labelled boxes moved alike)."""
    for move, amount, unchanged in ((shear_frame, shear, 0.0), (rotate_frame, rotate, 0.0), (scale_frame, scale, 1.0)):
        if amount != unchanged:
            frame, m = move(frame, amount)
            truths = [GroundTruth(t.image, transform_box(t.box, m), t.plate) for t in truths]
    if look:
        frame = apply_look(frame, look, seed=zlib.crc32(name.encode()))
    return frame, truths


def best_overlap(items, box: Box):  # type: ignore[no-untyped-def]
    """Of ``items`` (reads, detections: anything with a ``box``), the one overlapping
    ``box`` most, if by more than IOU_MATCH; else None."""
    return _best_overlap_iou(items, box)[1]


def _best_overlap_iou(items, box: Box):  # type: ignore[no-untyped-def]
    """(IoU, item) of the item overlapping ``box`` most, if by more than IOU_MATCH; else (0.0, None)."""
    iou, best = max(((item.box.iou(box), item) for item in items), key=lambda pair: pair[0], default=(0.0, None))
    return (iou, best) if iou > IOU_MATCH else (0.0, None)


def plate_fold(text: str) -> int:
    """Half (0 or 1) of the benchmark a plate is in, by a hash of its text (same plate, same half)."""
    return zlib.crc32(text.encode()) % 2


def o0(text: str) -> str:
    """Treat the letter O and the digit 0 as equal."""
    return text.replace("O", "0")


def score_image(truths: list[GroundTruth], reads: list, ms: float) -> ImageScore:  # type: ignore[type-arg]
    """Score the reads of one image against its ground-truth plates.

    For each plate, the read whose box overlaps it most (IoU > 0.3) counts:
    ``exact`` if its top text equals the plate, ``exact_o0`` the same with O
    and 0 equal, ``detected`` if there is such a read at all. Reads that
    overlap no plate are ``extra_reads``.
    """
    exact = exact_o0 = detected = 0
    ious = []
    countries = []
    for gt in truths:
        iou, best = _best_overlap_iou(reads, gt.box)
        if best is None:
            continue
        detected += 1
        ious.append(iou)
        countries.append(getattr(best, "country", ""))
        exact += best.text == gt.plate
        exact_o0 += o0(best.text) == o0(gt.plate)
    extra = sum(1 for r in reads if all(r.box.iou(gt.box) <= IOU_MATCH for gt in truths))
    return ImageScore(len(truths), exact, exact_o0, detected, extra, ms, tuple(ious), tuple(countries))


def find_labelled_images(folder: Path) -> list[tuple[Path, list[GroundTruth]]]:
    """Images of one region folder that have a ``.txt`` ground truth, sorted."""
    items = []
    for image in sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_EXTS):
        label = image.with_suffix(".txt")
        if not label.is_file():
            continue
        truths = parse_ground_truth(label.read_text())
        if truths:
            items.append((image, truths))
    return items


def summarize(scores: list[ImageScore]) -> dict[str, float | int | dict[str, int]]:
    plates = sum(s.plates for s in scores)
    ms = sorted(s.ms for s in scores)
    ious = [iou for s in scores for iou in s.ious]

    def pct(n: int) -> float:
        return round(100.0 * n / plates, 1) if plates else 0.0

    return {
        "images": len(scores),
        "plates": plates,
        "exact": pct(sum(s.exact for s in scores)),
        "exact_o0": pct(sum(s.exact_o0 for s in scores)),
        "detected": pct(sum(s.detected for s in scores)),
        "extra_reads": round(sum(s.extra_reads for s in scores) / len(scores), 3) if scores else 0.0,
        "ms_median": round(statistics.median(ms), 1) if ms else 0.0,
        "ms_mean": round(statistics.fmean(ms), 1) if ms else 0.0,
        "ms_p90": round(ms[min(len(ms) - 1, round(0.9 * (len(ms) - 1)))], 1) if ms else 0.0,
        "box_iou_median": round(statistics.median(ious), 3) if ious else 0.0,
        "box_iou_min": round(min(ious), 3) if ious else 0.0,
        "countries": dict(sorted(Counter(c or "none" for s in scores for c in s.countries).items())),
    }


def run(  # type: ignore[type-arg]
    root: Path,
    limit: int | None,
    settings: VisionSettings,
    verbose: bool = False,
    rotate: float = 0.0,
    shear: float = 0.0,
    look: str | None = None,
    scale: float = 1.0,
    fold: int | None = None,
    baseline: VisionSettings | None = None,
) -> dict:
    from recognition.vision.pipeline import build_pipeline, decode_image

    regions = sorted(p for p in root.iterdir() if p.is_dir())
    if not regions:
        raise SystemExit(f"{root}: no region folders")
    t0 = time.perf_counter()
    pipeline = build_pipeline(settings)
    load_s = time.perf_counter() - t0
    # --baseline: a second pipeline reads every photo too, the two taking turns to go first
    other = build_pipeline(baseline) if baseline is not None else None
    all_scores: list[ImageScore] = []
    other_scores: list[ImageScore] = []
    per_region: dict[str, dict] = {}  # type: ignore[type-arg]
    other_regions: dict[str, dict] = {}  # type: ignore[type-arg]
    cpu0 = time.process_time()
    turn = 0
    for folder in regions:
        items = find_labelled_images(folder)
        if fold is not None:
            items = [(image, truths) for image, truths in items if all(plate_fold(t.plate) == fold for t in truths)]
        items = items[:limit] if limit else items
        scores, others = [], []
        for image, truths in items:
            start = time.perf_counter()
            frame = decode_image(image.read_bytes())
            decode_ms = (time.perf_counter() - start) * 1000.0
            if shear or rotate or look or scale != 1.0:  # the test input is made before the timer restarts
                frame, truths = vary_photo(frame, truths, image.name, shear, rotate, look, scale)
                decode_ms = 0.0
            turn += 1
            if other is not None and turn % 2:
                others.append(_timed_score(other, frame, truths, folder.name, decode_ms))
            score = _timed_score(pipeline, frame, truths, folder.name, decode_ms)
            if other is not None and not turn % 2:
                others.append(_timed_score(other, frame, truths, folder.name, decode_ms))
            scores.append(score)
            if verbose and score.exact < score.plates:
                print(f"{folder.name}/{image.name}: want {[t.plate for t in truths]} got {score.got}", file=sys.stderr)
        per_region[folder.name] = summarize(scores)
        all_scores.extend(scores)
        if other is not None:
            other_regions[folder.name] = summarize(others)
            other_scores.extend(others)
    result = summarize(all_scores)
    if baseline is not None:
        result["baseline"] = {
            **summarize(other_scores),
            "settings": changed_settings(baseline),
            "regions": other_regions,
        }
    result.update(
        cpu_ms_mean=round(1000.0 * (time.process_time() - cpu0) / max(1, len(all_scores) + len(other_scores)), 1),
        detector=pipeline.detector.name,
        ocr=pipeline.ocr.name,
        load_s=round(load_s, 2),
        **({"settings": changed} if (changed := changed_settings(settings)) else {}),
        **({"rotate": rotate} if rotate else {}),
        **({"shear": shear} if shear else {}),
        **({"look": look} if look else {}),
        **({"scale": scale} if scale != 1.0 else {}),
        **({"fold": fold} if fold is not None else {}),
        regions=per_region,
    )
    return result


def _timed_score(pipeline, frame, truths: list[GroundTruth], region: str, decode_ms: float) -> ImageScore:  # type: ignore[no-untyped-def]
    """The pipeline's reads of one photo, scored, and its time (plus the photo's decoding)."""
    start = time.perf_counter()
    reads = pipeline.read(frame, region=region)
    ms = decode_ms + (time.perf_counter() - start) * 1000.0
    score = score_image(truths, reads, ms)
    return dataclasses.replace(score, got=tuple((r.text, tuple(c.text for c in r.candidates[1:3])) for r in reads))


def changed_settings(settings: VisionSettings) -> dict[str, str]:
    """The fields of ``settings`` that differ from the defaults, as text."""
    default = VisionSettings()
    return {
        f.name: str(getattr(settings, f.name))
        for f in dataclasses.fields(settings)
        if getattr(settings, f.name) != getattr(default, f.name)
    }


def format_table(result: dict) -> str:  # type: ignore[type-arg]
    keys = ("images", "exact", "exact_o0", "detected", "extra_reads", "ms_median", "ms_p90")
    head = f"{'region':<8}" + "".join(f"{k:>12}" for k in keys)
    lines = [f"detector={result['detector']} ocr={result['ocr']} (load {result['load_s']} s)", head]
    rows = list(result["regions"].items()) + [("all", result)]
    for name, r in rows:
        lines.append(f"{name:<8}" + "".join(f"{r[k]:>12}" for k in keys))
    if "spread" in result:
        runs = ", ".join(f"x{f} {r['exact']}" for f, r in result["spread"]["runs"].items())
        lines.append(f"spread of exact: {runs}; mean {result['spread']['exact_mean']}")
    for name, r in result["regions"].items():
        lines.append(f"{name}: reads fit " + ", ".join(f"{c} {n}" for c, n in r["countries"].items()))
    lines.append("exact/exact_o0/detected: % of plates; extra_reads: per image; ms: per image")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.vision", description=__doc__.split("\n\n")[0])
    parser.add_argument("dir", type=Path, help="folder of region or country folders (us/, eu/, br/, fr/)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--limit", type=int, default=None, help="at most N images per region")
    parser.add_argument("--detector", choices=DETECTORS, default=None, help="instead of ALPR_DETECTOR")
    parser.add_argument("--ocr", choices=OCR_ENGINES, default=None, help="instead of ALPR_OCR")
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        dest="assignments",
        help=f"change a vision setting (repeatable); one of: {', '.join(FIELDS)}",
    )
    parser.add_argument(
        "--rotate", type=float, default=0.0, metavar="DEG", help="turn every photo by DEG degrees first"
    )
    parser.add_argument(
        "--shear", type=float, default=0.0, metavar="K", help="lean every photo by K (row shift / height) first"
    )
    parser.add_argument(
        "--look", choices=LOOKS, default=None, help="make every photo dark, washed out or monochrome first"
    )
    parser.add_argument(
        "--scale", type=float, default=1.0, metavar="S", help="resize every photo by S first (0.5: plates twice as far)"
    )
    parser.add_argument(
        "--fold",
        type=int,
        choices=(0, 1),
        default=None,
        help="only the images whose plates are in this half of the benchmark (plate_fold)",
    )
    parser.add_argument(
        "--spread",
        action="store_true",
        help=f"also read the photos resized by {', '.join(map(str, SPREAD_SCALES))} and report the spread of exact",
    )
    parser.add_argument(
        "--baseline",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="also read every photo with a pipeline that has these changes too (repeatable); "
        "its figures go under baseline",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="list misread images on stderr")
    args = parser.parse_args(argv)
    if not args.dir.is_dir():
        parser.error(f"{args.dir} is not a folder")
    if not 0.05 <= args.scale <= 4.0:
        parser.error("--scale must be between 0.05 and 4")
    try:
        settings = VisionSettings.from_env().with_text(args.assignments)
        settings = settings.replace(
            **{k: v for k, v in (("detector", args.detector), ("ocr", args.ocr)) if v is not None}
        )
        baseline = settings.with_text(args.baseline) if args.baseline else None
    except ValueError as exc:
        parser.error(str(exc))

    def bench_at(scale: float, baseline: VisionSettings | None = None) -> dict:  # type: ignore[type-arg]
        return run(
            args.dir,
            args.limit,
            settings,
            verbose=args.verbose,
            rotate=args.rotate,
            shear=args.shear,
            look=args.look,
            scale=scale,
            fold=args.fold,
            baseline=baseline,
        )

    result = bench_at(args.scale, baseline)
    if args.spread:
        result["spread"] = spread(result, {f: bench_at(args.scale * f) for f in SPREAD_SCALES})
    print(json.dumps(result) if args.json else format_table(result))
    return 0


def spread(result: dict, resized: dict[float, dict]) -> dict:  # type: ignore[type-arg]
    """``--spread``'s summary: per resize factor (1 = the photos as run) exact,
    exact_o0 and detected, and the mean, lowest and highest exact, for all
    images and under ``regions`` for each region folder."""
    runs = dict(sorted({1.0: result, **resized}.items()))

    def summary(results: list[dict]) -> dict:  # type: ignore[type-arg]
        exacts = [r["exact"] for r in results]
        return {
            "runs": {str(f): {k: r[k] for k in ("exact", "exact_o0", "detected")} for f, r in zip(runs, results)},
            "exact_mean": round(statistics.mean(exacts), 2),
            "exact_min": min(exacts),
            "exact_max": max(exacts),
        }

    out = summary(list(runs.values()))
    out["regions"] = {name: summary([r["regions"][name] for r in runs.values()]) for name in result["regions"]}
    return out


if __name__ == "__main__":
    raise SystemExit(main())
