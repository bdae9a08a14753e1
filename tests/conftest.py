"""The real stack for integration and browser tests: Daphne and a Celery worker, as separate
processes, on PostgreSQL (the test database) and Redis.

Locally these tests are skipped when DATABASE_URL/REDIS_URL are not set; in CI (CI=true)
they fail instead, because CI must run them.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import quote

import pytest
import requests

from conftest import require

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Proc:
    """A child process whose output is kept, and echoed on failure."""

    def __init__(self, name: str, args: list[str], env: dict[str, str]):
        self.name = name
        self.lines: list[str] = []
        self.popen = subprocess.Popen(
            args, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1
        )
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        for line in self.popen.stdout:  # type: ignore[union-attr]
            self.lines.append(line.rstrip())

    def wait_for_line(self, needle: str, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(needle in line for line in self.lines):
                return True
            if self.popen.poll() is not None:
                return False
            time.sleep(0.1)
        return False

    def tail(self, n: int = 40) -> str:
        return f"--- {self.name} ---\n" + "\n".join(self.lines[-n:])

    def stop(self) -> None:
        if self.popen.poll() is None:
            self.popen.terminate()
            try:
                self.popen.wait(15)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(5)


def start_beat(env: dict[str, str], var_dir: str, name: str = "celery beat") -> Proc:
    """``celery beat`` as deployed (the settings' CELERY_BEAT_SCHEDULE), its schedule file in ``var_dir``."""
    return Proc(
        name,
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "beat",
            "-l",
            "info",
            "--schedule",
            str(Path(var_dir) / "celerybeat-schedule"),
        ],
        env,
    )


class RedisServer:
    """A private ``redis-server`` on a port of its own, which a test may stop and start again
    (never the machine's shared Redis)."""

    def __init__(self) -> None:
        import shutil

        require(bool(shutil.which("redis-server")), "redis-server is not installed")
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.dir = tempfile.mkdtemp(prefix="alpr-redis-")
        self.popen: subprocess.Popen | None = None

    def up(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as s:
                s.sendall(b"PING\r\n")
                return s.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def start(self) -> None:
        self.popen = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                self.dir,
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 20
        while not self.up():
            if time.monotonic() > deadline or self.popen.poll() is not None:
                raise RuntimeError(f"redis-server on port {self.port} did not start")
            time.sleep(0.05)

    def stop(self) -> None:
        if self.popen is not None and self.popen.poll() is None:
            self.popen.terminate()
            try:
                self.popen.wait(15)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(5)
        self.popen = None


@pytest.fixture
def private_redis():
    server = RedisServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()


class Stack:
    def __init__(self, base_url: str, env: dict[str, str], procs: list[Proc]):
        self.base_url = base_url
        self.ws_url = base_url.replace("http://", "ws://") + "/ws/alerts/"
        self.env = env
        self.procs = procs
        self.smtp = None  # the SmtpInbox of the stack's email

    def logs(self) -> str:
        return "\n".join(p.tail() for p in self.procs)

    def login(self, username: str, password: str) -> requests.Session:
        session = requests.Session()
        session.get(f"{self.base_url}/login/", timeout=10)
        response = session.post(
            f"{self.base_url}/login/",
            data={"username": username, "password": password, "csrfmiddlewaretoken": session.cookies["csrftoken"]},
            headers={"Referer": f"{self.base_url}/login/"},
            timeout=10,
        )
        assert response.status_code == 200 and "sessionid" in session.cookies, response.text[:500]
        return session

    def post_frame(self, token: str, jpeg: bytes, captured_at: str | None = None) -> requests.Response:
        data = {"captured_at": captured_at} if captured_at else {}
        return requests.post(
            f"{self.base_url}/api/frames/",
            headers={"Authorization": f"Token {token}"},
            files={"image": ("frame.jpg", jpeg, "image/jpeg")},
            data=data,
            timeout=30,
        )


def _database_url() -> str:
    from django.db import connection

    s = connection.settings_dict
    user = quote(s.get("USER") or "")
    password = quote(s.get("PASSWORD") or "")
    auth = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    return f"postgres://{auth}{s.get('HOST') or 'localhost'}:{s.get('PORT') or 5432}/{s['NAME']}"


#: The agency time zone of the test stack.
STACK_TIME_ZONE = "America/Chicago"


def stack_env(var_dir: str, instance: str, **extra: str) -> dict[str, str]:
    """The environment of a test stack's processes: production settings on the test database, a media
    folder of its own, and (ALPR_INSTANCE) a queue and channel keys of its own on the shared Redis."""
    env = dict(os.environ)
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DEBUG": "0",
            "SECRET_KEY": "stack-test-secret-key-0123456789-abcdefghijklmnop",
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "DATABASE_URL": _database_url(),
            "ALPR_VAR_DIR": var_dir,
            "MEDIA_ROOT": str(Path(var_dir) / "media"),
            "PYTHONUNBUFFERED": "1",
            "ALPR_INSTANCE": instance,
            # Some tests post frames captured years ago, to keep their vehicle passes apart.
            "ALPR_CAPTURED_AT_PAST_DAYS": "3650",
            # Production settings, but served over plain http on 127.0.0.1: cookies may not be Secure-only.
            "SECURE_COOKIES": "0",
            # Not UTC, so that a time shown in the server's or the browser's zone instead of the agency's shows up.
            "AGENCY_TIME_ZONE": STACK_TIME_ZONE,
            **extra,
        }
    )
    return env


