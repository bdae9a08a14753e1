import signal

from django.core.management.base import BaseCommand

from cameras.readers import Supervisor


class Command(BaseCommand):
    help = "Pull frames from every enabled camera's stream, file or folder (one supervisor, a thread per camera)."

    def add_arguments(self, parser):
        parser.add_argument("--poll", type=float, default=10.0, help="Seconds between checks for changed cameras.")

    def handle(self, *args, poll, **opts):
        supervisor = Supervisor(poll_seconds=poll)
        signal.signal(signal.SIGTERM, lambda *_: supervisor.stop())
        signal.signal(signal.SIGINT, lambda *_: supervisor.stop())
        self.stdout.write("Camera readers running; Ctrl-C stops.")
        supervisor.run()
