"""A worker's memory after its first frame: one Celery worker reads one rendered frame.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/alpr_bench REDIS_URL=redis://127.0.0.1:6379/3 \\
        python -m benchmarks.worker_memory --json

Starts ``celery -A config worker --concurrency 1`` (the deployed command, one
pool process), stores one rendered vehicle scene for a new camera through the
ingest service, waits until the worker has read it, and prints the resident
memory (RSS, and its peak) of the pool process that loaded the models and read
the frame, and of the worker's main process. Needs PostgreSQL and Redis, like
production; the frame's rows are left in that database.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import tempfile
import time
from pathlib import Path

from benchmarks import worker_command
from benchmarks.load import Child, stop_children


def memory_mb(pid: int) -> dict[str, float]:
    """VmRSS and VmHWM (peak RSS) of a process, in MB (Linux /proc)."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            fields[key] = round(int(value.split()[0]) / 1024, 1)
    return {"rss_mb": fields["VmRSS"], "peak_mb": fields["VmHWM"]}


def children(pid: int) -> list[int]:
    out: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        out += [int(c) for c in (task / "children").read_text().split()]
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.worker_memory", description=__doc__.split("\n\n")[0])
    parser.add_argument("--timeout", type=float, default=300, help="seconds to wait for the worker and the frame")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    if not (os.environ.get("DATABASE_URL", "").startswith("postgres") and os.environ.get("REDIS_URL")):
        parser.error("DATABASE_URL (PostgreSQL) and REDIS_URL must be set: the worker runs as deployed")
    var_dir = Path(tempfile.mkdtemp(prefix="alpr-worker-memory-"))
    env = os.environ
    env.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    env.setdefault("DEBUG", "0")
    env.setdefault("SECRET_KEY", "worker-memory-" + secrets.token_urlsafe(48))
    env.setdefault("ALLOWED_HOSTS", "127.0.0.1,localhost")
    env["ALPR_VAR_DIR"] = str(var_dir)
    env["MEDIA_ROOT"] = str(var_dir / "media")
    env.setdefault("ALPR_INSTANCE", f"worker-memory-{os.getpid()}")  # a task queue of its own on this Redis
    import django

    django.setup()
    import cv2
    from django.core.management import call_command
    from django.utils import timezone

    from cameras.ingest import inspect_image
    from cameras.models import Frame
    from cameras.services import do_accept_frame, do_create_camera
    from recognition.vision.synth import render_vehicle_scene

    call_command("migrate", interactive=False, verbosity=0)
    worker = Child(
        "worker",
        worker_command(f"worker-memory-{os.getpid()}@%h"),
        dict(env),
        var_dir,
    )
    try:
        if not worker.wait_for("ready.", args.timeout):
            raise SystemExit(f"the worker did not start\n{worker.tail()}")
        image, _ = render_vehicle_scene("KDT4421", seed=1)
        data = cv2.imencode(".jpg", image, [int(cv2.IMWRITE_JPEG_QUALITY), 90])[1].tobytes()
        camera, _ = do_create_camera(name=f"Worker memory {secrets.token_hex(3)}", region="us")
        frame, _ = do_accept_frame(camera, data, inspect_image(data, max_bytes=10**8, max_pixels=10**8), timezone.now())
        deadline = time.monotonic() + args.timeout
        while Frame.objects.filter(pk=frame.pk, status=Frame.Status.DONE).count() == 0:
            if time.monotonic() > deadline or worker.popen.poll() is not None:
                raise SystemExit(f"the frame was not read\n{worker.tail()}")
            time.sleep(0.2)
        pool = children(worker.popen.pid)
        report = {
            "frame_done": True,
            "pool_process": memory_mb(pool[0]) if pool else None,
            "main_process": memory_mb(worker.popen.pid),
            "reads": frame.reads.count(),
        }
    finally:
        stop_children()
    print(json.dumps(report) if args.json else "\n".join(f"{k}: {v}" for k, v in report.items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
