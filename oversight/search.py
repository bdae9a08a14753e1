"""Read search for auditors: plate (exact, wildcard or lenient), camera, time range, hotlist hits.

Speed (PostgreSQL, indexes from recognition/migrations/0002_search_indexes.py and 0006):

* exact: ``text = X`` on the (text varchar_pattern_ops, captured_at, id) btree, newest first, LIMIT page;
* prefix ``ABC*``: ``text LIKE 'ABC%'`` on the same btree; page keys and counts from it alone
  (``page_of``, ``capped_count``);
* other wildcards: a regular expression on the pg_trgm GIN index of the distinct texts
  (``matching_texts``), then ``text IN (...)``, asked of each day's partition only for the texts read on
  that day (``DaySplit``, from the texts' day masks): a text is read on a few of the 30 days, and
  one ``IN`` over every partition descended each text in each partition's index;
* lenient: the searched plate is a one-entry "hotlist" for the matcher library
  (``hotlist.matching``), so search and alerting agree. Candidate texts come from
  the canonical form of ``text`` (look-alike groups mapped to one character,
  an expression index): every text whose canonical form is within the edit
  budget of the plate's canonical form (enumerated; look-alikes cost nothing
  there, so this never misses). Each distinct candidate text is then verified
  with the matcher and the final query is ``text IN (verified texts)``, so
  results, ordering, paging and counts are exactly the matcher's.

Counts are capped (``COUNT_CAP``) so that huge result sets stay fast; the map
and chart aggregate the newest ``AGG_CAP`` matching reads.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache

from django.db import connection
from django.db.models import BooleanField, CharField, Func, QuerySet
from django.db.models.expressions import RawSQL
from django.utils import timezone

from alerts.services import hit_filter, visible_alerts, visible_hits
from cameras.models import Camera, Frame
from hotlist.matching import HotlistIndex, MatchPolicy, normalize_pattern
from recognition.models import Read

_WILDCARD_OK = re.compile(r"^[A-Z0-9*?]+$")

PAGE_SIZE = 50
COUNT_CAP = 10_000
AGG_CAP = 10_000
CHART_MAX_HOURS = 24 * 14
EXPORT_CAP = 100_000
#: Wildcard searches matching at most this many distinct texts are run as ``text IN (...)`` (PostgreSQL).
WILDCARD_TEXTS_MAX = 1000
#: Above this many enumerated canonical neighbours the lenient prefilter on SQLite
#: (no index anyway) verifies every distinct text of the right length instead.
_SQLITE_IN_MAX = 900

#: Canonical form of a text for look-alike-insensitive lookups: each look-alike group of
#: DEFAULT_LOOKALIKES mapped to its representative. Must equal the expression of the index
#: ``recognition_read_text_canon`` (recognition/migrations/0002_search_indexes.py).
CANON_FROM = "0OQ12586"
CANON_TO = "DDDIZSBG"
_CANON_TABLE = str.maketrans(CANON_FROM, CANON_TO)
CANON_ALPHABET = "".join(sorted(set("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789".translate(_CANON_TABLE))))

MODES = ("exact", "wildcard", "lenient")


def canonical(text: str) -> str:
    return text.translate(_CANON_TABLE)


class Canon(Func):
    """TRANSLATE(text, CANON_FROM, CANON_TO); nested REPLACE on SQLite (no TRANSLATE there)."""

    output_field = CharField()

    def as_sql(self, compiler, connection, function=None, template=None, arg_joiner=None, **extra):
        sql, params = compiler.compile(self.source_expressions[0])
        return f"TRANSLATE({sql}, '{CANON_FROM}', '{CANON_TO}')", params

    def as_sqlite(self, compiler, connection, **extra):
        sql, params = compiler.compile(self.source_expressions[0])
        for a, b in zip(CANON_FROM, CANON_TO):
            sql = f"REPLACE({sql}, '{a}', '{b}')"
        return sql, params


def normalize_query(pattern: str) -> str:
    return normalize_pattern(re.sub(r"[\s\-]", "", pattern or ""))


def plate_filter(pattern: str) -> dict:
    """``ABC123`` exact; ``*`` any run of characters, ``?`` exactly one."""
    pattern = re.sub(r"[\s\-]", "", pattern.upper())
    if not _WILDCARD_OK.match(pattern):
        raise ValueError("Plates may contain letters, digits and the wildcards * and ?.")
    if "*" not in pattern and "?" not in pattern:
        return {"text": pattern}
    body = pattern.rstrip("*")
    if body and "*" not in body and "?" not in body:
        return {"text__startswith": body}
    regex = "^" + "".join(".*" if ch == "*" else "." if ch == "?" else ch for ch in pattern) + "$"
    return {"text__regex": regex}


def is_wildcard(pattern: str) -> bool:
    return "*" in pattern or "?" in pattern


@dataclass
class SearchSpec:
    plate: str = ""
    mode: str = "exact"
    lookalikes: int = 1
    edits: int = 0
    camera: Camera | int | None = None
    start: object = None
    end: object = None
    hotlist: object = None
    hits_only: bool = False

    @classmethod
    def from_form(cls, data: dict) -> SearchSpec:
        lookalikes, edits = data.get("lookalikes"), data.get("edits")
        return cls(
            plate=data.get("plate") or "",
            mode=data.get("mode") or "exact",
            lookalikes=lookalikes if lookalikes is not None else 1,
            edits=edits if edits is not None else 0,
            camera=data.get("camera"),
            start=data.get("start"),
            end=data.get("end"),
            hotlist=data.get("hotlist"),
            hits_only=bool(data.get("hits_only")),
        )

    @property
    def lenient(self) -> bool:
        return self.mode == "lenient" and bool(self.plate)

    def policy(self) -> MatchPolicy:
        return MatchPolicy.lenient(lookalike=self.lookalikes, edits=0 if is_wildcard(self.plate) else self.edits)


# ---------------------------------------------------------------------------------------- lenient


@lru_cache(maxsize=256)
def _lenient_index(plate: str, lookalikes: int, edits: int) -> HotlistIndex:
    return HotlistIndex.build([(0, plate, MatchPolicy.lenient(lookalike=lookalikes, edits=edits))])


def lenient_index(spec: SearchSpec) -> HotlistIndex:
    plate = normalize_query(spec.plate)
    return _lenient_index(plate, spec.lookalikes, 0 if is_wildcard(plate) else spec.edits)


def canonical_neighbours(text: str, edits: int) -> set[str]:
    """Every string over the canonical alphabet within ``edits`` plain edits of ``text`` (canonical)."""
    frontier = {text}
    seen = {text}
    for _ in range(edits):
        nxt = set()
        for s in frontier:
            for i in range(len(s) + 1):
                for c in CANON_ALPHABET:
                    nxt.add(s[:i] + c + s[i:])  # insertion
                if i < len(s):
                    nxt.add(s[:i] + s[i + 1 :])  # deletion
                    for c in CANON_ALPHABET:
                        if c != s[i]:
                            nxt.add(s[:i] + c + s[i + 1 :])  # substitution
        nxt.discard("")
        frontier = nxt - seen
        seen |= nxt
    return seen


def _lenient_prefilter(qs, spec: SearchSpec):
    """A superset of the reads the matcher accepts (never misses), by the text's canonical form."""
    plate = normalize_query(spec.plate)
    if is_wildcard(plate):
        if spec.lookalikes:
            groups = {
                c: "".join(sorted({g for g in CANON_FROM + CANON_TO + c if canonical(g) == canonical(c)}))
                for c in set(plate)
                if c not in "*?"
            }
            body = "".join(
                ".*" if c == "*" else "." if c == "?" else (f"[{groups[c]}]" if len(groups[c]) > 1 else c)
                for c in plate
            )
            return qs.filter(text__regex=f"^{body}$")
        return qs.filter(**plate_filter(plate))
    keys = canonical_neighbours(canonical(plate), spec.edits)
    if connection.vendor == "postgresql":
        table = Read._meta.db_table
        return qs.filter(
            RawSQL(
                f"TRANSLATE(\"{table}\".\"text\", '{CANON_FROM}', '{CANON_TO}') = ANY(%s)",
                (sorted(keys),),
                output_field=BooleanField(),
            )
        )
    if len(keys) <= _SQLITE_IN_MAX:
        return qs.annotate(_canon=Canon("text")).filter(_canon__in=sorted(keys))
    return qs  # SQLite only: every text is verified in Python


