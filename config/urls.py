from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.http import JsonResponse
from django.urls import include, path

from cameras import api as camera_api
from frontend import views as frontend_views


@login_not_required
def healthz(request):
    return JsonResponse({"ok": True})


urlpatterns = [
    path("", frontend_views.home, name="home"),
    path("login/", auth_views.LoginView.as_view(template_name="registration/login.html", redirect_authenticated_user=True),
         name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("healthz", healthz, name="healthz"),
    path("api/frames/", camera_api.frames, name="api-frames"),
    path("alerts/", include("alerts.urls")),
    path("cameras/", include("cameras.urls")),
    path("hotlists/", include("hotlist.urls")),
    path("users/", include("accounts.urls")),
    path("audit/", include("audit.urls")),
    path("media/<path:path>", frontend_views.media, name="media"),
]
