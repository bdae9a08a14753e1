import sys

from django.core.management.base import BaseCommand

from audit.services import verify_chain


class Command(BaseCommand):
    help = "Verify the audit log's hash chain; exits 1 and names the first bad record if it was tampered with."

    def handle(self, *args, **opts):
        checked, bad, why = verify_chain()
        if bad is None:
            self.stdout.write(f"Audit chain intact: {checked} record(s) verified.")
            return
        self.stderr.write(f"Audit chain BROKEN at record #{bad.seq} (id {bad.pk}, {bad.at:%Y-%m-%d %H:%M:%S}, "
                          f"{bad.action} by {bad.username or '-'}): {why}. {checked} record(s) before it verified.")
        sys.exit(1)
