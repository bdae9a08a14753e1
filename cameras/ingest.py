"""Validation of frames pushed by cameras. Plain functions: no request objects."""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.utils.dateparse import parse_datetime
from PIL import Image, UnidentifiedImageError

# A declared pixel count this many times larger than the file's bytes is no
# photograph: real JPEG/PNG frames compress 2-30x, a decompression bomb 1000x+.
BOMB_RATIO = 200


class IngestError(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class ImageInfo:
    content_type: str
    extension: str
    width: int
    height: int


# MPO (phones, dual-lens cameras) is a JPEG followed by further JPEGs; the first image is the frame,
# and every JPEG decoder (the browser's, OpenCV's) reads just that one.
_FORMATS = {"JPEG": ("image/jpeg", "jpg"), "MPO": ("image/jpeg", "jpg"), "PNG": ("image/png", "png")}


def inspect_image(data: bytes, *, max_bytes: int, max_pixels: int) -> ImageInfo:
    """Check that ``data`` is a whole JPEG or PNG within the limits; raise IngestError if not."""
    if len(data) > max_bytes:
        raise IngestError(413, f"Image is {len(data)} bytes; the limit is {max_bytes}.")
    if not data:
        raise IngestError(400, "The image is empty.")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            if image.format not in _FORMATS:
                raise IngestError(400, f"Images must be JPEG or PNG, not {image.format or 'unknown'}.")
            width, height = image.size
            pixels = width * height
            if pixels > max_pixels:
                raw_bytes = pixels * max(1, len(image.getbands()))
                if raw_bytes > BOMB_RATIO * len(data):
                    raise IngestError(
                        400, f"Rejected as a decompression bomb: {width}x{height} pixels in {len(data)} bytes."
                    )
                raise IngestError(413, f"Image is {width}x{height} = {pixels} pixels; the limit is {max_pixels}.")
            image.load()  # full decode: truncated or corrupt data fails here
    except IngestError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise IngestError(400, f"Rejected as a decompression bomb: {exc}") from exc
    except UnidentifiedImageError as exc:
        raise IngestError(400, "The upload is not an image (JPEG or PNG expected).") from exc
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise IngestError(400, f"The image is corrupt: {exc}") from exc
    content_type, extension = _FORMATS[image.format]
    return ImageInfo(content_type=content_type, extension=extension, width=width, height=height)


def parse_captured_at(
    value: str | None, now: datetime, *, past: timedelta = timedelta(days=30), future: timedelta = timedelta(minutes=5)
) -> datetime:
    """ISO 8601 capture time; naive times are taken as UTC; absent means now.

    A time more than ``past`` before ``now`` or more than ``future`` after it is refused: a camera
    whose clock says 1970 or 2099 (or year 1 or 9999) would otherwise file its reads, and alerts,
    under a date nobody searches for."""
    if value is None or value.strip() == "":
        return now
    try:
        parsed = parse_datetime(value.strip())
    except (ValueError, OverflowError):
        parsed = None
    if parsed is None:
        raise IngestError(400, f"captured_at {value!r} is not an ISO 8601 date-time.")
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    try:
        age = now - parsed
    except OverflowError:  # year 1 with an offset east of UTC, and the like
        age = timedelta.max
    if age > past:
        raise IngestError(
            400,
            f"captured_at {value.strip()!r} is more than {_span(past)} in the past; check the "
            f"camera's clock (the server's time is {now.isoformat(timespec='seconds')}).",
        )
    if -age > future:
        raise IngestError(
            400,
            f"captured_at {value.strip()!r} is more than {_span(future)} in the future; check the "
            f"camera's clock (the server's time is {now.isoformat(timespec='seconds')}).",
        )
    return parsed


def _span(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    if seconds % 86400 == 0:
        return f"{seconds // 86400} day(s)"
    return f"{seconds} seconds"


def parse_token(header: str | None) -> str | None:
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "token" or not token.strip():
        return None
    return token.strip()
