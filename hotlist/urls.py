from django.urls import path

from . import views

app_name = "hotlist"
urlpatterns = [
    path("", views.hotlist_list, name="list"),
    path("upload/", views.hotlist_upload, name="upload"),
    path("bolo/", views.bolo_create, name="bolo"),
    path("bolo/mine/", views.my_bolos, name="my_bolos"),
    path("bolo/<int:pk>/cancel/", views.bolo_cancel, name="bolo_cancel"),
    path("imports/<int:pk>/", views.import_job, name="job"),
    path("imports/<int:pk>/status", views.import_job_status, name="job_status"),
    path("imports/<int:pk>/confirm/", views.import_job_confirm, name="job_confirm"),
    path("imports/<int:pk>/cancel/", views.import_job_cancel, name="job_cancel"),
    path("<int:pk>/", views.hotlist_detail, name="detail"),
    path("<int:pk>/preview", views.hotlist_preview, name="preview"),
    path("<int:pk>/delete/", views.hotlist_delete, name="delete"),
    path("entries/<int:pk>/", views.entry_edit, name="entry"),
    path("entries/<int:pk>/delete/", views.entry_delete, name="entry_delete"),
]
