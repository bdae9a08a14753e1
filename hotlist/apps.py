from django.apps import AppConfig


class HotlistConfig(AppConfig):
    name = "hotlist"
