"""One clock: times shown in the agency's time zone (settings.TIME_ZONE), with the zone named."""

from __future__ import annotations

from datetime import datetime

from django.utils import dateformat, timezone

#: How times read everywhere (pages, exports, live cards): "2026-12-06 17:40:12 EST".
DISPLAY_FORMAT = "Y-m-d H:i:s T"


def zone_name() -> str:
    return timezone.get_default_timezone_name()


def display(value: datetime | None) -> str:
    """``value`` in the agency's zone, e.g. "2026-12-06 17:40:12 EST"; empty for None."""
    if value is None:
        return ""
    if timezone.is_naive(value):
        value = timezone.make_aware(value, timezone.get_default_timezone())
    return dateformat.format(timezone.localtime(value, timezone.get_default_timezone()), DISPLAY_FORMAT)


def local_iso(value: datetime | None) -> str:
    """ISO 8601 in the agency's zone with its UTC offset (exports), e.g. 2026-12-06T17:40:12-05:00."""
    if value is None:
        return ""
    return timezone.localtime(value, timezone.get_default_timezone()).isoformat()


def context(request) -> dict:
    """Template context: the agency's zone (base.html names it, scripts format with it)."""
    return {"agency_time_zone": zone_name()}
