"""Fill the database with synthetic reads (if it has fewer than --reads) and time the auditors' searches.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/alpr_bench python -m benchmarks.search --reads 10000000 --json

Searches go through oversight.search (the functions the view uses): first page + capped count.
"""

from __future__ import annotations

import json as jsonlib
import random
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta

from benchmarks import run_command, setup_django

setup_django()

from django.core.management.base import BaseCommand  # noqa: E402
from django.db import connection  # noqa: E402

from cameras.models import Camera, Frame  # noqa: E402
from oversight.search import SearchSpec, capped_count, page_of, search_reads  # noqa: E402
from recognition import partitions  # noqa: E402
from recognition.models import Read  # noqa: E402

LETTERS = "ABCDEFGHJKLMNPRSTUVWXYZ"
DIGITS = "0123456789"
FORMATS = ["LLLDDDD", "LLLDDDD", "DLLLDDD", "LLDDLLL", "LLLDLDD", "DDDLLL", "LLLDDD"]
LOOKALIKE_SWAP = {
    "0": "O",
    "O": "0",
    "D": "0",
    "Q": "0",
    "1": "I",
    "I": "1",
    "2": "Z",
    "Z": "2",
    "5": "S",
    "S": "5",
    "8": "B",
    "B": "8",
    "6": "G",
    "G": "6",
}
START = datetime(2026, 10, 1, tzinfo=UTC)
DAYS = 30
CAMERAS = 12
FRAMES_PER_CAMERA = 2000
BATCH = 250_000
REBUILD_ABOVE = 200_000  # reads to load at least for dropping the secondary indexes and building them after
KINDS = ("exact", "prefix", "infix", "lenient", "camera_time")


def make_plate(rng: random.Random) -> str:
    fmt = rng.choice(FORMATS)
    return "".join(rng.choice(LETTERS) if c == "L" else rng.choice(DIGITS) for c in fmt)


def lookalike_misread(rng: random.Random, plate: str) -> str:
    spots = [i for i, c in enumerate(plate) if c in LOOKALIKE_SWAP]
    if not spots:
        return plate
    i = rng.choice(spots)
    return plate[:i] + LOOKALIKE_SWAP[plate[i]] + plate[i + 1 :]


def pct(values, q):
    values = sorted(values)
    if not values:
        return None
    k = max(0, min(len(values) - 1, round(q / 100 * len(values) + 0.5) - 1))
    return round(values[k], 2)


