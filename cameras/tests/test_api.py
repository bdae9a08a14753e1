import io
import struct
import zlib

import pytest
from django.core.management import call_command
from PIL import Image

from cameras.models import Camera, Frame
from conftest import png_bytes

URL = "/api/frames/"


def post(client, token, data=None, **extra):
    headers = {"HTTP_AUTHORIZATION": f"Token {token}"} if token else {}
    return client.post(URL, data or {}, **headers, **extra)


def upload(content: bytes, name="frame.png"):
    f = io.BytesIO(content)
    f.name = name
    return f


@pytest.mark.django_db
def test_camera_posts_a_png_and_gets_202_with_the_frame_id(
    client, camera_and_token, django_capture_on_commit_callbacks
):
    camera, token = camera_and_token
    from datetime import timedelta

    from django.utils import timezone

    when = (timezone.now() - timedelta(days=2)).replace(microsecond=0)
    before = timezone.now()
    with django_capture_on_commit_callbacks() as callbacks:
        response = post(
            client, token, {"image": upload(png_bytes(320, 200)), "captured_at": when.strftime("%Y-%m-%dT%H:%M:%SZ")}
        )
    assert response.status_code == 202
    frame = Frame.objects.get(pk=response.json()["frame"])
    assert (frame.camera, frame.width, frame.height, frame.content_type) == (camera, 320, 200, "image/png")
    assert frame.captured_at == when
    assert frame.status == Frame.Status.QUEUED
    assert len(callbacks) == 1, "recognition is enqueued once, after commit"
    camera.refresh_from_db()
    assert before <= camera.last_frame_at <= timezone.now()  # when it arrived, not the camera's clock


@pytest.mark.django_db
@pytest.mark.parametrize("header", [None, "Token", "Bearer abc", "Token wrong-token"])
def test_missing_or_wrong_token_is_401_and_stores_nothing(client, camera, header):
    extra = {"HTTP_AUTHORIZATION": header} if header else {}
    response = client.post(URL, {"image": upload(png_bytes())}, **extra)
    assert response.status_code == 401
    assert "error" in response.json()
    assert Frame.objects.count() == 0


@pytest.mark.django_db
def test_disabled_camera_is_403(client, camera_and_token):
    camera, token = camera_and_token
    Camera.objects.filter(pk=camera.pk).update(enabled=False)
    response = post(client, token, {"image": upload(png_bytes())})
    assert response.status_code == 403
    assert Frame.objects.count() == 0


def _png_header_only(width, height) -> bytes:
    """A PNG whose IHDR claims width x height but whose data is a tiny compressed run of zeros."""

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    raw = zlib.compress(b"\x00" * (1 + width // 8) * 16, 9)  # nowhere near enough rows: a bomb's shape
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0))
        + chunk(b"IDAT", raw)
        + chunk(b"IEND", b"")
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    "content, status, message",
    [
        (b"this is plain text, not a picture", 400, "not an image"),
        (png_bytes(200, 200)[:-40], 400, "corrupt"),
        (b"GIF89a" + b"\x00" * 64, 400, "not an image"),
        (_png_header_only(30000, 30000), 400, "decompression bomb"),
    ],
    ids=["text", "truncated-png", "gif", "bomb"],
)
def test_bad_images_are_400_with_a_clear_error(client, camera_and_token, content, status, message):
    _, token = camera_and_token
    response = post(client, token, {"image": upload(content)})
    assert response.status_code == status
    assert message in response.json()["error"]
    assert Frame.objects.count() == 0


@pytest.mark.django_db
def test_non_jpeg_png_formats_are_refused(client, camera_and_token):
    _, token = camera_and_token
    buf = io.BytesIO()
    Image.new("RGB", (50, 50)).save(buf, "BMP")
    response = post(client, token, {"image": upload(buf.getvalue(), "x.bmp")})
    assert response.status_code == 400
    assert "JPEG or PNG" in response.json()["error"]


@pytest.mark.django_db
def test_over_40_megapixels_is_413(client, camera_and_token, settings):
    _, token = camera_and_token
    # A noisy image so that it does not look like a decompression bomb.
    settings.ALPR_MAX_PIXELS = 100 * 100
    import numpy as np

    noise = np.random.default_rng(1).integers(0, 255, (120, 120, 3), dtype=np.uint8)
    buf = io.BytesIO()
    Image.fromarray(noise).save(buf, "PNG")
    response = post(client, token, {"image": upload(buf.getvalue())})
    assert response.status_code == 413
    assert "pixels" in response.json()["error"]
    assert Frame.objects.count() == 0


