from django.urls import path

from . import search_views, views

app_name = "audit"  # the URL names (audit:search, audit:log, ...) stay as they were before the split
urlpatterns = [
    path("reads/", search_views.read_search, name="search"),
    path("reads/export.csv", search_views.export_csv, name="export"),
    path("log/", views.audit_log, name="log"),
    path("log/export.csv", views.audit_log_export, name="log_export"),
    path("retention/", views.retention, name="retention"),
]
