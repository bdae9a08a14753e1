"""The demo: users, a camera, a hotlist, and a feed of frames rendered by the project.

The frames are synthetic scenes (recognition.vision.synth) posted to the real
ingest API over HTTP, so every read and alert comes from the real models.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass

import requests

from accounts.roles import ROLES
from accounts.services import do_create_user, do_set_role, generate_password
from cameras.models import Camera
from cameras.services import do_create_camera, do_rotate_token
from hotlist.models import Entry, Hotlist

DEMO_CAMERA = "Demo camera (Main St northbound)"
DEMO_LIST = "Demo stolen vehicles"
HOT_SEEDS = range(1000, 1004)


@dataclass
class DemoSetup:
    passwords: dict[str, str]
    token: str
    hot_plates: list[str]


def hot_plates() -> list[str]:
    from recognition.vision.synth import random_plate_text  # loads OpenCV: only when the demo runs

    return [random_plate_text(seed) for seed in HOT_SEEDS]


def do_demo_setup() -> DemoSetup:
    from django.contrib.auth import get_user_model

    User = get_user_model()
    passwords = {}
    for role in ROLES:
        username = f"demo-{role}"
        password = generate_password()
        user = User.objects.filter(username=username).first()
        if user is None:
            do_create_user(username, password, role, validate=False)
        else:
            user.set_password(password)
            user.is_active = True
            user.save(update_fields=["password", "is_active"])
            do_set_role(user, role)
        passwords[username] = password
    camera = Camera.objects.filter(name=DEMO_CAMERA).first()
    if camera is None:
        camera, token = do_create_camera(
            name=DEMO_CAMERA, region="us", location="Main St & 5th Ave", latitude=40.7128, longitude=-74.0060
        )
    else:
        token = do_rotate_token(camera)
        Camera.objects.filter(pk=camera.pk).update(enabled=True)
    hotlist, _ = Hotlist.objects.get_or_create(name=DEMO_LIST, defaults={"description": "Plates of the demo feed"})
    reasons = ["Stolen vehicle", "Wanted person", "Stolen plate", "Amber alert"]
    plates = hot_plates()
    for i, plate in enumerate(plates):
        Entry.objects.update_or_create(
            hotlist=hotlist,
            plate=plate,
            state="NY",
            defaults={
                "plate_raw": plate,
                "reason": reasons[i % len(reasons)],
                "case_number": f"DEMO-{2600 + i}",
                "notes": "Rendered demo vehicle",
            },
        )
    return DemoSetup(passwords=passwords, token=token, hot_plates=plates)


def plate_for_frame(n: int, plates: list[str], rng: random.Random, hot_every: int = 3) -> str:
    """The plate in demo frame ``n``: every ``hot_every``-th frame a listed plate, in turn (so each comes
    back every ``hot_every * len(plates)`` frames: 48 s at the default 4 s interval, and alerts again
    once ``ALERT_DEDUP_SECONDS`` have passed since its last alert), the others random."""
    from recognition.vision.synth import random_plate_text  # loads OpenCV: only when the demo runs

    if n % hot_every == 0:
        return plates[(n // hot_every) % len(plates)]
    return random_plate_text(rng.randrange(1, 10**6))


def feed(
    base_url: str, token: str, *, frames: int | None, interval: float, hot_every: int = 3, log=print, seed: int = 0
) -> int:
    """Render scenes and POST them to /api/frames/ like a camera would. Returns frames accepted."""
    import cv2

    from recognition.vision.synth import render_vehicle_scene  # loads OpenCV: only when the demo runs

    rng = random.Random(seed)
    plates = hot_plates()
    sent = 0
    n = 0
    session = requests.Session()
    while frames is None or n < frames:
        plate = plate_for_frame(n, plates, rng, hot_every)
        image, _ = render_vehicle_scene(plate, seed=rng.randrange(10**6))
        ok, buf = cv2.imencode(".jpg", image, [int(cv2.IMWRITE_JPEG_QUALITY), 90])
        assert ok
        started = time.monotonic()
        try:
            response = session.post(
                f"{base_url}/api/frames/",
                headers={"Authorization": f"Token {token}"},
                files={"image": ("frame.jpg", buf.tobytes(), "image/jpeg")},
                timeout=60,
            )
            status = response.status_code
        except requests.RequestException as exc:
            log(f"feed: frame {n} with plate {plate}: {exc}")
            status = None
        if status == 202:
            sent += 1
            log(
                f"feed: frame {n} with plate {plate} -> 202 frame {response.json()['frame']} "
                f"({(time.monotonic() - started) * 1000:.0f} ms){'  [on the demo hotlist]' if plate in plates else ''}"
            )
        elif status is not None:
            log(f"feed: frame {n} with plate {plate} -> {status} {response.text[:200]}")
        n += 1
        if frames is None or n < frames:
            time.sleep(interval)
    return sent
