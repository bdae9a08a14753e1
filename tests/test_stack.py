"""The one path that matters, on the real stack: a camera posts a frame, a separate Celery
worker reads the plate, the read is matched against a hotlist, and an officer's websocket
gets the alert within 2 seconds."""

from __future__ import annotations

import asyncio
import json
import time
from datetime import UTC

import pytest

from conftest import SHARED, jpeg_bytes, require
from tests.conftest import make_stack_user

pytestmark = [pytest.mark.stack]


def _make_world(plate: str, password: str = "officer-password-1"):
    from cameras.services import do_create_camera
    from hotlist.models import Entry, Hotlist

    make_stack_user("officer-stack", "officer", password)
    _camera, token = do_create_camera(name="Stack camera", region="us")
    hotlist = Hotlist.objects.create(name="Stolen (stack test)")
    Entry.objects.create(
        hotlist=hotlist, plate=plate, plate_raw=plate, state="", reason="Stolen vehicle", case_number="ST-1"
    )
    return token, password


def _real_photo_read_right() -> tuple[bytes, str]:
    """A real benchmark photo (from ../shared) that the pipeline reads exactly, with its plate."""
    from recognition.vision.pipeline import decode_image, get_pipeline

    pipe = get_pipeline()
    folder = SHARED / "bench" / "openalpr-dev" / "us"
    for txt in sorted(folder.glob("*.txt"))[:40]:
        name, *_, plate = txt.read_text().split()
        data = (folder / name).read_bytes()
        reads = pipe.read(decode_image(data), region="us")
        if any(r.text == plate for r in reads):
            return data, plate
    pytest.fail("the pipeline read none of the first 40 US benchmark photos exactly")


async def _receive_alert(ws_url: str, cookie: str, post, timeout: float = 30):
    import websockets

    async with websockets.connect(ws_url, additional_headers={"Cookie": cookie, "Origin": "http://127.0.0.1"}) as ws:
        loop = asyncio.get_running_loop()
        response, accepted_at = await loop.run_in_executor(None, post)
        assert response.status_code == 202, response.text
        message = json.loads(await asyncio.wait_for(ws.recv(), timeout))
        return response, accepted_at, message, time.monotonic()


def _timed_post(stack, token, jpeg, captured_at=None):
    def post():
        response = stack.post_frame(token, jpeg, captured_at)
        return response, time.monotonic()

    return post


def test_real_photo_on_a_hotlist_reaches_the_officer_in_about_a_second(stack):
    require((SHARED / "bench" / "openalpr-dev").is_dir(), "../shared/bench/openalpr-dev is not present")
    jpeg, plate = _real_photo_read_right()
    token, password = _make_world(plate)
    session = stack.login("officer-stack", password)
    cookie = f"sessionid={session.cookies['sessionid']}"

    # Warm-up frame (no plate on the list): the worker has loaded its models before the timed one.
    from recognition.vision.synth import render_vehicle_scene

    warm, _ = render_vehicle_scene("WARM123", seed=5)
    assert stack.post_frame(token, jpeg_bytes(warm)).status_code == 202

    latencies, accepts = [], []
    from datetime import datetime, timedelta, timezone

    for i in range(5):
        # Each post is a separate pass of the car (an hour apart), so each one alerts.
        when = (datetime.now(UTC) - timedelta(hours=5 - i)).isoformat()
        started = time.monotonic()
        _response, accepted_at, message, arrived_at = asyncio.run(
            _receive_alert(stack.ws_url, cookie, _timed_post(stack, token, jpeg, when))
        )
        assert message["type"] == "alert.new", stack.logs()
        latencies.append(arrived_at - started)
        accepts.append(accepted_at - started)
        alert = message["alert"]
        assert alert["read"]["text"] == plate and alert["entry"]["plate"] == plate
        assert alert["entry"]["reason"] == "Stolen vehicle" and alert["camera"]["name"] == "Stack camera"
        assert alert["read"]["crop_url"] and alert["frame"]["thumb_url"]
    latencies.sort()
    print(
        f"\nreal photo {plate}, 5 posts: 202 after median {1000 * sorted(accepts)[2]:.0f} ms; alert at the "
        f"officer's websocket after median {1000 * latencies[2]:.0f} ms, max {1000 * latencies[-1]:.0f} ms"
    )
    # The point is an alert at the officer's screen within about a second of the post: the median must be under 2 s;
    # the slowest may meet a busy shared machine, but not a stall (a poll, a retry, a model loaded per frame).
    assert latencies[2] < 2.0, f"alerts took {[round(x, 2) for x in latencies]} s\n{stack.logs()}"
    assert latencies[-1] < 5.0, f"alerts took {[round(x, 2) for x in latencies]} s\n{stack.logs()}"

    # The evidence images are served to the logged-in officer, not to anyone else.
    import requests

    assert session.get(stack.base_url + alert["read"]["crop_url"]).status_code == 200
    anonymous = requests.get(stack.base_url + alert["read"]["crop_url"], allow_redirects=False)
    assert anonymous.status_code == 302


def test_rendered_frame_is_processed_by_the_separate_worker(stack):
    from cameras.models import Frame
    from recognition.vision.synth import render_vehicle_scene

    token, password = _make_world("7ABC123")
    image, _ = render_vehicle_scene("7ABC123", seed=11)
    session = stack.login("officer-stack", password)
    response, _, message, _ = asyncio.run(
        _receive_alert(
            stack.ws_url, f"sessionid={session.cookies['sessionid']}", _timed_post(stack, token, jpeg_bytes(image))
        )
    )
    assert message["alert"]["read"]["text"] == "7ABC123"
    frame = Frame.objects.get(pk=response.json()["frame"])
    assert frame.status == Frame.Status.DONE
    read = frame.reads.get()
    assert read.engine in ("onnx+crnn", "onnx+rapid+crnn") and read.candidates[0][0] == "7ABC123"


def test_websocket_without_a_session_is_refused(stack):
    import websockets

    async def attempt():
        with pytest.raises(websockets.exceptions.InvalidStatus) as info:
            async with websockets.connect(stack.ws_url, additional_headers={"Origin": "http://127.0.0.1"}):
                pass
        return info.value.response.status_code

    assert asyncio.run(attempt()) == 403