@pytest.mark.django_db
def test_over_10_megabytes_is_413(client, camera_and_token, settings):
    _, token = camera_and_token
    settings.ALPR_MAX_UPLOAD_BYTES = 1000
    response = post(client, token, {"image": upload(png_bytes(300, 300, (1, 2, 3)) + b"\x00" * 2000)})
    assert response.status_code == 413
    assert Frame.objects.count() == 0


@pytest.mark.django_db
def test_default_limits_are_10_mb_and_40_megapixels(settings):
    from config import settings as prod

    assert prod.ALPR_MAX_UPLOAD_BYTES == 10 * 1024 * 1024
    assert prod.ALPR_MAX_PIXELS == 40_000_000


@pytest.mark.django_db
def test_missing_image_field_and_bad_time_are_400(client, camera_and_token):
    _, token = camera_and_token
    assert post(client, token, {"other": "x"}).status_code == 400
    response = post(client, token, {"image": upload(png_bytes()), "captured_at": "yesterday"})
    assert response.status_code == 400
    assert "captured_at" in response.json()["error"]
    assert Frame.objects.count() == 0


@pytest.mark.django_db
def test_get_is_not_allowed(client, camera_and_token):
    _, token = camera_and_token
    assert client.get(URL, HTTP_AUTHORIZATION=f"Token {token}").status_code == 405


@pytest.mark.django_db
def test_add_camera_prints_a_working_token_on_its_last_line(client, capsys):
    call_command("add_camera", "--name", "Gate 2", "--region", "br")
    token = capsys.readouterr().out.strip().splitlines()[-1]
    camera = Camera.objects.get(name="Gate 2")
    assert camera.region == "br"
    assert token not in (camera.token_hash, camera.token_hint)
    assert post(client, token, {"image": upload(png_bytes())}).status_code == 202


@pytest.mark.django_db
def test_a_retried_upload_with_the_same_idempotency_key_is_stored_once(client, camera_and_token):
    _, token = camera_and_token
    first = post(client, token, {"image": upload(png_bytes())}, HTTP_IDEMPOTENCY_KEY="cam1-frame-000042")
    again = post(client, token, {"image": upload(png_bytes())}, HTTP_IDEMPOTENCY_KEY="cam1-frame-000042")
    other = post(client, token, {"image": upload(png_bytes())}, HTTP_IDEMPOTENCY_KEY="cam1-frame-000043")
    assert first.status_code == again.status_code == other.status_code == 202
    assert again.json() == {"frame": first.json()["frame"], "duplicate": True}
    assert other.json()["frame"] != first.json()["frame"]
    assert Frame.objects.count() == 2


@pytest.mark.django_db
def test_a_reused_idempotency_key_with_a_different_image_is_409_and_stores_nothing(client, camera_and_token):
    _, token = camera_and_token
    first = post(client, token, {"image": upload(png_bytes(color=(1, 2, 3)))}, HTTP_IDEMPOTENCY_KEY="k-7")
    clash = post(client, token, {"image": upload(png_bytes(color=(200, 2, 3)))}, HTTP_IDEMPOTENCY_KEY="k-7")
    assert first.status_code == 202
    assert clash.status_code == 409
    assert "different image" in clash.json()["error"] and str(first.json()["frame"]) in clash.json()["error"]
    assert Frame.objects.count() == 1
    same = post(client, token, {"image": upload(png_bytes(color=(1, 2, 3)))}, HTTP_IDEMPOTENCY_KEY="k-7")
    assert same.status_code == 202 and same.json() == {"frame": first.json()["frame"], "duplicate": True}


@pytest.mark.django_db
def test_frames_are_kept_when_the_broker_is_away(
    client, camera_and_token, monkeypatch, settings, django_capture_on_commit_callbacks
):
    from recognition.tasks import process_frame

    _, token = camera_and_token
    settings.CELERY_TASK_ALWAYS_EAGER = False  # a deployment, with a broker

    def broker_down(*args, **kwargs):
        raise ConnectionRefusedError("Redis is away")

    monkeypatch.setattr(process_frame, "apply_async", broker_down)
    with django_capture_on_commit_callbacks(execute=True):
        response = post(client, token, {"image": upload(png_bytes())})
    assert response.status_code == 202
    frame = Frame.objects.get()
    assert frame.status == Frame.Status.QUEUED  # beat's requeue_stale_frames will send it


@pytest.mark.django_db
def test_openapi_schema_is_served_to_cameras_and_users_only(client, camera_and_token, officer):
    _, token = camera_and_token
    assert client.get("/api/schema/").status_code == 401
    schema = client.get("/api/schema/", HTTP_AUTHORIZATION=f"Token {token}").json()
    assert schema["openapi"].startswith("3.") and "/api/frames/" in schema["paths"]
    params = schema["paths"]["/api/frames/"]["post"]["parameters"]
    assert params[0]["name"] == "Idempotency-Key"
    client.force_login(officer)
    assert client.get("/api/schema/").status_code == 200


