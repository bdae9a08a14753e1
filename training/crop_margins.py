"""How loose the pipeline's plate crops are, and how the CRNN reads at each looseness.

Usage::

    python -m training.crop_margins ../shared/bench/openalpr-dev [--crnn MODEL.onnx]

1. For every labelled plate the detector finds (IoU > 0.3), the pipeline's
   crop (detector box grown by ``expand_box``) is compared with the labelled
   box: width and height ratios at the 10th, 50th and 90th percentile, per
   region. ``synth_plates.DETECTOR_MARGINS`` is chosen from these.
2. The CRNN alone reads every labelled box grown by a series of margins
   (tight to loose), and the pipeline's own crops: exact with O = 0, per region.

Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import cv2
import numpy as np

# (x, y) margin per side, as a fraction of the labelled box
MARGINS = ((0.03, 0.05), (0.06, 0.10), (0.13, 0.29), (0.20, 0.45))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("bench", type=Path)
    ap.add_argument("--crnn", type=Path, default=None, help="CRNN .onnx (default: the committed model)")
    args = ap.parse_args(argv)

    from benchmarks.vision import best_overlap, find_labelled_images, o0
    from recognition.vision.detector import get_detector
    from recognition.vision.ocr import PlateCrnnOCR
    from recognition.vision.pipeline import expand_box

    det = get_detector("onnx", conf=0.25, imgsz=640)
    crnn = PlateCrnnOCR(top=10, model_path=args.crnn)
    ratios: dict[str, dict[str, list[float]]] = {}
    reads: dict[str, dict[str, list[int]]] = {}
    for folder in sorted(p for p in args.bench.iterdir() if p.is_dir()):
        region = folder.name
        ratios[region] = {"width": [], "height": []}
        reads[region] = {f"box+{mx:.2f}x{my:.2f}": [] for mx, my in MARGINS} | {"pipeline crop": []}
        for image, truths in find_labelled_images(folder):
            frame = cv2.imread(str(image))
            if frame is None:
                continue
            h, w = frame.shape[:2]
            dets = det.detect(frame)
            for t in truths:
                for mx, my in MARGINS:
                    b = expand_box(t.box, w, h, mx, my)
                    text = crnn.read(frame[b.y : b.y + b.h, b.x : b.x + b.w], region=region).text
                    reads[region][f"box+{mx:.2f}x{my:.2f}"].append(int(o0(text) == o0(t.plate)))
                best = best_overlap(dets, t.box)
                if best is None:
                    reads[region]["pipeline crop"].append(0)
                    continue
                b = expand_box(best.box, w, h)
                ratios[region]["width"].append(b.w / t.box.w)
                ratios[region]["height"].append(b.h / t.box.h)
                text = crnn.read(frame[b.y : b.y + b.h, b.x : b.x + b.w], region=region).text
                reads[region]["pipeline crop"].append(int(o0(text) == o0(t.plate)))
    out = {
        "crop_over_labelled_box": {
            r: {k: [round(float(q), 2) for q in np.percentile(v, [10, 50, 90])] for k, v in d.items() if v}
            for r, d in ratios.items()
        },
        "crnn_exact": {r: {k: f"{sum(v)}/{len(v)}" for k, v in d.items()} for r, d in reads.items()},
    }
    print(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
