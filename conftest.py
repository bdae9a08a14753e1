"""Fixtures shared by every app's tests: personas, cameras and frames."""

from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

SHARED = Path(__file__).resolve().parent.parent / "shared"
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def require(condition: bool, why: str) -> None:
    """Skip a test for want of a service or tool locally, but fail it in CI (CI must run everything)."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"CI must run this test, but {why}")
    pytest.skip(why)


@pytest.fixture
def make_user(db):
    from accounts.services import do_create_user

    def make(role: str, username: str | None = None, password: str = "correct-horse-battery"):
        return do_create_user(username or f"{role}1", password, role, validate=False)

    return make


@pytest.fixture
def officer(make_user):
    return make_user("officer")


@pytest.fixture
def admin_user(make_user):
    return make_user("admin")


@pytest.fixture
def auditor(make_user):
    return make_user("auditor")


@pytest.fixture
def camera_and_token(db):
    from cameras.services import do_create_camera

    return do_create_camera(name="Main St northbound", region="us", location="Main St & 5th", latitude=40.0,
                            longitude=-75.0)


@pytest.fixture
def camera(camera_and_token):
    return camera_and_token[0]


def png_bytes(width: int = 64, height: int = 48, color=(120, 130, 140)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (width, height), color).save(buf, "PNG")
    return buf.getvalue()


def jpeg_bytes(image_bgr: np.ndarray, quality: int = 92) -> bytes:
    import cv2

    ok, buf = cv2.imencode(".jpg", image_bgr, [int(cv2.IMWRITE_JPEG_QUALITY), quality])
    assert ok
    return buf.tobytes()


def pytest_collection_modifyitems(session, config, items):
    """Fault tests restart Redis and PostgreSQL: run them after everything else."""
    faults = [item for item in items if "test_faults" in item.nodeid]
    items[:] = [item for item in items if item not in faults] + faults
