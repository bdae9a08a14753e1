"""Where frames, thumbnails, plate crops and uploaded videos are kept.

Local disk (``MEDIA_ROOT``) by default; with ``S3_BUCKET`` set, any S3-compatible object store
(AWS S3, SeaweedFS, MinIO, Ceph), so that every web, worker and reader process on any machine
reads what another one stored. The bucket stays private: nothing is written with a public ACL,
and ``/media/...`` (frontend/views.py) streams each object to a logged-in user with a role after
its check. Presigned URLs, should anything ask the storage for one, expire after a minute.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ImproperlyConfigured

# Names the app makes unique itself: 32 hex digits (uuid4) and an extension.
_UNIQUE_NAME = re.compile(r"(^|/)[0-9a-f]{32}\.[a-z0-9]{1,5}$")
SMALL_OBJECT = 16 * 1024 * 1024
S3_VARIABLES = ("S3_BUCKET", "S3_ENDPOINT_URL", "S3_ACCESS_KEY_ID", "S3_SECRET_ACCESS_KEY", "S3_REGION")
SIGNED_URL_SECONDS = 60


def media_storage(environ: Mapping[str, str]) -> dict[str, Any]:
    """The ``STORAGES["default"]`` entry for these environment variables; fails loudly on a partial setup."""
    values = {name: (environ.get(name) or "").strip() for name in S3_VARIABLES}
    bucket = values["S3_BUCKET"]
    if not bucket:
        given = [name for name, value in values.items() if value]
        if given:
            raise ImproperlyConfigured(
                f"{', '.join(given)} set without S3_BUCKET: set S3_BUCKET to keep media in "
                "the object store, or unset them to keep it on local disk (MEDIA_ROOT)."
            )
        return {"BACKEND": "django.core.files.storage.FileSystemStorage"}
    if bool(values["S3_ACCESS_KEY_ID"]) != bool(values["S3_SECRET_ACCESS_KEY"]):
        raise ImproperlyConfigured(
            "S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY go together (or leave both unset to "
            "use the machine's AWS credentials, e.g. an instance role)."
        )
    endpoint = values["S3_ENDPOINT_URL"]
    if endpoint and not endpoint.startswith(("http://", "https://")):
        raise ImproperlyConfigured(f"S3_ENDPOINT_URL={endpoint!r} must start with http:// or https://")
    options: dict[str, Any] = {
        "bucket_name": bucket,
        "endpoint_url": endpoint or None,
        "access_key": values["S3_ACCESS_KEY_ID"] or None,
        "secret_key": values["S3_SECRET_ACCESS_KEY"] or None,
        "region_name": values["S3_REGION"] or None,
        # Private objects; links (if any) are signed and short-lived; never overwrite another upload.
        "default_acl": None,
        "querystring_auth": True,
        "querystring_expire": SIGNED_URL_SECONDS,
        "file_overwrite": False,
        "signature_version": "s3v4",
        # Self-hosted stores (SeaweedFS, MinIO) answer on one host name: bucket in the path.
        "addressing_style": "path" if endpoint else None,
    }
    return {"BACKEND": "config.storage.ObjectStorage", "OPTIONS": options}


def uses_object_store() -> bool:
    from django.conf import settings

    return settings.STORAGES["default"]["BACKEND"] == "config.storage.ObjectStorage"


def _object_storage_class():
    from storages.backends.s3 import S3Storage

    class ObjectStorage(S3Storage):
        """django-storages' S3 storage with one boto3 connection per process instead of one per thread.

        Django runs each request of an ASGI server (Daphne) in a thread of its own, and a new boto3
        session costs about 180 ms (it loads the S3 service model), which every frame upload would
        pay. boto3's clients are thread-safe, and S3Storage already shares its Bucket across threads.
        """

        _lock = threading.Lock()

        def get_available_name(self, name, max_length=None):
            # Frames, thumbnails and crops get uuid4 names from the code that saves them: no collision to
            # look for, so no HEAD request; other names (uploaded videos) are checked and never overwritten.
            if _UNIQUE_NAME.search(name) and (max_length is None or len(name) <= max_length):
                return name
            return super().get_available_name(name, max_length)

        def _save(self, name, content):
            """Evidence files (under SMALL_OBJECT bytes) go up in one PutObject; s3transfer's managed upload
            (threads, futures) cost several times the CPU of the request itself. Larger files: multipart."""
            size = getattr(content, "size", None)
            if size is None or size > SMALL_OBJECT:
                return super()._save(name, content)
            from storages.utils import clean_name

            cleaned = clean_name(name)
            key = self._normalize_name(cleaned)
            params = self._get_write_parameters(key, content)
            if hasattr(content, "seek"):
                content.seek(0)
            data = content.read()
            body = data.encode() if isinstance(data, str) else data
            self.connection.meta.client.put_object(Bucket=self.bucket_name, Key=key, Body=body, **params)
            return cleaned

        def _open(self, name, mode="rb"):
            """Reading is one streamed GetObject (no HEAD first, no managed download into a spooled copy)."""
            if "w" in mode or "a" in mode or "+" in mode:
                return super()._open(name, mode)
            from botocore.exceptions import ClientError
            from django.core.files.base import File
            from storages.utils import clean_name

            key = self._normalize_name(clean_name(name))
            try:
                response = self.connection.meta.client.get_object(Bucket=self.bucket_name, Key=key)
            except ClientError as exc:
                if exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") == 404:
                    raise FileNotFoundError(f"File does not exist: {name}") from exc
                raise
            stored = File(response["Body"], name=name)
            stored.size = response.get("ContentLength")
            stored.mode = mode
            return stored

        @property
        def connection(self):
            shared = self.__dict__.get("_shared_connection")
            if shared is None:
                with self._lock:
                    shared = self.__dict__.get("_shared_connection")
                    if shared is None:
                        shared = self.__dict__["_shared_connection"] = super().connection
            return shared

        def __getstate__(self):
            state = super().__getstate__()
            state.pop("_shared_connection", None)
            return state

    return ObjectStorage


def __getattr__(name: str):
    # django-storages (and boto3) are imported only when a bucket is configured.
    if name == "ObjectStorage":
        cls = _object_storage_class()
        globals()["ObjectStorage"] = cls
        return cls
    raise AttributeError(name)


def ensure_bucket() -> bool:
    """Create the configured bucket (private) if it is missing; True if it was created."""
    from botocore.exceptions import ClientError
    from django.core.files.storage import default_storage

    client = default_storage.connection.meta.client  # type: ignore[attr-defined]
    bucket = default_storage.bucket_name  # type: ignore[attr-defined]
    try:
        client.head_bucket(Bucket=bucket)
        return False
    except ClientError as exc:
        if exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") != 404:
            raise
    region = client.meta.region_name
    if region and region != "us-east-1" and not default_storage.endpoint_url:  # type: ignore[attr-defined]
        client.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": region})
    else:
        client.create_bucket(Bucket=bucket)
    return True
