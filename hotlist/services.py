"""State changes of hotlists, and matching reads against them."""

from __future__ import annotations

from django.db import transaction

from .importing import EntryRow
from .models import Entry, Hotlist

IMPORT_MODES = ("replace", "append")
BATCH = 5000


@transaction.atomic
def do_import_entries(hotlist: Hotlist, rows: list[EntryRow], *, mode: str = "replace") -> dict[str, int]:
    """Write parsed rows into a list in one transaction.

    ``replace`` swaps the whole list for the file; ``append`` adds the rows,
    updating entries already on the list (same plate and state).
    """
    if mode not in IMPORT_MODES:
        raise ValueError(f"mode must be one of {', '.join(IMPORT_MODES)}")
    removed = 0
    if mode == "replace":
        removed, _ = hotlist.entries.all().delete()
    existing: dict[tuple[str, str], Entry] = {}
    if mode == "append":
        keys = {(r.plate, r.state) for r in rows}
        for entry in hotlist.entries.filter(plate__in={k[0] for k in keys}):
            existing[(entry.plate, entry.state)] = entry
    new, updated = [], []
    for row in rows:
        fields = dict(plate_raw=row.plate_raw, reason=row.reason, case_number=row.case_number, notes=row.notes,
                      expires_at=row.expires_at)
        entry = existing.get((row.plate, row.state))
        if entry is None:
            new.append(Entry(hotlist=hotlist, plate=row.plate, state=row.state, **fields))
        else:
            for key, value in fields.items():
                setattr(entry, key, value)
            updated.append(entry)
    Entry.objects.bulk_create(new, batch_size=BATCH)
    if updated:
        Entry.objects.bulk_update(updated, ["plate_raw", "reason", "case_number", "notes", "expires_at"], batch_size=BATCH)
    hotlist.save(update_fields=["updated_at"])
    return {"added": len(new), "updated": len(updated), "removed": removed}


def match_read(read):
    """(entry, match) pairs for every live entry that any OCR candidate of ``read`` hits under its list's policy."""
    from .matcher import match_candidates

    candidates = [(t, c) for t, c in read.candidates] or [(read.text, read.confidence)]
    if read.text and read.text not in {t for t, _ in candidates}:
        candidates.insert(0, (read.text, read.confidence))
    return match_candidates(candidates)
