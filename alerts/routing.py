from django.urls import path, re_path

from .consumers import AlertConsumer, NotFoundConsumer

websocket_urlpatterns = [
    path("ws/alerts/", AlertConsumer.as_asgi()),
    re_path(r"", NotFoundConsumer.as_asgi()),  # every other path: refused cleanly, not a 500
]
