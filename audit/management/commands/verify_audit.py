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
            help="Where there is no checkpoint yet (a new server, a chain written before keyed "
            "hashes, or a checkpoint file to move into the object store): check the chain and write a "
            "checkpoint for it as it is now.",
        )

    def handle(self, *args, adopt=False, **opts):
        if adopt:
            try:
                self._adopt()
            except checkpoint.CheckpointError as exc:
                raise CommandError(f"the checkpoint cannot be read or written: {exc}") from exc
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
        where = checkpoint.where()
        if checkpoint.exists():
            raise CommandError(
                f"{where} exists: adopting would hide records removed since it was "
                "written. Move it away first if you really mean to start again."
            )
        moved_from = None
        if checkpoint.in_bucket() and checkpoint.path().exists():
            # Moving to the object store: the chain must still reach the head the old file signed.
            _checked, _bad, why = verify_chain(against_file=True)
            if why:
                raise CommandError(f"the chain does not verify against {checkpoint.path()} ({why}): not adopted.")
            moved_from = checkpoint.path()
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
            checkpoint.discard()
            raise CommandError(f"the chain does not verify ({why}): not adopted.")
        append(
            action="audit.adopt",
            username="manage.py verify_audit",
            query={"head": head.seq if head else 0, "legacy_through": legacy_through},
        )
        self.stdout.write(
            f"Checkpoint written to {where} for {checked} record(s)"
            + (f" (records up to #{legacy_through} carry plain SHA-256 hashes)" if legacy_through else "")
            + (f"; {moved_from} is no longer used and may be removed." if moved_from else ".")
        )
