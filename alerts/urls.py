from django.urls import path

from . import views

app_name = "alerts"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("feed/", views.alert_feed, name="feed"),
    path("watch/", views.watch, name="watch"),
    path("history/", views.history, name="history"),
    path("<int:pk>/", views.alert_detail, name="detail"),
    path("<int:pk>/acknowledge/", views.acknowledge, name="acknowledge"),
    path("<int:pk>/disposition/", views.disposition, name="disposition"),
    path("<int:pk>/evidence.zip", views.evidence, name="evidence"),
]
