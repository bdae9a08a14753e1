import json

from django.core.management.base import BaseCommand

from oversight.retention import purge


class Command(BaseCommand):
    help = "Purge reads, frames, alerts and audit records past the agency's retention periods (--dry-run: only report)."

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true")

    def handle(self, *args, dry_run, **opts):
        counts = purge(dry_run=dry_run)
        verb = "Would delete" if dry_run else "Deleted"
        self.stdout.write(
            f"{verb}: {counts['non_hit_reads']} read(s) without hits (older than {counts['non_hit_days']} days), "
            f"{counts['hit_reads']} read(s) with hits (older than {counts['hit_days']} days), "
            f"{counts['empty_frames']} frame(s) left without reads, {counts['audit_records']} audit record(s) "
            f"(older than {counts['audit_days']} days)."
        )
        self.stdout.write(json.dumps(counts, default=str))