def lenient_texts(base_qs, spec: SearchSpec) -> list[str]:
    """Distinct read texts (within ``base_qs``'s filters) that the matcher accepts for the searched plate."""
    index = lenient_index(spec)
    texts = _lenient_prefilter(base_qs, spec).order_by().values_list("text", flat=True).distinct()
    return sorted(t for t in texts if index.match(t))


def explain(read: Read, spec: SearchSpec):
    """The matcher's best match of the searched plate against a read's candidates (and its text), or None."""
    cands: list[tuple[str, float | None]] = [(read.text, read.confidence)]
    for c in read.candidates or []:
        try:
            cands.append((str(c[0]), float(c[1]) if len(c) > 1 and c[1] is not None else None))
        except (TypeError, IndexError, ValueError):
            continue
    found = lenient_index(spec).match(cands)
    return found[0] if found else None


# ----------------------------------------------------------------------------------------- search


def visible_alerts_for(user):
    return visible_alerts(user)


def hit_filter_for(user, hotlist=None, field: str = "pk"):
    """Reads that hit (that list) in an alert ``user`` may see: raised it or repeated it."""
    return hit_filter(user, hotlist, field)


def search_reads(
    *,
    plate: str = "",
    camera=None,
    start=None,
    end=None,
    mode: str = "exact",
    lookalikes: int = 1,
    edits: int = 0,
    hotlist=None,
    hits_only: bool = False,
    user=None,
    spec: SearchSpec | None = None,
):
    """Matching reads, newest first (a QuerySet; slice it for a page).

    ``hotlist`` / ``hits_only`` keep reads with an alert (of that list) that ``user`` may see:
    covert-list alerts count only for users cleared for that list (``alerts.services.visible_alerts``).
    """
    if spec is None:
        spec = SearchSpec(
            plate=plate,
            mode=mode,
            lookalikes=lookalikes,
            edits=edits,
            camera=camera,
            start=start,
            end=end,
            hotlist=hotlist,
            hits_only=hits_only,
        )
    qs = Read.objects.all()
    if spec.camera is not None:
        qs = qs.filter(camera=spec.camera)
    if spec.start is not None:
        qs = qs.filter(captured_at__gte=spec.start)
    if spec.end is not None:
        qs = qs.filter(captured_at__lt=spec.end)
    if spec.hotlist is not None or spec.hits_only:
        if user is None:
            raise ValueError("hit filters need the searching user (covert lists)")
        qs = qs.filter(hit_filter_for(user, spec.hotlist))
    if spec.plate:
        if spec.lenient:
            qs = qs.filter(text__in=lenient_texts(qs, spec))
        else:
            where = plate_filter(spec.plate)
            if "text__regex" in where and connection.vendor == "postgresql":
                # Infix / '?' patterns: PostgreSQL misjudges how many rows a regex keeps and may walk the
                # captured_at index backwards over millions of rows. Find the distinct matching texts first,
                # then page over ``text IN (...)`` on the (text, captured_at, id) btree.
                masks = matching_texts(where["text__regex"], WILDCARD_TEXTS_MAX + 1)
                if masks is None:  # no table of texts (yet): the reads' own trigram index
                    masks = dict.fromkeys(
                        qs.filter(**where)
                        .order_by()
                        .values_list("text", flat=True)
                        .distinct()[: WILDCARD_TEXTS_MAX + 1],
                        0,
                    )
                if len(masks) <= WILDCARD_TEXTS_MAX:
                    base = qs.select_related("camera").order_by("-captured_at", "-pk")
                    qs = base.filter(text__in=sorted(masks))
                    setattr(qs, "day_split", DaySplit.of(base, masks, spec.start, spec.end))  # noqa: B010
                    return qs
            qs = qs.filter(**where)
    # Not the frames: a join on a frame's id alone is planned over every day partition of frames (20 ms
    # with 38, and a scan of all of them where frames are few); ``frame_images`` loads them by key.
    return qs.select_related("camera").order_by("-captured_at", "-pk")


