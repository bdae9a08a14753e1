"""Benchmarks of the product: vision, plate events, matching, hotlist import, search, load.

Each module runs with ``python -m benchmarks.NAME --help``; see README.md here.
"""

from __future__ import annotations

import os
import sys


def setup_django() -> None:
    """Configure Django for a benchmark that uses the models (production settings unless
    DJANGO_SETTINGS_MODULE says otherwise). Safe to call when Django is set up already."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()


def worker_command(node_name: str) -> list[str]:
    """A Celery worker as the benchmarks and stack tests start one: one prefork process, no gossip or
    mingle between the workers (they start and stop often), named ``node_name``."""
    return [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "config",
        "worker",
        "--concurrency",
        "1",
        "--pool",
        "prefork",
        "-l",
        "info",
        "--without-gossip",
        "--without-mingle",
        "-n",
        node_name,
    ]


def run_command(command: object, prog: str, argv: list[str] | None = None) -> None:
    """Run a Django ``BaseCommand`` instance as this module's command line."""
    args = sys.argv[1:] if argv is None else argv
    command.run_from_argv([prog, "", *args])  # type: ignore[attr-defined]
