from django.urls import path

from . import views

app_name = "cameras"
urlpatterns = [
    path("", views.camera_list, name="list"),
    path("new/", views.camera_create, name="create"),
    path("<int:pk>/", views.camera_edit, name="edit"),
    path("<int:pk>/status/", views.camera_status_page, name="status"),
    path("<int:pk>/status.json", views.camera_status_json, name="status_json"),
    path("<int:pk>/rotate-token/", views.camera_rotate_token, name="rotate_token"),
]
