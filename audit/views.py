import json

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import redirect, render

from accounts.roles import ADMIN, AUDITOR, has_role, role_required
from config import clock

from .models import AuditLog
from .services import do_log


@role_required(AUDITOR)
def audit_log(request):
    qs, action, username = _audit_query(request)
    page = Paginator(qs, 100).get_page(request.GET.get("page"))
    params = request.GET.copy()
    params.pop("page", None)
    actions = AuditLog.objects.order_by("action").values_list("action", flat=True).distinct()
    return render(request, "audit/log.html", {"page": page, "action": action, "username": username,
                                              "actions": actions, "start": request.GET.get("from", ""),
                                              "end": request.GET.get("to", ""), "query_string": params.urlencode()})


@role_required(ADMIN, AUDITOR)
def retention(request):
    from .forms import RetentionForm
    from .models import RetentionPolicy, RetentionRun

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
    return render(request, "audit/retention.html", {"form": form, "can_edit": can_edit,
                                                    "runs": RetentionRun.objects.all()[:20]})


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

    from django.http import StreamingHttpResponse

    from .search_views import safe_cell

    qs, action, username = _audit_query(request)
    do_log(request, "export.audit_log", query={"action": action, "user": username}, result_count=qs.count())
    writer = csv.writer(_Echo())

    def rows():
        yield writer.writerow(["seq", f"at ({clock.zone_name()})", "user", "action", "query", "reason", "result_count", "ip", "hash", "prev_hash"])
        for e in qs.order_by("seq").iterator(chunk_size=2000):
            yield writer.writerow([safe_cell(v) for v in (e.seq, clock.local_iso(e.at), e.username, e.action,
                                                          json.dumps(e.query, sort_keys=True), e.reason,
                                                          e.result_count, e.ip, e.hash, e.prev_hash)])

    response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="audit-log.csv"'
    return response
