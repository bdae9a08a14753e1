from django.contrib import messages
from django.db import transaction
from django.db.models import Count
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from accounts.roles import ADMIN, OFFICER, has_role, role_required
from audit.models import AuditLog
from audit.services import do_log

from .forms import BoloForm, HotlistSettingsForm, UploadForm
from .imports import job_progress
from .models import Entry, Hotlist, ImportJob
from .services import BOLO_LIST


@role_required(ADMIN)
def hotlist_list(request):
    lists = Hotlist.objects.annotate(entry_count=Count("entries"))
    jobs = ImportJob.objects.select_related("created_by")[:10]
    return render(request, "hotlist/list.html", {"hotlists": lists, "jobs": jobs})


@role_required(ADMIN)
def hotlist_detail(request, pk: int):
    hotlist = get_object_or_404(Hotlist, pk=pk)
    form = HotlistSettingsForm(request.POST or None, instance=hotlist)
    if request.method == "POST" and form.is_valid():
        form.save()
        do_log(
            request,
            "hotlist.settings",
            query={
                "list": hotlist.name,
                "list_id": hotlist.pk,
                "changed": form.changed_data,
                **{f: str(form.cleaned_data[f]) for f in form.changed_data},
            },
        )
        messages.success(request, f"Settings of {hotlist.name} saved.")
        return redirect("hotlist:detail", pk=hotlist.pk)
    entries = hotlist.entries.all()[:200]
    return render(
        request,
        "hotlist/detail.html",
        {"hotlist": hotlist, "entries": entries, "form": form, "entry_count": hotlist.entries.count()},
    )


@role_required(ADMIN)
def hotlist_upload(request):
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        from .tasks import run_import_job

        upload = form.cleaned_data["file"]
        with transaction.atomic():
            job = ImportJob(
                hotlist_name=form.cleaned_data["list_name"].strip(),
                original_name=upload.name[:255],
                requested_format=form.cleaned_data["format"],
                mode=form.cleaned_data["mode"],
                created_by=request.user,
            )
            job.file.save(upload.name, upload, save=False)
            job.save()
            run_import_job.delay_on_commit(job.pk)
        if request.headers.get("Accept", "").startswith("application/json"):
            return JsonResponse({"job": job.pk, "status_url": f"/hotlists/imports/{job.pk}/status"}, status=202)
        return redirect("hotlist:job", pk=job.pk)
    return render(request, "hotlist/upload.html", {"form": form}, status=400 if form.errors else 200)


def _job_state(job: ImportJob) -> dict:
    state = {
        "id": job.pk,
        "status": job.status,
        "list": job.hotlist_name,
        "file": job.original_name,
        "mode": job.mode,
        "format": job.detected_format or job.requested_format,
        "counts": job.counts,
        "error_count": job.error_count,
        "errors": job.errors[:200],
        "hotlist_url": f"/hotlists/{job.hotlist_id}/" if job.hotlist_id else None,
    }
    if job.status in (ImportJob.Status.QUEUED, ImportJob.Status.RUNNING):
        state["progress"] = job_progress(job.pk)
    if job.status == ImportJob.Status.AWAITING:
        state["confirm_url"] = reverse("hotlist:job_confirm", args=[job.pk])
        state["cancel_url"] = reverse("hotlist:job_cancel", args=[job.pk])
    return state


@role_required(ADMIN)
def import_job(request, pk: int):
    job = get_object_or_404(ImportJob, pk=pk)
    return render(request, "hotlist/job.html", {"job": job, "state": _job_state(job)})


@role_required(ADMIN)
def import_job_status(request, pk: int):
    return JsonResponse(_job_state(get_object_or_404(ImportJob, pk=pk)))


