"""Time the retention purge of one day of reads: by dropping its partition, and row by row in batches.

    createdb alpr_bench && DATABASE_URL=postgres://postgres@127.0.0.1:5432/alpr_bench python manage.py migrate
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/alpr_bench python -m benchmarks.purge --reads 3000000 --json

PostgreSQL only. Fills one day (400 days back, so past both periods' start) with --reads reads, one frame
each, and an alert on --hit-rate of them; runs the real purge (oversight.retention.purge) by partition; fills the
day again and runs the same purge with ``by_partition=False`` (today's batched delete). Rows carry no files,
so both times are the database's work only (deleting files costs the same per file either way). Run it on
a database of its own: the batched delete finds rows by id in every partition, as it would in production.
"""

from __future__ import annotations

import json as jsonlib
import sys
import time
from datetime import timedelta

from benchmarks import run_command, setup_django

setup_django()

from django.core.management.base import BaseCommand, CommandError  # noqa: E402
from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402

from alerts.models import Alert  # noqa: E402
from cameras.models import Camera  # noqa: E402
from oversight.retention import purge  # noqa: E402
from recognition import partitions  # noqa: E402


class Command(BaseCommand):
    help = "Time the purge of one day of N reads: partition drop against the batched delete (PostgreSQL)."

    def add_arguments(self, parser):
        parser.add_argument("--reads", type=int, default=300_000)
        parser.add_argument("--hit-rate", type=float, default=0.001, help="share of reads with an alert (kept)")
        parser.add_argument("--skip-batched", action="store_true", help="only time the partition drop")
        parser.add_argument("--json", action="store_true")

    def log(self, msg):
        print(msg, file=sys.stderr, flush=True)

    def fill(self, camera: Camera, day, n: int, hit_rate: float) -> None:
        t0 = time.perf_counter()
        partitions.create_day(day)
        start = partitions.bounds(day)[0]
        frames, reads = partitions.name_of(partitions.FRAMES, day), partitions.name_of(partitions.READS, day)
        step = 86400.0 / n
        with connection.cursor() as cur:
            cur.execute("SELECT coalesce(max(id), 0) FROM recognition_read")
            first = cur.fetchone()[0] + 1
            cur.execute(
                "WITH f AS (INSERT INTO cameras_frame (camera_id, image, thumbnail, content_type, width, "
                "height, captured_at, received_at, status, claim_token, error, idempotency_key) "
                "SELECT %s, '', '', 'image/jpeg', 1920, 1080, %s + make_interval(secs => g * %s), "
                "%s + make_interval(secs => g * %s), 'done', '', '', '' FROM generate_series(0, %s - 1) g "
                "RETURNING id, camera_id, captured_at) "
                "INSERT INTO recognition_read (frame_id, camera_id, captured_at, text, confidence, candidates, "
                "box_x, box_y, box_w, box_h, detector_confidence, crop, engine, created_at, country) "
                "SELECT f.id, f.camera_id, f.captured_at, "
                "substr(md5(f.id::text), 1, 3) || mod(f.id, 10000)::text, 0.9, '[]', 10, 20, 120, 40, 0.9, "
                "'', 'bench', f.captured_at, '' FROM f",
                [camera.pk, start, step, start, step, n],
            )
            every = max(1, round(1 / hit_rate)) if hit_rate > 0 else 0
            ids = []
            if every:
                cur.execute(f'SELECT id FROM "{reads}" WHERE id >= %s AND mod(id - %s, %s) = 0', [first, first, every])
                ids = [r[0] for r in cur.fetchall()]
        Alert.objects.bulk_create(
            [Alert(read_id=i, hotlist_name="Bench", entry_plate="BENCH", camera=camera) for i in ids], batch_size=5000
        )
        with connection.cursor() as cur:
            cur.execute(f'ANALYZE "{frames}"')
            cur.execute(f'ANALYZE "{reads}"')
            cur.execute('ANALYZE "alerts_alert"')
        self.log(f"filled {n:,} reads and frames, {len(ids):,} alerts, in {time.perf_counter() - t0:.1f} s")

    def handle(self, *args, reads, hit_rate, skip_batched, json, **opts):
        if not partitions.is_partitioned():
            raise CommandError("bench_purge needs PostgreSQL with partitioned reads (DATABASE_URL, migrate).")
        camera = Camera.objects.filter(name="Bench purge camera").first()
        if camera is None:
            from cameras.services import do_create_camera

            camera, _ = do_create_camera(name="Bench purge camera")
        day = timezone.now().date() - timedelta(days=400)
        result = {"reads": reads, "hit_rate": hit_rate, "day": day.isoformat()}

        self.fill(camera, day, reads, hit_rate)
        t0 = time.perf_counter()
        counts = purge()
        result["partition_s"] = round(time.perf_counter() - t0, 2)
        result["partition_counts"] = {
            k: counts.get(k)
            for k in (
                "non_hit_reads",
                "empty_frames",
                "kept_reads",
                "kept_frames",
                "partitions_dropped",
                "partition_lock_s",
            )
        }
        self.log(f"by partition: {result['partition_s']} s {result['partition_counts']}")

        if not skip_batched:
            self.fill(camera, day, reads, hit_rate)
            t0 = time.perf_counter()
            counts = purge(by_partition=False)
            result["batched_s"] = round(time.perf_counter() - t0, 2)
            result["batched_counts"] = {k: counts.get(k) for k in ("non_hit_reads", "empty_frames")}
            self.log(f"batched: {result['batched_s']} s {result['batched_counts']}")
            result["speedup"] = round(result["batched_s"] / max(result["partition_s"], 1e-3), 1)
        self.stdout.write(jsonlib.dumps(result, indent=2) if json else " ".join(f"{k}={v}" for k, v in result.items()))


if __name__ == "__main__":
    run_command(Command(), "python -m benchmarks.purge")
