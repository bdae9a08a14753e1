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
