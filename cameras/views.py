from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from accounts.roles import ADMIN, role_required
from audit.services import do_log

from .forms import CameraForm
from .models import Camera
from .services import do_create_camera, do_rotate_token


@role_required(ADMIN)
def camera_list(request):
    from .health import camera_status

    rows = [(camera, camera_status(camera)) for camera in Camera.objects.all()]
    return render(request, "cameras/list.html", {"rows": rows})


@role_required(ADMIN)
def camera_status_page(request, pk: int):
    from .health import camera_status

    camera = get_object_or_404(Camera, pk=pk)
    return render(
        request,
        "cameras/status.html",
        {"camera": camera, "status": camera_status(camera), "incidents": camera.incidents.all()[:20]},
    )


@role_required(ADMIN)
def camera_status_json(request, pk: int):
    from django.http import JsonResponse
    from django.urls import reverse

    from .health import camera_status

    status = camera_status(get_object_or_404(Camera, pk=pk))
    status["thumbnail_url"] = reverse("media", args=[status["thumbnail"]]) if status["thumbnail"] else None
    return JsonResponse(status)


@role_required(ADMIN)
def camera_create(request):
    form = CameraForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        camera, token = do_create_camera(**form.cleaned_data)
        do_log(request, "camera.create", query={"camera": camera.name, "region": camera.region})
        return render(request, "cameras/token.html", {"camera": camera, "token": token})
    return render(request, "cameras/form.html", {"form": form, "title": "New camera"})


@role_required(ADMIN)
def camera_edit(request, pk: int):
    camera = get_object_or_404(Camera, pk=pk)
    form = CameraForm(request.POST or None, request.FILES or None, instance=camera)
    if request.method == "POST" and form.is_valid():
        form.save()
        do_log(request, "camera.change", query={"camera": camera.name, "changed": form.changed_data})
        messages.success(request, f"Camera {camera.name} saved.")
        return redirect("cameras:list")
    return render(request, "cameras/form.html", {"form": form, "title": f"Camera {camera.name}", "camera": camera})


@require_POST
@role_required(ADMIN)
def camera_rotate_token(request, pk: int):
    camera = get_object_or_404(Camera, pk=pk)
    token = do_rotate_token(camera)
    do_log(request, "camera.token_rotated", query={"camera": camera.name})
    return render(request, "cameras/token.html", {"camera": camera, "token": token})
