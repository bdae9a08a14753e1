"""A short run of the load test (benchmarks/load.py) on the real stack: nothing accepted is lost and every
listed frame's alert reaches the officer's websocket."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from conftest import require
from tests.conftest import ROOT, _database_url

pytestmark = [pytest.mark.stack, pytest.mark.bench]


def test_loadtest_smoke_run_loses_nothing(transactional_db):
    from django.conf import settings

    require(bool(os.environ.get("DATABASE_URL")) and settings.DATABASES["default"]["ENGINE"].endswith("postgresql"),
            "DATABASE_URL (PostgreSQL) is not set")
    require(bool(os.environ.get("REDIS_URL")), "REDIS_URL is not set")
    env = dict(os.environ, DATABASE_URL=_database_url(), DJANGO_SETTINGS_MODULE="config.settings", DEBUG="0",
               SECRET_KEY="loadtest-smoke-secret-key-0123456789-abcdefghijklmnop",
               ALLOWED_HOSTS="127.0.0.1,localhost")
    args = [sys.executable, "-m", "benchmarks.load", "--cameras", "2", "--fps", "1", "--seconds", "8",
            "--workers", "1", "--drain", "30", "--hot-pool", "3", "--cold-pool", "4", "--json"]
    try:
        done = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=150)
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"the load test did not finish in 150 s\n{(exc.stderr or b'')[-4000:]!r}")
    assert done.stdout.strip(), f"no result (exit {done.returncode})\n{done.stderr[-6000:]}"
    result = json.loads(done.stdout.strip().splitlines()[-1])
    print("\nloadtest smoke:", result)
    context = f"{result}\n{done.stderr[-3000:]}"
    assert result["sent"] == 16 and result["accepted"] == 16, context
    assert result["lost"] == 0 and result["processed"] == result["accepted"], context
    assert result["alerts_expected"] == 4 and result["alerts_received"] == result["alerts_expected"], context
    assert result["alerts_unexpected"] == 0, context
    assert result["p95_ms"] is not None and result["fps"] > 0, context
    assert done.returncode == 0, context
