"""Alert signals.

- Alerts follow their list: the ``covert`` copy on each alert is kept equal to the list's current setting.
- ``alert_raised`` is for the apps above alerts (they subscribe; alerts never imports them).
"""

from django.db.models.signals import post_save
from django.dispatch import Signal, receiver

from hotlist.models import Hotlist

from .models import Alert

#: Sent after the transaction that raised an alert committed: ``alert_id``.
alert_raised = Signal()


@receiver(post_save, sender=Hotlist)
def follow_list_covert_setting(sender, instance: Hotlist, **kwargs) -> None:
    # Visibility itself reads the list (alerts.services.visible_alerts); the copy matters once a list is deleted.
    Alert.objects.filter(hotlist=instance).exclude(covert=instance.covert).update(covert=instance.covert)
