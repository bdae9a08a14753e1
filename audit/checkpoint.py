"""The audit chain's key and its signed checkpoint, both kept away from the database.

Each record's hash is an HMAC-SHA256 under ``AUDIT_HMAC_KEY`` (default: derived from ``SECRET_KEY``), so
someone who can write the table cannot recompute a valid chain. After every committed append the checkpoint
is advanced to the new head: its sequence number and hash, signed with the same key. ``verify_audit``
compares the table with it, so records removed from the end are found even though the chain itself would
still link. Records removed from the start are found by the chain: the first record left must be #1 or be
anchored by a keyed ``retention.purge`` record naming the record before it.

Where the checkpoint lives follows where media live (config/storage.py):

- local disk (no ``S3_BUCKET``): one file, ``AUDIT_CHECKPOINT_PATH``, replaced atomically under a file lock;
- the object store: one object per head, ``audit/checkpoint/head-<seq, 20 digits>.json`` in the media
  bucket, so that no node needs a shared disk. Objects are only ever added for a head above the highest one
  listed, the head is the highest key, and a writer deletes only keys below the one it has just written. A
  writer that lost a race (it listed before a newer head was written) adds a lower key, which never becomes
  the highest: the head cannot move backwards, on any S3-compatible store, without conditional writes.
"""

from __future__ import annotations

import fcntl
import hashlib
import hmac
import json
import logging
import os
import re
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

log = logging.getLogger(__name__)
VERSION = 1

# The key prefix in the bucket. Never served: frontend/views.py streams only frames/, thumbs/ and crops/.
OBJECT_PREFIX = "audit/checkpoint/"
_OBJECT_KEY = re.compile(re.escape(OBJECT_PREFIX) + r"head-(\d{20})\.json")


class CheckpointError(Exception):
    """The checkpoint cannot be read or its signature does not match."""


def chain_key() -> bytes:
    configured = getattr(settings, "AUDIT_HMAC_KEY", "") or ""
    if configured:
        return configured.encode()
    secret = settings.SECRET_KEY
    if secret is None:  # the settings refuse to start without one
        raise ImproperlyConfigured("SECRET_KEY is not set.")
    return hmac.new(secret.encode(), b"alpr audit chain v1", hashlib.sha256).digest()


def keyed_hash(content: bytes) -> str:
    return hmac.new(chain_key(), content, hashlib.sha256).hexdigest()


def path() -> Path:
    """The checkpoint file (local disk only; with an object store, see ``where``)."""
    configured = settings.AUDIT_CHECKPOINT_PATH
    if configured is None:  # the settings give a default
        raise ImproperlyConfigured("AUDIT_CHECKPOINT_PATH is not set.")
    return Path(configured)


def in_bucket() -> bool:
    """Whether the checkpoint lives in the object store (it does whenever media do)."""
    from config.storage import uses_object_store

    return uses_object_store()


def where() -> str:
    """Where the checkpoint is, for messages: a file path or an s3:// prefix."""
    if in_bucket():
        bucket, _client = _bucket()
        return f"s3://{bucket}/{OBJECT_PREFIX}"
    return str(path())


def _mac(body: dict) -> str:
    data = json.dumps(body, sort_keys=True, separators=(",", ":")).encode()
    return hmac.new(chain_key(), b"checkpoint:" + data, hashlib.sha256).hexdigest()


def _signed(body: dict) -> bytes:
    body = {**body, "version": VERSION}
    return json.dumps({"body": body, "mac": _mac(body)}, sort_keys=True).encode()


def _parse(raw: bytes | str, name: str) -> dict:
    try:
        data = json.loads(raw)
        body, mac = data["body"], data["mac"]
        int(body["head_seq"]), str(body["head_hash"]), int(body["legacy_through"])
    except (ValueError, KeyError, TypeError) as exc:
        raise CheckpointError(f"{name} is not a checkpoint") from exc
    if not hmac.compare_digest(str(mac), _mac(body)):
        raise CheckpointError(f"the signature of {name} does not match (altered, or signed with another key)")
    return body


def read() -> dict | None:
    """The checkpoint ({head_seq, head_hash, legacy_through}), None if there is none. Raises CheckpointError."""
    if in_bucket():
        return _read_bucket()[0]
    return read_file()


def exists() -> bool:
    if in_bucket():
        return bool(_list_heads())
    return path().exists()


def advance(seq: int, record_hash: str) -> None:
    """Move the checkpoint to a committed record if it is newer than the one there (never backwards).

    A missing checkpoint is created only for the first record of a new chain (#1): elsewhere it was lost,
    and ``verify_audit`` reports that until an operator adopts the table as it is (``verify_audit --adopt``).
    Failures are logged, never raised: the record is committed, and the next append moves the head on.
    """
    try:
        if in_bucket():
            _advance_bucket(seq, record_hash)
            return
        with _locked():
            current = read_file()
            body = _advanced(current, seq, record_hash)
            if body is not None:
                _write_file(body)
    except Exception:
        log.exception("could not advance the audit checkpoint %s", _where_quietly())


