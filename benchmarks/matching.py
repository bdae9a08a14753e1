"""Benchmark of lenient hotlist matching (plain Python, no database).

    python -m benchmarks.matching --entries 1000000 --reads 20000 --json

Generates N synthetic plates in realistic formats (US, EU, BR), M reads (exact
hits, look-alike misreads, one-edit misreads, random plates; each read has 1-3
OCR candidates), builds the index (``build_s``), times ``match`` for every
read on one thread (``p50_us``/``p99_us``), records peak RSS after the build
(``rss_mb``, VmHWM), and checks the index against the brute-force scan on a
subset of the reads (``agree``, ``brute_force_p50_us``).
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import sys
import time

import numpy as np

from hotlist.matching import DEFAULT_LOOKALIKES, HotlistIndex, MatchPolicy

LETTERS = np.frombuffer(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ", dtype=np.uint8)
DIGITS = np.frombuffer(b"0123456789", dtype=np.uint8)
ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

# (format, share): A = letter, 9 = digit
FORMATS = [
    ("AAA9999", 0.22),  # US (e.g. TX, NY), DE-like
    ("9AAA999", 0.12),  # US (CA)
    ("AAA999", 0.08),  # US older
    ("999AAA", 0.05),  # US older
    ("AA99999", 0.04),  # US
    ("AA999", 0.03),  # US short
    ("AAAA999", 0.04),  # US
    ("9AAA9999", 0.02),  # US 8 chars
    ("AA999AA", 0.10),  # FR / IT
    ("AA99AAA", 0.08),  # UK
    ("99AAA9", 0.04),  # NL
    ("AAA9A99", 0.14),  # BR Mercosul
    ("AAA9999", 0.04),  # BR old
]


def random_plates(n: int, rng: np.random.Generator) -> list[str]:
    shares = np.array([s for _, s in FORMATS])
    counts = rng.multinomial(n, shares / shares.sum())
    out: list[str] = []
    for (fmt, _), cnt in zip(FORMATS, counts):
        if not cnt:
            continue
        mat = np.empty((cnt, len(fmt)), dtype=np.uint8)
        for j, c in enumerate(fmt):
            pool = LETTERS if c == "A" else DIGITS
            mat[:, j] = pool[rng.integers(0, len(pool), cnt)]
        out.extend(mat.view(f"S{len(fmt)}").ravel().astype(f"U{len(fmt)}").tolist())
    order = rng.permutation(len(out))
    return [out[i] for i in order]


def _lookalike_swap(text: str, rng, count: int) -> str:
    chars = list(text)
    spots = [i for i, c in enumerate(chars) if any(c in g for g in DEFAULT_LOOKALIKES.groups)]
    rng.shuffle(spots)
    for i in spots[:count]:
        group = next(g for g in DEFAULT_LOOKALIKES.groups if chars[i] in g)
        chars[i] = rng.choice([c for c in group if c != chars[i]])
    return "".join(chars)


def _edit(text: str, rng) -> str:
    i = int(rng.integers(0, len(text)))
    op = rng.integers(0, 3)
    if op == 0:
        return text[:i] + ALNUM[rng.integers(0, 36)] + text[i + 1 :]
    if op == 1:
        return text[:i] + ALNUM[rng.integers(0, 36)] + text[i:]
    return text[:i] + text[i + 1 :] if len(text) > 2 else text


def make_reads(plates: list[str], m: int, rng) -> list[list[tuple[str, float]]]:
    randoms = random_plates(m, rng)
    reads = []
    for k in range(m):
        u = rng.random()
        base = plates[int(rng.integers(0, len(plates)))]
        if u < 0.20:
            top = base
        elif u < 0.45:
            top = _lookalike_swap(base, rng, 1)
        elif u < 0.55:
            top = _lookalike_swap(base, rng, 2)
        elif u < 0.70:
            top = _edit(base, rng)
        else:
            top = randoms[k]
        cands = [(top, round(float(0.6 + 0.4 * rng.random()), 3))]
        for _ in range(int(rng.integers(0, 3))):  # 0-2 alternative readings
            alt = _lookalike_swap(top, rng, 1) if rng.random() < 0.7 else _edit(top, rng)
            cands.append((alt, round(float(cands[-1][1] * rng.random()), 3)))
        reads.append(cands)
    return reads


def rss_mb() -> tuple[float, float]:
    """(peak, current) resident set size in MiB from /proc/self/status."""
    peak = cur = float("nan")
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    peak = int(line.split()[1]) / 1024
                elif line.startswith("VmRSS:"):
                    cur = int(line.split()[1]) / 1024
    except OSError:
        import resource

        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return peak, cur


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.matching", description=__doc__.split("\n")[0])
    ap.add_argument("--entries", type=int, default=100_000)
    ap.add_argument("--reads", type=int, default=2_000)
    ap.add_argument("--lookalike", type=int, default=2, help="look-alike budget (0-2)")
    ap.add_argument("--edit", type=int, default=1, help="edit budget (0-2)")
    ap.add_argument("--wildcards", type=int, default=20, help="wildcard entries added to the list")
    ap.add_argument("--scan-reads", type=int, default=100, help="reads also checked by brute force")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--json", action="store_true", help="print one JSON object only")
    args = ap.parse_args(argv)

    rng = np.random.default_rng(args.seed)
    policy = MatchPolicy.lenient(args.lookalike, args.edit)
    plates = random_plates(args.entries, rng)
    wild = []
    for p in random_plates(args.wildcards, rng):
        a = int(rng.integers(1, len(p) - 2))
        wild.append(p[:a] + "*" + p[a + 1 : -2] + "?" + p[-1])
    reads = make_reads(plates, args.reads, rng)
    gc.collect()

    def rows():
        for i, p in enumerate(plates):
            yield (i, p, policy)
        for j, w in enumerate(wild):
            yield (len(plates) + j, w, policy)

    t0 = time.perf_counter()
    index = HotlistIndex.build(rows())
    build_s = time.perf_counter() - t0
    gc.collect()
    gc.freeze()  # long-lived objects: keep the cyclic GC from rescanning them during matching
    peak, cur = rss_mb()

    for cands in reads[:50]:  # warm-up
        index.match(cands)
    times = []
    hits = 0
    n_matches = 0
    for cands in reads:
        t = time.perf_counter_ns()
        found = index.match(cands)
        times.append((time.perf_counter_ns() - t) / 1000)
        hits += bool(found)
        n_matches += len(found)

    scanner = index.scanner(prefilter=True)
    scan_times = []
    agree = 0
    step = max(1, len(reads) // max(1, args.scan_reads))
    subset = reads[::step][: args.scan_reads]
    for cands in subset:
        t = time.perf_counter_ns()
        expected = scanner.match(cands)
        scan_times.append((time.perf_counter_ns() - t) / 1000)
        agree += index.match(cands) == expected

    result = {
        "entries": args.entries,
        "wildcard_entries": len(wild),
        "reads": args.reads,
        "candidates_per_read": round(sum(len(r) for r in reads) / max(1, len(reads)), 3),
        "lookalike_budget": args.lookalike,
        "edit_budget": args.edit,
        "build_s": round(build_s, 3),
        "index_keys": index.key_count,
        "index_mb": round(index.nbytes / 2**20, 1),
        "rss_mb": round(peak, 1),
        "rss_now_mb": round(cur, 1),
        "p50_us": round(statistics.median(times), 1),
        "p90_us": round(pct(times, 0.90), 1),
        "p99_us": round(pct(times, 0.99), 1),
        "max_us": round(max(times), 1),
        "mean_us": round(statistics.fmean(times), 1),
        "reads_with_hit": round(hits / max(1, len(reads)), 4),
        "matches_per_read": round(n_matches / max(1, len(reads)), 3),
        "brute_force_reads": len(subset),
        "brute_force_p50_us": round(statistics.median(scan_times), 1) if scan_times else None,
        "agree": agree / len(subset) if subset else None,
        "seed": args.seed,
        "python": sys.version.split()[0],
    }
    if args.json:
        print(json.dumps(result))
    else:
        for k, v in result.items():
            print(f"{k:>22}: {v}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