class SmtpInbox:
    """aiosmtpd handler keeping every message the stack sends."""

    def __init__(self):
        self.messages: list = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(envelope)
        return "250 OK"


@pytest.fixture(scope="session")
def live_stack(django_db_setup, django_db_blocker):
    from django.conf import settings

    require(
        bool(os.environ.get("DATABASE_URL")) and settings.DATABASES["default"]["ENGINE"].endswith("postgresql"),
        "DATABASE_URL (PostgreSQL) is not set",
    )
    require(bool(os.environ.get("REDIS_URL")), "REDIS_URL is not set")
    port = free_port()
    var_dir = tempfile.mkdtemp(prefix="alpr-stack-")
    # A real SMTP server for the stack's email deliveries (deliveries/), kept for the tests to read.
    from aiosmtpd.controller import Controller

    smtp = SmtpInbox()
    smtp_server = Controller(smtp, hostname="127.0.0.1", port=free_port())
    smtp_server.start()
    env = stack_env(
        var_dir,
        f"stack-{port}",
        EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
        EMAIL_HOST="127.0.0.1",
        EMAIL_PORT=str(smtp_server.port),
        DELIVERY_RETRY_BASE_SECONDS="1",
        ALPR_BASE_URL=f"http://127.0.0.1:{port}",
    )
    # The ONNX export of the detector is made once, before two processes could race for it.
    with django_db_blocker.unblock():
        from recognition.vision.pipeline import get_pipeline

        get_pipeline()
    worker = Proc(
        "celery worker",
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "--concurrency",
            "1",
            "--pool",
            "prefork",
            "-l",
            "info",
            "-n",
            f"stack-{port}@%h",
        ],
        env,
    )
    web = Proc(
        "daphne", [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "config.asgi:application"], env
    )
    stack = Stack(f"http://127.0.0.1:{port}", env, [web, worker])
    stack.smtp = smtp
    try:
        if not web.wait_for_line("Listening on TCP address", 60):
            pytest.fail("Daphne did not start\n" + stack.logs())
        if not worker.wait_for_line("ready.", 120):
            pytest.fail("The Celery worker did not start\n" + stack.logs())
        yield stack
    finally:
        smtp_server.stop()
        for proc in stack.procs:
            proc.stop()
        # Keep the processes' output for a look after a failure (CI prints test-artifacts/ paths).
        artifacts = ROOT / "test-artifacts"
        artifacts.mkdir(exist_ok=True)
        (artifacts / "stack.log").write_text("\n".join("\n".join([f"--- {p.name} ---", *p.lines]) for p in stack.procs))


@pytest.fixture
def stack(live_stack, transactional_db):
    return live_stack


def make_stack_user(username: str, role: str, password: str):
    """A user that the stack's processes (production password hashers) can log in."""
    from django.contrib.auth.hashers import make_password

    from accounts.services import do_create_user

    user = do_create_user(username, password, role, validate=False)
    user.password = make_password(password, hasher="pbkdf2_sha256")
    user.save(update_fields=["password"])
    return user


CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def browser():
    """Headless Chromium (Debian's package) through Playwright, for the browser tests."""
    require(Path(CHROMIUM).exists(), "Chromium is not installed (make browser)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()
