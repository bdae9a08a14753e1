"""Hostile and odd input against the real stack (Daphne, a Celery worker, PostgreSQL, Redis): each is
answered with a clear 4xx or a clean close, never a 500 or a traceback, and stores nothing it should not."""

from __future__ import annotations

import asyncio
import io
import json
import time

import pytest
import requests

from conftest import jpeg_bytes
from tests.conftest import make_stack_user

pytestmark = [pytest.mark.stack]


def _scene() -> bytes:
    from recognition.vision.synth import render_vehicle_scene

    image, _ = render_vehicle_scene("7HJK204", seed=5)
    return jpeg_bytes(image)


def _wait_done(frame_id: int, timeout: float = 60) -> str:
    from cameras.models import Frame

    deadline = time.monotonic() + timeout
    status = ""
    while time.monotonic() < deadline:
        status = Frame.objects.get(pk=frame_id).status
        if status in ("done", "failed"):
            return status
        time.sleep(0.3)
    return status


def _marks(stack) -> list[int]:
    return [len(proc.lines) for proc in stack.procs]


def _no_traceback(stack, since: list[int]) -> None:
    """No process of the stack logged a traceback since ``since`` (from _marks)."""
    new = [line for proc, start in zip(stack.procs, since) for line in proc.lines[start:]]
    assert not any("Traceback" in line for line in new), "\n".join(new[-60:])


def test_implausible_capture_times_reused_keys_and_mpo_frames(stack):
    from PIL import Image

    from cameras.models import Frame
    from cameras.services import do_create_camera

    since = _marks(stack)
    _, token = do_create_camera(name="Hostile camera", region="us")
    for value in ["9999-12-31T23:59:59Z", "0001-01-01T00:00:00Z", "2099-01-01T00:00:00Z"]:
        response = stack.post_frame(token, _scene(), captured_at=value)
        assert response.status_code == 400 and "camera's clock" in response.json()["error"], response.text
    assert not Frame.objects.exists()

    url = f"{stack.base_url}/api/frames/"
    headers = {"Authorization": f"Token {token}", "Idempotency-Key": "cam-1"}
    first = requests.post(url, headers=headers, files={"image": ("f.jpg", _scene(), "image/jpeg")}, timeout=30)
    other = requests.post(
        url,
        headers=headers,
        files={"image": ("f.jpg", jpeg_bytes(__import__("numpy").zeros((120, 160, 3), "uint8")), "image/jpeg")},
        timeout=30,
    )
    assert first.status_code == 202 and other.status_code == 409, other.text
    assert Frame.objects.count() == 1

    buf = io.BytesIO()
    Image.open(io.BytesIO(_scene())).save(buf, "MPO", save_all=True, append_images=[Image.new("RGB", (64, 48))])
    mpo = stack.post_frame(token, buf.getvalue())
    assert mpo.status_code == 202, mpo.text
    assert _wait_done(first.json()["frame"]) == "done" and _wait_done(mpo.json()["frame"]) == "done"
    _no_traceback(stack, since)


def test_unknown_websocket_paths_and_bad_messages_are_handled_cleanly(stack):
    import websockets
    import websockets.exceptions

    since = _marks(stack)
    make_stack_user("officer-hostile", "officer", "officer-hostile-password")
    session = stack.login("officer-hostile", "officer-hostile-password")
    headers = {"Cookie": f"sessionid={session.cookies['sessionid']}", "Origin": "http://127.0.0.1"}
    root = stack.base_url.replace("http://", "ws://")

    async def scenario():
        for path in ["/ws/nope/", "/", "/ws/alerts/x"]:
            with pytest.raises(websockets.exceptions.InvalidStatus) as info:
                async with websockets.connect(root + path, additional_headers=headers):
                    pass
            assert info.value.response.status_code == 403, path  # refused in the handshake, not a 500
        async with websockets.connect(stack.ws_url, additional_headers=headers) as ws:
            for text in ["[1]", "42", "not json", '"ping"']:
                await ws.send(text)
                reply = json.loads(await asyncio.wait_for(ws.recv(), 10))
                assert reply["type"] == "error", (text, reply)
            await ws.send(json.dumps({"type": "ping"}))
            assert json.loads(await asyncio.wait_for(ws.recv(), 10)) == {"type": "pong"}

    asyncio.run(scenario())
    _no_traceback(stack, since)


def test_a_hotlist_with_a_year_9999_date_or_an_unclosed_quote_is_refused_with_its_line(stack):
    from hotlist.models import Entry, ImportJob

    make_stack_user("admin-hostile", "admin", "admin-hostile-password")
    session = stack.login("admin-hostile", "admin-hostile-password")
    files = {
        "dates.csv": b"plate,reason,expires\nABC123,x,2030-01-01\nXYZ999,y,9999-12-31\n",
        "quote.csv": b'plate,state,reason\nABC123,TX,"stolen\n'
        + b"".join(f"XYZ{i:03d},TX,stolen\n".encode() for i in range(80)),
    }
    for name, data in files.items():
        response = session.post(
            f"{stack.base_url}/hotlists/upload/",
            data={"list_name": "Hostile", "mode": "replace", "csrfmiddlewaretoken": session.cookies["csrftoken"]},
            files={"file": (name, data, "text/csv")},
            headers={"Referer": f"{stack.base_url}/hotlists/upload/", "Accept": "application/json"},
            timeout=30,
        )
        assert response.status_code == 202, response.text
        status_url = stack.base_url + response.json()["status_url"]
        deadline = time.monotonic() + 60
        state = {}
        while time.monotonic() < deadline:
            state = session.get(status_url, timeout=10).json()
            if state["status"] not in ("queued", "running"):
                break
            time.sleep(0.3)
        assert state["status"] == "rejected", (name, state)
        assert state["errors"][0][0] in (2, 3), (name, state)
    assert not Entry.objects.exists() and ImportJob.objects.filter(status="rejected").count() == 2
    assert session.get(f"{stack.base_url}/hotlists/", timeout=10).status_code == 200
