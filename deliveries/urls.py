from django.urls import path

from . import views

app_name = "deliveries"
urlpatterns = [
    path("", views.attempts, name="attempts"),
    path("list/<int:hotlist_pk>/", views.list_deliveries, name="list"),
    path("<int:pk>/remove/", views.remove_delivery, name="remove"),
]
