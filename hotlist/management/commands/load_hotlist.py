from pathlib import Path
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from hotlist.importing import ImportFailed, parse_csv_bytes
from hotlist.models import Hotlist
from audit.services import do_log
from hotlist.services import IMPORT_MODES, do_import_entries


class Command(BaseCommand):
    help = "Import a CSV hotlist (header row; 'plate' required) into a list, all or nothing."

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--list", required=True, dest="list_name", help="Hotlist name (created if missing).")
        parser.add_argument("--mode", choices=IMPORT_MODES, default="replace")

    def handle(self, *args, file, list_name, mode, **opts):
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"{file}: no such file")
        if path.stat().st_size > settings.ALPR_MAX_HOTLIST_BYTES:
            raise CommandError(f"{file}: larger than {settings.ALPR_MAX_HOTLIST_BYTES} bytes")
        try:
            result = parse_csv_bytes(path.read_bytes(), tz=ZoneInfo(settings.TIME_ZONE))
        except ImportFailed as exc:
            result = None
            errors = exc.errors
        else:
            errors = result.errors
        if errors:
            for error in errors[:200]:
                self.stderr.write(str(error))
            if len(errors) > 200:
                self.stderr.write(f"... and {len(errors) - 200} more")
            raise CommandError(f"{len(errors)} error(s) in {file}; nothing was imported.")
        hotlist, created = Hotlist.objects.get_or_create(name=list_name)
        counts = do_import_entries(hotlist, result.rows, mode=mode)
        do_log(None, "hotlist.import", username="manage.py load_hotlist",
               query={"list": hotlist.name, "file": path.name, "mode": mode, **counts})
        self.stdout.write(
            f"{'Created' if created else 'Updated'} list {hotlist.name!r}: {counts['added']} added, "
            f"{counts['updated']} updated, {counts['removed']} removed, {result.duplicates} duplicate row(s) merged.")
