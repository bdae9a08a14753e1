"""Whether a newly trained CRNN may replace the product's: the release checks in one command.

Usage::

    python -m training.compare NEW.onnx [--old recognition/models/plate_crnn.onnx]
        [--bench ../shared/bench/openalpr-dev] [--per-country 300] [--json]

Both models are measured in the same run, on the same machine:

- **bench**: the whole pipeline on the development split (``benchmarks.vision``
  with ``--baseline``: the two pipelines take turns reading each photo first,
  so load on the machine falls on both alike);
- **countries**: the rendered per-country test sets (``training.country_eval``);
- **held-out**: the real US and BR crops that training holds back
  (``training.eval_ocr``), read by the product's ensemble (O = 0).

The new model passes (exit status 0) when it reads no bench region worse
(``exact`` and ``exact_o0``), finds as many plates (``detected``), is not
slower (``ms_median`` at most ``--slack`` above the old one's in the same run),
reads no fewer held-out crops of either country, and its rendered countries'
mean and lowest country are no lower; otherwise each failed check is printed
and the exit status is 1. A model that passes only *may* ship: its model card
and ``docs/benchmarks.md`` still have to say what it gained.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import cv2

from recognition.vision.ocr import CRNN_MODEL_PATH
from recognition.vision.settings import VisionSettings

from . import country_eval
from .dataset import default_data_dir, load_real_crops, split_real_crops
from .eval_ocr import build_engines, read_all


def bench(new: Path, old: Path, root: Path, limit: int | None = None) -> dict[str, dict]:  # type: ignore[type-arg]
    from benchmarks.vision import run

    base = VisionSettings.from_env()
    result = run(root, limit, base.replace(crnn_model=new), baseline=base.replace(crnn_model=old))
    keys = ("exact", "exact_o0", "detected", "ms_median")

    def pick(r: dict) -> dict:  # type: ignore[type-arg]
        return {
            **{k: r[k] for k in keys},
            "regions": {name: {k: v[k] for k in keys} for name, v in r["regions"].items()},
        }

    return {"new": pick(result), "old": pick(result["baseline"])}


def heldout(new: Path, old: Path, data_dir: Path | None, limit: int | None = None) -> dict[str, dict[str, int]]:
    _, val = split_real_crops(load_real_crops(data_dir))
    if limit:
        val = [c for source in ("us", "br") for c in [c for c in val if c.source == source][:limit]]
    items = [(cv2.imread(str(c.path)), c.text, c.source) for c in val]
    items = [i for i in items if i[0] is not None]
    settings = VisionSettings.from_env()
    out = {}
    for name, path in (("new", new), ("old", old)):
        engine = build_engines(["rapid+crnn"], path, settings)["rapid+crnn"]
        hits, _, _ = read_all(engine, items)
        out[name] = {region: sum(v) for region, v in hits.items()}
    return out


def countries(new: Path, old: Path, per_country: int, data_dir: Path | None) -> dict[str, dict]:  # type: ignore[type-arg]
    codes = list(country_eval.DEFAULT_COUNTRIES)
    out = {}
    for name, path in (("new", new), ("old", old)):
        r = country_eval.evaluate(codes, per_country, "rapid+crnn", data_dir, crnn_model=path)
        out[name] = {
            "exact_mean": r["exact_mean"],
            "exact_min": r["exact_min"],
            "in_spec_mean": r["in_spec_mean"],  # shown, not checked: a subset of the same crops
            "in_spec_min": r["in_spec_min"],
            "per_country": {c: v["exact"] for c, v in r["countries"].items()},
        }
    return out


def verdict(result: dict, slack: float) -> list[str]:  # type: ignore[type-arg]
    """The failed checks, as sentences; none when the new model may ship."""
    failed = []
    b_new, b_old = result["bench"]["new"], result["bench"]["old"]
    for region, old in b_old["regions"].items():
        new = b_new["regions"][region]
        for key in ("exact", "exact_o0", "detected"):
            if new[key] < old[key]:
                failed.append(f"bench {region} {key} {new[key]} < {old[key]}")
    if b_new["ms_median"] > b_old["ms_median"] * (1.0 + slack):
        failed.append(f"bench ms_median {b_new['ms_median']} > {b_old['ms_median']} (+{slack:.0%})")
    h_new, h_old = result["heldout"]["new"], result["heldout"]["old"]
    for region, old in h_old.items():
        if h_new.get(region, 0) < old:
            failed.append(f"held-out {region} crops read {h_new.get(region, 0)} < {old}")
    c_new, c_old = result["countries"]["new"], result["countries"]["old"]
    for key in ("exact_mean", "exact_min"):
        if c_new[key] < c_old[key]:
            failed.append(f"countries {key} {c_new[key]} < {c_old[key]}")
    return failed


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m training.compare", description=__doc__.split("\n\n")[0])
    ap.add_argument("new", type=Path, help="the candidate CRNN (.onnx)")
    ap.add_argument("--old", type=Path, default=CRNN_MODEL_PATH, help="the model to beat (default: the product's)")
    ap.add_argument("--bench", type=Path, default=None, help="default ../shared/bench/openalpr-dev")
    ap.add_argument("--data", type=Path, default=None, help="the shared data folder (default ../shared/data)")
    ap.add_argument("--per-country", type=int, default=country_eval.TEST_SET_SIZE)
    ap.add_argument("--slack", type=float, default=0.05, help="how much slower the new model may be (0.05: 5 %%)")
    ap.add_argument(
        "--limit",
        type=int,
        default=None,
        help="at most N bench photos per region and held-out crops per country (a quick look only)",
    )
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    args = ap.parse_args(argv)
    for p in (args.new, args.old):
        if not p.is_file():
            ap.error(f"{p}: no such model")
    data_dir = args.data or default_data_dir()
    root = args.bench or data_dir.parent / "bench" / "openalpr-dev"
    if not root.is_dir():
        ap.error(f"{root}: no benchmark folder (pass --bench)")
    result = {
        "new": str(args.new),
        "old": str(args.old),
        "bench": bench(args.new, args.old, root, args.limit),
        "countries": countries(args.new, args.old, args.per_country, args.data),
        "heldout": heldout(args.new, args.old, args.data, args.limit),
    }
    failed = verdict(result, args.slack)
    result["failed"] = failed
    if args.json:
        print(json.dumps(result))
    else:
        for part in ("bench", "countries", "heldout"):
            print(f"{part}: new {json.dumps(result[part]['new'])}")
            print(f"{' ' * len(part)}  old {json.dumps(result[part]['old'])}")
        print("may ship" if not failed else "does not pass:\n  " + "\n  ".join(failed))
    return 0 if not failed else 1


if __name__ == "__main__":
    sys.exit(main())