@dataclass
class DaySplit:
    """An infix search by capture time, newest first: ``segments`` are (start, end, texts) with the texts
    that can have reads between start (inclusive) and end (exclusive), None for open ends; together they
    cover all time once. ``base`` is the search without its plate filter.

    ``search_reads`` puts it on the queryset it returns as ``day_split``; ``page_of``, ``capped_count`` and
    ``aggregates`` then ask the segments one by one. A queryset made from that one (``.filter``, ...) has
    no ``day_split`` and is searched as one ``text IN (...)``: the same reads, more slowly."""

    base: QuerySet
    segments: list[tuple]

    @classmethod
    def of(cls, base, masks: dict[str, int], start=None, end=None) -> DaySplit:
        """``masks``: text -> day mask (``recognition.partitions.day_bit``; 0: any day). A day partition is
        asked for the texts whose mask has its bit; the time no day partition holds (the default partition:
        kept hits, stray captures) for every text."""
        from recognition.partitions import bounds, day_bit, day_partitions

        everything = sorted(masks)
        segments: list[tuple] = []
        upper = None  # where the time covered so far begins (None: nothing covered yet)
        for day in sorted(day_partitions(), reverse=True):
            lo, hi = bounds(day)
            if upper is None or hi < upper:
                segments.append((hi, upper, everything))
            bit = day_bit(day)
            segments.append((lo, hi, [t for t in everything if not masks[t] or masks[t] & bit]))
            upper = lo
        segments.append((None, upper, everything))
        segments = [
            (lo, hi, texts)
            for lo, hi, texts in segments
            if texts and (start is None or hi is None or hi > start) and (end is None or lo is None or lo < end)
        ]
        return cls(base, segments)

    def querysets(self):
        """One queryset per segment, newest segment first, each ordered newest first."""
        for lo, hi, texts in self.segments:
            qs = self.base.filter(text__in=texts)
            if lo is not None:
                qs = qs.filter(captured_at__gte=lo)
            if hi is not None:
                qs = qs.filter(captured_at__lt=hi)
            yield qs

    def newest(self, fields: tuple[str, ...], n: int) -> list[tuple]:
        """``fields`` of the newest ``n`` matching reads, newest first."""
        out: list[tuple] = []
        for qs in self.querysets():
            out += qs.values_list(*fields)[: n - len(out)]
            if len(out) >= n:
                break
        return out

    def count(self, cap: int) -> int:
        """Matching reads, counting at most ``cap``."""
        n = 0
        for qs in self.querysets():
            n += qs.order_by().values("pk")[: cap - n].count()
            if n >= cap:
                break
        return n


