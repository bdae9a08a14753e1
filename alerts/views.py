from django.contrib import messages
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from accounts.roles import ADMIN, OFFICER, role_required
from audit.services import do_log

from .forms import DispositionForm, WatchForm
from .models import WatchPreference
from .services import DispositionError, alert_payload, do_acknowledge, do_disposition, visible_alerts, watched

RECENT = 50


def _recent(user, limit: int | None = RECENT):
    cameras, hotlists = watched(user)
    qs = visible_alerts(user).select_related("read__frame", "read__camera", "acknowledged_by", "dispositioned_by", "event",
                                                    "hotlist")
    if cameras:
        qs = qs.filter(camera_id__in=cameras)
    if hotlists:
        qs = qs.filter(hotlist_id__in=hotlists)
    return qs[:limit] if limit else qs


@role_required(OFFICER, ADMIN)
def dashboard(request):
    cameras, hotlists = watched(request.user)
    return render(request, "alerts/dashboard.html", {"alerts": [alert_payload(a) for a in _recent(request.user)],
                                                     "filtered": bool(cameras or hotlists)})


@role_required(OFFICER, ADMIN)
def alert_feed(request):
    """Recent alerts as JSON. ``?after=ID``: every alert after that one (up to 500), changed or new, which
    the dashboard asks for after a websocket reconnect, so no alert is lost while it was away."""
    after = request.GET.get("after", "")
    if after.isdigit():
        qs = _recent(request.user, limit=None).filter(pk__gt=int(after)).order_by("pk")[:500]
        recent_changed = _recent(request.user)
        return JsonResponse({"alerts": [alert_payload(a) for a in [*qs, *recent_changed]]})
    return JsonResponse({"alerts": [alert_payload(a) for a in _recent(request.user)]})


@role_required(OFFICER, ADMIN)
def alert_detail(request, pk: int):
    alert = get_object_or_404(visible_alerts(request.user).select_related("read__frame", "read__camera", "hotlist"), pk=pk)
    form = DispositionForm()
    events = alert.events.select_related("user")
    return render(request, "alerts/detail.html", {"alert": alert, "payload": alert_payload(alert), "form": form,
                                                  "events": events})


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
    get_object_or_404(visible_alerts(request.user), pk=pk)
    form = DispositionForm(request.POST)
    wants_json = request.headers.get("Accept", "").startswith("application/json")
    if not form.is_valid():
        if wants_json:
            return JsonResponse({"errors": form.errors}, status=400)
        messages.error(request, "; ".join(f"{k}: {' '.join(v)}" for k, v in form.errors.items()))
        return redirect("alerts:detail", pk=pk)
    try:
        alert = do_disposition(pk, request.user, form.cleaned_data["disposition"], form.cleaned_data["note"])
    except DispositionError as exc:
        if wants_json:
            return JsonResponse({"errors": {"disposition": [str(exc)]}}, status=409)
        messages.error(request, str(exc))
        return redirect("alerts:detail", pk=pk)
    do_log(request, "alert.disposition", query={"alert": pk, "plate": alert.entry_plate,
                                                "disposition": alert.disposition}, reason=alert.disposition_note)
    if wants_json:
        return JsonResponse({"alert": alert_payload(alert)})
    messages.success(request, f"Alert {pk}: {alert.get_disposition_display()}.")
    return redirect("alerts:detail", pk=pk)


@role_required(OFFICER, ADMIN)
def watch(request):
    pref, _ = WatchPreference.objects.get_or_create(user=request.user)
    form = WatchForm(request.POST or None, user=request.user,
                     initial={"cameras": pref.cameras.all(), "hotlists": pref.hotlists.all()})
    if request.method == "POST" and form.is_valid():
        pref.cameras.set(form.cleaned_data["cameras"])
        pref.hotlists.set(form.cleaned_data["hotlists"])
        messages.success(request, "Your watch list is saved; reconnecting dashboards pick it up.")
        return redirect("alerts:dashboard")
    return render(request, "alerts/watch.html", {"form": form})
