"""How many reads per second the store step sustains into PostgreSQL, with the models taken out.

    DATABASE_URL=postgres://... python -m benchmarks.store --processes 2 --frames 6000 [--batch 64] [--json]

Everything a worker does for a frame except the models: claim the frame, load and decode its
(tiny) image, the thumbnail and crop files, the Read rows, event assignment, hotlist matching
(against ``--entries`` listed plates) and alerts, in ``--processes`` processes that each call
``recognition.services.do_process_frame`` in a loop, as Celery workers would. The pipeline is
replaced by one that returns ``--reads-per-frame`` plates instantly (the frame's own: each frame's
tiny image carries its number). ``--batch N`` is the workers' FRAME_BATCH_SIZE (default: as set,
else 64): a process that finds other frames queued takes up to N at once (as many as it prepares in
FRAME_BATCH_MS), as workers do, and stores them in one transaction; the frames it took from the
others' share are then skipped by them, as their tasks would be. ``--batch 1``: one frame at a time.
Each camera sees a vehicle in 3 consecutive frames half a second apart (one plate event per
vehicle); every ``--hot-every``-th vehicle carries a listed plate and raises an alert. Cameras are
shared out between the processes. Media go to a new folder in ``--media-dir`` (default ``var/``,
beside the default MEDIA_ROOT; or to the object store if S3_BUCKET is set); with REDIS_URL the alerts are broadcast through Redis.

Printed: reads_per_s and frames_per_s (all processes, from a common start to the last frame),
ms_per_frame (per process), queries_per_frame, the CPU time per frame of the worker processes and
of their PostgreSQL backends (read from /proc, so PostgreSQL must run on this machine; on a busy
machine these say more than the rates), and the database's growth per read (tables and their
indexes: reads, frames, events, alerts), and the plate events and alerts made (the same for any
``--batch``). ``--profile`` prints the first process's profile.
The rows it makes stay in the database: use a database of the benchmark's own.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import random
import secrets
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VEHICLE_FRAMES = 3  # frames in which each vehicle is seen
FRAME_GAP = timedelta(milliseconds=500)
GROWING_TABLES = ("recognition_read", "cameras_frame", "recognition_plateevent", "alerts_alert", "alerts_alertevent")


def _setup(media_root: str) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("DEBUG", "0")
    os.environ.setdefault("SECRET_KEY", "store-bench-" + "x" * 40)
    os.environ.setdefault("ALLOWED_HOSTS", "127.0.0.1")
    os.environ["MEDIA_ROOT"] = media_root
    os.environ.setdefault("ALPR_INSTANCE", f"store-bench-{os.getppid()}")
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    import django

    django.setup()


class InstantPipeline:
    """Stands in for the models: returns the plates it is told to, at once."""

    def __init__(self, texts: list[list[str]]):
        import numpy as np

        self.detector = type("D", (), {"name": "bench"})()
        self.ocr = type("O", (), {"name": "instant"})()
        self.texts = texts  # per frame number
        self.crop = np.full((24, 96, 3), 200, np.uint8)

    def read(self, image, region=None):
        from recognition.vision.types import Box, Candidate, PlateRead

        b, g, r = (int(v) for v in image[0, 0])
        return [
            PlateRead(
                box=Box(10 + 120 * i, 10, 96, 24),
                detector_confidence=0.9,
                text=text,
                confidence=0.9,
                candidates=(Candidate(text, 0.9), Candidate(text[:-1] + "8", 0.05)),
                crop=self.crop,
                ocr_engine="instant",
            )
            for i, text in enumerate(self.texts[b | g << 8 | r << 16])
        ]


def _frame_png(number: int) -> bytes:
    """A tiny image whose first pixel carries the frame's number (PNG: exactly)."""
    import cv2
    import numpy as np

    image = np.full((48, 64, 3), 128, np.uint8)
    image[0, 0] = (number & 255, number >> 8 & 255, number >> 16 & 255)
    ok, png = cv2.imencode(".png", image)
    assert ok
    return png.tobytes()


def _table_bytes() -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            # a partitioned table holds nothing itself: its partitions (and theirs) do
            "SELECT sum(pg_total_relation_size(t.relid)) FROM pg_class c, pg_partition_tree(c.oid) t"
            " WHERE c.relname = ANY(%s)",
            [list(GROWING_TABLES)],
        )
        return int(cursor.fetchone()[0] or 0)


def _cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of a process on this machine (a PostgreSQL backend), from /proc."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return None