def adopt(head_seq: int, head_hash: str, legacy_through: int) -> None:
    """Write a checkpoint for the table as it is now (a new server, or a chain from before keyed hashes)."""
    body = {"head_seq": head_seq, "head_hash": head_hash, "legacy_through": legacy_through}
    if in_bucket():
        bucket, client = _bucket()
        try:
            client.put_object(Bucket=bucket, Key=_key(head_seq), Body=_signed(body), ContentType="application/json")
        except Exception as exc:  # botocore's errors
            raise CheckpointError(f"cannot write s3://{bucket}/{_key(head_seq)}: {exc}") from exc
        return
    with _locked():
        _write_file(body)


def discard() -> None:
    """Remove the checkpoint (an adoption that did not verify)."""
    if in_bucket():
        bucket, client = _bucket()
        heads = _list_heads()
        try:
            if heads:
                client.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": _key(s)} for s in heads]})
        except Exception as exc:  # botocore's errors
            raise CheckpointError(f"cannot delete under s3://{bucket}/{OBJECT_PREFIX}: {exc}") from exc
        return
    path().unlink(missing_ok=True)


def _advanced(current: dict | None, seq: int, record_hash: str) -> dict | None:
    """The checkpoint body to write for a committed record #seq, or None to leave the one there."""
    if current is None:
        if seq != 1:
            log.error(
                "audit checkpoint %s is missing; run 'manage.py verify_audit --adopt' once checked",
                _where_quietly(),
            )
            return None
        current = {"head_seq": 0, "head_hash": "", "legacy_through": 0}
    if seq <= current["head_seq"]:
        return None
    return {**current, "head_seq": seq, "head_hash": record_hash}


def _where_quietly() -> str:
    try:
        return where()
    except Exception:
        return "(unknown)"


# Local disk ------------------------------------------------------------------------------------------------


def read_file() -> dict | None:
    """The checkpoint file's content, whatever the store (``verify_audit --adopt`` moves it into a bucket)."""
    try:
        raw = path().read_text()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise CheckpointError(f"cannot read {path()}: {exc}") from exc
    return _parse(raw, str(path()))


@contextmanager
def _locked():
    target = path()
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target.with_name(target.name + ".lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _write_file(body: dict) -> None:
    target = path()
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    with open(tmp, "wb") as fh:
        fh.write(_signed(body))
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, target)


# The object store ------------------------------------------------------------------------------------------


def _key(seq: int) -> str:
    if not 0 <= seq < 10**20:
        raise ValueError(f"sequence number {seq} out of range")
    return f"{OBJECT_PREFIX}head-{seq:020d}.json"


def _bucket() -> tuple[str, Any]:
    """(bucket name, boto3 client) of the media storage: one connection per process (config/storage.py)."""
    from django.core.files.storage import default_storage

    return default_storage.bucket_name, default_storage.connection.meta.client  # type: ignore[attr-defined]


def _list_heads() -> list[int]:
    """The sequence numbers of the head objects in the bucket, lowest first (other keys are ignored)."""
    bucket, client = _bucket()
    heads = []
    try:
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=OBJECT_PREFIX):
            for item in page.get("Contents", []):
                match = _OBJECT_KEY.fullmatch(item["Key"])
                if match:
                    heads.append(int(match.group(1)))
    except Exception as exc:  # botocore's errors: the store is unreachable or refuses the listing
        raise CheckpointError(f"cannot list s3://{bucket}/{OBJECT_PREFIX}: {exc}") from exc
    return sorted(heads)


READ_ATTEMPTS = 5  # listings taken while concurrent writers prune the head just listed


def _read_bucket() -> tuple[dict | None, list[int]]:
    """(the highest head's body or None, every head's number).

    A head listed but gone when read was pruned by a writer of a higher one: the listing is taken again.
    """
    for attempt in range(READ_ATTEMPTS):
        heads = _list_heads()
        if not heads:
            return None, heads
        bucket, client = _bucket()
        key = _key(heads[-1])
        name = f"s3://{bucket}/{key}"
        try:
            raw = client.get_object(Bucket=bucket, Key=key)["Body"].read()
            break
        except Exception as exc:
            code = getattr(exc, "response", {}).get("Error", {}).get("Code")
            if code in ("NoSuchKey", "404") and attempt + 1 < READ_ATTEMPTS:
                continue
            raise CheckpointError(f"cannot read {name}: {exc}") from exc
    body = _parse(raw, name)
    if body["head_seq"] != heads[-1]:  # an older signed head copied under a higher name
        raise CheckpointError(f"{name} holds the head #{body['head_seq']}, not the one its name says")
    return body, heads


def _advance_bucket(seq: int, record_hash: str) -> None:
    current, heads = _read_bucket()
    body = _advanced(current, seq, record_hash)
    if body is None:
        return
    bucket, client = _bucket()
    client.put_object(Bucket=bucket, Key=_key(seq), Body=_signed(body), ContentType="application/json")
    # Only keys below the one just written: the highest key is never deleted, by this writer or another.
    older = [{"Key": _key(s)} for s in heads if s < seq]
    if older:
        client.delete_objects(Bucket=bucket, Delete={"Objects": older, "Quiet": True})
