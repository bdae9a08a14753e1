"""Are plates found at every size? Close-ups and small, distant plates, by plate size.

Usage::

    python -m benchmarks.detection [--bench DIR] [--data DIR] [--per-bucket N] [--sets A,B] [--set NAME=VALUE ...] [--baseline NAME=VALUE ...] [--json]

The benchmark photos of ``benchmarks.vision`` hold plates 16-109 px tall,
seen from a few metres; cameras also see plates that fill most of the frame
and plates far away. This command makes such frames from fixed seeds (the
same frames on every run) and reads them with the pipeline:

- ``closeup-real``: a benchmark photo (``--bench``) cropped about a labelled
  plate so that the plate fills a fraction of the frame's width (30-90 %,
  four buckets), the crop resized to 640 px wide: real plates, real cars;
- ``closeup-crops``: a real plate crop (US and Brazilian crops of ``--data``)
  at that fraction of a 640 x 480 street frame with no plate (``--data``
  backgrounds);
- ``closeup-rendered``: a rendered plate of one of the countries read
  (training/synth_countries.py) on such a frame;
- ``distant``: a benchmark photo shrunk until the labelled plate is 12-30 px
  tall (four buckets) and set at a random place in a 1920 x 1080 street frame.

A plate is ``found`` when a read's box overlaps it by IoU 0.3 or more or
holds its centre; ``exact`` when that read (the one overlapping it most)
equals its label (``exact_o0``: O and 0 counted equal; the EU labels mix
them). ``ms`` is the pipeline's time per frame. Per set and bucket and for
all frames of a set.

``--set NAME=VALUE`` changes a field of
``recognition.vision.settings.VisionSettings`` as in ``benchmarks.vision``.
``--baseline NAME=VALUE`` (repeatable) also reads every frame with a second
pipeline that has these changes as well, alternating which of the two reads
a frame first, so both see the same load on a shared machine; its figures
are under ``baseline``. ``--baseline det_closeup_shrink=0 --baseline
det_full_imgsz=0`` is the pipeline before the close-up and full-size passes.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import statistics
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from benchmarks.vision import changed_settings, find_labelled_images, o0
from recognition.vision.settings import FIELDS, VisionSettings
from recognition.vision.types import Box

SETS = ("closeup-real", "closeup-crops", "closeup-rendered", "distant")
# Close-ups: the plate's width as a fraction of the frame's; distant: its height in pixels.
CLOSEUP_BUCKETS = ((0.30, 0.45), (0.45, 0.60), (0.60, 0.75), (0.75, 0.90))
DISTANT_BUCKETS = ((12, 16), (16, 20), (20, 25), (25, 30))
CLOSEUP_SIZE = (640, 480)
DISTANT_SIZE = (1920, 1080)
FOUND_IOU = 0.3
SEED = "benchmarks.detection"
DEFAULT_BENCH = Path("../shared/bench/openalpr-dev")
DEFAULT_DATA = Path("../shared/data")


@dataclass(frozen=True)
class Scene:
    bucket: str
    frame: object  # BGR array
    box: Box  # the plate in the frame
    plate: str
    region: str


def found_read(reads: list, box: Box):  # type: ignore[no-untyped-def,type-arg]
    """The read that finds the plate at ``box``: of those overlapping it by FOUND_IOU
    or more or holding its centre, the one overlapping it most; None if none does."""
    cx, cy = box.x + box.w / 2, box.y + box.h / 2

    def holds_centre(b: Box) -> bool:
        return b.x <= cx <= b.x + b.w and b.y <= cy <= b.y + b.h

    hits = [r for r in reads if r.box.iou(box) >= FOUND_IOU or holds_centre(r.box)]
    return max(hits, key=lambda r: r.box.iou(box), default=None)


def _bucket_name(kind: str, low: float, high: float) -> str:
    return f"{round(low * 100)}-{round(high * 100)}%" if kind == "closeup" else f"{low:g}-{high:g}px"


def _backgrounds(data: Path, limit: int = 120) -> list[Path]:
    files = sorted(p for p in (data / "backgrounds").iterdir() if p.suffix.lower() in (".jpg", ".jpeg", ".png"))
    if not files:
        raise SystemExit(f"{data}/backgrounds: no street frames")
    return files[:limit]


def _background(paths: list[Path], rng: random.Random, size: tuple[int, int]):  # type: ignore[no-untyped-def]
    import cv2

    image = cv2.imread(str(rng.choice(paths)))
    if image is None:
        raise SystemExit("a background frame could not be read")
    return cv2.resize(image, size, interpolation=cv2.INTER_LINEAR)


def _paste(frame, plate, fraction: float, rng: random.Random) -> Box:  # type: ignore[no-untyped-def]
    """Put ``plate`` at ``fraction`` of the frame's width (less where it would not fit its height)."""
    import cv2

    fh, fw = frame.shape[:2]
    pw = round(fraction * fw)
    ph = round(plate.shape[0] * pw / plate.shape[1])
    if ph > 0.9 * fh:
        ph = round(0.9 * fh)
        pw = round(plate.shape[1] * ph / plate.shape[0])
    interpolation = cv2.INTER_AREA if pw < plate.shape[1] else cv2.INTER_CUBIC
    x, y = rng.randint(0, fw - pw), rng.randint(0, fh - ph)
    frame[y : y + ph, x : x + pw] = cv2.resize(plate, (pw, ph), interpolation=interpolation)
    return Box(x, y, pw, ph)


