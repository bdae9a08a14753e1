import json

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import redirect, render

from accounts.roles import ADMIN, AUDITOR, has_role, role_required
from audit.models import AuditLog
from audit.services import do_log, has_search_token, search_token
from config import clock

from .redact import Scope, redact


@role_required(AUDITOR)
def audit_log(request):
    """The audit log, newest first; filtering it is itself logged. Records about covert lists the auditor is
    not cleared for show no query or reason (``audit.redact``)."""
    qs, action, username = _audit_query(request)
    start, end = request.GET.get("from", ""), request.GET.get("to", "")
    confirm = False
    if (action or username or start or end) and not has_search_token(request, request.GET):
        # A link from elsewhere: not applied, and nothing logged in the user's name.
        qs, action, username, start, end, confirm = AuditLog.objects.all(), "", "", "", "", True
    page = Paginator(qs, 100).get_page(request.GET.get("page"))
    if (action or username or start or end) and not confirm:
        do_log(
            request,
            "audit.log_filter",
            query={"action": action, "user": username, "from": start, "to": end, "page": page.number},
            result_count=page.paginator.count,
        )
    page.object_list = redact(page.object_list, Scope.of(request.user))
    params = request.GET.copy()
    params.pop("page", None)
    actions = AuditLog.objects.order_by("action").values_list("action", flat=True).distinct()
    return render(
        request,
        "audit/log.html",
        {
            "page": page,
            "action": action,
            "username": username,
            "actions": actions,
            "start": start,
            "end": end,
            "query_string": params.urlencode(),
            "confirm": confirm,
            "search_token": search_token(request),
        },
    )


@role_required(ADMIN, AUDITOR)
def retention(request):
    from audit.models import RetentionPolicy, RetentionRun

    from .forms import RetentionForm

    policy = RetentionPolicy.current()
    can_edit = has_role(request.user, ADMIN)
    form = RetentionForm(request.POST or None, instance=policy)
    if request.method == "POST":
        if not can_edit:
            raise PermissionDenied
        if form.is_valid():
            form.save()
            do_log(request, "retention.settings", query={f: form.cleaned_data[f] for f in form.fields})
            messages.success(request, "Retention periods saved; the next hourly run applies them.")
            return redirect("audit:retention")
    return render(
        request, "audit/retention.html", {"form": form, "can_edit": can_edit, "runs": RetentionRun.objects.all()[:20]}
    )


class _Echo:
    def write(self, value):
        return value


def _audit_query(request):
    qs = AuditLog.objects.all()
    action = request.GET.get("action", "").strip()
    username = request.GET.get("user", "").strip()
    if action:
        qs = qs.filter(action=action)
    if username:
        qs = qs.filter(username=username)
    # Days in the agency's zone, both ends included; a malformed date is ignored.
    from datetime import datetime, time, timedelta

    from django.utils import timezone
    from django.utils.dateparse import parse_date

    zone = timezone.get_default_timezone()
    start, end = parse_date(request.GET.get("from", "") or ""), parse_date(request.GET.get("to", "") or "")
    if start:
        qs = qs.filter(at__gte=datetime.combine(start, time.min, tzinfo=zone))
    if end:
        qs = qs.filter(at__lt=datetime.combine(end + timedelta(days=1), time.min, tzinfo=zone))
    return qs, action, username


@role_required(AUDITOR)
def audit_log_export(request):
    """The audit log (filtered like the page) as CSV; the export is itself logged."""
    import csv

    from django.http import HttpResponseBadRequest, StreamingHttpResponse

    from .search_views import safe_cell

    qs, action, username = _audit_query(request)
    if not has_search_token(request, request.GET):
        return HttpResponseBadRequest(
            "Export refused: start the export from the audit log page.", content_type="text/plain; charset=utf-8"
        )
    do_log(request, "export.audit_log", query={"action": action, "user": username}, result_count=qs.count())
    writer = csv.writer(_Echo())
    scope = Scope.of(request.user)

    def chunk(records):
        return "".join(
            writer.writerow(
                [
                    safe_cell(v)
                    for v in (
                        e.seq,
                        clock.local_iso(e.at),
                        e.username,
                        e.action,
                        json.dumps(e.query, sort_keys=True),
                        e.reason,
                        e.result_count,
                        e.ip,
                        e.hash,
                        e.prev_hash,
                    )
                ]
            )
            for e in redact(records, scope)
        )

    def rows():
        yield writer.writerow(
            [
                "seq",
                f"at ({clock.zone_name()})",
                "user",
                "action",
                "query",
                "reason",
                "result_count",
                "ip",
                "hash",
                "prev_hash",
            ]
        )
        batch = []
        for e in qs.order_by("seq").iterator(chunk_size=2000):
            batch.append(e)
            if len(batch) >= 2000:
                yield chunk(batch)
                batch = []
        if batch:
            yield chunk(batch)

    response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="audit-log.csv"'
    return response
