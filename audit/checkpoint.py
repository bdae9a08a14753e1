"""The audit chain's key and its signed checkpoint, both kept away from the database.

Each record's hash is an HMAC-SHA256 under ``AUDIT_HMAC_KEY`` (default: derived from ``SECRET_KEY``), so
someone who can write the table cannot recompute a valid chain. After every committed append the checkpoint
file (``AUDIT_CHECKPOINT_PATH``) is advanced to the new head: its sequence number and hash, signed with the
same key. ``verify_audit`` compares the table with it, so records removed from the end are found even though
the chain itself would still link. Records removed from the start are found by the chain: the first record
left must be #1 or be anchored by a keyed ``retention.purge`` record naming the record before it.
"""

from __future__ import annotations

import fcntl
import hashlib
import hmac
import json
import logging
import os
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

log = logging.getLogger(__name__)
VERSION = 1


class CheckpointError(Exception):
    """The checkpoint file cannot be read or its signature does not match."""


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
    configured = settings.AUDIT_CHECKPOINT_PATH
    if configured is None:  # the settings give a default
        raise ImproperlyConfigured("AUDIT_CHECKPOINT_PATH is not set.")
    return Path(configured)


def _mac(body: dict) -> str:
    data = json.dumps(body, sort_keys=True, separators=(",", ":")).encode()
    return hmac.new(chain_key(), b"checkpoint:" + data, hashlib.sha256).hexdigest()


def read() -> dict | None:
    """The checkpoint ({head_seq, head_hash, legacy_through}), None if there is none. Raises CheckpointError."""
    try:
        raw = path().read_text()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise CheckpointError(f"cannot read {path()}: {exc}") from exc
    try:
        data = json.loads(raw)
        body, mac = data["body"], data["mac"]
    except (ValueError, KeyError, TypeError) as exc:
        raise CheckpointError(f"{path()} is not a checkpoint") from exc
    if not hmac.compare_digest(str(mac), _mac(body)):
        raise CheckpointError(f"the signature of {path()} does not match (altered, or signed with another key)")
    return body


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


def _write(body: dict) -> None:
    target = path()
    body = {**body, "version": VERSION}
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    with open(tmp, "w") as fh:
        json.dump({"body": body, "mac": _mac(body)}, fh, sort_keys=True)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, target)


def advance(seq: int, record_hash: str) -> None:
    """Move the checkpoint to a committed record if it is newer than the one there (never backwards).

    A missing checkpoint is created only for the first record of a new chain (#1): elsewhere it was lost,
    and ``verify_audit`` reports that until an operator adopts the table as it is (``verify_audit --adopt``).
    """
    try:
        with _locked():
            current = read()
            if current is None:
                if seq != 1:
                    log.error(
                        "audit checkpoint %s is missing; run 'manage.py verify_audit --adopt' once checked", path()
                    )
                    return
                current = {"head_seq": 0, "head_hash": "", "legacy_through": 0}
            if seq > current["head_seq"]:
                _write({**current, "head_seq": seq, "head_hash": record_hash})
    except (OSError, CheckpointError):
        log.exception("could not advance the audit checkpoint %s", path())


def adopt(head_seq: int, head_hash: str, legacy_through: int) -> None:
    """Write a checkpoint for the table as it is now (a new server, or a chain from before keyed hashes)."""
    with _locked():
        _write({"head_seq": head_seq, "head_hash": head_hash, "legacy_through": legacy_through})
