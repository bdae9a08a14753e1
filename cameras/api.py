"""POST /api/frames/: cameras push JPEG/PNG frames with their token."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from .ingest import IngestError, inspect_image, parse_captured_at, parse_token
from .services import IdempotencyConflict, camera_for_token, do_accept_frame

# Multipart framing around the image: boundaries, headers and small fields.
_MULTIPART_SLACK = 64 * 1024


def _error(status: int, message: str) -> JsonResponse:
    response = JsonResponse({"error": message}, status=status)
    if status == 401:
        response["WWW-Authenticate"] = 'Token realm="cameras"'
    return response


@csrf_exempt
@login_not_required  # cameras authenticate with their own token, checked below
@require_POST
def frames(request: HttpRequest) -> JsonResponse:
    token = parse_token(request.headers.get("Authorization"))
    if token is None:
        return _error(401, "Send the camera token as 'Authorization: Token <token>'.")
    camera = camera_for_token(token)
    if camera is None:
        return _error(401, "Unknown camera token.")
    if not camera.enabled:
        return _error(403, f"Camera {camera.name!r} is disabled.")

    max_bytes = settings.ALPR_MAX_UPLOAD_BYTES
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > max_bytes + _MULTIPART_SLACK:
        return _error(413, f"Request is {declared} bytes; images may be at most {max_bytes} bytes.")

    upload = request.FILES.get("image")
    if upload is None:
        return _error(400, "Send the frame as multipart/form-data with the file field 'image'.")
    if upload.size is not None and upload.size > max_bytes:
        return _error(413, f"Image is {upload.size} bytes; the limit is {max_bytes}.")
    data = upload.read()
    try:
        info = inspect_image(data, max_bytes=max_bytes, max_pixels=settings.ALPR_MAX_PIXELS)
        captured_at = parse_captured_at(
            request.POST.get("captured_at"),
            timezone.now(),
            past=timedelta(days=settings.ALPR_CAPTURED_AT_PAST_DAYS),
            future=timedelta(seconds=settings.ALPR_CAPTURED_AT_FUTURE_SECONDS),
        )
    except IngestError as exc:
        return _error(exc.status, exc.message)
    key = (request.headers.get("Idempotency-Key") or "").strip()
    if len(key) > 100:
        return _error(400, "Idempotency-Key may be at most 100 characters.")
    try:
        frame, created = do_accept_frame(camera, data, info, captured_at, idempotency_key=key)
    except IdempotencyConflict as exc:
        return _error(
            409,
            f"Idempotency-Key {key!r} was already used for frame {exc.frame.pk} with a different "
            f"image; send each new frame with a new key.",
        )
    body = {"frame": frame.pk} if created else {"frame": frame.pk, "duplicate": True}
    return JsonResponse(body, status=202)


@login_not_required  # readable by logged-in users and by cameras with a valid token
def schema(request: HttpRequest) -> JsonResponse:
    from .openapi import SCHEMA

    token = parse_token(request.headers.get("Authorization"))
    if not request.user.is_authenticated and (token is None or camera_for_token(token) is None):
        return _error(401, "Log in, or send a camera token, to read the API description.")
    return JsonResponse(SCHEMA)
