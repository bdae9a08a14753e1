"""What alerts does when the apps below it say something happened (alerts subscribes; they never import it).

- a processed frame's reads are stored: match each against the hotlists and raise alerts (the frame's
  orchestration step: store reads -> match -> alerts, in the transaction that stored the reads);
- a past read matches new hotlist entries: raise historical alerts;
- hotlist entries are about to be deleted: alerts keep their copied fields and lose the link;
- a camera falls silent or is back: tell admins' dashboards.
"""

from django.dispatch import receiver

from cameras.signals import camera_notice
from hotlist.services import match_reads
from hotlist.signals import entries_deleting, history_matched
from recognition.signals import reads_stored

from .models import Alert
from .services import do_create_alerts, do_update_event_alerts, notify_admins


@receiver(reads_stored, dispatch_uid="alerts.on_reads_stored")
def on_reads_stored(sender, reads, **kwargs) -> None:
    # One check of the lists' state for the whole batch; the index lookups are per read.
    hits = match_reads([(read, [(plate, confidence)]) for read, _, plate, confidence, _ in reads])
    # The alerts of the events whose consensus moves, as a read-by-read pass would find them at each
    # move: those stored before (one query), then those this batch raises, as it raises them.
    moved = {event.pk for _, event, _, _, changed in reads if changed}
    event_alerts: dict[int, list[int]] = {pk: [] for pk in moved}
    if moved:
        for alert_id, event_id in Alert.objects.filter(event_id__in=moved).values_list("pk", "event_id"):
            event_alerts[event_id].append(alert_id)
    for (read, event, _, _, consensus_changed), pairs in zip(reads, hits):
        if pairs:
            for alert in do_create_alerts(read, pairs, event=event):
                if alert.event_id in event_alerts:
                    event_alerts[alert.event_id].append(alert.pk)
        if consensus_changed:
            do_update_event_alerts(event, event_alerts[event.pk])


@receiver(history_matched, dispatch_uid="alerts.on_history_matched")
def on_history_matched(sender, read, pairs, **kwargs) -> list[Alert]:
    return do_create_alerts(read, pairs, historical=True)


@receiver(entries_deleting, dispatch_uid="alerts.on_entries_deleting")
def on_entries_deleting(sender, entry_ids, **kwargs) -> None:
    Alert.objects.filter(entry_id__in=entry_ids).update(entry=None)


@receiver(camera_notice, dispatch_uid="alerts.on_camera_notice")
def on_camera_notice(sender, notice, **kwargs) -> None:
    notify_admins(notice)
