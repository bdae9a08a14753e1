"""What alerts does when the apps below it say something happened (alerts subscribes; they never import it).

- a processed frame's reads are stored: match each against the hotlists and raise alerts (the frame's
  orchestration step: store reads -> match -> alerts, in the transaction that stored the reads);
- a past read matches new hotlist entries: raise historical alerts;
- hotlist entries are about to be deleted: alerts keep their copied fields and lose the link;
- a camera falls silent or is back: tell admins' dashboards.
"""

from django.dispatch import receiver

from cameras.signals import camera_notice
from hotlist.services import match_read
from hotlist.signals import entries_deleting, history_matched
from recognition.signals import reads_stored

from .models import Alert
from .services import do_create_alerts, do_update_event_alerts, notify_admins


@receiver(reads_stored, dispatch_uid="alerts.on_reads_stored")
def on_reads_stored(sender, reads, **kwargs) -> None:
    for read, event, plate, confidence, consensus_changed in reads:
        do_create_alerts(read, match_read(read, also=[(plate, confidence)]), event=event)
        if consensus_changed:
            do_update_event_alerts(event)


@receiver(history_matched, dispatch_uid="alerts.on_history_matched")
def on_history_matched(sender, read, pairs, **kwargs) -> list[Alert]:
    return do_create_alerts(read, pairs, historical=True)


@receiver(entries_deleting, dispatch_uid="alerts.on_entries_deleting")
def on_entries_deleting(sender, entry_ids, **kwargs) -> None:
    Alert.objects.filter(entry_id__in=entry_ids).update(entry=None)


@receiver(camera_notice, dispatch_uid="alerts.on_camera_notice")
def on_camera_notice(sender, notice, **kwargs) -> None:
    notify_admins(notice)
