"""Time a hotlist import of N synthetic CSV rows on the configured database.

DATABASE_URL=postgres://postgres@127.0.0.1:5432/alpr_bench python -m benchmarks.hotlist_import --rows 1000000 --json
"""

from __future__ import annotations

import json as jsonlib
import random
import time

from benchmarks import run_command, setup_django

setup_django()

from django.core.management.base import BaseCommand  # noqa: E402

from hotlist.imports import run_import  # noqa: E402
from hotlist.models import Hotlist  # noqa: E402


def synthetic_csv(rows: int, seed: int = 7) -> bytes:
    rng = random.Random(seed)
    letters, digits = "ABCDEFGHJKLMNPRSTUVWXYZ", "0123456789"
    states = ["TX", "CA", "FL", "NY", "WA", "MN", "NE", "VA"]
    reasons = ["Stolen vehicle", "Stolen plate", "Wanted person", "Felony vehicle"]
    out = ["plate,state,reason,case_number,nic,ori,make,model,colour,year,expires"]
    seen = set()
    while len(out) <= rows:
        plate = "".join(rng.choice(letters) for _ in range(3)) + "".join(
            rng.choice(digits) for _ in range(rng.randint(3, 4))
        )
        state = rng.choice(states)
        if (plate, state) in seen:
            continue
        seen.add((plate, state))
        n = len(out)
        out.append(
            f"{plate},{state},{rng.choice(reasons)},C{n:08d},V{n:09d},TX{n % 100000:07d},FORD,F150,BLK,"
            f"{rng.randint(1995, 2026)},2099-12-31"
        )
    return ("\n".join(out) + "\n").encode()


class Command(BaseCommand):
    help = (
        "Time a hotlist import of N synthetic CSV rows (parse + write, one transaction) on the configured "
        "database. Run it twice: the second run re-imports the same file (the daily refresh case)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--rows", type=int, default=1_000_000)
        parser.add_argument("--mode", default="replace")
        parser.add_argument("--json", action="store_true")

    def handle(self, *args, rows, mode, **opts):
        from django.db import connection

        data = synthetic_csv(rows)
        # Historical-hit checks run on the workers after the import commits; they are not timed here.
        Hotlist.objects.update_or_create(name="bench-import", defaults={"history_days": 0})
        phases: dict[str, float] = {}
        started = time.perf_counter()

        def progress(phase, done, total):
            phases.setdefault(phase, time.perf_counter() - started)

        outcome = run_import("bench-import", data, mode=mode, progress=progress)
        total = time.perf_counter() - started
        assert outcome.ok, outcome.errors[:5]
        count = Hotlist.objects.get(name="bench-import").entries.count()
        report = {
            "rows": rows,
            "database": connection.vendor,
            "mode": mode,
            "total_s": round(total, 2),
            "parse_s": round(phases.get("writing", total) - phases.get("parsing", 0), 2),
            "write_s": round(total - phases.get("writing", total), 2),
            "entries": count,
            **outcome.counts,
        }
        self.stdout.write(jsonlib.dumps(report) if opts["json"] else "\n".join(f"{k}: {v}" for k, v in report.items()))


if __name__ == "__main__":
    run_command(Command(), "python -m benchmarks.hotlist_import")
