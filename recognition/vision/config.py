"""Shared plumbing of the vision core (plain Python, no Django): the
repository's paths, model file digests and the process's inference runtime.

Settings live in :mod:`recognition.vision.settings`; nothing here reads the
environment except ultralytics' own switches (offline_ultralytics).
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import onnxruntime

# The repository root: recognition/vision/config.py -> parents[2].
REPO_ROOT = Path(__file__).resolve().parents[2]
# Where model files made by training commands for this installation go
# (VisionSettings.model_cache, ALPR_MODEL_CACHE); the worker only reads it.
DEFAULT_MODEL_CACHE = REPO_ROOT / "var" / "models"


# How onnxruntime and torch use the CPU, for the whole process: set once by
# build_pipeline from its VisionSettings (configure_runtime), before the first
# model loads; until then the defaults (every core, one shared pool).
_threads: int | None = None
_ort_pool = "global"
_ort_spin = False


def configure_runtime(threads: int, ort_pool: str = "global", ort_spin: bool = False) -> None:
    """Set the process's inference threads and onnxruntime thread pools
    (VisionSettings.threads, ort_pool, ort_spin). The choice between one global
    pool and a pool per session is made when the first session is created."""
    global _threads, _ort_pool, _ort_spin
    if threads < 1:
        raise ValueError(f"threads must be >= 1, got {threads}")
    if ort_pool not in ("global", "session"):
        raise ValueError(f"ort_pool must be global or session; got {ort_pool!r}")
    _threads, _ort_pool, _ort_spin = threads, ort_pool, ort_spin


def threads() -> int:
    """CPU threads for inference (VisionSettings.threads; default: number of cores)."""
    return _threads or os.cpu_count() or 1


def file_digest(path: Path) -> str:
    """Short SHA-256 (12 hex digits) of a file: names generated model files and
    ties a committed derived model to the file it was made from."""
    h = hashlib.sha256()
    with Path(path).open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()[:12]


def made_from(model: Path, key: str, digest: str) -> bool:
    """Whether the committed derived ``model`` exists and the ``.json`` beside it
    records ``digest`` (of the file it was made from) under ``key``."""
    meta = model.with_suffix(".json")
    return model.is_file() and meta.is_file() and json.loads(meta.read_text()).get(key) == digest


def offline_ultralytics() -> None:
    """Keep ultralytics off the network and quiet; call before importing it."""
    os.environ.setdefault("YOLO_OFFLINE", "1")
    os.environ.setdefault("YOLO_VERBOSE", "False")
    os.environ.setdefault("YOLO_AUTOINSTALL", "False")


_global_pool: bool | None = None  # None: not decided yet in this process


def _use_global_pool() -> bool:
    """Create onnxruntime's environment with one global thread pool, once per process.

    Must happen before the process's first session; if a session already
    exists (onnxruntime refuses then), sessions keep their own pools.
    """
    global _global_pool
    if _global_pool is None:
        import onnxruntime as ort

        if _ort_pool == "session":
            _global_pool = False
        else:
            try:
                ort.set_global_thread_pool_sizes(threads(), 1)
                _global_pool = True
            except Exception:  # the environment exists already
                _global_pool = False
    return _global_pool


def ort_session_options() -> onnxruntime.SessionOptions:
    """onnxruntime options shared by every session of the vision core.

    By default (``ort_pool="global"``) all sessions of the process share
    one pool of ``threads()`` threads, whose idle threads spin briefly between
    runs. The pipeline runs four small models one after another (detector,
    text-line finder, recogniser, CRNN): with a pool per session, spinning
    pools compete for the cores (three times slower on 2 cores), and
    without spinning every operator pays a thread wake-up. Measured on the
    four models in sequence: 38.8 ms with the shared pool, 46.2 ms with
    per-session pools without spinning, 134 ms with spinning
    (docs/research-log.md). ``ort_pool="session"`` gives each session
    its own ``threads()`` threads, not spinning unless ``ort_spin``.
    """
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.log_severity_level = 3
    if _use_global_pool():
        opts.use_per_session_threads = False
        return opts
    opts.intra_op_num_threads = threads()
    opts.inter_op_num_threads = 1
    spin = "1" if _ort_spin else "0"
    opts.add_session_config_entry("session.intra_op.allow_spinning", spin)
    opts.add_session_config_entry("session.inter_op.allow_spinning", spin)
    return opts
