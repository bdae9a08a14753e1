"""The worker-memory benchmark on the real stack: a deployed worker reads one frame and its memory is reported."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from conftest import require
from tests.conftest import ROOT, _database_url

pytestmark = [pytest.mark.stack, pytest.mark.bench]


def test_worker_memory_reports_the_pool_process_after_its_first_frame(transactional_db):
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
        SECRET_KEY="worker-memory-test-secret-key-0123456789-abcdefghijklmnop",
    )
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.worker_memory", "--json"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["frame_done"] and report["reads"] == 1
    # the pool process loaded the models: more than the bare main process, well under a gigabyte
    assert report["main_process"]["rss_mb"] < report["pool_process"]["rss_mb"] < 1024
