"""On the real stack with the production hotlist settings: the first car after a list change alerts.

A BOLO saved by an officer, or a list uploaded by an admin, and the listed car posted 1 s later: the
worker, whose index was built before the change, raises the alert for that very frame.
"""

from __future__ import annotations

import time
from datetime import timedelta

import pytest

from conftest import jpeg_bytes
from tests.conftest import make_stack_user

pytestmark = [pytest.mark.stack]


def _scene_read_right(plate: str) -> bytes:
    """A rendered car whose plate the pipeline reads exactly (checked here, with the worker's code)."""
    from recognition.vision.pipeline import decode_image, get_pipeline
    from recognition.vision.synth import render_vehicle_scene

    pipe = get_pipeline()
    for seed in range(3, 20):
        image, _ = render_vehicle_scene(plate, seed=seed)
        data = jpeg_bytes(image, quality=95)
        if [r.text for r in pipe.read(decode_image(data), region="us")] == [plate]:
            return data
    pytest.fail(f"no rendered scene of {plate} is read exactly")


def _wait_done(frame_id: int, timeout: float = 60) -> str:
    from cameras.models import Frame

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = Frame.objects.get(pk=frame_id).status
        if status in (Frame.Status.DONE, Frame.Status.FAILED):
            return status
        time.sleep(0.2)
    return Frame.objects.get(pk=frame_id).status


def _post_and_wait(stack, token: str, jpeg: bytes) -> int:
    response = stack.post_frame(token, jpeg)
    assert response.status_code == 202, response.text
    frame_id = response.json()["frame"]
    assert _wait_done(frame_id) == "done", stack.logs()
    return frame_id


@pytest.fixture
def warm_world(stack):
    """A camera and a worker that has already built its index (a frame was matched) before any change."""
    from cameras.services import do_create_camera
    from hotlist.models import Hotlist

    assert "HOTLIST_REFRESH_SECONDS" not in stack.env or stack.env["HOTLIST_REFRESH_SECONDS"] == "", (
        "the stack must run the production hotlist settings"
    )
    Hotlist.objects.create(name="Existing list").entries.create(plate="1EXI234", plate_raw="1EXI234")
    _, token = do_create_camera(name="Freshness camera", region="us")
    _post_and_wait(stack, token, _scene_read_right("4WRM218"))
    return token


def _alerts_for(frame_id: int, plate: str) -> int:
    from alerts.models import Alert

    return Alert.objects.filter(read__frame_id=frame_id, entry__plate=plate).count()


def test_bolo_saved_then_its_car_1_s_later_alerts(stack, warm_world):
    plate = "8AMB315"
    car = _scene_read_right(plate)
    make_stack_user("officer-fresh", "officer", "officer-password-1")
    session = stack.login("officer-fresh", "officer-password-1")
    from django.utils import timezone

    response = session.post(
        f"{stack.base_url}/hotlists/bolo/",
        data={
            "plate": plate,
            "reason": "Amber alert",
            "expires": (timezone.now() + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M"),
        },
        headers={"X-CSRFToken": session.cookies["csrftoken"], "Referer": f"{stack.base_url}/alerts/"},
        timeout=10,
    )
    assert response.status_code == 201, response.text
    time.sleep(1)
    frame_id = _post_and_wait(stack, warm_world, car)
    assert _alerts_for(frame_id, plate) == 1, f"the first car after the BOLO did not alert\n{stack.logs()}"


def test_uploaded_list_then_its_car_1_s_later_alerts(stack, warm_world):
    from hotlist.models import ImportJob

    plate = "6UPL284"
    car = _scene_read_right(plate)
    make_stack_user("admin-fresh", "admin", "admin-password-12")
    session = stack.login("admin-fresh", "admin-password-12")
    csv = f"plate,state,reason\n{plate},CA,Stolen vehicle\n7OTH391,CA,Stolen vehicle\n".encode()
    response = session.post(
        f"{stack.base_url}/hotlists/upload/",
        data={"list_name": "Uploaded stolen", "format": "", "mode": "replace"},
        files={"file": ("stolen.csv", csv, "text/csv")},
        headers={
            "X-CSRFToken": session.cookies["csrftoken"],
            "Referer": f"{stack.base_url}/hotlists/upload/",
            "Accept": "application/json",
        },
        timeout=30,
    )
    assert response.status_code == 202, response.text[:500]
    job_id = response.json()["job"]
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and ImportJob.objects.get(pk=job_id).status in ("queued", "running"):
        time.sleep(0.2)
    job = ImportJob.objects.get(pk=job_id)
    assert job.status == "done", (job.status, job.errors, stack.logs())
    time.sleep(1)
    frame_id = _post_and_wait(stack, warm_world, car)
    assert _alerts_for(frame_id, plate) == 1, f"the first car after the upload did not alert\n{stack.logs()}"