@require_POST
@role_required(OFFICER, ADMIN)
def bolo_create(request):
    """Officers and admins add one entry (BOLO) from the dashboard; it alerts at once and is checked against
    the reads of the last ``BOLO_HISTORY_HOURS``."""
    from .services import BoloConflict, do_add_bolo

    form = BoloForm(request.POST)
    if not form.is_valid():
        return JsonResponse({"errors": {k: [str(m) for m in v] for k, v in form.errors.items()}}, status=400)
    data = form.cleaned_data
    try:
        with transaction.atomic():
            entry, created = do_add_bolo(
                request.user,
                plate=data["plate"],
                plate_raw=request.POST.get("plate", ""),
                state=data["state"],
                reason=data["reason"],
                case_number=data["case_number"],
                notes=data["notes"],
                expires=data["expires"],
            )
            do_log(
                request,
                "hotlist.bolo",
                query={
                    "plate": entry.plate,
                    "state": entry.state,
                    "list": entry.hotlist.name,
                    "list_id": entry.hotlist_id,
                    "entry": entry.pk,
                    "expires": data["expires"].isoformat(),
                    "created": created,
                },
                reason=data["reason"],
            )
    except BoloConflict as exc:
        return JsonResponse({"errors": {"plate": [str(exc)]}}, status=409)
    assert entry.expires_at is not None  # a BOLO always has an expiry (the form requires one)
    return JsonResponse(
        {
            "entry": {
                "id": entry.pk,
                "plate": entry.plate,
                "state": entry.state,
                "list": entry.hotlist.name,
                "expires": entry.expires_at.isoformat(),
            }
        },
        status=201 if created else 200,
    )


@require_POST
@role_required(ADMIN)
def hotlist_preview(request, pk: int):
    """What the policy in the settings form (saved or not) would accept for a typed plate. A POST (with the
    CSRF token): it is logged, so a link from another site must not be able to run it."""
    from .importing import normalize_plate
    from .services import preview_policy

    hotlist = get_object_or_404(Hotlist, pk=pk)
    plate = normalize_plate(request.POST.get("plate", ""))
    if len(plate) < 2:
        return JsonResponse({"error": "Type a plate of at least 2 characters."}, status=400)
    trial = Hotlist(match_mode=request.POST.get("match_mode", hotlist.match_mode))
    try:
        trial.lookalike_budget = int(request.POST.get("lookalike_budget", hotlist.lookalike_budget))
        trial.edit_budget = int(request.POST.get("edit_budget", hotlist.edit_budget))
        trial.lookalike_min_length = int(request.POST.get("lookalike_min_length", hotlist.lookalike_min_length))
        trial.edit_min_length = int(request.POST.get("edit_min_length", hotlist.edit_min_length))
        if (
            trial.match_mode not in Hotlist.MatchMode.values
            or not (0 <= trial.lookalike_budget <= 2)
            or not (0 <= trial.edit_budget <= 2)
        ):
            raise ValueError
    except ValueError:
        return JsonResponse({"error": "match_mode must be exact or lenient; budgets 0 to 2."}, status=400)
    result = preview_policy(plate, trial.policy())
    do_log(
        request,
        "hotlist.preview",
        query={
            "list": hotlist.name,
            "list_id": hotlist.pk,
            "plate": plate,
            "mode": trial.match_mode,
            "lookalike_budget": trial.lookalike_budget,
            "edit_budget": trial.edit_budget,
        },
        result_count=len(result["recent_hits"]),
    )
    return JsonResponse(result)


@role_required(ADMIN)
def entry_edit(request, pk: int):
    """Edit one entry, or delete it; both need a reason and are audited."""
    from .forms import DeleteForm, EntryForm
    from .services import do_update_entry

    entry = get_object_or_404(Entry.objects.select_related("hotlist"), pk=pk)
    before = {"plate": entry.plate, "state": entry.state}
    form = EntryForm(request.POST or None, instance=entry)
    if request.method == "POST" and form.is_valid():
        changes = {name: form.cleaned_data[name] for name in form.Meta.fields}
        entry.refresh_from_db()  # the form's validation wrote its values onto the instance
        changed = do_update_entry(entry, changes)
        do_log(
            request,
            "hotlist.entry_change",
            query={
                "list": entry.hotlist.name,
                **before,
                "entry": entry.pk,
                "changed": {name: str(changes[name]) for name in changed},
            },
            reason=form.cleaned_data["change_reason"],
        )
        messages.success(request, f"Entry {entry.plate} saved." if changed else "Nothing changed.")
        return redirect("hotlist:detail", pk=entry.hotlist_id)
    return render(
        request,
        "hotlist/entry.html",
        {"entry": entry, "form": form, "delete_form": DeleteForm()},
        status=400 if form.errors else 200,
    )


