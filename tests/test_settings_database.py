"""The database settings read from the environment: pooled by default on PostgreSQL, persistent
connections only with the pool off."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.conftest import ROOT

PRINT = (
    "import json, config.settings as s; d = s.DATABASES['default']; "
    "print(json.dumps({'age': d['CONN_MAX_AGE'], 'pool': d.get('OPTIONS', {}).get('pool')}))"
)


def _settings(**env: str) -> subprocess.CompletedProcess:
    full = {k: v for k, v in os.environ.items() if not k.startswith("DB_")}
    full.update(
        {
            "DEBUG": "0",
            "SECRET_KEY": "x" * 50,
            "ALLOWED_HOSTS": "localhost",
            "DATABASE_URL": "postgres://alpr@127.0.0.1:5432/alpr",
            **env,
        }
    )
    return subprocess.run(
        [sys.executable, "-c", PRINT], cwd=ROOT, env=full, capture_output=True, text=True, check=False, timeout=60
    )


def test_postgres_connections_come_from_a_bounded_pool_by_default():
    done = _settings()
    assert done.returncode == 0, done.stderr
    values = json.loads(done.stdout)
    assert values["age"] == 0 and values["pool"]["max_size"] == 10 and values["pool"]["min_size"] == 0


def test_persistent_connections_need_the_pool_turned_off():
    refused = _settings(DB_CONN_MAX_AGE="60")
    assert refused.returncode != 0 and "DB_POOL_MAX_SIZE=0" in refused.stderr
    done = _settings(DB_CONN_MAX_AGE="60", DB_POOL_MAX_SIZE="0")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"age": 60, "pool": None}
