from django.contrib import messages
from django.core.paginator import Paginator
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from accounts.roles import ADMIN, AUDITOR, OFFICER, has_role, role_required
from audit.services import do_log

from .forms import DispositionForm, HistoryForm, WatchForm
from .models import Alert, WatchPreference
from .services import (
    DispositionError,
    alert_payload,
    dedup_window,
    do_acknowledge,
    do_disposition,
    visible_alerts,
    watched,
)

#: Handled (dispositioned) alerts kept on the dashboard, below every unhandled one.
RECENT_HANDLED = 20
#: Unhandled alerts shown on the dashboard; beyond this the dashboard says how many more and links
#: to the history, so none is ever out of reach.
UNHANDLED_MAX = 500
HISTORY_PAGE = 25
_PAYLOAD_RELATED = ("read__frame", "read__camera", "acknowledged_by", "dispositioned_by", "event", "hotlist")


def _watched_alerts(user, prefs=None):
    cameras, hotlists = prefs or watched(user)
    qs = visible_alerts(user).select_related(*_PAYLOAD_RELATED)
    if cameras:
        qs = qs.filter(camera_id__in=cameras)
    if hotlists:
        qs = qs.filter(hotlist_id__in=hotlists)
    return qs


def _dashboard_alerts(user, prefs=None) -> tuple[list[Alert], int]:
    """(every unhandled alert up to UNHANDLED_MAX, then the newest handled ones; unhandled count)."""
    qs = _watched_alerts(user, prefs)
    unhandled = qs.exclude(status=Alert.Status.DISPOSITIONED)
    shown = list(unhandled[: UNHANDLED_MAX + 1])
    count = len(shown) if len(shown) <= UNHANDLED_MAX else unhandled.count()
    handled = list(qs.filter(status=Alert.Status.DISPOSITIONED)[:RECENT_HANDLED])
    return shown[:UNHANDLED_MAX] + handled, count


@role_required(OFFICER, ADMIN)
def dashboard(request):
    cameras, hotlists = prefs = watched(request.user)
    alerts, unhandled = _dashboard_alerts(request.user, prefs)
    return render(
        request,
        "alerts/dashboard.html",
        {
            "alerts": [alert_payload(a) for a in alerts],
            "filtered": bool(cameras or hotlists),
            "unhandled": unhandled,
            "unhandled_hidden": max(0, unhandled - UNHANDLED_MAX),
            "handled_max": RECENT_HANDLED,
        },
    )


@role_required(OFFICER, ADMIN)
def alert_feed(request):
    """The dashboard's alerts as JSON. ``?after=ID``: also every alert after that one (up to 500), changed
    or new, which the dashboard asks for after a websocket reconnect, so no alert is lost while it was away."""
    prefs = watched(request.user)
    alerts, _ = _dashboard_alerts(request.user, prefs)
    after = request.GET.get("after", "")
    if after.isdigit():
        newer = list(_watched_alerts(request.user, prefs).filter(pk__gt=int(after)).order_by("pk")[:500])
        alerts = [*newer, *alerts]
    return JsonResponse({"alerts": [alert_payload(a) for a in alerts]})


@role_required(OFFICER, ADMIN, AUDITOR)
def history(request):
    """Every alert the user may see, newest first, a page at a time, with filters."""
    form = HistoryForm(request.GET or None, user=request.user)
    qs = visible_alerts(request.user).select_related("read__camera", "acknowledged_by", "dispositioned_by", "hotlist")
    if form.is_valid():
        qs = form.filter(qs)
    page = Paginator(qs, HISTORY_PAGE).get_page(request.GET.get("page"))
    params = request.GET.copy()
    params.pop("page", None)
    return render(request, "alerts/history.html", {"form": form, "page": page, "query_string": params.urlencode()})


def _detail(request, alert, form, status: int = 200):
    read_only = not has_role(request.user, OFFICER, ADMIN)
    return render(
        request,
        "alerts/detail.html",
        {
            "alert": alert,
            "payload": alert_payload(alert),
            "form": form,
            "read_only": read_only,
            "events": alert.events.select_related("user"),
            "sightings": alert.sightings.select_related("read"),
            "dedup_seconds": int(dedup_window().total_seconds()),
        },
        status=status,
    )


def _visible_alert(request, pk: int) -> Alert:
    return get_object_or_404(visible_alerts(request.user).select_related(*_PAYLOAD_RELATED), pk=pk)


@role_required(OFFICER, ADMIN, AUDITOR)
def alert_detail(request, pk: int):
    alert = _visible_alert(request, pk)
    if not has_role(request.user, OFFICER, ADMIN):
        do_log(request, "alert.view", query={"alert": pk, "plate": alert.entry_plate})
    return _detail(request, alert, DispositionForm())


@require_POST
@role_required(OFFICER, ADMIN)
def acknowledge(request, pk: int):
    get_object_or_404(visible_alerts(request.user), pk=pk)
    alert = do_acknowledge(pk, request.user)
    do_log(request, "alert.acknowledge", query={"alert": pk, "plate": alert.entry_plate})
    return JsonResponse({"alert": alert_payload(alert)})


@require_POST
@role_required(OFFICER, ADMIN)
def disposition(request, pk: int):
    alert = _visible_alert(request, pk)
    form = DispositionForm(request.POST)
    wants_json = request.headers.get("Accept", "").startswith("application/json")
    if not form.is_valid():
        if wants_json:
            return JsonResponse({"errors": form.errors}, status=400)
        # The page again with what the officer chose and wrote, and the errors beside it.
        return _detail(request, alert, form, status=400)
    try:
        alert = do_disposition(pk, request.user, form.cleaned_data["disposition"], form.cleaned_data["note"])
    except DispositionError as exc:
        if wants_json:
            return JsonResponse({"errors": {"disposition": [str(exc)]}}, status=409)
        messages.error(request, str(exc))
        return redirect("alerts:detail", pk=pk)
    do_log(
        request,
        "alert.disposition",
        query={"alert": pk, "plate": alert.entry_plate, "disposition": alert.disposition},
        reason=alert.disposition_note,
    )
    if wants_json:
        return JsonResponse({"alert": alert_payload(alert)})
    messages.success(request, f"Alert {pk}: {alert.get_disposition_display()}.")
    return redirect("alerts:detail", pk=pk)


@role_required(OFFICER, ADMIN)
def watch(request):
    pref, _ = WatchPreference.objects.get_or_create(user=request.user)
    form = WatchForm(
        request.POST or None,
        user=request.user,
        initial={"cameras": pref.cameras.all(), "hotlists": pref.hotlists.all()},
    )
    if request.method == "POST" and form.is_valid():
        pref.cameras.set(form.cleaned_data["cameras"])
        pref.hotlists.set(form.cleaned_data["hotlists"])
        messages.success(request, "Your watch list is saved; reconnecting dashboards pick it up.")
        return redirect("alerts:dashboard")
    return render(request, "alerts/watch.html", {"form": form})


@role_required(OFFICER, ADMIN, AUDITOR)
def evidence(request, pk: int):
    """The alert as one zip for a case file; the export is audited (and its record is in the package)."""
    from django.http import HttpResponse

    from .evidence import build_package

    alert = _visible_alert(request, pk)
    do_log(request, "alert.export", query={"alert": pk, "plate": alert.entry_plate})
    response = HttpResponse(build_package(alert, request.user.get_username()), content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="alert-{pk}-evidence.zip"'
    return response
