from django.urls import path

from . import views

app_name = "alerts"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("feed/", views.alert_feed, name="feed"),
    path("<int:pk>/acknowledge/", views.acknowledge, name="acknowledge"),
]
