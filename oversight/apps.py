from django.apps import AppConfig


class OversightConfig(AppConfig):
    """The auditor's side, above every other app: read search and exports, the audit log view, retention.
    The audit trail it shows (audit.models, audit.services) is the bottom layer that every app writes."""

    name = "oversight"
