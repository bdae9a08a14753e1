"""Signals for the apps above recognition: they subscribe, recognition never imports them."""

from django.dispatch import Signal

#: Sent inside the transaction that stored a batch of frames' reads (one frame's, or those of the frames a
#: worker stores together), once per batch: ``reads``, in the order they were read, a list of
#: ``(read, event, plate, confidence, consensus_changed)`` with each read's plate event and the event's
#: consensus plate and confidence. alerts subscribes (match against the hotlists, raise alerts); an
#: error in a receiver rolls the frame's reads back and the task retries, as for any storing error.
reads_stored = Signal()
