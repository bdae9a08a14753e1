"""Fit the factor that turns the detector's box into the plate's (``pipeline.PLATE_BOX_SCALE``).

Usage::

    python -m training.box_scale ../shared/bench/openalpr-dev [--rendered 40]

The detector's box takes in the plate's surround. For every labelled plate
of the benchmark folder that the pipeline's detector finds (IoU > 0), this
compares the detector's box with the labelled one and searches a grid of
(width, height) factors, each box scaled about its centre
(``pipeline.plate_box``), for the one with the best mean IoU: on each half
of the folder (``bench.plate_fold``) alone, scored on the other half, and
on all of it. It prints one JSON object: the median size and centre offset
of the labelled plate relative to the detector's box per region, the fits,
and the IoU with no scaling and with the committed factor.
``--rendered N`` also scores N scenes per style of the project's own
renderer (``synth.render_vehicle_scene``), whose plate boxes are exact: a
check of the factor on data it was not fitted to.
"""

from __future__ import annotations

import argparse
import json
import statistics
from dataclasses import dataclass
from pathlib import Path

import cv2

from benchmarks.vision import find_labelled_images, plate_fold
from recognition.vision.pipeline import PLATE_BOX_SCALE, build_pipeline, plate_box
from recognition.vision.types import Box

GRID_W = tuple(f / 100 for f in range(70, 101, 5))
GRID_H = tuple(f / 100 for f in range(50, 101, 5))


@dataclass(frozen=True)
class Pair:
    region: str
    plate: str
    detected: Box
    labelled: Box
    width: int
    height: int


def bench_pairs(root: Path, detector) -> list[Pair]:  # type: ignore[no-untyped-def]
    pairs = []
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        for image, truths in find_labelled_images(folder):
            frame = cv2.imread(str(image))
            if frame is None:
                continue
            boxes = [d.box for d in detector.detect(frame)]
            for t in truths:
                best = max(boxes, key=lambda b: b.iou(t.box), default=None)
                if best is not None and best.iou(t.box) > 0:
                    pairs.append(Pair(folder.name, t.plate, best, t.box, frame.shape[1], frame.shape[0]))
    return pairs


def rendered_pairs(per_style: int, detector) -> list[Pair]:  # type: ignore[no-untyped-def]
    from recognition.vision.synth import STYLES, random_plate_text, render_vehicle_scene

    pairs = []
    for style in STYLES:
        for i in range(per_style):
            text = random_plate_text(7000 + i, style)
            frame, box = render_vehicle_scene(text, seed=7000 + i, style=style)
            boxes = [d.box for d in detector.detect(frame)]
            best = max(boxes, key=lambda b: b.iou(box), default=None)
            if box is not None and best is not None and best.iou(box) > 0:
                pairs.append(Pair(style, text, best, box, frame.shape[1], frame.shape[0]))
    return pairs


def ious(pairs: list[Pair], scale: tuple[float, float]) -> list[float]:
    return [plate_box(p.detected, p.width, p.height, scale).iou(p.labelled) for p in pairs]


def summary(values: list[float]) -> dict[str, float]:
    return (
        {
            "mean": round(statistics.fmean(values), 3),
            "median": round(statistics.median(values), 3),
            "min": round(min(values), 3),
        }
        if values
        else {}
    )


def best_scale(pairs: list[Pair]) -> tuple[float, float]:
    grid = [(w, h) for w in GRID_W for h in GRID_H]
    return max(grid, key=lambda s: statistics.fmean(ious(pairs, s)))


def shape(pairs: list[Pair]) -> dict[str, dict[str, float]]:
    """Per region: the labelled plate's median width and height as a fraction of the
    detector's box, and the median offset of its centre (fractions of the box)."""
    out = {}
    for region in sorted({p.region for p in pairs}):
        group = [p for p in pairs if p.region == region]
        out[region] = {
            "plates": len(group),
            "width": round(statistics.median(p.labelled.w / p.detected.w for p in group), 2),
            "height": round(statistics.median(p.labelled.h / p.detected.h for p in group), 2),
            "centre_dx": round(
                statistics.median(
                    (p.labelled.x + p.labelled.w / 2 - p.detected.x - p.detected.w / 2) / p.detected.w for p in group
                ),
                3,
            ),
            "centre_dy": round(
                statistics.median(
                    (p.labelled.y + p.labelled.h / 2 - p.detected.y - p.detected.h / 2) / p.detected.h for p in group
                ),
                3,
            ),
        }
    return out


def fit(pairs: list[Pair]) -> dict[str, object]:
    out: dict[str, object] = {"shape": shape(pairs)}
    for fold in (0, 1):
        seen = [p for p in pairs if plate_fold(p.plate) == fold]
        unseen = [p for p in pairs if plate_fold(p.plate) != fold]
        scale = best_scale(seen)
        out[f"fit_on_fold_{fold}"] = {
            "scale": scale,
            "other_fold": summary(ious(unseen, scale)),
            "other_fold_unscaled": summary(ious(unseen, (1.0, 1.0))),
        }
    out["fit_on_all"] = {"scale": best_scale(pairs)}
    out["unscaled"] = summary(ious(pairs, (1.0, 1.0)))
    out["committed"] = {"scale": PLATE_BOX_SCALE, **summary(ious(pairs, PLATE_BOX_SCALE))}
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m training.box_scale", description=__doc__.split("\n\n")[0])
    ap.add_argument("bench", type=Path, help="folder of region folders with .txt ground truth")
    ap.add_argument("--rendered", type=int, default=0, metavar="N", help="also check N rendered scenes per style")
    args = ap.parse_args(argv)
    detector = build_pipeline(ocr="crnn").detector
    result: dict[str, object] = {"bench": fit(bench_pairs(args.bench, detector))}
    if args.rendered:
        pairs = rendered_pairs(args.rendered, detector)
        result["rendered"] = {
            "shape": shape(pairs),
            "unscaled": summary(ious(pairs, (1.0, 1.0))),
            "committed": {"scale": PLATE_BOX_SCALE, **summary(ious(pairs, PLATE_BOX_SCALE))},
        }
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