class Command(BaseCommand):
    help = "Fill N synthetic reads if fewer are stored (COPY on PostgreSQL), then time the read search mix."

    def add_arguments(self, parser):
        parser.add_argument("--reads", type=int, default=1_000_000)
        parser.add_argument("--queries", type=int, default=50, help="searches of each kind")
        parser.add_argument("--seed", type=int, default=11)
        parser.add_argument("--json", action="store_true")

    def log(self, msg):
        print(msg, file=sys.stderr, flush=True)

    # ------------------------------------------------------------------ fill
    def cameras(self):
        from cameras.services import do_create_camera

        cams = list(Camera.objects.filter(name__startswith="Bench camera ").order_by("pk"))
        for i in range(len(cams), CAMERAS):
            cam, _ = do_create_camera(
                name=f"Bench camera {i + 1:02d}",
                latitude=40.70 + 0.013 * (i % 4),
                longitude=-74.02 + 0.017 * (i // 4),
                location=f"Synthetic site {i + 1}",
            )
            cams.append(cam)
        return cams

    def frames(self, cams):
        have = Frame.objects.filter(camera__in=cams).count()
        if have < len(cams) * FRAMES_PER_CAMERA:
            rows = []
            for cam in cams:
                for k in range(FRAMES_PER_CAMERA):
                    at = START + timedelta(seconds=k * DAYS * 86400 / FRAMES_PER_CAMERA)
                    rows.append(
                        Frame(
                            camera=cam,
                            image=f"frames/bench/{cam.pk}-{k}.jpg",
                            content_type="image/jpeg",
                            width=1920,
                            height=1080,
                            captured_at=at,
                            status="done",
                        )
                    )
            Frame.objects.bulk_create(rows, batch_size=5000)
        ids = {}
        for pk, cam_id in Frame.objects.filter(camera__in=cams).values_list("pk", "camera_id"):
            ids.setdefault(cam_id, []).append(pk)
        return ids

    def fill(self, target: int, seed: int):
        have = Read.objects.count()
        if have >= target:
            self.log(f"{have} reads stored, no fill needed")
            return have
        cams = self.cameras()
        if partitions.is_partitioned():  # PostgreSQL: one partition per day of the synthetic month
            for k in range(DAYS):
                partitions.create_day((START + timedelta(days=k)).date())
        frame_ids = self.frames(cams)
        rng = random.Random(seed + have)
        todo = target - have
        pool_size = max(1000, target // 3)
        pool_rng = random.Random(seed)
        pool = [make_plate(pool_rng) for _ in range(pool_size)]
        cam_ids = [c.pk for c in cams]
        pg = connection.vendor == "postgresql"
        saved = []
        t0 = time.perf_counter()
        with connection.cursor() as cur:
            if pg:
                cur.execute("SET maintenance_work_mem = '1GB'")
                cur.execute("SET max_parallel_maintenance_workers = 2")
                if todo > REBUILD_ABOVE:  # load without secondary indexes and FK triggers, rebuild after
                    cur.execute(
                        "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'recognition_read' "
                        "AND indexname <> 'recognition_read_pkey'"
                    )
                    saved = cur.fetchall()
                    for name, _ in saved:
                        cur.execute(f'DROP INDEX "{name}"')
                    cur.execute("SET session_replication_role = replica")
            done = 0
            span = DAYS * 86400
            while done < todo:
                n = min(BATCH, todo - done)
                lines = []
                for _ in range(n):
                    plate = pool[int(pool_size * rng.random() ** 2)]  # skewed: some plates recur often
                    cam = rng.choice(cam_ids)
                    at = START + timedelta(seconds=rng.random() * span)
                    conf = round(0.55 + 0.44 * rng.random(), 3)
                    if rng.random() < 0.1:
                        text = lookalike_misread(rng, plate)
                        cands = f'[["{text}", {conf}], ["{plate}", {round(conf * 0.8, 3)}]]'
                    else:
                        text = plate
                        cands = f'[["{text}", {conf}]]'
                    fid = rng.choice(frame_ids[cam])
                    lines.append(
                        f"{fid}\t{cam}\t{at.isoformat()}\t{text}\t{conf}\t{cands}\t10\t20\t120\t40\t0.9\t"
                        f"crops/bench/{fid}.jpg\tbench\t{at.isoformat()}\t\n"
                    )
                if pg:
                    with cur.copy(
                        "COPY recognition_read (frame_id, camera_id, captured_at, text, confidence, "
                        "candidates, box_x, box_y, box_w, box_h, detector_confidence, crop, engine, "
                        "created_at, country) FROM STDIN"
                    ) as copy:
                        copy.write("".join(lines))
                else:
                    objs = []
                    for line in lines:
                        f = line.rstrip("\n").split("\t")
                        objs.append(
                            Read(
                                frame_id=int(f[0]),
                                camera_id=int(f[1]),
                                captured_at=datetime.fromisoformat(f[2]),
                                text=f[3],
                                confidence=float(f[4]),
                                candidates=jsonlib.loads(f[5]),
                                box_x=10,
                                box_y=20,
                                box_w=120,
                                box_h=40,
                                detector_confidence=0.9,
                                crop=f[11],
                                engine="bench",
                            )
                        )
                    Read.objects.bulk_create(objs, batch_size=5000)
                done += n
                rate = done / (time.perf_counter() - t0)
                self.log(f"loaded {have + done}/{target} reads ({rate:,.0f}/s)")
            if pg:
                cur.execute("SET session_replication_role = DEFAULT")
                for name, definition in saved:
                    t1 = time.perf_counter()
                    # pg_indexes writes a partitioned table's index "ON ONLY" the parent, which would build
                    # nothing on the partitions.
                    cur.execute(definition.replace(" ON ONLY ", " ON ", 1))
                    self.log(f"index {name} rebuilt in {time.perf_counter() - t1:.1f}s")
                if saved and partitions.to_regclass(partitions.READ_TEXTS):  # its trigger was off for the load
                    t1 = time.perf_counter()
                    partitions.add_all_texts()
                    self.log(f"distinct texts added in {time.perf_counter() - t1:.1f}s")
        return have + todo

    # ------------------------------------------------------------------ searches
    def specs(self, rng: random.Random, n: int):
        texts: list[str] = []
        with connection.cursor() as cur:
            if connection.vendor == "postgresql":  # a 1 % page sample: cheap on millions of reads; the same pages
                # for the same seed, so that two runs on one database time the same searches
                cur.execute(
                    "SELECT text FROM recognition_read TABLESAMPLE SYSTEM (1) REPEATABLE (%s) LIMIT %s",
                    [rng.randrange(1 << 30), n * 6],
                )
                texts = [r[0] for r in cur.fetchall()]
            if len(texts) < n * 6:  # a small table: its sample may hold no page at all
                cur.execute("SELECT text FROM recognition_read ORDER BY RANDOM() LIMIT %s", [n * 6])
                texts = [r[0] for r in cur.fetchall()]
        if not texts:
            raise SystemExit("no reads to search")
        rng.shuffle(texts)
        texts = texts * (1 + 6 * n // len(texts))
        cams = (
            list(Camera.objects.filter(reads__isnull=False).distinct().values_list("pk", flat=True))
            if connection.vendor != "postgresql"
            else list(Camera.objects.values_list("pk", flat=True))
        )
        lo = Read.objects.order_by("captured_at").values_list("captured_at", flat=True).first()
        hi = Read.objects.order_by("-captured_at").values_list("captured_at", flat=True).first()
        out = []
        for i in range(n):
            t = texts[i]
            out.append(("exact", SearchSpec(plate=t)))
            out.append(("prefix", SearchSpec(plate=texts[n + i][:3] + "*")))
            u = texts[2 * n + i]
            out.append(("infix", SearchSpec(plate="*" + u[1:5] + "*")))
            out.append(
                (
                    "lenient",
                    SearchSpec(plate=lookalike_misread(rng, texts[3 * n + i]), mode="lenient", lookalikes=1, edits=0),
                )
            )
            start = lo + (hi - lo - timedelta(hours=1)) * rng.random()
            start = start.replace(minute=0, second=0, microsecond=0)
            out.append(
                (
                    "camera_time",
                    SearchSpec(camera=Camera(pk=rng.choice(cams)), start=start, end=start + timedelta(hours=1)),
                )
            )
        rng.shuffle(out)
        return out

    def handle(self, *args, reads, queries, seed, json, **opts):
        total = self.fill(reads, seed)
        with connection.cursor() as cur:
            if connection.vendor == "postgresql":
                self.log("VACUUM ANALYZE ...")
                cur.execute("VACUUM ANALYZE recognition_read")
                if partitions.to_regclass(partitions.READ_TEXTS):
                    cur.execute(f"VACUUM ANALYZE {partitions.READ_TEXTS}")
                cur.execute("VACUUM ANALYZE cameras_frame")
            else:
                cur.execute("ANALYZE")
        rng = random.Random(seed)
        warm = self.specs(random.Random(seed + 1), 3)
        for _, spec in warm:  # a few untimed searches first (connection, caches)
            page_of(search_reads(spec=spec), 1)
            capped_count(search_reads(spec=spec))
        times = {k: [] for k in KINDS}
        found = {k: [] for k in KINDS}
        slowest = []
        for kind, spec in self.specs(rng, queries):
            t0 = time.perf_counter()
            qs = search_reads(spec=spec)
            page_of(qs, 1)
            count, _ = capped_count(qs)
            times[kind].append((time.perf_counter() - t0) * 1000)
            found[kind].append(count)
            slowest.append((times[kind][-1], kind, spec.plate or f"camera {spec.camera.pk} {spec.start:%Y-%m-%d %H}h"))
        every = [t for v in times.values() for t in v]
        result = {
            "reads": total,
            "database": connection.vendor,
            "day_partitions": len(partitions.day_partitions()) if partitions.is_partitioned() else 0,
            "queries": len(every),
            "p50_ms": pct(every, 50),
            "p95_ms": pct(every, 95),
            "max_ms": round(max(every), 2),
            "slowest": [{"ms": round(ms, 2), "kind": k, "query": q} for ms, k, q in sorted(slowest, reverse=True)[:5]],
            "kinds": {
                k: {
                    "p50_ms": pct(v, 50),
                    "p95_ms": pct(v, 95),
                    "max_ms": round(max(v), 2),
                    "median_results": statistics.median(found[k]),
                }
                for k, v in times.items()
            },
        }
        if json:
            self.stdout.write(jsonlib.dumps(result, indent=2))
        else:
            self.stdout.write(f"reads {total}  p50_ms {result['p50_ms']}  p95_ms {result['p95_ms']}")
            for k, v in result["kinds"].items():
                self.stdout.write(
                    f"  {k:12s} p50_ms {v['p50_ms']:8.2f}  p95_ms {v['p95_ms']:8.2f}  "
                    f"max_ms {v['max_ms']:8.2f}  median results {v['median_results']}"
                )


if __name__ == "__main__":
    run_command(Command(), "python -m benchmarks.search")
