"""Train the plate CRNN for a fixed time and export it to ONNX.

Usage (from the repository root, with ``../shared/data`` present)::

    python -m training.train --minutes 35 --out recognition/models/plate_crnn.onnx

By default one CPU thread (the machine is shared) and the training samples
are made in the same process, so a run is repeatable from its seed.
``--workers N`` renders the samples in N processes beside the training (each
with its own seed) and ``--device cuda`` trains on a GPU (``auto``: a GPU
when there is one): it runs on any machine where ``--data-dir`` (default
``../shared/data``) is installed. ``--channels`` and ``--hidden`` size the model
(the pipeline reads any model with the same input and output). Every
``--eval-minutes`` it measures
exact match on the held-out real crops (US with O and 0 counted equal, as the
US region reads them; BR strict) and exports the best model so far to
``--out`` (ONNX opset 17, input ``image`` (N, 1, 48, 144), output ``probs``
(N, 36, 37): blank + A-Z0-9). A JSON summary is written next to it.

``--detector-margins`` crops the training plates as loosely as the
pipeline's detector crops (``synth_plates.DETECTOR_MARGINS``) and adds those
looser held-out crops to the validation; ``--init model.onnx`` continues from
an exported model (``onnx_init``), such as the committed one.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse
import copy
import json
import math
import random
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import torch

from recognition.vision.ocr import CRNN_HEIGHT, CRNN_WIDTH, crnn_preprocess, greedy_decode

from .dataset import (
    REAL_CROP_MARGINS,
    PlateSamples,
    load_bench_crops,
    load_real_crops,
    load_validation,
    split_real_crops,
)
from .model import PlateCRNN, SoftmaxExport, count_parameters
from .onnx_init import load_onnx_weights
from .synth_countries import RENDERED_COUNTRIES, country_validation_set
from .synth_plates import DETECTOR_MARGINS, CropMargins, SynthAssets, default_data_dir

Batch = tuple[torch.Tensor, torch.Tensor, torch.Tensor]


def encode_batch(x: np.ndarray, labels: list[list[int]]) -> Batch:
    """(images, concatenated CTC targets, target lengths) as tensors."""
    return (
        torch.from_numpy(x),
        torch.tensor([k for lab in labels for k in lab], dtype=torch.long),
        torch.tensor([len(lab) for lab in labels], dtype=torch.long),
    )


class SampleStream(torch.utils.data.IterableDataset):
    """Endless training batches from ``samples``.

    Read in the training process (``--workers 0``) it continues ``samples``'
    own random stream, so a run is repeatable from ``--seed``. In a
    DataLoader worker each process draws with its own seed (``seed`` and the
    worker's number), so the workers never repeat each other's samples.
    """

    def __init__(self, samples: PlateSamples, batch: int, seed: int) -> None:
        self.samples, self.batch, self.seed = samples, batch, seed

    def __iter__(self) -> Iterator[Batch]:
        info = torch.utils.data.get_worker_info()
        if info is not None:
            self.samples.rng = random.Random(self.seed * 1000 + 7919 * (info.id + 1))
        while True:
            x, labels, _ = self.samples.batch(self.batch)
            yield encode_batch(x, labels)


def _one_cv2_thread(_worker: int) -> None:
    import cv2

    cv2.setNumThreads(1)  # one process per core already


def batch_stream(samples: PlateSamples, batch: int, seed: int, workers: int, pin: bool) -> Iterator[Batch]:
    """Training batches: made in this process (``workers=0``) or by ``workers`` processes.

    The workers are started with "spawn": a forked child of a process whose
    OpenCV and torch thread pools have run hangs in them (seen here).
    """
    stream = SampleStream(samples, batch, seed)
    if workers == 0:
        return iter(stream)
    loader = torch.utils.data.DataLoader(
        stream,
        batch_size=None,
        num_workers=workers,
        pin_memory=pin,
        prefetch_factor=4,
        persistent_workers=True,
        worker_init_fn=_one_cv2_thread,
        multiprocessing_context="spawn",
    )
    return iter(loader)


def pick_device(name: str) -> torch.device:
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    if name == "cuda" and not torch.cuda.is_available():
        raise SystemExit("--device cuda: no CUDA device is available")
    return torch.device(name)


def parse_channels(text: str) -> tuple[int, int, int, int]:
    parts = tuple(int(p) for p in text.split(","))
    if len(parts) != 4 or min(parts) < 4:
        raise argparse.ArgumentTypeError("four channel counts of at least 4, e.g. 24,48,80,112")
    return parts  # type: ignore[return-value]


def evaluate(model: PlateCRNN, val: list[tuple[np.ndarray, str, str]], batch: int = 128) -> dict[str, float]:
    """Exact match per source on preprocessed validation crops (greedy CTC decode)."""
    model.eval()
    device = next(model.parameters()).device
    hits: dict[str, list[int]] = {}
    with torch.no_grad():
        for i in range(0, len(val), batch):
            chunk = val[i : i + batch]
            images = torch.from_numpy(np.stack([v[0] for v in chunk])).to(device)
            probs = model.logits(images).softmax(-1).cpu().numpy()
            for p, (_, text, source) in zip(probs, chunk, strict=True):
                read, _ = greedy_decode(p)
                if source == "us":
                    read, text = read.replace("O", "0"), text.replace("O", "0")
                hits.setdefault(source, []).append(int(read == text))
    model.train()
    out = {k: 100.0 * sum(v) / len(v) for k, v in hits.items()}
    out["all"] = 100.0 * sum(sum(v) for v in hits.values()) / max(1, sum(len(v) for v in hits.values()))
    out.update({f"n_{k}": float(len(v)) for k, v in hits.items()})
    return out


# Steps over which the learning rate rises to --lr, in a continued run too: Adam's moment
# estimates start at zero either way (docs/research-log.md).
WARMUP_STEPS = 200

# --country-weights auto: a country is drawn 1 + (its error / the mean error) times as often,
# at most this many times, by the initial model's errors on the countries' validation plates.
MAX_COUNTRY_WEIGHT = 4.0


def country_weights_from_errors(exact: dict[str, float]) -> dict[str, float]:
    """Sampling weight per country from its exact rate (percent) on its validation plates."""
    errors = {code: max(0.0, 100.0 - rate) for code, rate in exact.items()}
    mean = sum(errors.values()) / max(1, len(errors))
    if mean <= 0:
        return dict.fromkeys(exact, 1.0)
    return {code: round(min(MAX_COUNTRY_WEIGHT, 1.0 + err / mean), 2) for code, err in errors.items()}


def parse_country_weights(text: str) -> dict[str, float] | str:
    """``auto`` or ``fr=3,gb=2.5`` (countries not named: 1)."""
    if text == "auto":
        return text
    out = {}
    for part in text.split(","):
        code, _, weight = part.partition("=")
        try:
            out[code.strip().lower()] = float(weight)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{part!r}: expected CODE=WEIGHT, e.g. fr=3") from None
        if out[code.strip().lower()] <= 0:
            raise argparse.ArgumentTypeError(f"{part!r}: a weight must be positive")
    return out


def export_onnx(model: PlateCRNN, out: Path) -> None:
    """``model`` (on any device) as ONNX at ``out``, exported from a CPU copy."""
    model = copy.deepcopy(model).cpu()
    model.eval()
    out.parent.mkdir(parents=True, exist_ok=True)
    dummy = torch.zeros(1, 1, CRNN_HEIGHT, CRNN_WIDTH)
    tmp = out.with_suffix(".tmp.onnx")
    torch.onnx.export(
        SoftmaxExport(model),
        (dummy,),
        str(tmp),
        input_names=["image"],
        output_names=["probs"],
        dynamic_axes={"image": {0: "batch"}, "probs": {0: "batch"}},
        opset_version=17,
        dynamo=False,
    )
    tmp.replace(out)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--minutes", type=float, default=35.0, help="training time budget")
    ap.add_argument("--out", type=Path, default=Path("recognition/models/plate_crnn.onnx"))
    ap.add_argument("--data-dir", type=Path, default=None, help="default ../shared/data")
    ap.add_argument("--batch", type=int, default=48)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--real-fraction", type=float, default=0.5, help="share of real crops per batch")
    ap.add_argument(
        "--country-fraction",
        type=float,
        default=0.0,
        help="share of the synthetic crops rendered as plates of each country (synth_countries)",
    )
    ap.add_argument(
        "--country-weights",
        type=parse_country_weights,
        default=None,
        help="draw countries unequally: CODE=WEIGHT,... or auto (by the --init model's errors on each "
        "country's validation plates, --country-val of them; MAX_COUNTRY_WEIGHT at most)",
    )
    ap.add_argument(
        "--country-val",
        type=int,
        default=0,
        help="also validate on this many rendered one-line plates per country (synth_countries, "
        "a seed apart from training and the test sets), as source 'countries'",
    )
    ap.add_argument("--val-percent", type=int, default=20)
    ap.add_argument("--eval-minutes", type=float, default=4.0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--checkpoint", type=Path, default=Path("/tmp/plate_crnn.pt"))
    ap.add_argument(
        "--init",
        type=Path,
        default=None,
        help="start from this state_dict (.pt) or exported model (.onnx) instead of scratch",
    )
    ap.add_argument(
        "--detector-margins",
        action="store_true",
        help="crop real and synthetic plates with margins as loose as the detector's "
        "(synth_plates.DETECTOR_MARGINS) and also validate on such crops",
    )
    ap.add_argument(
        "--bench",
        type=Path,
        default=None,
        help="also train on the plates of this OpenALPR benchmark folder in --bench-fold",
    )
    ap.add_argument(
        "--bench-fold",
        default=None,
        choices=("0", "1", "all"),
        help="fold of the benchmark plates to train on (default 0; all: both, and the bench then scores seen plates)",
    )
    ap.add_argument(
        "--bench-repeat", type=int, default=4, help="times each benchmark crop is listed among the real crops"
    )
    ap.add_argument(
        "--device", default="cpu", choices=("cpu", "cuda", "auto"), help="where to train (auto: a GPU if there is one)"
    )
    ap.add_argument(
        "--workers",
        type=int,
        default=0,
        help="processes rendering training samples beside the training (0: in the training process, repeatable)",
    )
    ap.add_argument("--threads", type=int, default=1, help="CPU threads of the training process")
    ap.add_argument(
        "--channels",
        type=parse_channels,
        default=(24, 48, 80, 112),
        help="channels of the four conv stages, e.g. 32,64,112,160 (with --init: those of the initial model)",
    )
    ap.add_argument("--hidden", type=int, default=96, help="GRU units per direction")
    args = ap.parse_args(argv)
    if args.bench_fold is not None and args.bench is None:
        ap.error("--bench-fold needs --bench")
    if args.workers < 0 or args.threads < 1:
        ap.error("--workers must be 0 or more and --threads 1 or more")
    device = pick_device(args.device)

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    random.seed(args.seed)
    data_dir = args.data_dir or default_data_dir()
    train_real, val_real = split_real_crops(load_real_crops(data_dir), args.val_percent)
    if args.bench is not None:
        bench = load_bench_crops(args.bench, None if args.bench_fold == "all" else int(args.bench_fold or 0))
        print(f"benchmark crops of fold {args.bench_fold or 0}: {len(bench)} (x{args.bench_repeat})", flush=True)
        train_real = train_real + bench * args.bench_repeat
    assets = SynthAssets.load(data_dir)
    margins = (DETECTOR_MARGINS, DETECTOR_MARGINS) if args.detector_margins else (REAL_CROP_MARGINS, CropMargins())
    samples = PlateSamples(
        train_real,
        assets,
        real_fraction=args.real_fraction,
        seed=args.seed,
        margins=margins,
        country_fraction=args.country_fraction,
    )
    val = load_validation(val_real, loose=assets.backgrounds if args.detector_margins else None)
    by_country = [
        (crnn_preprocess(crop), label, code)
        for code in (RENDERED_COUNTRIES if args.country_val > 0 else [])
        for crop, label in country_validation_set(code, args.country_val, assets)
    ]
    val += [(x, label, "countries") for x, label, _ in by_country]
    model = PlateCRNN(channels=args.channels, hidden=args.hidden)
    start_val: dict[str, float] | None = None
    if args.init is not None and args.init.suffix == ".onnx":
        model = load_onnx_weights(args.init, samples.batch(96)[0])
        start_val = evaluate(model, val)
        print(f"initialised from {args.init}: {json.dumps(start_val)}", flush=True)
    elif args.init is not None:
        model.load_state_dict(torch.load(args.init, map_location="cpu"))
        print(f"initialised from {args.init}", flush=True)
    weights = args.country_weights
    if weights == "auto":
        if not by_country:
            raise SystemExit("--country-weights auto needs --country-val and --country-fraction above 0")
        exact = {k: v for k, v in evaluate(model, by_country).items() if k in RENDERED_COUNTRIES}
        weights = country_weights_from_errors(exact)
    if weights:
        samples.set_country_weights(weights)  # before the sample workers start
        print(f"country weights {json.dumps(weights)}", flush=True)
    model.to(device)
    print(
        f"params {count_parameters(model)} on {device}, {args.workers} sample workers; real train {len(train_real)} "
        f"(plates {len({c.text for c in train_real})}), val {len(val)} (plates {len({c.text for c in val_real})})",
        flush=True,
    )
    batches = batch_stream(samples, args.batch, args.seed, args.workers, pin=device.type == "cuda")
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=1e-4)
    ctc = torch.nn.CTCLoss(blank=0, zero_infinity=True)
    budget = args.minutes * 60.0
    start = last_eval = time.monotonic()
    # a continued run exports only what beats the model it started from
    step, seen, best, history = 0, 0, (start_val["all"] if start_val else -1.0), []
    exported = False
    loss_avg = None
    while True:
        elapsed = time.monotonic() - start
        if elapsed >= budget:
            break
        frac = elapsed / budget
        warm = min(1.0, (step + 1) / WARMUP_STEPS)
        lr = args.lr * warm * 0.5 * (1 + math.cos(math.pi * frac))
        for g in opt.param_groups:
            g["lr"] = lr
        x, targets, lengths = (t.to(device, non_blocking=True) for t in next(batches))
        logp = model(x).transpose(0, 1)  # T, N, C
        loss = ctc(logp, targets, torch.full((len(lengths),), logp.shape[0], dtype=torch.long, device=device), lengths)
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        opt.step()
        step += 1
        seen += len(lengths)
        loss_avg = float(loss.detach()) if loss_avg is None else 0.98 * loss_avg + 0.02 * float(loss.detach())
        if step % 50 == 0:
            print(f"step {step} seen {seen} loss {loss_avg:.3f} lr {lr:.2e} {elapsed / 60:.1f} min", flush=True)
        now = time.monotonic()
        if now - last_eval >= args.eval_minutes * 60 or now - start >= budget:
            last_eval = now
            res = evaluate(model, val)
            history.append({"minutes": round((now - start) / 60, 1), "step": step, **res})
            print("val", json.dumps(res), flush=True)
            if res["all"] > best:
                best = res["all"]
                torch.save(model.state_dict(), args.checkpoint)
                export_onnx(model, args.out)
                exported = True
                print(f"exported {args.out} (val all {best:.1f})", flush=True)
    res = evaluate(model, val)
    history.append({"minutes": round((time.monotonic() - start) / 60, 1), "step": step, **res})
    print("final val", json.dumps(res), flush=True)
    if res["all"] > best or (res["all"] == best and exported):
        best = res["all"]
        torch.save(model.state_dict(), args.checkpoint)
        export_onnx(model, args.out)
        exported = True
    summary = {
        "command": " ".join(["python -m training.train", *(argv if argv is not None else sys.argv[1:])]),
        "params": count_parameters(model),
        "channels": list(model.channels),
        "hidden": model.hidden,
        "device": str(device),
        "workers": args.workers,
        "steps": step,
        "samples_seen": seen,
        "samples_per_s": round(seen / max(1e-9, time.monotonic() - start), 1),
        "batch": args.batch,
        "real_fraction": args.real_fraction,
        "country_fraction": args.country_fraction,
        "country_val": args.country_val,
        "country_weights": weights or None,
        "detector_margins": args.detector_margins,
        "val_percent": args.val_percent,
        "train_real_crops": len(train_real),
        "val_real_crops": len(val),
        "best_val_all": best,
        "start_val_all": start_val["all"] if start_val else None,
        "exported": exported,
        "history": history,
    }
    args.out.with_suffix(".json").write_text(json.dumps(summary, indent=1) + "\n")
    if exported:
        print(f"best val all {best:.1f}; wrote {args.out}", flush=True)
    else:
        print(f"no export beat the starting model (val all {best:.1f}); {args.out} not written", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