def _bench_plates(bench: Path) -> list[tuple[Path, Box, str, str]]:
    """(photo, labelled box, plate, region) of every labelled plate, sorted."""
    out = []
    for folder in sorted(p for p in bench.iterdir() if p.is_dir()):
        for image, truths in find_labelled_images(folder):
            out.extend((image, t.box, t.plate, folder.name) for t in truths)
    if not out:
        raise SystemExit(f"{bench}: no labelled photos")
    return out


def closeup_real(bench: Path, per_bucket: int, rng: random.Random) -> Iterator[Scene]:
    import cv2

    plates = _bench_plates(bench)
    for low, high in CLOSEUP_BUCKETS:
        for photo, box, plate, region in rng.sample(plates, min(per_bucket, len(plates))):
            image = cv2.imread(str(photo))
            fraction = rng.uniform(low, high)
            cw = box.w / fraction
            ch = cw * CLOSEUP_SIZE[1] / CLOSEUP_SIZE[0]
            # the plate off the centre by up to half the room there is
            x0 = round(box.x + box.w / 2 - cw / 2 + rng.uniform(-0.5, 0.5) * (cw - box.w) / 2)
            y0 = round(box.y + box.h / 2 - ch / 2 + rng.uniform(-0.5, 0.5) * max(0.0, ch - box.h) / 2)
            x1, y1 = x0 + round(cw), y0 + round(ch)
            h, w = image.shape[:2]
            pad = max(0, -x0, -y0, x1 - w, y1 - h)
            if pad:  # a crop past the photo's edge: the edge pixels repeated
                image = cv2.copyMakeBorder(image, pad, pad, pad, pad, cv2.BORDER_REPLICATE)
            crop = image[y0 + pad : y1 + pad, x0 + pad : x1 + pad]
            k = CLOSEUP_SIZE[0] / crop.shape[1]
            frame = cv2.resize(crop, CLOSEUP_SIZE, interpolation=cv2.INTER_CUBIC if k > 1 else cv2.INTER_AREA)
            plate_box = Box(round((box.x - x0) * k), round((box.y - y0) * k), round(box.w * k), round(box.h * k))
            yield Scene(_bucket_name("closeup", low, high), frame, plate_box, plate, region)


