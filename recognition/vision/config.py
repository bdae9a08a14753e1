"""Environment settings of the vision core (plain Python, no Django).

Every setting comes from an environment variable read through a small typed
helper that fails loudly on a bad value.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

# The repository root: recognition/vision/config.py -> parents[2].
REPO_ROOT = Path(__file__).resolve().parents[2]


def env_str(name: str, default: str) -> str:
    value = os.environ.get(name, "").strip()
    return value or default


def env_int(name: str, default: int, minimum: int = 1) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"{name} must be an integer, got {raw!r}") from None
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return value


def env_float(name: str, default: float) -> float:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        return float(raw)
    except ValueError:
        raise ValueError(f"{name} must be a number, got {raw!r}") from None


def float_setting(
    name: str, value: float | None, default: float, low: float, high: float, *, low_open: bool = False, high_open: bool = False
) -> float:
    """``value`` when given, else the environment's ``name``, else ``default``;
    a ValueError naming ``name`` unless it lies between ``low`` and ``high``
    (``low_open`` / ``high_open``: that end excluded)."""
    if value is None:
        value = env_float(name, default)
    above = value > low if low_open else value >= low
    below = value < high if high_open else value <= high
    if not (above and below):  # NaN fails both
        span = f"{'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"
        raise ValueError(f"{name} must be in {span}, got {value}")
    return value


def env_choice(name: str, default: str, choices: tuple[str, ...]) -> str:
    value = env_str(name, default).lower()
    if value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(choices)}; got {value!r}")
    return value


def env_flag(name: str, default: bool) -> bool:
    """An on/off setting written ``1`` or ``0``; anything else is a ValueError naming it."""
    return env_choice(name, "1" if default else "0", ("0", "1")) == "1"


def threads() -> int:
    """ALPR_THREADS: CPU threads for inference (default: number of cores)."""
    return env_int("ALPR_THREADS", os.cpu_count() or 1)


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


def model_cache_dir() -> Path:
    """ALPR_MODEL_CACHE: where model files made by training commands for this
    installation go (default <repo>/var/models); the worker only reads it."""
    return Path(env_str("ALPR_MODEL_CACHE", str(REPO_ROOT / "var" / "models")))


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

        if env_choice("ALPR_ORT_POOL", "global", ("global", "session")) == "session":
            _global_pool = False
        else:
            try:
                ort.set_global_thread_pool_sizes(threads(), 1)
                _global_pool = True
            except Exception:  # the environment exists already
                _global_pool = False
    return _global_pool


def ort_session_options():  # type: ignore[no-untyped-def]
    """onnxruntime options shared by every session of the vision core.

    By default (``ALPR_ORT_POOL=global``) all sessions of the process share
    one pool of ALPR_THREADS threads, whose idle threads spin briefly between
    runs. The pipeline runs four small models one after another (detector,
    text-line finder, recogniser, CRNN): with a pool per session, spinning
    pools compete for the cores (three times slower on 2 cores), and
    without spinning every operator pays a thread wake-up. Measured on the
    four models in sequence: 38.8 ms with the shared pool, 46.2 ms with
    per-session pools without spinning, 134 ms with spinning
    (docs/research-log.md). ``ALPR_ORT_POOL=session`` gives each session
    its own ALPR_THREADS threads, not spinning unless ALPR_ORT_SPIN=1.
    """
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.log_severity_level = 3
    if _use_global_pool():
        opts.use_per_session_threads = False
        return opts
    opts.intra_op_num_threads = threads()
    opts.inter_op_num_threads = 1
    spin = "1" if env_flag("ALPR_ORT_SPIN", False) else "0"
    opts.add_session_config_entry("session.intra_op.allow_spinning", spin)
    opts.add_session_config_entry("session.inter_op.allow_spinning", spin)
    return opts