def _worker(
    media_root: str,
    plan: list[int],
    texts: list[list[str]],
    batch: int,
    ready,
    start,
    results,
    index: int,
    profile: bool,
) -> None:
    _setup(media_root)
    from django.db import connection

    import recognition.services as services
    from hotlist.matcher import refresh

    pipeline = InstantPipeline(texts)
    services.pipeline = lambda: pipeline
    refresh(force=True)  # the hotlist index is built before timing, as a worker does at its first frame
    queries = [0]

    def count(execute, sql, params, many, context):
        queries[0] += 1
        return execute(sql, params, many, context)

    profiler = None
    if profile:
        import cProfile

        # BENCH_CLOCK=cpu: CPU time (what the process computes) instead of wall time (with its waits)
        profiler = cProfile.Profile(time.process_time) if os.environ.get("BENCH_CLOCK") == "cpu" else cProfile.Profile()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        backend = cursor.fetchone()[0]
    ready.put(index)
    start.wait()
    began = time.perf_counter()
    cpu_began, pg_began = time.process_time(), _cpu_seconds(backend)
    reads = 0
    with connection.execute_wrapper(count):
        if profiler:
            profiler.enable()
        for frame_id in plan:  # each call stands for one task, with a task id of its own
            reads += len(services.do_process_frame(frame_id, claim_token=f"bench-{index}-{frame_id}", batch=batch))
        if profiler:
            profiler.disable()
    elapsed = time.perf_counter() - began
    cpu = time.process_time() - cpu_began
    pg_ended = _cpu_seconds(backend)
    pg_cpu = pg_ended - pg_began if pg_began is not None and pg_ended is not None else None
    if profiler:
        import io
        import pstats

        out = io.StringIO()
        stats = pstats.Stats(profiler, stream=out).sort_stats(os.environ.get("BENCH_SORT", "cumulative"))
        stats.print_stats(35)
        if os.environ.get("BENCH_CALLEES"):  # e.g. do_assign_events: what the functions of that name spent it on
            stats.print_callees(os.environ["BENCH_CALLEES"])
        print(out.getvalue(), file=sys.stderr)
    results.put(
        {
            "process": index,
            "frames": len(plan),
            "reads": reads,
            "seconds": elapsed,
            "queries": queries[0],
            "ended": time.time(),
            "cpu": cpu,
            "pg_cpu": pg_cpu,
        }
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.store", description=__doc__.split("\n\n")[0])
    parser.add_argument("--processes", type=int, default=2, help="worker processes; default 2")
    parser.add_argument("--frames", type=int, default=6000, help="frames in all; default 6000")
    parser.add_argument("--reads-per-frame", type=int, default=1, help="plates in each frame (0 or more); default 1")
    parser.add_argument("--cameras", type=int, default=40, help="cameras; default 40")
    parser.add_argument("--entries", type=int, default=10000, help="listed plates; default 10000")
    parser.add_argument("--hot-every", type=int, default=50, help="every Nth vehicle is listed; default 50")
    parser.add_argument(
        "--batch",
        type=int,
        default=None,
        help="frames a process may take and store at once; default FRAME_BATCH_SIZE (64); 1: one at a time",
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--media-dir",
        type=Path,
        default=None,
        help="folder for the run's media folder (default var/ of the checkout, where MEDIA_ROOT is by default)",
    )
    parser.add_argument("--profile", action="store_true", help="print the first process's cProfile (slower)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    if args.batch is None:
        args.batch = int(os.environ.get("FRAME_BATCH_SIZE") or 64)
    if min(args.processes, args.frames, args.cameras, args.hot_every, args.batch) < 1 or args.reads_per_frame < 0:
        parser.error("every count must be positive (--reads-per-frame may be 0: frames without plates)")
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        raise SystemExit(
            "store_bench: set DATABASE_URL to a PostgreSQL database of the benchmark's own, e.g.\n"
            "  DATABASE_URL=postgres://postgres@127.0.0.1:5432/alpr_bench python -m benchmarks.store"
        )
    media_dir = args.media_dir or ROOT / "var"
    media_dir.mkdir(parents=True, exist_ok=True)
    media_root = tempfile.mkdtemp(prefix="alpr-store-bench-", dir=media_dir)
    _setup(media_root)
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage
    from django.core.management import call_command
    from django.db import connections

    from cameras.models import Frame
    from cameras.services import do_create_camera
    from hotlist.models import Entry, Hotlist
    from recognition.vision.synth import random_plate_text

    call_command("migrate", interactive=False, verbosity=0)
    rng = random.Random(args.seed)
    run = time.strftime("%Y%m%d-%H%M%S-") + secrets.token_hex(2)
    listed = sorted({random_plate_text(rng.randrange(10**9)) for _ in range(args.entries)})
    # the lists of earlier runs in this database are switched off: each run matches its own --entries
    Hotlist.objects.filter(name__startswith="Store bench ", active=True).update(
        active=False, updated_at=datetime.now(UTC)
    )
    hotlist = Hotlist.objects.create(name=f"Store bench {run}")
    Entry.objects.bulk_create(
        [Entry(hotlist=hotlist, plate=p, plate_raw=p, reason="Store bench") for p in listed], batch_size=5000
    )
    cameras = [
        do_create_camera(name=f"Store bench {run} camera {i + 1}", region="us")[0].pk for i in range(args.cameras)
    ]
    per_camera = -(-args.frames // args.cameras)
    base = datetime.now(UTC) - timedelta(days=1)
    frames: list = []
    texts: list[list[str]] = []  # per frame number
    owners: list[int] = []  # the process whose share the frame is in
    seen = 0  # vehicles so far: every hot_every-th one is listed
    for c, camera_id in enumerate(cameras):
        vehicles = []
        for _ in range(-(-per_camera // VEHICLE_FRAMES)):
            plates = []
            for _ in range(args.reads_per_frame):
                seen += 1
                plates.append(
                    listed[rng.randrange(len(listed))]
                    if seen % args.hot_every == 0
                    else random_plate_text(rng.randrange(10**9))
                )
            vehicles.append(plates)
        for k in range(per_camera):
            number = len(frames)
            image = default_storage.save(f"frames/bench/{run}-{number}.png", ContentFile(_frame_png(number)))
            frames.append(
                Frame(
                    camera_id=camera_id,
                    image=image,
                    content_type="image/png",
                    width=64,
                    height=48,
                    captured_at=base + k * FRAME_GAP,
                )
            )
            owners.append(c % args.processes)
            texts.append(vehicles[k // VEHICLE_FRAMES])
    # the frames' days get their partitions, as beat makes them for frames that come in on time (a
    # new database has none for yesterday: its frames would all go to the partition for stray ones)
    from recognition.partitions import create_day, is_partitioned

    if is_partitioned():
        for day in sorted({f.captured_at.date() for f in frames}):
            create_day(day)
    frames = Frame.objects.bulk_create(frames, batch_size=5000)
    plans: list[list[int]] = [[] for _ in range(args.processes)]
    for frame, owner in zip(frames, owners):
        plans[owner].append(frame.pk)
    size_before = _table_bytes()
    connections.close_all()

    ctx = mp.get_context("spawn")
    ready, start, results = ctx.Queue(), ctx.Event(), ctx.Queue()
    procs = [
        ctx.Process(
            target=_worker,
            args=(media_root, plan, texts, args.batch, ready, start, results, i, args.profile and i == 0),
        )
        for i, plan in enumerate(plans)
    ]
    for p in procs:
        p.start()
    for _ in procs:  # every process has loaded Django and built its hotlist index before the clock starts
        ready.get(timeout=300)
    began = time.time()
    start.set()
    done = [results.get(timeout=3600) for _ in procs]
    for p in procs:
        p.join(30)
    wall = max(d["ended"] for d in done) - began
    frames_done = sum(d["frames"] for d in done)
    reads = sum(d["reads"] for d in done)
    size_after = _table_bytes()
    from alerts.models import Alert
    from recognition.models import PlateEvent

    report = {
        "reads_per_s": round(reads / wall, 1),
        "frames_per_s": round(frames_done / wall, 1),
        "reads": reads,
        "frames": frames_done,
        "alerts": Alert.objects.filter(hotlist=hotlist).count(),
        "events": PlateEvent.objects.filter(camera_id__in=cameras).count(),
        "batch": args.batch,
        "seconds": round(wall, 2),
        "processes": args.processes,
        "reads_per_frame": args.reads_per_frame,
        "ms_per_frame": [
            round(1000 * d["seconds"] / max(1, d["frames"]), 2) for d in sorted(done, key=lambda d: d["process"])
        ],
        "queries_per_frame": round(sum(d["queries"] for d in done) / max(1, frames_done), 1),
        "worker_cpu_ms_per_frame": round(1000 * sum(d["cpu"] for d in done) / max(1, frames_done), 2),
        "postgres_cpu_ms_per_frame": (
            round(1000 * sum(d["pg_cpu"] for d in done) / max(1, frames_done), 2)
            if all(d["pg_cpu"] is not None for d in done)
            else None
        ),
        "db_bytes_per_read": round((size_after - size_before) / reads) if reads else None,
        "db_bytes_per_frame": round((size_after - size_before) / max(1, frames_done)),
        "entries": len(listed),
        "cameras": args.cameras,
        "storage": "object store" if os.environ.get("S3_BUCKET") else "local disk",
        "redis": bool(os.environ.get("REDIS_URL")),
        "cpu_count": os.cpu_count(),
    }
    import shutil

    shutil.rmtree(media_root, ignore_errors=True)
    if args.json:
        print(json.dumps(report))
    else:
        for key, value in report.items():
            print(f"{key:20s} {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
