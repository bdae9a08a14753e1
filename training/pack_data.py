"""A compact copy of the training data, small enough to travel to a lent GPU machine.

Usage (from the repository root)::

    python -m recognition.training.pack_data --out .train-data

The device tool carries at most 64 MiB with the working tree, and
``../shared/data`` does not travel (it lies outside the checkout) and holds
114 MB. The copy keeps the layout that ``train.py --data-dir`` reads:

- ``us-plate-crops``: the PNG crops re-encoded as JPEG (quality 95), the CSV
  rewritten to the new names;
- ``br-plate-crops``: the JPEG crops re-encoded at quality 95;
- ``backgrounds``: each frame at the size ``SynthAssets.load`` reduces it to
  anyway (``synth_plates.BACKGROUND_SIDE``, 360 px on its longer side), JPEG quality 92;
- ``fonts`` and ``us-plate-blanks``: as they are.

The copy is for training only and is never committed: ``.train-data/`` is
listed in ``.gitignore`` (nothing from ``../shared`` goes into the
repository). It prints the total size and refuses to finish above
``--max-mib``.
"""

from __future__ import annotations

import argparse
import csv
import shutil
import sys
from pathlib import Path

import cv2

from .synth_plates import BACKGROUND_SIDE, IMAGE_EXTS, default_data_dir


def _write_jpeg(src: Path, dst: Path, quality: int, max_side: int | None = None) -> bool:
    img = cv2.imread(str(src))
    if img is None:
        return False
    if max_side is not None:
        s = max_side / max(img.shape[:2])
        if s < 1:
            img = cv2.resize(img, None, fx=s, fy=s, interpolation=cv2.INTER_AREA)
    dst.parent.mkdir(parents=True, exist_ok=True)
    return bool(cv2.imwrite(str(dst), img, [cv2.IMWRITE_JPEG_QUALITY, quality]))


def pack(data_dir: Path, out: Path) -> dict[str, int]:
    """Write the compact copy of ``data_dir`` to ``out``; the number of files per part."""
    counts: dict[str, int] = {}
    if out.exists():
        shutil.rmtree(out)
    us, us_out = data_dir / "us-plate-crops", out / "us-plate-crops"
    us_out.mkdir(parents=True)
    with open(us / "groundtruth.csv", newline="") as f, open(us_out / "groundtruth.csv", "w", newline="") as g:
        writer = csv.writer(g)
        n = 0
        for row in csv.reader(f):
            name = f"{Path(row[0]).stem}.jpg" if row else ""
            if row and _write_jpeg(us / "images" / row[0], us_out / "images" / name, 95):
                writer.writerow([name, *row[1:]])
                n += 1
        counts["us-plate-crops"] = n
    br, br_out = data_dir / "br-plate-crops", out / "br-plate-crops"
    br_out.mkdir(parents=True)
    shutil.copyfile(br / "labels.csv", br_out / "labels.csv")
    counts["br-plate-crops"] = sum(_write_jpeg(p, br_out / "images" / p.name, 95) for p in sorted((br / "images").iterdir()))
    counts["backgrounds"] = sum(
        _write_jpeg(p, out / "backgrounds" / f"{p.stem}.jpg", 92, BACKGROUND_SIDE)
        for p in sorted((data_dir / "backgrounds").iterdir())
        if p.suffix.lower() in IMAGE_EXTS
    )
    for part in ("fonts", "us-plate-blanks"):
        shutil.copytree(data_dir / part, out / part)
        counts[part] = sum(1 for _ in (out / part).iterdir())
    return counts


def tree_size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data-dir", type=Path, default=None, help="default ../shared/data")
    ap.add_argument("--out", type=Path, default=Path(".train-data"))
    ap.add_argument("--max-mib", type=float, default=48.0, help="refuse a copy larger than this")
    args = ap.parse_args(argv)
    data_dir = args.data_dir or default_data_dir()
    if not (data_dir / "us-plate-crops" / "groundtruth.csv").is_file():
        ap.error(f"{data_dir} holds no us-plate-crops/groundtruth.csv")
    counts = pack(data_dir, args.out)
    mib = tree_size(args.out) / 2**20
    print(f"{args.out}: {counts}, {mib:.1f} MiB")
    if mib > args.max_mib:
        print(f"{args.out} is {mib:.1f} MiB, over --max-mib {args.max_mib}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