def matching_texts(regex: str, limit: int) -> dict[str, int] | None:
    """Up to ``limit`` distinct read texts matching ``regex`` with their day masks, from the table of every
    text the reads hold (PostgreSQL, recognition/migrations/0007_read_texts.py and 0008, on its trigram
    index); None without it."""
    from recognition.partitions import READ_TEXTS, to_regclass

    if not to_regclass(READ_TEXTS):
        return None
    with connection.cursor() as cur:
        cur.execute(f"SELECT text, days FROM {READ_TEXTS} WHERE text ~ %s LIMIT %s", [regex, limit])
        return dict(cur.fetchall())


def frame_images(reads) -> dict[int, str]:
    """frame id -> image name of ``reads``' frames, by their full key (id and capture time: a read has its
    frame's), so that PostgreSQL looks in those days' partitions only."""
    if not reads:
        return {}
    return dict(
        Frame.objects.filter(
            pk__in={r.frame_id for r in reads}, captured_at__in={r.captured_at for r in reads}
        ).values_list("pk", "image")
    )


def capped_count(qs, cap: int = COUNT_CAP) -> tuple[int, bool]:
    """(count, capped): counts at most ``cap + 1`` rows."""
    split = getattr(qs, "day_split", None)
    n = split.count(cap + 1) if split else qs.order_by().values("pk")[: cap + 1].count()
    return min(n, cap), n > cap


def page_of(qs, page: int, size: int = PAGE_SIZE) -> list:
    """One page of ``qs`` (newest first). On PostgreSQL the page's keys come first, then its rows: the keys
    of a prefix or wildcard search come from the (text, captured_at, id) index alone, so only the page's
    reads are fetched from the table instead of every matching one (which the sort would otherwise need)."""
    page = max(1, page)
    window = slice((page - 1) * size, page * size)
    if connection.vendor != "postgresql":
        return list(qs[window])
    split = getattr(qs, "day_split", None)
    if split:
        keys = split.newest(("pk", "captured_at"), window.stop)[window]
        qs = split.base  # the keys say which reads: no need for the long text list again
    else:
        keys = list(qs.values_list("pk", "captured_at")[window])
    if not keys:
        return []
    # the capture times let PostgreSQL look in those days' partitions only
    return list(qs.filter(pk__in=[k for k, _ in keys], captured_at__in={at for _, at in keys}))


