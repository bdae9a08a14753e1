"""Database connections stay bounded under Daphne: a burst of concurrent posts on the real server
(production database settings, PostgreSQL) is answered without a 500, and the web process never
holds more connections than its pool allows, during the burst or after it."""

from __future__ import annotations

import shutil
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from conftest import jpeg_bytes, require
from tests.conftest import Proc, free_port, stack_env

pytestmark = [pytest.mark.stack]

BURST = 120  # concurrent posts


def _db_connections(pid: int) -> int:
    import psutil
    from django.conf import settings

    port = int(settings.DATABASES["default"].get("PORT") or 5432)
    return sum(1 for c in psutil.Process(pid).net_connections(kind="tcp") if c.raddr and c.raddr.port == port)


def _server_connections(database: str) -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = %s", [database])
        return cursor.fetchone()[0]


def test_a_burst_of_posts_keeps_daphne_database_connections_bounded(private_redis, transactional_db):
    import numpy as np
    import requests
    from django.conf import settings
    from django.db import connection

    from cameras.models import Frame
    from cameras.services import do_create_camera

    require(connection.vendor == "postgresql", "DATABASE_URL (PostgreSQL) is not set")
    var_dir = tempfile.mkdtemp(prefix="alpr-conns-")
    env = stack_env(var_dir, f"conns-{free_port()}", REDIS_URL=private_redis.url)
    env.pop("DB_CONN_MAX_AGE", None)  # the production database settings
    port = free_port()
    web = Proc(
        "daphne", [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "config.asgi:application"], env
    )
    camera, token = do_create_camera(name="Burst camera", region="us")
    jpeg = jpeg_bytes(np.full((240, 320, 3), 128, np.uint8))
    peak = [0]
    stop = threading.Event()

    def sample():
        while not stop.is_set():
            peak[0] = max(peak[0], _db_connections(web.popen.pid))
            time.sleep(0.02)

    def post(i: int):
        try:
            response = requests.post(
                f"http://127.0.0.1:{port}/api/frames/",
                headers={"Authorization": f"Token {token}"},
                files={"image": ("f.jpg", jpeg, "image/jpeg")},
                timeout=60,
            )
            return response.status_code
        except requests.RequestException as exc:
            return repr(exc)[:100]

    try:
        assert web.wait_for_line("Listening on TCP address", 60), web.tail()
        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        started = time.monotonic()
        with ThreadPoolExecutor(BURST) as pool:
            answers = list(pool.map(post, range(BURST)))
        took = time.monotonic() - started
        time.sleep(1)
        stop.set()
        sampler.join(5)
        after = _db_connections(web.popen.pid)
        on_server = _server_connections(connection.settings_dict["NAME"])
        limit = settings.DB_POOL_MAX_SIZE
        counts = {a: answers.count(a) for a in set(answers)}
        print(
            f"\n{BURST} concurrent posts in {took:.1f} s: answers {counts}; Daphne's database connections: "
            f"peak {peak[0]}, 1 s after {after} (pool max {limit}); on the server for the test database: {on_server}"
        )
        assert counts == {202: BURST}, f"{counts}\n{web.tail(80)}"
        assert Frame.objects.filter(camera=camera).count() == BURST
        assert 0 < peak[0] <= limit, f"Daphne held {peak[0]} connections (limit {limit})"
        assert after <= limit
    finally:
        stop.set()
        web.stop()
        shutil.rmtree(var_dir, ignore_errors=True)
