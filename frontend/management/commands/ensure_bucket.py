from django.core.management.base import BaseCommand, CommandError

from config.storage import ensure_bucket, uses_object_store


class Command(BaseCommand):
    help = "Create the S3_BUCKET (private) if it does not exist yet; nothing to do when media stay on local disk."

    def handle(self, *args, **opts):
        if not uses_object_store():
            self.stdout.write("Media are kept on local disk (MEDIA_ROOT); no bucket needed.")
            return
        from django.conf import settings

        bucket = settings.STORAGES["default"]["OPTIONS"]["bucket_name"]
        try:
            created = ensure_bucket()
        except Exception as exc:
            raise CommandError(f"bucket {bucket}: {exc}") from exc
        self.stdout.write(f"Bucket {bucket} {'created' if created else 'exists'}.")
