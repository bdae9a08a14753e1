import mimetypes

from django.core.exceptions import PermissionDenied, SuspiciousFileOperation
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render

from accounts.roles import ADMIN, AUDITOR, OFFICER, user_roles
from alerts.services import may_see_media
from audit.checkpoint import OBJECT_PREFIX as CHECKPOINT_PREFIX


def home(request):
    roles = user_roles(request.user)
    if OFFICER in roles:
        return redirect("alerts:dashboard")
    if ADMIN in roles:
        return redirect("alerts:dashboard")
    if AUDITOR in roles:
        return redirect("audit:search")
    return render(request, "frontend/no_role.html", status=403)


_MEDIA_PREFIXES = ("frames/", "thumbs/", "crops/")
# The same bucket holds the audit chain's signed checkpoint: never served, whatever the list above becomes.
_NEVER_SERVED = ("audit/", CHECKPOINT_PREFIX)


def media(request, path: str):
    """Frames and plate crops are evidence: served only to logged-in users with a role.

    The file is streamed through this view from local disk or the object store alike, so the
    bucket stays private and unreachable from browsers; no signed link ever leaves the server."""
    if not user_roles(request.user):
        raise PermissionDenied
    if not path.startswith(_MEDIA_PREFIXES) or path.startswith(_NEVER_SERVED) or ".." in path.split("/"):
        raise Http404
    if not may_see_media(request.user, path):
        raise Http404
    try:
        handle = default_storage.open(path, "rb")
    except (FileNotFoundError, IsADirectoryError, SuspiciousFileOperation) as exc:
        raise Http404 from exc
    content_type = mimetypes.guess_type(path)[0] or "application/octet-stream"
    response = FileResponse(handle, content_type=content_type)
    response["Cache-Control"] = "private, max-age=3600"
    return response
