from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.http import JsonResponse
from django.urls import include, path

from accounts.login import AlprLoginView, login_verify, password_change, second_factor
from cameras import api as camera_api
from frontend import views as frontend_views


@login_not_required
def healthz(request):
    return JsonResponse({"ok": True})


@login_not_required
def favicon(request):
    """Browsers ask for /favicon.ico before any page says where the icon is."""
    from django.shortcuts import redirect
    from django.templatetags.static import static

    return redirect(static("favicon.svg"), permanent=True)


urlpatterns = [
    path("", frontend_views.home, name="home"),
    path("login/", AlprLoginView.as_view(), name="login"),
    path("login/verify/", login_verify, name="login-verify"),
    path("account/2fa/", second_factor, name="second-factor"),
    path("account/password/", password_change, name="password-change"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("healthz", healthz, name="healthz"),
    path("favicon.ico", favicon),
    path("api/frames/", camera_api.frames, name="api-frames"),
    path("api/schema/", camera_api.schema, name="api-schema"),
    path("alerts/", include("alerts.urls")),
    path("cameras/", include("cameras.urls")),
    path("hotlists/", include("hotlist.urls")),
    path("users/", include("accounts.urls")),
    path("audit/", include("oversight.urls")),
    path("deliveries/", include("deliveries.urls")),
    path("media/<path:path>", frontend_views.media, name="media"),
]
