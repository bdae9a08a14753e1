"""Cameras that are read rather than pushing: a video file, a watched folder, and a real RTSP stream.
Each one produces reads, a plate event and an alert through the real models."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import cv2
import pytest

from conftest import require
from tests.conftest import free_port

PLATE = "6TRK904"
SYSTEM_PYTHON = "/usr/bin/python3"


def rendered_frames(count: int, plate: str = PLATE):
    from recognition.vision.synth import render_vehicle_scene

    return [render_vehicle_scene(plate, seed=100 + i, size=(960, 540))[0] for i in range(count)]


def listed(plate: str = PLATE):
    from hotlist.models import Entry, Hotlist

    hotlist = Hotlist.objects.create(name="Stolen (readers)")
    Entry.objects.create(hotlist=hotlist, plate=plate, plate_raw=plate, reason="Stolen vehicle")


def run_reader(camera, seconds: float, until=None):
    from cameras.readers import Reader, SourceConfig

    reader = Reader(SourceConfig.of(camera))
    reader.start()
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and reader.is_alive():
        if until is not None and until():
            break
        time.sleep(0.25)
    reader.stop()
    reader.join(15)
    return reader


def assert_event_and_alert(camera):
    from alerts.models import Alert
    from recognition.models import PlateEvent, Read

    texts = list(Read.objects.filter(camera=camera).values_list("text", flat=True))
    assert PLATE in texts, texts
    event = PlateEvent.objects.get(camera=camera, plate=PLATE)
    assert event.read_count >= 2
    alert = Alert.objects.get(camera=camera)
    assert alert.entry_plate == PLATE and alert.event == event


def alert_exists(camera):
    from alerts.models import Alert

    return lambda: (
        Alert.objects.filter(camera=camera).exists()
        and __import__("recognition.models", fromlist=["Read"]).Read.objects.filter(camera=camera).count() >= 2
    )


@pytest.mark.django_db(transaction=True)
def test_a_video_file_uploaded_in_the_ui_produces_an_event_and_an_alert(client, admin_user, tmp_path):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from cameras.models import Camera

    listed()
    video = tmp_path / "pass.avi"
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"MJPG"), 4, (960, 540))
    for frame in rendered_frames(4):
        writer.write(frame)
    writer.release()
    client.force_login(admin_user)
    response = client.post(
        "/cameras/new/",
        {
            "name": "Lot B video",
            "region": "us",
            "enabled": "on",
            "source": "file",
            "sample_fps": 4,
            "silence_minutes": 0,
            "masks": "[]",
            "source_file": SimpleUploadedFile("pass.avi", video.read_bytes(), content_type="video/x-msvideo"),
        },
    )
    assert response.status_code == 200, response.content.decode()[:2000]
    camera = Camera.objects.get(name="Lot B video")
    assert camera.source == "file" and camera.source_file
    reader = run_reader(camera, 60)
    assert reader.submitted >= 2 and not reader.is_alive()
    assert_event_and_alert(camera)


@pytest.mark.django_db(transaction=True)
def test_a_watched_folder_of_images_produces_an_event_and_an_alert(tmp_path):
    from cameras.services import do_create_camera

    listed()
    folder = tmp_path / "drop"
    folder.mkdir()
    camera, _ = do_create_camera(name="Gate folder", source="folder", source_url=str(folder))
    for i, frame in enumerate(rendered_frames(3)):
        cv2.imwrite(str(folder / f"img-{i}.jpg"), frame)
    old = time.time() - 5
    for path in folder.glob("*.jpg"):
        import os

        os.utime(path, (old, old))
    reader = run_reader(camera, 60, until=lambda: not list(folder.glob("*.jpg")))
    assert reader.submitted == 3
    assert sorted(p.name for p in (folder / ".alpr-processed").iterdir()) == ["img-0.jpg", "img-1.jpg", "img-2.jpg"]
    assert_event_and_alert(camera)


@pytest.mark.django_db(transaction=True)
def test_a_real_rtsp_stream_produces_an_event_and_an_alert(tmp_path):
    from cameras.services import do_create_camera

    has_gst = (
        Path(SYSTEM_PYTHON).exists()
        and subprocess.run(
            [
                SYSTEM_PYTHON,
                "-c",
                "import gi; gi.require_version('GstRtspServer', '1.0'); from gi.repository import GstRtspServer",
            ],
            capture_output=True,
        ).returncode
        == 0
    )
    require(has_gst, "GStreamer's RTSP server is not installed (gir1.2-gst-rtsp-server-1.0, python3-gi)")
    listed()
    frames_dir = tmp_path / "frames"
    frames_dir.mkdir()
    for i, frame in enumerate(rendered_frames(4)):
        cv2.imwrite(str(frames_dir / f"frame-{i:03d}.jpg"), frame)
    port = free_port()
    server = subprocess.Popen(
        [
            SYSTEM_PYTHON,
            str(Path(__file__).parent / "rtsp_server.py"),
            str(port),
            str(frames_dir / "frame-%03d.jpg"),
            "4",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert "ready" in server.stdout.readline()
        camera, _ = do_create_camera(
            name="Bridge RTSP", source="rtsp", source_url=f"rtsp://127.0.0.1:{port}/plate", sample_fps=2
        )
        reader = run_reader(camera, 90, until=alert_exists(camera))
        assert reader.submitted >= 2, reader.last_error
        assert_event_and_alert(camera)
    finally:
        server.terminate()
        server.wait(10)
