from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib import messages
from django.db.models import Count
from django.shortcuts import get_object_or_404, redirect, render

from accounts.roles import ADMIN, role_required

from .forms import UploadForm
from .importing import ImportFailed, parse_csv_bytes
from .models import Hotlist
from .services import do_import_entries

from audit.services import do_log


@role_required(ADMIN)
def hotlist_list(request):
    lists = Hotlist.objects.annotate(entry_count=Count("entries"))
    return render(request, "hotlist/list.html", {"hotlists": lists})


@role_required(ADMIN)
def hotlist_detail(request, pk: int):
    hotlist = get_object_or_404(Hotlist, pk=pk)
    entries = hotlist.entries.all()[:500]
    return render(request, "hotlist/detail.html", {"hotlist": hotlist, "entries": entries,
                                                   "entry_count": hotlist.entries.count()})


@role_required(ADMIN)
def hotlist_upload(request):
    form = UploadForm(request.POST or None, request.FILES or None)
    errors = []
    if request.method == "POST" and form.is_valid():
        try:
            result = parse_csv_bytes(form.cleaned_data["file"].read(), tz=ZoneInfo(settings.TIME_ZONE))
            errors = result.errors
        except ImportFailed as exc:
            errors = exc.errors
        if not errors:
            hotlist, _ = Hotlist.objects.get_or_create(name=form.cleaned_data["list_name"].strip())
            counts = do_import_entries(hotlist, result.rows, mode=form.cleaned_data["mode"])
            do_log(request, "hotlist.import", query={"list": hotlist.name, "file": form.cleaned_data["file"].name,
                                                     "mode": form.cleaned_data["mode"], **counts})
            messages.success(request, f"Imported into {hotlist.name}: {counts['added']} added, {counts['updated']} "
                                      f"updated, {counts['removed']} removed, {result.duplicates} duplicates merged.")
            return redirect("hotlist:detail", pk=hotlist.pk)
    if errors:
        do_log(request, "hotlist.import_rejected", query={"list": form.cleaned_data["list_name"],
                                                          "file": form.cleaned_data["file"].name}, result_count=len(errors))
    status = 400 if errors else 200
    return render(request, "hotlist/upload.html", {"form": form, "errors": errors[:500],
                                                   "error_count": len(errors)}, status=status)
