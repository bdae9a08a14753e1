from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from cameras.services import do_create_camera


class Command(BaseCommand):
    help = "Create a camera and print its API token (on the last line)."

    def add_arguments(self, parser):
        parser.add_argument("--name", required=True)
        parser.add_argument(
            "--region",
            default="us",
            help="country codes, likeliest first, comma-separated (fr,be,de; us-ca,us), "
            "or a group: us, eu, br, na (default us)",
        )
        parser.add_argument("--location", default="")
        parser.add_argument("--lat", type=float, default=None)
        parser.add_argument("--lon", type=float, default=None)
        parser.add_argument("--disabled", action="store_true")

    def handle(self, *args, **opts):
        try:
            camera, token = do_create_camera(
                name=opts["name"],
                region=opts["region"],
                location=opts["location"],
                latitude=opts["lat"],
                longitude=opts["lon"],
                enabled=not opts["disabled"],
            )
        except ValidationError as exc:
            raise CommandError("; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items())) from exc
        self.stdout.write(f"Created camera {camera.pk} ({camera.name}, region {camera.region}). Token:")
        self.stdout.write(token)
