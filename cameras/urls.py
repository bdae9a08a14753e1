from django.urls import path

from . import views

app_name = "cameras"
urlpatterns = [
    path("", views.camera_list, name="list"),
    path("new/", views.camera_create, name="create"),
    path("<int:pk>/", views.camera_edit, name="edit"),
    path("<int:pk>/rotate-token/", views.camera_rotate_token, name="rotate_token"),
]