@pytest.mark.django_db
def test_a_silent_camera_opens_an_incident_for_admins_and_recovery_closes_it(client, camera_and_token, admin_user):
    from datetime import timedelta

    from django.utils import timezone

    from cameras.health import camera_status, do_check_health
    from cameras.models import CameraIncident

    camera, token = camera_and_token
    Camera.objects.filter(pk=camera.pk).update(last_frame_at=timezone.now() - timedelta(minutes=30))
    assert do_check_health() == {"opened": 1, "resolved": 0}
    assert do_check_health() == {"opened": 0, "resolved": 0}  # one incident, not one a minute
    camera.refresh_from_db()
    assert camera_status(camera)["state"] == "silent"
    client.force_login(admin_user)
    assert "silent" in client.get(f"/cameras/{camera.pk}/status/").content.decode()
    post(client, token, {"image": upload(png_bytes())})
    assert do_check_health() == {"opened": 0, "resolved": 1}
    assert CameraIncident.objects.get().resolved_at is not None
    status = client.get(f"/cameras/{camera.pk}/status.json").json()
    assert status["state"] == "ok" and status["frames_5min"] == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    "value, where",
    [
        ("9999-12-31T23:59:59Z", "future"),
        ("0001-01-01T00:00:00Z", "past"),
        ("0001-01-01T00:00:00+05:00", "past"),
        ("1970-01-01T00:00:00Z", "past"),
        ("2099-01-01T00:00:00Z", "future"),
        ("9999-12-31T23:59:59-05:00", "future"),
    ],
)
def test_captured_at_outside_the_window_is_400_and_stores_nothing(client, camera_and_token, value, where):
    _, token = camera_and_token
    response = post(client, token, {"image": upload(png_bytes()), "captured_at": value})
    assert response.status_code == 400, response.content
    assert f"in the {where}" in response.json()["error"] and "camera's clock" in response.json()["error"]
    assert Frame.objects.count() == 0


@pytest.mark.django_db
def test_captured_at_window_is_configurable(client, camera_and_token, settings):
    from datetime import timedelta

    from django.utils import timezone

    _, token = camera_and_token
    now = timezone.now()
    late = (now - timedelta(days=40)).isoformat()
    ahead = (now + timedelta(seconds=200)).isoformat()
    assert post(client, token, {"image": upload(png_bytes()), "captured_at": late}).status_code == 400
    assert post(client, token, {"image": upload(png_bytes()), "captured_at": ahead}).status_code == 202
    settings.ALPR_CAPTURED_AT_PAST_DAYS = 60
    settings.ALPR_CAPTURED_AT_FUTURE_SECONDS = 60
    assert post(client, token, {"image": upload(png_bytes()), "captured_at": late}).status_code == 202
    assert post(client, token, {"image": upload(png_bytes()), "captured_at": ahead}).status_code == 400


@pytest.mark.django_db
def test_an_mpo_jpeg_from_a_phone_is_accepted_and_read_as_its_first_image(client, camera_and_token):
    import numpy as np

    from recognition.vision.pipeline import decode_image

    _, token = camera_and_token
    first, second = Image.new("RGB", (64, 48), (10, 20, 30)), Image.new("RGB", (32, 24), (200, 20, 30))
    buf = io.BytesIO()
    first.save(buf, "MPO", save_all=True, append_images=[second])
    assert Image.open(io.BytesIO(buf.getvalue())).format == "MPO"
    response = post(client, token, {"image": upload(buf.getvalue(), "frame.jpg")})
    assert response.status_code == 202, response.content
    frame = Frame.objects.get()
    assert (frame.content_type, frame.width, frame.height) == ("image/jpeg", 64, 48)
    with frame.image.open("rb") as fh:
        image = decode_image(fh.read())
    assert image.shape == (48, 64, 3) and np.abs(image[0, 0].astype(int) - [30, 20, 10]).max() <= 3


@pytest.mark.django_db
def test_a_reused_key_whose_first_image_is_gone_is_taken_as_a_retry(client, camera_and_token):
    _, token = camera_and_token
    first = post(client, token, {"image": upload(png_bytes(color=(1, 2, 3)))}, HTTP_IDEMPOTENCY_KEY="k-8")
    frame = Frame.objects.get()
    frame.image.storage.delete(frame.image.name)  # removed by retention, say
    again = post(client, token, {"image": upload(png_bytes(color=(9, 9, 9)))}, HTTP_IDEMPOTENCY_KEY="k-8")
    assert again.status_code == 202 and again.json() == {"frame": first.json()["frame"], "duplicate": True}
    assert Frame.objects.count() == 1
