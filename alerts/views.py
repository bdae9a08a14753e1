from django.http import JsonResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_POST

from accounts.roles import ADMIN, OFFICER, role_required

from audit.services import do_log

from .services import alert_payload, do_acknowledge, visible_alerts

RECENT = 50


def _recent(user):
    return visible_alerts(user).select_related("read__frame", "read__camera", "acknowledged_by")[:RECENT]


@role_required(OFFICER, ADMIN)
def dashboard(request):
    return render(request, "alerts/dashboard.html", {"alerts": [alert_payload(a) for a in _recent(request.user)]})


@role_required(OFFICER, ADMIN)
def alert_feed(request):
    """Recent alerts as JSON; the dashboard reloads it after a websocket reconnect."""
    return JsonResponse({"alerts": [alert_payload(a) for a in _recent(request.user)]})


@require_POST
@role_required(OFFICER, ADMIN)
def acknowledge(request, pk: int):
    get_object_or_404(visible_alerts(request.user), pk=pk)
    alert = do_acknowledge(pk, request.user)
    do_log(request, "alert.acknowledge", query={"alert": pk, "plate": alert.entry_plate})
    return JsonResponse({"alert": alert_payload(alert)})
