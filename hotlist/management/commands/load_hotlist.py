import sys
import time
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from audit.services import do_log
from hotlist.importing import FORMATS
from hotlist.imports import run_import
from hotlist.services import IMPORT_MODES


class ProgressBar:
    """A one-line progress bar on stderr (plain lines when stderr is not a terminal)."""

    def __init__(self, stream, enabled: bool = True):
        self.stream = stream
        self.enabled = enabled
        self.tty = stream.isatty()
        self.started = time.monotonic()
        self.last = ""

    def __call__(self, phase: str, done: int, total: int) -> None:
        if not self.enabled:
            return
        elapsed = time.monotonic() - self.started
        if total:
            width = 30
            filled = int(width * done / total)
            line = f"{phase:8s} [{'#' * filled}{'.' * (width - filled)}] {done:,}/{total:,} {elapsed:6.1f}s"
        else:
            line = f"{phase:8s} {elapsed:6.1f}s"
        if self.tty:
            self.stream.write("\r" + line.ljust(len(self.last)))
            if phase == "done":
                self.stream.write("\n")
        elif phase != self.last.split(" ")[0] or phase == "done":
            self.stream.write(line + "\n")
        self.stream.flush()
        self.last = line


class Command(BaseCommand):
    help = (
        "Import a hotlist file (CSV, NCIC fixed width, state layouts, one plate per line) into a list, all or nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--list", required=True, dest="list_name", help="Hotlist name (created if missing).")
        parser.add_argument("--mode", choices=IMPORT_MODES, default="replace")
        parser.add_argument("--format", choices=FORMATS, default=None, dest="fmt", help="Override the detected format.")
        parser.add_argument(
            "--map",
            action="append",
            default=[],
            metavar="COLUMN=FIELD",
            help="CSV column mapping, e.g. --map 'Tag Number=plate' (repeatable).",
        )
        parser.add_argument("--no-progress", action="store_true")

    def handle(self, *args, file, list_name, mode, fmt, map, no_progress, **opts):
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"{file}: no such file")
        if path.stat().st_size > settings.ALPR_MAX_HOTLIST_BYTES:
            raise CommandError(f"{file}: larger than {settings.ALPR_MAX_HOTLIST_BYTES} bytes")
        mapping = {}
        for item in map:
            column, sep, target = item.partition("=")
            if not sep:
                raise CommandError(f"--map {item!r}: use COLUMN=FIELD")
            mapping[column.strip()] = target.strip()
        bar = ProgressBar(sys.stderr, enabled=not no_progress)
        outcome = run_import(list_name, path.read_bytes(), mode=mode, fmt=fmt, mapping=mapping or None, progress=bar)
        if not outcome.ok:
            for error in outcome.errors[:200]:
                self.stderr.write(str(error))
            if len(outcome.errors) > 200:
                self.stderr.write(f"... and {len(outcome.errors) - 200} more")
            do_log(
                None,
                "hotlist.import_rejected",
                username="manage.py load_hotlist",
                query={"list": list_name, "file": path.name, "mode": mode},
                result_count=len(outcome.errors),
            )
            raise CommandError(f"{len(outcome.errors)} error(s) in {file}; nothing was imported.")
        counts = outcome.counts
        hotlist = outcome.hotlist
        assert hotlist is not None  # a successful import names its list
        do_log(
            None,
            "hotlist.import",
            username="manage.py load_hotlist",
            query={"list": hotlist.name, "file": path.name, "mode": mode, "format": outcome.format, **counts},
        )
        self.stdout.write(
            f"List {hotlist.name!r} ({outcome.format}): {counts['added']} added, {counts['updated']} updated, "
            f"{counts['removed']} removed, {counts['unchanged']} unchanged, {outcome.duplicates} duplicate row(s) merged."
        )
