"""Make the int8 text-line finder committed as ``recognition/models/line_finder_int8.onnx``.

    python -m training.quantize_line_finder [--data ../shared/data] [--crops 200]

The line finder is PP-OCR's text detection model from the installed
``rapidocr`` package (``ocr.rapidocr_model_files``); ``RapidPlateOCR`` runs
it on every plate crop that the CRNN does not settle alone, to find the
plate's character line(s). Its float model was most of the 35 ms that
PP-OCR's read of a crop took on the project's 2-core machine (20 ms in int8).

Recipe: onnxruntime's static quantisation, QDQ format, int8 weights per
channel, uint8 activations, ranges from the 99.999th percentile of the
calibration activations. The last ``FLOAT_TAIL_NODES`` nodes stay float:
the DB head (the transposed convolutions and the sigmoid that draw the text
probability map, which the line finder thresholds at 0.3) and the last neck
block before it. Calibration inputs: plate crops of the training part of the
real crop sets (``dataset.split_real_crops``; US and BR) set on street frames
of ``../shared/data/backgrounds`` with the detector-like margins the CRNN is
trained with (``synth_plates.DETECTOR_MARGINS``), at the line finder's input
size for a 2:1 crop (320 x 160). The OpenALPR benchmark photos are never read.

The ``.json`` written beside the model records the digest of the float model
it came from; ``ocr.line_finder_model`` runs the float model instead when the
installed one differs. Results: docs/research-log.md.
"""

from __future__ import annotations

import argparse
import json
import random
import time
from pathlib import Path

import cv2
import numpy as np

from recognition.vision import config, ocr

from .dataset import load_real_crops, split_real_crops
from .quantize import quantize_qdq
from .synth_plates import DETECTOR_MARGINS, SynthAssets, default_data_dir, place_and_crop

FLOAT_TAIL_NODES = 20
CALIBRATION_SIZE = (320, 160)  # width, height: TextLineFinder's input for a 2:1 crop
PERCENTILE = 99.999


def calibration_crops(data_dir: Path, count: int, seed: int = 0) -> list[np.ndarray]:
    """``count`` real training plates, each set on a street frame and cropped with detector-like margins."""
    rng = random.Random(seed)
    train, _ = split_real_crops(load_real_crops(data_dir))
    assets = SynthAssets.load(data_dir, max_backgrounds=50)
    if not train or not assets.backgrounds:
        raise SystemExit(f"plate crops and backgrounds are needed under {data_dir}")
    crops = []
    for i in range(count):
        plate = cv2.imread(str(rng.choice(train).path))
        if plate is None:
            continue
        crop = place_and_crop(plate, assets.backgrounds[i % len(assets.backgrounds)], rng, DETECTOR_MARGINS)
        crops.append(cv2.cvtColor(crop, cv2.COLOR_GRAY2BGR) if crop.ndim == 2 else crop)
    return crops


def quantize_line_finder(fp32: Path, crops: list[np.ndarray], out: Path) -> Path:
    """Write the int8 line finder made from ``fp32`` to ``out``, calibrated on ``crops`` (BGR)."""
    from onnxruntime.quantization import CalibrationMethod

    inputs = (ocr._normalize(cv2.resize(crop, CALIBRATION_SIZE, interpolation=cv2.INTER_LINEAR)) for crop in crops)
    return quantize_qdq(
        fp32,
        inputs,
        out,
        float_nodes=lambda model: [n.name for n in model.graph.node][-FLOAT_TAIL_NODES:],
        opset=17,  # the package's model is opset 11; per-channel QDQ needs 13 or later
        calibrate_method=CalibrationMethod.Percentile,
        extra_options={"CalibPercentile": PERCENTILE},
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m training.quantize_line_finder", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument(
        "--data",
        type=Path,
        default=None,
        help="folder with backgrounds/, us-plate-crops/, ... (default ../shared/data)",
    )
    parser.add_argument("--crops", type=int, default=200, help="calibration crops")
    parser.add_argument("--out", type=Path, default=ocr.LINE_FINDER_INT8_PATH)
    args = parser.parse_args(argv)
    if args.crops < 1:
        parser.error("--crops must be at least 1")
    start = time.perf_counter()
    crops = calibration_crops(args.data or default_data_dir(), args.crops)
    fp32, _ = ocr.rapidocr_model_files()
    out = quantize_line_finder(fp32, crops, args.out)
    meta = {
        "source": f"rapidocr {fp32.name}",
        "source_sha256_12": config.file_digest(fp32),
        "calibration_crops": len(crops),
        "recipe": f"onnxruntime quantize_static, QDQ, per-channel int8 weights, uint8 activations, "
        f"{PERCENTILE} percentile ranges, the last {FLOAT_TAIL_NODES} nodes (DB head) left in float",
    }
    out.with_suffix(".json").write_text(json.dumps(meta, indent=2) + "\n")
    print(
        f"wrote {out} ({out.stat().st_size / 1e6:.1f} MB) from {len(crops)} crops in {time.perf_counter() - start:.0f} s"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
