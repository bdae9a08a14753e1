"""`make demo` on the embedded defaults: real reads and alerts from rendered frames."""

import os
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import free_port

ROOT = Path(__file__).resolve().parent.parent.parent


def test_demo_feed_produces_real_reads_and_an_alert(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE")}
    env.update({"DEBUG": "1", "ALPR_VAR_DIR": str(tmp_path), "PYTHONUNBUFFERED": "1"})
    migrate = subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v0"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert migrate.returncode == 0, migrate.stderr
    run = subprocess.run(
        [sys.executable, "manage.py", "run_demo", "--frames", "4", "--interval", "0.2", "--port", str(free_port())],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    out = run.stdout + run.stderr
    assert run.returncode == 0, out
    assert re.search(r"demo-officer\s+password \S{10,}", out)
    assert out.count("-> 202") == 4, out
    db = sqlite3.connect(tmp_path / "db.sqlite3")
    reads = [r[0] for r in db.execute("SELECT text FROM recognition_read")]
    sent = re.findall(r"feed: frame \d+ with plate (\w+) -> 202", out)
    # The real models read what the project rendered (allowing one miss in four frames).
    assert sum(plate in reads for plate in sent) >= 3, (sent, reads)
    alerts = [r[0] for r in db.execute("SELECT entry_plate FROM alerts_alert")]
    hot = re.search(r"Demo hotlist plates: (.*)", out).group(1).split(", ")
    assert alerts and set(alerts) <= set(hot)


@pytest.mark.django_db
def test_the_demo_feed_keeps_alerting_for_as_long_as_it_runs(
    client, camera_and_token, fake_pipeline, django_capture_on_commit_callbacks, settings
):
    """Twelve minutes of the demo's frames at its default interval (4 s), read as rendered: its listed
    plates come back every 48 s and alert again once the window (120 s) has passed since their alert."""
    import random
    from datetime import timedelta

    from django.utils import timezone

    from alerts.models import Alert, Sighting
    from alerts.tests.test_workflow import post
    from frontend.demo import hot_plates, plate_for_frame
    from hotlist.models import Entry, Hotlist

    settings.ALERT_DEDUP_SECONDS = 120
    _, token = camera_and_token
    hotlist = Hotlist.objects.create(name="Demo")
    for plate in hot_plates():
        Entry.objects.create(hotlist=hotlist, plate=plate, plate_raw=plate)
    rng = random.Random(0)
    t0 = timezone.now() - timedelta(hours=1)
    interval = 4
    for n in range(12 * 60 // interval):
        fake_pipeline(plate_for_frame(n, hot_plates(), rng))
        post(client, token, django_capture_on_commit_callbacks, t0 + timedelta(seconds=n * interval))
    per_minute = [
        Alert.objects.filter(
            read__captured_at__gte=t0 + timedelta(minutes=m), read__captured_at__lt=t0 + timedelta(minutes=m + 1)
        ).count()
        for m in range(12)
    ]
    # New alerts in every two-minute stretch, to the end; every listed frame is a hit.
    print("alerts per minute:", per_minute)
    assert all(per_minute[m] + per_minute[m + 1] > 0 for m in range(0, 12, 2)), per_minute
    assert Sighting.objects.count() == 12 * 60 // interval // 3