def hits_for(user, read_ids) -> dict[int, list[dict]]:
    """read id -> [{list, kind, explanation, alert, repeat}] of the alerts ``user`` may see (a repeat: the
    read was folded into an earlier alert of the same vehicle)."""
    out: dict[int, list[dict]] = defaultdict(list)
    if not read_ids:
        return out

    alerts, sightings = visible_hits(user)
    ids = list(read_ids)
    rows = [
        *(
            r + (False,)
            for r in alerts.filter(read_id__in=ids)
            .order_by("pk")
            .values_list("read_id", "hotlist_name", "match_kind", "explanation", "pk")
        ),
        *sightings.filter(read_id__in=ids)
        .order_by("alert_id")
        .values_list("read_id", "alert__hotlist_name", "alert__match_kind", "alert__explanation", "alert_id", "repeat"),
    ]
    seen = set()
    for read_id, name, kind, explanation, alert_id, repeat in rows:
        if (read_id, name) in seen:
            continue
        seen.add((read_id, name))
        out[read_id].append(
            {"list": name, "kind": kind, "explanation": explanation, "alert": alert_id, "repeat": repeat}
        )
    for v in out.values():
        v.sort(key=lambda h: h["list"])
    return out


def aggregates(qs, user, cap: int = AGG_CAP) -> dict:
    """Map points (per camera) and per-hour chart series (reads and hits per camera) of the newest ``cap`` reads."""
    split = getattr(qs, "day_split", None)
    if split:
        rows = split.newest(("pk", "camera_id", "captured_at"), cap)
        ids = Read.objects.filter(pk__in=[r[0] for r in rows])
        if rows:  # their time span lets PostgreSQL look in those days' partitions only
            ids = ids.filter(captured_at__range=(rows[-1][2], rows[0][2]))
    else:
        rows = list(qs.order_by("-captured_at", "-pk").values_list("pk", "camera_id", "captured_at")[:cap])
        ids = qs.order_by("-captured_at", "-pk").values("pk")[:cap]
    hit_ids = (
        set(Read.objects.filter(pk__in=ids).filter(hit_filter_for(user)).values_list("pk", flat=True))
        if rows
        else set()
    )

    cams = {c.pk: c for c in Camera.objects.filter(pk__in={r[1] for r in rows})}
    reads_per_cam = Counter(r[1] for r in rows)
    hits_per_cam = Counter(r[1] for r in rows if r[0] in hit_ids)
    points: list[dict] = []
    unplaced: list[dict] = []
    for cam_id, n in reads_per_cam.most_common():
        cam = cams[cam_id]
        item = {
            "camera": cam.name,
            "camera_id": cam_id,
            "reads": n,
            "hits": hits_per_cam.get(cam_id, 0),
            "lat": cam.latitude,
            "lon": cam.longitude,
        }
        (points if cam.latitude is not None and cam.longitude is not None else unplaced).append(item)

    def hour_of(dt):
        local = timezone.localtime(dt) if timezone.is_aware(dt) else dt
        return local.replace(minute=0, second=0, microsecond=0)

    per: defaultdict[tuple, list[int]] = defaultdict(lambda: [0, 0])  # (cam_id, hour) -> [reads, hits]
    hours = set()
    for pk, cam_id, at in rows:
        h = hour_of(at)
        hours.add(h)
        cell = per[(cam_id, h)]
        cell[0] += 1
        if pk in hit_ids:
            cell[1] += 1
    truncated = False
    axis = []
    if hours:
        last, first = max(hours), min(hours)
        if (last - first) > timedelta(hours=CHART_MAX_HOURS - 1):
            first = last - timedelta(hours=CHART_MAX_HOURS - 1)
            truncated = True
        h = first
        while h <= last:
            axis.append(h)
            h += timedelta(hours=1)
    series = []
    for cam_id, _ in reads_per_cam.most_common():
        series.append(
            {
                "camera": cams[cam_id].name,
                "camera_id": cam_id,
                "reads": [per[(cam_id, h)][0] if (cam_id, h) in per else 0 for h in axis],
                "hits": [per[(cam_id, h)][1] if (cam_id, h) in per else 0 for h in axis],
            }
        )
    return {
        "map": {"points": points, "unplaced": unplaced},
        "chart": {"hours": [h.isoformat() for h in axis], "series": series, "truncated": truncated},
        "sampled": len(rows),
        "sample_capped": len(rows) >= cap,
    }