def closeup_crops(data: Path, per_bucket: int, rng: random.Random) -> Iterator[Scene]:
    import cv2

    crops = []
    us = data / "us-plate-crops"
    with open(us / "groundtruth.csv", newline="") as f:
        crops += [(us / "images" / row[0], row[2].upper(), "us") for row in csv.reader(f) if len(row) >= 3]
    br = data / "br-plate-crops"
    with open(br / "labels.csv", newline="") as f:
        crops += [(br / "images" / row["file"], row["plate"].upper(), "br") for row in csv.DictReader(f)]
    backgrounds = _backgrounds(data)
    for low, high in CLOSEUP_BUCKETS:
        for path, plate, region in rng.sample(crops, per_bucket):
            image = cv2.imread(str(path))
            if image is None:
                raise SystemExit(f"{path}: not an image")
            frame = _background(backgrounds, rng, CLOSEUP_SIZE)
            box = _paste(frame, image, rng.uniform(low, high), rng)
            yield Scene(_bucket_name("closeup", low, high), frame, box, plate, region)


def closeup_rendered(data: Path, per_bucket: int, rng: random.Random) -> Iterator[Scene]:
    from recognition.vision import plates
    from training.synth_countries import RENDERED_COUNTRIES, pick_layout, random_plate, render_country_plate
    from training.synth_plates import SynthAssets, add_frame_and_bolts

    assets = SynthAssets.load(data, max_backgrounds=1)
    backgrounds = _backgrounds(data)
    for low, high in CLOSEUP_BUCKETS:
        for _ in range(per_bucket):
            code = rng.choice(RENDERED_COUNTRIES)
            country = plates.countries()[code]
            layout = pick_layout(country, rng)
            drawn, label = random_plate(layout, rng)
            if country.zero_for_o:
                label = label.replace("O", "0")
            image = add_frame_and_bolts(render_country_plate(country, layout, drawn, rng, assets), rng)
            frame = _background(backgrounds, rng, CLOSEUP_SIZE)
            box = _paste(frame, image, rng.uniform(low, high), rng)
            yield Scene(_bucket_name("closeup", low, high), frame, box, label, code)


def distant(bench: Path, data: Path, per_bucket: int, rng: random.Random) -> Iterator[Scene]:
    import cv2

    plates = _bench_plates(bench)
    backgrounds = _backgrounds(data)
    fw, fh = DISTANT_SIZE
    for low, high in DISTANT_BUCKETS:
        for photo, box, plate, region in rng.sample(plates, min(per_bucket, len(plates))):
            image = cv2.imread(str(photo))
            k = rng.uniform(low, high) / box.h
            small = cv2.resize(image, None, fx=k, fy=k, interpolation=cv2.INTER_AREA)[:fh, :fw]
            sh, sw = small.shape[:2]
            frame = _background(backgrounds, rng, DISTANT_SIZE)
            x, y = rng.randint(0, fw - sw), rng.randint(0, fh - sh)
            frame[y : y + sh, x : x + sw] = small
            plate_box = Box(round(x + box.x * k), round(y + box.y * k), round(box.w * k), round(box.h * k))
            yield Scene(_bucket_name("distant", low, high), frame, plate_box, plate, region)


def scenes(name: str, bench: Path, data: Path, per_bucket: int) -> Iterator[Scene]:
    """The frames of set ``name``, from a seed of its own (the same frames on every run)."""
    rng = random.Random(f"{SEED}:{name}")
    if name == "closeup-real":
        return closeup_real(bench, per_bucket, rng)
    if name == "closeup-crops":
        return closeup_crops(data, per_bucket, rng)
    if name == "closeup-rendered":
        return closeup_rendered(data, per_bucket, rng)
    if name == "distant":
        return distant(bench, data, per_bucket, rng)
    raise ValueError(f"unknown set {name!r}; choose from {', '.join(SETS)}")


def summarize(rows: list[tuple[bool, bool, bool, float]]) -> dict[str, float | int]:
    """rows: (found, exact, exact_o0, ms) per frame."""
    n = len(rows)

    def pct(k: int) -> float:
        return round(100.0 * sum(r[k] for r in rows) / n, 1) if n else 0.0

    return {
        "frames": n,
        "found": pct(0),
        "exact": pct(1),
        "exact_o0": pct(2),
        "ms_median": round(statistics.median(r[3] for r in rows), 1) if rows else 0.0,
    }


