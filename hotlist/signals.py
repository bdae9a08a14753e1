"""Signals for the apps above hotlist: they subscribe, hotlist never imports them."""

from django.dispatch import Signal

#: Sent inside the transaction that deletes entries, before they go: ``entry_ids``. alerts unlinks
#: its alerts from them (they keep their copied fields).
entries_deleting = Signal()

#: Sent inside a transaction when a past read matches new entries of a list: ``read``, ``pairs`` (the
#: ``(entry, match)`` pairs). A receiver returns the alerts it raised; hotlist counts them.
history_matched = Signal()
