"""Signals for the apps above cameras: they subscribe, cameras never imports them."""

from django.dispatch import Signal

#: Sent after the transaction that changed a camera's health committed: ``notice`` (a dict with ``type``
#: "camera.silent" or "camera.back", ``camera``, ``id``, ``message``). alerts shows it on admins' dashboards.
camera_notice = Signal()
