import sys

from django.core.management.base import BaseCommand, CommandError

from audit import checkpoint
from audit.models import AuditLog
from audit.services import append, verify_chain


class Command(BaseCommand):
    help = (
        "Verify the audit log's keyed hash chain and its checkpoint; exits 1 and names the first bad record "
        "if records were altered, inserted or removed (at the start, in the middle or at the end)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--adopt",
            action="store_true",
            help="Where there is no checkpoint yet (a new server, or a chain written before keyed "
            "hashes): check the chain and write a checkpoint for it as it is now.",
        )

    def handle(self, *args, adopt=False, **opts):
        if adopt:
            self._adopt()
        checked, bad, why = verify_chain()
        if not why:
            self.stdout.write(f"Audit chain intact: {checked} record(s) verified.")
            return
        where = (
            f" at record #{bad.seq} (id {bad.pk}, {bad.at:%Y-%m-%d %H:%M:%S}, {bad.action} by {bad.username or '-'})"
            if bad is not None
            else ""
        )
        self.stderr.write(f"Audit chain BROKEN{where}: {why}. {checked} record(s) before it verified.")
        sys.exit(1)

    def _adopt(self):
        if checkpoint.path().exists():
            raise CommandError(
                f"{checkpoint.path()} exists: adopting would hide records removed since it was "
                "written. Move it away first if you really mean to start again."
            )
        legacy_through = 0
        head = None
        for record in AuditLog.objects.order_by("seq").iterator(chunk_size=2000):
            if record.hash == record.compute_hash():
                head = record
                continue
            if record.hash == record.legacy_hash() and (head is None or head.seq == legacy_through):
                legacy_through, head = record.seq, record
                continue
            raise CommandError(f"record #{record.seq} matches neither its keyed nor its legacy hash: not adopted.")
        checkpoint.adopt(head.seq if head else 0, head.hash if head else "", legacy_through)
        checked, _bad, why = verify_chain()
        if why:
            checkpoint.path().unlink()
            raise CommandError(f"the chain does not verify ({why}): not adopted.")
        append(
            action="audit.adopt",
            username="manage.py verify_audit",
            query={"head": head.seq if head else 0, "legacy_through": legacy_through},
        )
        self.stdout.write(
            f"Checkpoint written for {checked} record(s)"
            + (f" (records up to #{legacy_through} carry plain SHA-256 hashes)." if legacy_through else ".")
        )
