from django.urls import path

from . import views

app_name = "audit"
urlpatterns = [
    path("reads/", views.read_search, name="search"),
    path("log/", views.audit_log, name="log"),
]