@require_POST
@role_required(ADMIN)
def entry_delete(request, pk: int):
    from .forms import DeleteForm, EntryForm
    from .services import do_delete_entry

    entry = get_object_or_404(Entry.objects.select_related("hotlist"), pk=pk)
    form = DeleteForm(request.POST)
    if not form.is_valid():
        return render(
            request,
            "hotlist/entry.html",
            {"entry": entry, "form": EntryForm(instance=entry), "delete_form": form},
            status=400,
        )
    hotlist = entry.hotlist
    do_delete_entry(entry)
    do_log(
        request,
        "hotlist.entry_delete",
        query={"list": hotlist.name, "plate": entry.plate, "state": entry.state, "entry": pk},
        reason=form.cleaned_data["change_reason"],
    )
    messages.success(request, f"Entry {entry.plate} removed from {hotlist.name}.")
    return redirect("hotlist:detail", pk=hotlist.pk)


@role_required(ADMIN)
def hotlist_delete(request, pk: int):
    """Delete a whole list: its name typed again and a reason; audited."""
    from .forms import DeleteForm
    from .services import do_delete_hotlist

    hotlist = get_object_or_404(Hotlist, pk=pk)
    form = DeleteForm(request.POST or None, confirm_name=hotlist.name)
    if request.method == "POST" and form.is_valid():
        name = hotlist.name
        removed = do_delete_hotlist(hotlist)
        do_log(
            request,
            "hotlist.delete",
            query={"list": name, "entries": removed},
            result_count=removed,
            reason=form.cleaned_data["change_reason"],
        )
        messages.success(request, f"The list {name} and its {removed} entries were deleted; their alerts remain.")
        return redirect("hotlist:list")
    return render(
        request,
        "hotlist/delete.html",
        {"hotlist": hotlist, "form": form, "entry_count": hotlist.entries.count()},
        status=400 if form.errors else 200,
    )


@require_POST
@role_required(ADMIN)
def import_job_confirm(request, pk: int):
    """The admin saw what the import would remove and agrees: it runs (asking again if it would now remove more)."""
    from .imports import do_confirm_import_job

    job = get_object_or_404(ImportJob, pk=pk)
    removals = request.POST.get("removals", "")
    if not removals.isdigit() or int(removals) != job.counts.get("removed"):
        messages.error(request, "The import changed since you saw it; look at its counts again.")
    elif do_confirm_import_job(job.pk, int(removals)):
        do_log(
            request, "hotlist.import_confirm", query={"list": job.hotlist_name, "job": job.pk, "removed": int(removals)}
        )
    return redirect("hotlist:job", pk=job.pk)


@require_POST
@role_required(ADMIN)
def import_job_cancel(request, pk: int):
    from .imports import do_cancel_import_job

    job = get_object_or_404(ImportJob, pk=pk)
    if do_cancel_import_job(job.pk):
        do_log(request, "hotlist.import_cancel", query={"list": job.hotlist_name, "job": job.pk})
        messages.success(request, f"Import of {job.original_name} cancelled; {job.hotlist_name} is unchanged.")
    return redirect("hotlist:job", pk=job.pk)


def _my_bolos(user):
    """The live BOLO entries ``user`` entered. Who entered a BOLO is read from its audit record
    (action hotlist.bolo), the tamper-evident record of it."""
    from django.db.models import Q

    mine = AuditLog.objects.filter(action="hotlist.bolo", username=user.get_username(), query__list=BOLO_LIST)
    keys = {(q.get("plate"), q.get("state", "")) for q in mine.values_list("query", flat=True)}
    if not keys:
        return Entry.objects.none()
    match = Q()
    for plate, state in keys:
        match |= Q(plate=plate, state=state)
    return Entry.objects.filter(match, hotlist__name=BOLO_LIST).order_by("expires_at")


@role_required(OFFICER, ADMIN)
def my_bolos(request):
    return render(request, "hotlist/my_bolos.html", {"entries": _my_bolos(request.user)})


@require_POST
@role_required(OFFICER, ADMIN)
def bolo_cancel(request, pk: int):
    """An officer cancels a BOLO they entered (admins may cancel any); audited."""
    from .services import do_delete_entry

    scope = Entry.objects.filter(hotlist__name=BOLO_LIST) if has_role(request.user, ADMIN) else _my_bolos(request.user)
    entry = get_object_or_404(scope, pk=pk)
    do_delete_entry(entry)
    do_log(
        request,
        "hotlist.bolo_cancel",
        query={"plate": entry.plate, "state": entry.state, "list": BOLO_LIST},
        reason=request.POST.get("reason", "")[:500],
    )
    messages.success(request, f"The BOLO for {entry.plate} is cancelled.")
    return redirect("hotlist:my_bolos")
