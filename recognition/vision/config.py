"""Environment settings of the vision core (plain Python, no Django).

Every setting comes from an environment variable read through a small typed
helper that fails loudly on a bad value.
"""

from __future__ import annotations

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


def env_choice(name: str, default: str, choices: tuple[str, ...]) -> str:
    value = env_str(name, default).lower()
    if value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(choices)}; got {value!r}")
    return value


def threads() -> int:
    """ALPR_THREADS: CPU threads for inference (default: number of cores)."""
    return env_int("ALPR_THREADS", os.cpu_count() or 1)


def model_cache_dir() -> Path:
    """ALPR_MODEL_CACHE: where generated model files go (default <repo>/var/models)."""
    return Path(env_str("ALPR_MODEL_CACHE", str(REPO_ROOT / "var" / "models")))


def offline_ultralytics() -> None:
    """Keep ultralytics off the network and quiet; call before importing it."""
    os.environ.setdefault("YOLO_OFFLINE", "1")
    os.environ.setdefault("YOLO_VERBOSE", "False")
    os.environ.setdefault("YOLO_AUTOINSTALL", "False")


def ort_session_options():  # type: ignore[no-untyped-def]
    """onnxruntime options shared by every session of the vision core.

    ALPR_THREADS threads per session. Idle pool threads do not spin
    (ALPR_ORT_SPIN=1 turns spinning back on): the pipeline runs three
    sessions one after another, and spinning pools then compete for the
    cores, which measured slower on a busy 2-core machine.
    """
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads()
    opts.inter_op_num_threads = 1
    opts.log_severity_level = 3
    spin = "1" if env_int("ALPR_ORT_SPIN", 0, minimum=0) else "0"
    opts.add_session_config_entry("session.intra_op.allow_spinning", spin)
    opts.add_session_config_entry("session.inter_op.allow_spinning", spin)
    return opts
