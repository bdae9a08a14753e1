"""OCR-only comparison of the engines on held-out real crops and on bench crops.

Usage::

    python -m training.eval_ocr [--bench ../shared/bench/openalpr-dev] [--engines rapid,crnn,rapid+crnn] [--data DIR]

``rapid+crnn@T`` is the ensemble with early-exit confidence T (``@1``: both
engines on every crop), ``rapid+crnn@T/C`` also with C for readings in none of
the region's layouts; plain ``rapid+crnn`` uses the settings' ``ocr_exit`` and
``ocr_exit_custom``. ``--set NAME=VALUE`` (repeatable) changes a field of
``recognition.vision.settings.VisionSettings`` (``ocr_exit``, ``crnn_views``,
``line_precision``...), as in ``python -m benchmarks.vision``.

- held-out crops: the validation part of ``../shared/data`` (same split as
  training, by plate text), read with the region rules of ``us`` / ``br``.
  US: O and 0 count equal (the US region reads O as 0).
- rendered plates (optional, ``--rendered N``): N plates per style drawn by
  ``recognition.vision.synth``, read with the region of their style.
- bench crops (optional): the ONNX detector runs once per bench image; the
  detection overlapping the labelled plate is cropped like the pipeline does
  and every engine reads the same crop; % exact with O=0 per region.
  ``--bench-fold F`` keeps only the plates of fold F (``dataset.bench_fold``),
  the half that a model trained with ``train.py --bench-fold`` on the other
  fold has not seen.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import cv2
import numpy as np

from benchmarks.vision import o0
from recognition.vision.ocr import EnsemblePlateOCR, PlateCrnnOCR, RapidPlateOCR
from recognition.vision.settings import VisionSettings

from .dataset import bench_fold, load_real_crops, split_real_crops
from .synth_plates import default_data_dir


def build_engines(
    names: list[str], crnn_path: Path | None = None, settings: VisionSettings | None = None
) -> dict[str, object]:
    settings = settings or VisionSettings()
    rapid = RapidPlateOCR(top=10, line_precision=settings.line_precision) if any("rapid" in n for n in names) else None
    crnn = (
        PlateCrnnOCR(top=10, model_path=crnn_path or settings.crnn_model, views=settings.crnn_views)
        if any("crnn" in n for n in names)
        else None
    )
    out: dict[str, object] = {}
    for n in names:
        if n == "rapid":
            out[n] = rapid
        elif n == "crnn":
            out[n] = crnn
        elif n.startswith("rapid+crnn"):
            # rapid+crnn@T[/C]: the ensemble with early-exit confidence T (1: every
            # engine on every crop) and C for custom readings
            _, _, t = n.partition("@")
            t, _, c = t.partition("/")
            out[n] = EnsemblePlateOCR(
                engines=[crnn, rapid],  # type: ignore[list-item]
                exit_confidence=float(t) if t else settings.ocr_exit,
                custom_exit_confidence=float(c) if c else settings.ocr_exit_custom,
            )
        else:
            raise SystemExit(f"unknown engine {n}")
    return out


def read_all(engine, items: list[tuple[np.ndarray, str, str]]) -> tuple[dict[str, list[int]], list[float], int]:  # type: ignore[no-untyped-def]
    """Per region, 1 or 0 for each crop read right (O = 0); the ms of each read; how many
    reads an ensemble took from its first engine alone."""
    hits: dict[str, list[int]] = {}
    ms = []
    early = 0
    for crop, text, region in items:
        t = time.perf_counter()
        result = engine.read(crop, region=region)
        ms.append((time.perf_counter() - t) * 1000)
        hits.setdefault(region, []).append(int(o0(result.text) == o0(text)))
        if isinstance(engine, EnsemblePlateOCR):  # the result names the engine that decided it
            early += result.engine == engine.engines[0].name
    return hits, ms, early


def score(engine, items: list[tuple[np.ndarray, str, str]]) -> dict[str, object]:  # type: ignore[no-untyped-def]
    hits, ms, early = read_all(engine, items)
    out: dict[str, object] = {k: f"{sum(v)}/{len(v)} ({100.0 * sum(v) / len(v):.1f} %)" for k, v in hits.items()}
    out["ms_median"] = round(float(np.median(ms)), 1) if ms else 0.0
    if isinstance(engine, EnsemblePlateOCR):
        out["stopped_after_crnn"] = f"{early}/{len(items)}"
    return out


def bench_crops(root: Path, fold: int | None = None) -> list[tuple[np.ndarray, str, str]]:
    from benchmarks.vision import best_overlap, find_labelled_images
    from recognition.vision.detector import get_detector
    from recognition.vision.pipeline import expand_box

    det = get_detector("onnx", conf=0.25, imgsz=640)
    items = []
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        for image, truths in find_labelled_images(folder):
            frame = cv2.imread(str(image))
            if frame is None:
                continue
            dets = det.detect(frame)
            h, w = frame.shape[:2]
            for t in truths:
                if fold is not None and bench_fold(t.plate) != fold:
                    continue
                best = best_overlap(dets, t.box)
                if best is None:
                    continue
                b = expand_box(best.box, w, h)
                items.append((frame[b.y : b.y + b.h, b.x : b.x + b.w].copy(), t.plate, folder.name))
    return items


def rendered_crops(per_style: int) -> list[tuple[np.ndarray, str, str]]:
    """Plates drawn by the project's own scene renderer (the demo feed's and the tests' plates)."""
    from recognition.vision.synth import STYLES, random_plate_text, render_plate

    items = []
    for style in STYLES:
        for i in range(per_style):
            text = random_plate_text(5000 + i, style)
            items.append((render_plate(text, style=style, seed=i, width=240), text, style))
    return items


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--engines", default="rapid,crnn,rapid+crnn")
    ap.add_argument("--bench", type=Path, default=None)
    ap.add_argument("--val-percent", type=int, default=20)
    ap.add_argument(
        "--bench-fold",
        type=int,
        choices=(0, 1),
        default=None,
        help="read only the bench plates of this fold (the other fold's model has not seen them)",
    )
    ap.add_argument("--crnn", type=Path, default=None, help="CRNN .onnx to use (default: the committed model)")
    ap.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        dest="assignments",
        help="change a vision setting (repeatable), e.g. ocr_exit=0.9 or crnn_views=1",
    )
    ap.add_argument(
        "--rendered", type=int, default=0, help="also read N plates per style drawn by recognition.vision.synth"
    )
    ap.add_argument(
        "--data",
        type=Path,
        default=None,
        help="folder of the labelled real crops (default: ../shared/data next to the repository)",
    )
    args = ap.parse_args(argv)
    if args.bench_fold is not None and args.bench is None:
        ap.error("--bench-fold needs --bench")
    crops = load_real_crops(args.data)
    if not crops:
        ap.error(
            f"no labelled crops under {args.data or default_data_dir()}: pass --data DIR (us-plate-crops/, br-plate-crops/)"
        )
    try:
        settings = VisionSettings.from_env().with_text(args.assignments)
    except ValueError as exc:
        ap.error(str(exc))
    engines = build_engines(args.engines.split(","), args.crnn, settings)
    _, val = split_real_crops(crops, args.val_percent)
    val_items = [(cv2.imread(str(c.path)), c.text, c.source) for c in val]
    val_items = [v for v in val_items if v[0] is not None]
    result: dict[str, object] = {"heldout_crops": {n: score(e, val_items) for n, e in engines.items()}}
    if args.bench is not None:
        items = bench_crops(args.bench, args.bench_fold)
        result["bench_crops"] = {n: score(e, items) for n, e in engines.items()}
    if args.rendered:
        items = rendered_crops(args.rendered)
        result["rendered"] = {n: score(e, items) for n, e in engines.items()}
    print(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
