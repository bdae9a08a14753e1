"""State changes of hotlists, and matching reads against them.

Imports write a parsed file into a list in one transaction, in one of three modes:

- ``replace``: the list becomes exactly the file. It is done with the fewest changes: new
  entries are added, changed ones updated, entries not in the file removed; unchanged ones are
  left alone (they keep their ids, creation times and links to past alerts), so a daily
  million-row refresh with few changes writes little;
- ``append``: the file's entries are added; entries already on the list (same plate and
  state) are updated with the file's fields; nothing is removed;
- ``delta``: the file is a change file: rows whose action is ``add`` (the default) are added
  or updated, rows whose action is ``remove`` are removed.

Entries that are new to the list are then checked against past reads (``do_check_history``).
On PostgreSQL new rows go in with COPY (a million rows in seconds); elsewhere with bulk inserts.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import TypedDict

from django.contrib.auth.models import AbstractBaseUser
from django.db import connection, transaction
from django.utils import timezone

from accounts.roles import ADMIN, has_role
from audit.models import AuditLog
from config import clock
from recognition.models import Read

from .formats import RECORD_FIELDS
from .importing import EntryRow
from .matching import HotlistIndex, Match, MatchPolicy
from .models import Entry, Hotlist
from .signals import entries_deleting, history_matched
from .tasks import check_history

IMPORT_MODES = ("replace", "append", "delta")
BATCH = 5000
# Entry fields written by an import (the key is plate + state).
DATA_FIELDS = ("plate_raw", *RECORD_FIELDS)
Progress = Callable[[str, int, int], None]


def _noop(phase: str, done: int, total: int) -> None:
    pass


def _fingerprint(values: Iterable) -> bytes:
    return hashlib.blake2b("\x1f".join("" if v is None else str(v) for v in values).encode(), digest_size=12).digest()


def _row_values(row: EntryRow) -> tuple:
    return tuple(getattr(row, f) for f in DATA_FIELDS)


def _copy_insert(hotlist_id: int, rows: list[EntryRow], progress: Progress) -> None:
    table = Entry._meta.db_table
    now = timezone.now()  # every new row of one import carries the same creation time
    columns = ("hotlist_id", "plate", "state", "created_at", *DATA_FIELDS)
    total = len(rows)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            raw = cursor.cursor  # psycopg 3 cursor
            with raw.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                for i, row in enumerate(rows, 1):
                    copy.write_row((hotlist_id, row.plate, row.state, now, *_row_values(row)))
                    if i % 50000 == 0:
                        progress("writing", i, total)
    else:
        for start in range(0, total, BATCH):
            chunk = rows[start : start + BATCH]
            Entry.objects.bulk_create(
                [
                    Entry(hotlist_id=hotlist_id, plate=r.plate, state=r.state, **dict(zip(DATA_FIELDS, _row_values(r))))
                    for r in chunk
                ],
                batch_size=BATCH,
            )
            progress("writing", min(start + BATCH, total), total)
    progress("writing", total, total)


def _delete_entries(ids: list[int]) -> None:
    """Delete entries without Django's per-row cascade: alerts keep their copied fields and lose the link
    (alerts does that on ``entries_deleting``)."""
    for start in range(0, len(ids), BATCH):
        chunk = ids[start : start + BATCH]
        entries_deleting.send(sender=Entry, entry_ids=chunk)
        Entry.objects.filter(pk__in=chunk)._raw_delete(Entry.objects.db)


def _bulk_update(hotlist: Hotlist, changed: list[tuple[int, EntryRow]]) -> None:
    for start in range(0, len(changed), BATCH):
        objs = []
        for pk, row in changed[start : start + BATCH]:
            obj = Entry(pk=pk, hotlist=hotlist, plate=row.plate, state=row.state)
            for name, value in zip(DATA_FIELDS, _row_values(row)):
                setattr(obj, name, value)
            objs.append(obj)
        Entry.objects.bulk_update(objs, list(DATA_FIELDS), batch_size=1000)


class RemovalsNotConfirmed(Exception):
    """The import would remove more entries than the user agreed to; nothing was written."""

    def __init__(self, counts: dict[str, int]):
        super().__init__(f"the import would remove {counts['removed']} entries")
        self.counts = counts


def do_import_entries(
    hotlist: Hotlist,
    rows: list[EntryRow],
    *,
    mode: str = "replace",
    progress: Progress | None = None,
    max_removals: int | None = None,
) -> dict[str, int]:
    """Write parsed (already validated) rows into ``hotlist`` in one transaction; returns counts.

    With ``max_removals``, an import that would remove more entries than that writes nothing and
    raises ``RemovalsNotConfirmed`` with what it would add, change and remove."""
    if mode not in IMPORT_MODES:
        raise ValueError(f"mode must be one of {', '.join(IMPORT_MODES)}")
    progress = progress or _noop
    counts = {"added": 0, "updated": 0, "removed": 0, "unchanged": 0}
    with transaction.atomic():
        Hotlist.objects.select_for_update().filter(pk=hotlist.pk).first()  # one import per list at a time
        existing: dict[tuple[str, str], tuple[int, bytes]] = {}
        qs = Entry.objects.filter(hotlist=hotlist).values_list("pk", "plate", "state", *DATA_FIELDS)
        for pk, plate, state, *values in qs.iterator(chunk_size=20000):
            existing[(plate, state)] = (pk, _fingerprint(values))
        new: list[EntryRow] = []
        changed: list[tuple[int, EntryRow]] = []
        removed: list[int] = []
        for row in rows:
            key = (row.plate, row.state)
            if mode == "delta" and getattr(row, "action", "add") == "remove":
                found = existing.pop(key, None)
                if found is not None:
                    removed.append(found[0])
                continue
            found = existing.pop(key, None)
            if found is None:
                new.append(row)
            elif found[1] != _fingerprint(_row_values(row)):
                changed.append((found[0], row))
            else:
                counts["unchanged"] += 1
        if mode == "replace":
            removed.extend(pk for pk, _ in existing.values())
        if max_removals is not None and len(removed) > max_removals:
            counts.update(added=len(new), updated=len(changed), removed=len(removed))
            raise RemovalsNotConfirmed(counts)
        if removed:
            progress("removing", 0, len(removed))
            _delete_entries(removed)
        _copy_insert(hotlist.pk, new, progress)
        _bulk_update(hotlist, changed)
        counts.update(added=len(new), updated=len(changed), removed=len(removed))
        now = timezone.now()
        Hotlist.objects.filter(pk=hotlist.pk).update(updated_at=now, last_imported_at=now)
    return counts


def match_read(read: Read, also: Iterable[tuple[str, float]] = ()) -> list[tuple[Entry, Match]]:
    """(entry, match) pairs for every live entry that any OCR candidate of ``read`` (or the texts in
    ``also``, e.g. its plate event's consensus) hits under its list's policy."""
    return match_reads([(read, also)])[0]


def match_reads(reads: list[tuple[Read, Iterable[tuple[str, float]]]]) -> list[list[tuple[Entry, Match]]]:
    """``match_read`` for each (read, also) of ``reads``, checking the lists' state once for all of them."""
    from .matcher import match_many

    items = []
    for read, also in reads:
        candidates = [(t, c) for t, c in read.candidates] or [(read.text, read.confidence)]
        if read.text and read.text not in {t for t, _ in candidates}:
            candidates.insert(0, (read.text, read.confidence))
        candidates += [(t, c) for t, c in also if t and t not in {x for x, _ in candidates}]
        items.append((candidates, read.captured_at))
    return match_many(items)


def do_check_history(
    hotlist_id: int, since: datetime | None, *, entry_ids: list[int] | None = None, max_hours: float | None = None
) -> int:
    """Match the list's entries created at or after ``since`` (or ``entry_ids``) against the stored reads
    of the list's history window (at most ``max_hours`` back, when given); each hit becomes a historical
    alert. Returns the number of alerts."""
    from datetime import timedelta

    hotlist = Hotlist.objects.get(pk=hotlist_id)
    if not hotlist.history_days:
        return 0
    entries = Entry.objects.filter(hotlist=hotlist)
    entries = entries.filter(pk__in=entry_ids) if entry_ids is not None else entries.filter(created_at__gte=since)
    rows = list(entries.values_list("pk", "plate"))
    if not rows:
        return 0
    policy = hotlist.policy()
    index = HotlistIndex.build([(pk, plate, policy) for pk, plate in rows])
    window = timedelta(days=hotlist.history_days)
    if max_hours is not None:
        window = min(window, timedelta(hours=max_hours))
        if not window:
            return 0
    window_start = timezone.now() - window
    created = 0
    reads = Read.objects.filter(captured_at__gte=window_start).only("pk", "text", "confidence", "candidates")
    for read in reads.iterator(chunk_size=5000):
        candidates = [(t, c) for t, c in read.candidates] or [(read.text, read.confidence)]
        matches = index.match(candidates)
        if not matches:
            continue
        by_id = {e.pk: e for e in Entry.objects.filter(pk__in=[m.entry_id for m in matches]).select_related("hotlist")}
        pairs = [(by_id[m.entry_id], m) for m in matches if m.entry_id in by_id]
        with transaction.atomic():
            # alerts raises the historical alerts (it subscribes to history_matched).
            raised = history_matched.send(sender=Hotlist, read=Read.objects.get(pk=read.pk), pairs=pairs)
            created += sum(len(alerts or ()) for _receiver, alerts in raised)
    return created


BOLO_LIST = "BOLO"


class BoloConflict(Exception):
    """The plate is already on the BOLO list, entered by someone else."""


def bolo_history_hours() -> float:
    """How far back a new BOLO is checked against past reads (``BOLO_HISTORY_HOURS``). A BOLO is for
    finding a car now: it is not a way to see a week of any plate's movements without a logged search."""
    from django.conf import settings

    return float(getattr(settings, "BOLO_HISTORY_HOURS", 4))


def _bolo_author(hotlist: Hotlist, entry: Entry) -> int | None:
    """The id of the user whose BOLO created ``entry`` (from the audit trail), None if not made as a BOLO."""
    records = AuditLog.objects.filter(action="hotlist.bolo", query__created=True)
    record = (
        records.filter(query__entry=entry.pk).order_by("-seq").first()
        or records.filter(
            query__list=hotlist.name,
            query__plate=entry.plate,
            query__state=entry.state,
            query__entry__isnull=True,
            at__gte=entry.created_at,
        )
        .order_by("-seq")
        .first()
    )
    return record.user_id if record is not None else None


def do_add_bolo(
    user: AbstractBaseUser,
    *,
    plate: str,
    plate_raw: str,
    state: str,
    reason: str,
    case_number: str,
    notes: str,
    expires: datetime,
) -> tuple[Entry, bool]:
    """Add (or, for its author or an admin, change) one BOLO entry; checked against recent reads after commit.

    Another officer's BOLO for the same plate and state is not overwritten (BoloConflict).
    """
    state = state.strip().upper()
    with transaction.atomic():
        hotlist, _ = Hotlist.objects.get_or_create(
            name=BOLO_LIST,
            defaults={"description": "Single entries added from the dashboard", "priority": "high", "refresh_hours": 0},
        )
        Hotlist.objects.select_for_update().filter(pk=hotlist.pk).first()  # one BOLO change at a time
        existing = Entry.objects.filter(hotlist=hotlist, plate=plate, state=state).first()
        if existing is not None and not has_role(user, ADMIN) and _bolo_author(hotlist, existing) != user.pk:
            raise BoloConflict(
                f"{plate} is already on the BOLO list; only the officer who entered it or an admin can change it."
            )
        entry, created = Entry.objects.update_or_create(
            hotlist=hotlist,
            plate=plate,
            state=state,
            defaults={
                "plate_raw": plate_raw[:32],
                "reason": reason,
                "case_number": case_number,
                "notes": notes,
                "expires_at": expires,
            },
        )
        Hotlist.objects.filter(pk=hotlist.pk).update(updated_at=timezone.now())
        check_history.delay_on_commit(hotlist.pk, None, [entry.pk], bolo_history_hours())
    return entry, created


def lookalike_variants(plate: str, policy: MatchPolicy, limit: int = 60) -> tuple[list[str], int]:
    """Misreads made only of look-alike substitutions that ``policy`` accepts for ``plate``: (examples, count)."""
    from itertools import combinations, product

    budget = policy.lookalikes_for(len(plate)) + policy.edits_for(len(plate)) if policy.mode != "exact" else 0
    alike: dict[str, set[str]] = {}
    for group in policy.lookalikes.groups:
        for ch in group:
            alike.setdefault(ch, set()).update(c for c in group if c != ch)
    groups = {ch: sorted(others) for ch, others in alike.items()}
    positions = [i for i, ch in enumerate(plate) if ch in groups]
    variants: list[str] = []
    count = 0
    for k in range(1, min(budget, len(positions)) + 1):
        for chosen in combinations(positions, k):
            for replacement in product(*(groups[plate[i]] for i in chosen)):
                count += 1
                if len(variants) < limit:
                    chars = list(plate)
                    for i, ch in zip(chosen, replacement):
                        chars[i] = ch
                    variants.append("".join(chars))
    return variants, count


def edit_variant_count(plate: str, policy: MatchPolicy, alphabet: int = 36) -> int:
    """How many distinct strings are one plain edit (a wrong, missing or extra character) from ``plate``."""
    if policy.mode == "exact" or policy.edits_for(len(plate)) == 0:
        return 0
    return len(plate) * (alphabet - 1) + len(plate) + (len(plate) + 1) * alphabet


class PreviewHit(TypedDict):
    read: str
    matched: str
    kind: str
    explanation: str
    camera: str
    captured_at: str
    captured_at_display: str


class PolicyPreview(TypedDict):
    plate: str
    mode: str
    lookalike_variants: list[str]
    lookalike_count: int
    edit_count: int
    recent_hits: list[PreviewHit]
    reads_checked: int


def preview_policy(plate: str, policy: MatchPolicy, *, recent_reads: int = 10000) -> PolicyPreview:
    """What a policy would accept for ``plate``: look-alike misreads, edit counts, and recent reads that would hit."""
    variants, count = lookalike_variants(plate, policy)
    index = HotlistIndex.build([(0, plate, policy)])
    hits: list[PreviewHit] = []
    reads = Read.objects.select_related("camera").order_by("-captured_at")[:recent_reads]
    for read in reads:
        candidates = [(t, c) for t, c in read.candidates] or [(read.text, read.confidence)]
        for match in index.match(candidates):
            hits.append(
                {
                    "read": read.text,
                    "matched": match.read,
                    "kind": match.kind,
                    "explanation": match.description,
                    "camera": read.camera.name,
                    "captured_at": read.captured_at.isoformat(),
                    "captured_at_display": clock.display(read.captured_at),
                }
            )
        if len(hits) >= 20:
            break
    return {
        "plate": plate,
        "mode": policy.mode,
        "lookalike_variants": variants,
        "lookalike_count": count,
        "edit_count": edit_variant_count(plate, policy),
        "recent_hits": hits,
        "reads_checked": len(reads),
    }


def _touch(hotlist_id: int) -> None:
    """Mark the list changed, so every worker rebuilds its matching index (hotlist/matcher.py)."""
    Hotlist.objects.filter(pk=hotlist_id).update(updated_at=timezone.now())


def do_update_entry(entry: Entry, changes: dict) -> list[str]:
    """Change one entry's fields (already validated); returns the names of the fields that changed.
    Alerts raised on it keep what they copied."""
    changed = [name for name, value in changes.items() if getattr(entry, name) != value]
    if not changed:
        return []
    with transaction.atomic():
        for name in changed:
            setattr(entry, name, changes[name])
        if "plate" in changed:
            entry.plate_raw = entry.plate
            changed.append("plate_raw")
        entry.save(update_fields=changed)
        _touch(entry.hotlist_id)
    return [c for c in changed if c != "plate_raw"]


def do_delete_entry(entry: Entry) -> None:
    """Remove one entry; its alerts keep their copied fields and lose the link."""
    with transaction.atomic():
        _delete_entries([entry.pk])
        _touch(entry.hotlist_id)


def do_delete_hotlist(hotlist: Hotlist) -> int:
    """Remove a list and its entries; returns how many entries went. Alerts keep their copied fields."""
    with transaction.atomic():
        Hotlist.objects.select_for_update().filter(pk=hotlist.pk).first()  # not while an import writes to it
        ids = list(Entry.objects.filter(hotlist=hotlist).values_list("pk", flat=True))
        _delete_entries(ids)
        hotlist.delete()
    return len(ids)
