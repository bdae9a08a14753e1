import os
import signal
import socket
import subprocess
import sys
import threading
import time

import requests
from django.conf import settings
from django.core.management.base import BaseCommand

from frontend.demo import do_demo_setup, feed


def _wait_for(url: str, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if requests.get(url, timeout=2).status_code == 200:
                return True
        except requests.RequestException:
            pass
        time.sleep(0.3)
    return False


class Command(BaseCommand):
    help = "Run the whole product with a demo camera feed of rendered vehicles (make demo)."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", 8000)))
        parser.add_argument("--interval", type=float, default=4.0, help="Seconds between demo frames.")
        parser.add_argument("--frames", type=int, default=None, help="Stop after this many frames (default: run on).")

    def handle(self, *args, host, port, interval, frames, **opts):
        with socket.socket() as probe:
            if probe.connect_ex((host, port)) == 0:
                self.stderr.write(f"Port {port} is taken; run with PORT=<free port> make demo.")
                sys.exit(2)
        setup = do_demo_setup()
        base = f"http://{host}:{port}"
        procs = []
        env = dict(os.environ)
        procs.append(
            subprocess.Popen(
                [sys.executable, "-m", "daphne", "-b", host, "-p", str(port), "config.asgi:application"], env=env
            )
        )
        if not settings.CELERY_TASK_ALWAYS_EAGER:
            procs.append(
                subprocess.Popen(
                    [sys.executable, "-m", "celery", "-A", "config", "worker", "-l", "info", "--concurrency", "1"],
                    env=env,
                )
            )
        stopping = threading.Event()

        def stop(*_):
            stopping.set()

        signal.signal(signal.SIGTERM, stop)
        try:
            if not _wait_for(f"{base}/healthz", 60):
                self.stderr.write("The web server did not start.")
                return
            mode = "tasks run in the web process" if settings.CELERY_TASK_ALWAYS_EAGER else "Celery worker on Redis"
            lines = [
                "",
                "=" * 64,
                f"ALPR demo running at {base}/   ({mode})",
                "Log in as:",
                *[f"  {user:14s} password {pw}" for user, pw in setup.passwords.items()],
                f"Demo hotlist plates: {', '.join(setup.hot_plates)}",
                "The officer's dashboard shows alerts as the rendered frames come in. Ctrl-C stops.",
                "=" * 64,
                "",
            ]
            self.stdout.write("\n".join(lines))
            self.stdout.flush()
            feeder = threading.Thread(
                target=feed,
                args=(base, setup.token),
                kwargs={
                    "frames": frames,
                    "interval": interval,
                    "log": lambda m: (self.stdout.write(m), self.stdout.flush()),
                },
                daemon=True,
            )
            feeder.start()
            while feeder.is_alive() and not stopping.is_set():
                feeder.join(0.5)
                if any(p.poll() is not None for p in procs):
                    self.stderr.write("A server process stopped; ending the demo.")
                    break
            if frames is not None and not stopping.is_set():
                from alerts.models import Alert

                self.stdout.write(f"demo: {Alert.objects.count()} alert(s) in the database")
        except KeyboardInterrupt:
            pass
        finally:
            for p in procs:
                p.terminate()
            for p in procs:
                try:
                    p.wait(10)
                except subprocess.TimeoutExpired:
                    p.kill()
