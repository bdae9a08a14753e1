from django.apps import AppConfig


class RecognitionConfig(AppConfig):
    name = "recognition"

    def ready(self) -> None:
        # Registers recognition.process_frame in every process: cameras (below) sends it by name.
        from . import tasks  # noqa: F401
