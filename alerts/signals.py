"""Signals for the apps above alerts (they subscribe; alerts never imports them)."""

from django.dispatch import Signal

#: Sent after the transaction that raised an alert committed: ``alert_id``.
alert_raised = Signal()