def run(  # type: ignore[type-arg]
    bench: Path, data: Path, sets: list[str], per_bucket: int, settings: VisionSettings, baseline: VisionSettings | None
) -> dict:
    from recognition.vision.pipeline import build_pipeline

    pipelines = {"result": build_pipeline(settings)}
    if baseline is not None:
        pipelines["baseline"] = build_pipeline(baseline)
    rows: dict[str, dict[str, dict[str, list]]] = {key: {} for key in pipelines}  # type: ignore[type-arg]
    turn = 0
    for name in sets:
        for scene in scenes(name, bench, data, per_bucket):
            order = list(pipelines.items())
            turn += 1
            if turn % 2:
                order.reverse()
            for key, pipeline in order:
                start = time.perf_counter()
                reads = pipeline.read(scene.frame, region=scene.region)  # type: ignore[arg-type]
                ms = (time.perf_counter() - start) * 1000.0
                best = found_read(reads, scene.box)
                text = best.text if best is not None else None
                row = (best is not None, text == scene.plate, text is not None and o0(text) == o0(scene.plate), ms)
                rows[key].setdefault(name, {}).setdefault(scene.bucket, []).append(row)
    out: dict = {}  # type: ignore[type-arg]
    for key, per_set in rows.items():
        out[key] = {
            name: {
                "all": summarize([r for bucket in buckets.values() for r in bucket]),
                "buckets": {bucket: summarize(b) for bucket, b in buckets.items()},
            }
            for name, buckets in per_set.items()
        }
    result = out["result"]
    result["settings"] = changed_settings(settings)
    if baseline is not None:
        result["baseline"] = {**out["baseline"], "settings": changed_settings(baseline)}
    return result  # type: ignore[no-any-return]


def format_table(result: dict) -> str:  # type: ignore[type-arg]
    keys = ("frames", "found", "exact", "exact_o0", "ms_median")
    lines = [f"{'set':<18}{'bucket':<10}" + "".join(f"{k:>10}" for k in keys)]
    for label, res in (("", result), ("baseline ", result.get("baseline"))):
        if res is None:
            continue
        lines.append(f"{label}settings: {res['settings'] or 'defaults'}")
        for name in SETS:
            if name not in res:
                continue
            for bucket, r in [*res[name]["buckets"].items(), ("all", res[name]["all"])]:
                lines.append(f"{name:<18}{bucket:<10}" + "".join(f"{r[k]:>10}" for k in keys))
    lines.append("found/exact: % of frames; ms: per frame")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.detection", description=__doc__.split("\n\n")[0])
    parser.add_argument("--bench", type=Path, default=DEFAULT_BENCH, help="labelled photos (benchmarks.vision's DIR)")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="plate crops, fonts and street frames")
    parser.add_argument("--per-bucket", type=int, default=25, metavar="N", help="frames per size bucket")
    parser.add_argument("--sets", default=",".join(SETS), help=f"comma-separated, of: {', '.join(SETS)}")
    for flag, dest, what in (
        ("--set", "assignments", "change a vision setting (repeatable)"),
        ("--baseline", "baseline", "also read every frame with these changes too, for comparison (repeatable)"),
    ):
        parser.add_argument(
            flag,
            action="append",
            default=[],
            metavar="NAME=VALUE",
            dest=dest,
            help=f"{what}; one of: {', '.join(FIELDS)}",
        )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    sets = [s.strip() for s in args.sets.split(",") if s.strip()]
    unknown = [s for s in sets if s not in SETS]
    if unknown or not sets:
        parser.error(f"--sets: unknown {', '.join(unknown) or '(none given)'}; choose from {', '.join(SETS)}")
    if args.per_bucket < 1:
        parser.error("--per-bucket must be at least 1")
    for folder, needed in ((args.bench, {"closeup-real", "distant"}), (args.data, set(SETS) - {"closeup-real"})):
        if needed & set(sets) and not folder.is_dir():
            parser.error(f"{folder} is not a folder")
    try:
        settings = VisionSettings.from_env().with_text(args.assignments)
        baseline = settings.with_text(args.baseline) if args.baseline else None
    except ValueError as exc:
        parser.error(str(exc))
    result = run(args.bench, args.data, sets, args.per_bucket, settings, baseline)
    print(json.dumps(result) if args.json else format_table(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
