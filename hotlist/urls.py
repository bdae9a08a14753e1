from django.urls import path

from . import views

app_name = "hotlist"
urlpatterns = [
    path("", views.hotlist_list, name="list"),
    path("upload/", views.hotlist_upload, name="upload"),
    path("<int:pk>/", views.hotlist_detail, name="detail"),
]
