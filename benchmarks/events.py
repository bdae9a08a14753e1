"""How much voting across the frames of one pass gains over single frames.

    python -m benchmarks.events [--sequences 40] [--frames 5] [--json]

Each sequence is one synthetic car (recognition/vision/synth.py) seen in ``--frames`` frames
that are degraded the way a passing car is: far away (downscaled and upscaled), motion blur,
sensor noise and dim light, each frame differently. The real pipeline reads every frame; the
frames' candidates are then voted (recognition/vision/voting.py), as plate events do.
"""

from __future__ import annotations

import argparse
import json
import random
import time

import cv2
import numpy as np

from recognition.vision.pipeline import build_pipeline
from recognition.vision.settings import VisionSettings
from recognition.vision.synth import random_plate_text, render_vehicle_scene
from recognition.vision.voting import vote


def degrade(image: np.ndarray, rng: random.Random) -> np.ndarray:
    h, w = image.shape[:2]
    scale = rng.uniform(0.14, 0.3)  # distance: the plate is 20-60 px wide
    small = cv2.resize(image, (int(w * scale), int(h * scale)), interpolation=cv2.INTER_AREA)
    out = cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)
    k = rng.choice([1, 3, 5, 7, 9])  # horizontal motion blur
    if k > 1:
        kernel = np.zeros((k, k), np.float32)
        kernel[k // 2, :] = 1.0 / k
        out = cv2.filter2D(out, -1, kernel)
    gain = rng.uniform(0.45, 1.0)  # dim light
    noise = np.random.default_rng(rng.randrange(1 << 30)).normal(0, rng.uniform(6, 20), out.shape)
    return np.clip(out.astype(np.float32) * gain + noise, 0, 255).astype(np.uint8)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sequences", type=int, default=40)
    parser.add_argument("--frames", type=int, default=5)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    rng = random.Random(args.seed)
    pipeline = build_pipeline(VisionSettings.from_env())
    frames_total = frames_right = frames_read = events_right = top_vote_right = 0
    started = time.perf_counter()
    for _s in range(args.sequences):
        plate = random_plate_text(rng.randrange(1 << 30))
        reads = []
        for _f in range(args.frames):
            image, _ = render_vehicle_scene(plate, seed=rng.randrange(1 << 30))
            found = pipeline.read(degrade(image, rng), region="us")
            frames_total += 1
            if found:
                best = max(found, key=lambda r: r.confidence)
                frames_read += 1
                frames_right += best.text == plate
                reads.append([(c.text, c.confidence) for c in best.candidates] or [(best.text, best.confidence)])
        consensus = vote(reads)
        events_right += consensus.text == plate
        top_only = vote([r[:1] for r in reads])
        top_vote_right += top_only.text == plate
    report = {
        "sequences": args.sequences,
        "frames_per_sequence": args.frames,
        "frame_exact": round(frames_right / frames_total, 3),
        "frames_with_a_read": round(frames_read / frames_total, 3),
        "event_exact_top1_vote": round(top_vote_right / args.sequences, 3),
        "event_exact": round(events_right / args.sequences, 3),
        "seconds": round(time.perf_counter() - started, 1),
    }
    if args.json:
        print(json.dumps(report))
    else:
        for key, value in report.items():
            print(f"{key:24s} {value}")


if __name__ == "__main__":
    main()
