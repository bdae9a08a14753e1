"""Frames and reads partitioned by capture day (PostgreSQL only; SQLite keeps plain tables).

``cameras_frame`` and ``recognition_read`` are ``PARTITION BY RANGE (captured_at)``: one partition per UTC
day (``<table>_pYYYYMMDD``) and a default partition (``<table>_default``) that takes every row no day
partition covers. The default partition is itself partitioned by month: ``<table>_kept_YYYYMM`` holds the
reads and frames that retention keeps when it drops their day (hits, and the reads that alerts point to),
each with a CHECK constraint of its month, so that creating a new day does not scan them;
``<table>_stray`` takes the rest (captures far in the past or future). The database key is ``(id, captured_at)``;
Django still sees ``id`` as the primary key, and the foreign keys that point at these tables
(``Read.frame``, ``Alert.read``) have no database constraint (see docs/architecture.md).

Beat's ``recognition.create_partitions`` creates the partitions of today and the next ``PARTITION_DAYS_AHEAD``
days; retention (oversight/retention.py) drops whole days with :func:`drop_day`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from time import perf_counter

from django.db import connection, transaction

# Parent tables, in the order their partitions are locked and dropped (frames before reads, as a frame's
# processing takes them). Both are partitioned on captured_at, and a read has its frame's capture time.
FRAMES = "cameras_frame"
READS = "recognition_read"
TABLES = (FRAMES, READS)
KEY = "captured_at"
# Every distinct text of the reads with its last day and a mask of its days, kept by a trigger
# (recognition/migrations/0007_read_texts.py, 0008_read_text_days.py).
READ_TEXTS = "recognition_readtext"
TEXT_DAYS_EPOCH = date(2000, 1, 1)
_DAY_BIT_SQL = f"(1::bigint << mod(mod(({KEY} AT TIME ZONE 'UTC')::date - DATE '{TEXT_DAYS_EPOCH}', 64) + 64, 64))"
DEFAULT_DAYS_AHEAD = 7
# How long a partition purge waits for its locks before giving up until the next run, so that ingest is
# never held up behind it for long.
LOCK_TIMEOUT = "5s"
# Longer than any transaction that adds alerts may stay open (tasks are stopped at their time limits:
# hotlist.check_history's, 30 minutes, is the longest).
ALERT_TRANSACTION_MAX = timedelta(hours=2)
_NAME = re.compile(r"_p(\d{8})$")


def is_partitioned(table: str = READS) -> bool:
    """Whether ``table`` is a partitioned table here (PostgreSQL after the partitioning migration)."""
    if connection.vendor != "postgresql":
        return False
    with connection.cursor() as cur:
        cur.execute("SELECT relkind FROM pg_class WHERE oid = to_regclass(%s)", [table])
        row = cur.fetchone()
    return bool(row) and row[0] == "p"


def bounds(day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time.min, tzinfo=UTC)
    return start, start + timedelta(days=1)


def name_of(table: str, day: date) -> str:
    return f"{table}_p{day:%Y%m%d}"


def default_of(table: str) -> str:
    return f"{table}_default"


def kept_of(table: str, day: date) -> str:
    return f"{table}_kept_{day:%Y%m}"


def _ensure_kept_month(cur, table: str, day: date) -> None:
    """The default partition's month partition for ``day``'s kept rows, with the CHECK constraint of its
    range (PostgreSQL skips a partition whose own constraints rule a new day out when it checks the default
    partition for that day's rows; the partition bound alone is not enough)."""
    name = kept_of(table, day)
    if to_regclass(name):
        return
    start = datetime.combine(day.replace(day=1), time.min, tzinfo=UTC)
    end = datetime.combine((day.replace(day=1) + timedelta(days=32)).replace(day=1), time.min, tzinfo=UTC)
    default, stray = default_of(table), f"{table}_stray"
    cur.execute(f'SELECT 1 FROM "{stray}" WHERE {KEY} >= %s AND {KEY} < %s LIMIT 1', [start, end])
    if cur.fetchone() is None:
        cur.execute(f'CREATE TABLE "{name}" PARTITION OF "{default}" FOR VALUES FROM (%s) TO (%s)', [start, end])
    else:  # stray rows of that month move into it, as rows of a new day do (create_day)
        cols = _cols(table)
        cur.execute(f'ALTER TABLE "{default}" DETACH PARTITION "{stray}"')
        cur.execute(f'CREATE TABLE "{name}" PARTITION OF "{default}" FOR VALUES FROM (%s) TO (%s)', [start, end])
        cur.execute(
            f'WITH moved AS (DELETE FROM "{stray}" WHERE {KEY} >= %s AND {KEY} < %s RETURNING {cols}) '
            f'INSERT INTO "{default}" ({cols}) SELECT {cols} FROM moved',
            [start, end],
        )
        cur.execute(f'ALTER TABLE "{default}" ATTACH PARTITION "{stray}" DEFAULT')
    cur.execute(f'ALTER TABLE "{name}" ADD CONSTRAINT "{name}_range" CHECK ({KEY} >= %s AND {KEY} < %s)', [start, end])


def _day(name: str) -> date | None:
    m = _NAME.search(name)
    return datetime.strptime(m.group(1), "%Y%m%d").date() if m else None


def day_partitions(table: str = READS) -> dict[date, str]:
    """The day partitions attached to ``table``: {day: partition name}."""
    with connection.cursor() as cur:
        cur.execute(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = to_regclass(%s)",
            [table],
        )
        names = [r[0] for r in cur.fetchall()]
    return {d: n for n in names if (d := _day(n)) is not None}


def detached_leftovers(table: str) -> dict[date, str]:
    """Day tables of ``table`` that a purge detached but did not finish dropping (it stopped midway)."""
    with connection.cursor() as cur:
        cur.execute(
            "SELECT c.relname FROM pg_class c WHERE c.relkind = 'r' AND NOT c.relispartition "
            "AND c.relname LIKE %s AND c.relnamespace = current_schema()::regnamespace",
            [table.replace("_", r"\_") + r"\_p%"],
        )
        names = [r[0] for r in cur.fetchall()]
    return {d: n for n in names if (d := _day(n)) is not None and n == name_of(table, d)}


def columns(table: str) -> list[str]:
    with connection.cursor() as cur:
        cur.execute(
            "SELECT attname FROM pg_attribute WHERE attrelid = to_regclass(%s) AND attnum > 0 "
            "AND NOT attisdropped ORDER BY attnum",
            [table],
        )
        return [r[0] for r in cur.fetchall()]


def _cols(table: str) -> str:
    return ", ".join(f'"{c}"' for c in columns(table))


def create_day(day: date) -> list[str]:
    """Create the partitions of ``day`` for frames and reads (those missing). Rows of that day already in
    the default partition move into the new one. Returns the names created."""
    start, end = bounds(day)
    created = []
    with transaction.atomic():
        for table in TABLES:
            name, default = name_of(table, day), default_of(table)
            if day in day_partitions(table):
                continue
            with connection.cursor() as cur:
                cur.execute(f'SELECT 1 FROM "{default}" WHERE {KEY} >= %s AND {KEY} < %s LIMIT 1', [start, end])
                if cur.fetchone() is None:
                    cur.execute(
                        f'CREATE TABLE "{name}" PARTITION OF "{table}" FOR VALUES FROM (%s) TO (%s)', [start, end]
                    )
                else:
                    # The default partition must hold no row of a new partition's range: take it out, create
                    # the day, move that day's rows from it through the parent, and put it back.
                    cols = _cols(table)
                    cur.execute(f'ALTER TABLE "{table}" DETACH PARTITION "{default}"')
                    cur.execute(
                        f'CREATE TABLE "{name}" PARTITION OF "{table}" FOR VALUES FROM (%s) TO (%s)', [start, end]
                    )
                    cur.execute(
                        f'WITH moved AS (DELETE FROM "{default}" WHERE {KEY} >= %s AND {KEY} < %s '
                        f'RETURNING {cols}) INSERT INTO "{table}" ({cols}) SELECT {cols} FROM moved',
                        [start, end],
                    )
                    cur.execute(f'ALTER TABLE "{table}" ATTACH PARTITION "{default}" DEFAULT')
            created.append(name)
    return created


def ensure_partitions(today: date | None = None, ahead: int = DEFAULT_DAYS_AHEAD) -> list[str]:
    """Create the partitions of today and the next ``ahead`` days that do not exist yet (beat, hourly)."""
    if not is_partitioned():
        return []
    today = today or datetime.now(UTC).date()
    created = []
    for k in range(ahead + 1):
        created += create_day(today + timedelta(days=k))
    return created


def due_days(cutoff: datetime) -> list[date]:
    """Days whose partition retention may drop: every read in them was captured on or after the day's start,
    and the day's start is older than ``cutoff``, so dropping it keeps no read past its period."""
    return sorted(d for d in day_partitions(READS) if bounds(d)[0] <= cutoff)


@dataclass
class DayPurge:
    day: date
    reads: int = 0  # dropped
    frames: int = 0  # dropped
    kept_reads: int = 0  # moved to the default partition
    kept_frames: int = 0
    files_deleted: int = 0
    locked_s: float = 0.0  # how long the day's detach held frames, reads and alerts


# Reads that hit a list: those that raised an alert and those that repeated one (alerts' sightings).
HIT_READ_IDS = "(SELECT read_id FROM alerts_alert UNION SELECT read_id FROM alerts_sighting)"


def count_day(day: date) -> DayPurge:
    """What :func:`drop_day` would drop and keep (for dry runs)."""
    reads, frames = name_of(READS, day), name_of(FRAMES, day)
    out = DayPurge(day)
    with connection.cursor() as cur:
        cur.execute(f'SELECT count(*), count(*) FILTER (WHERE id IN {HIT_READ_IDS}) FROM "{reads}"')
        total, out.kept_reads = cur.fetchone()
        out.reads = total - out.kept_reads
        cur.execute(
            f'SELECT count(*), count(*) FILTER (WHERE id IN (SELECT frame_id FROM "{reads}" '
            f'WHERE id IN {HIT_READ_IDS})) FROM "{frames}"'
        )
        total, out.kept_frames = cur.fetchone()
        out.frames = total - out.kept_frames
    return out


def detach_day(day: date) -> DayPurge:
    """Detach the day's partitions, and move out of them (into the default partition) the reads that alerts
    point to and their frames. What is left in the detached tables is what :func:`finish_day` drops.

    The day's alerted reads are found first, without locks; then one short transaction holds the frames,
    reads and alerts tables (so that no alert can be added to a read of the day meanwhile), adds the reads
    of alerts made lately (by transactions that may not have been visible to the search), detaches and
    moves. It gives up after LOCK_TIMEOUT of waiting rather than hold ingest up behind it, and the next run
    tries again."""
    reads, frames = name_of(READS, day), name_of(FRAMES, day)
    out = DayPurge(day)
    attached = day in day_partitions(READS)
    kept: set[int] = set()
    since = datetime.now(UTC) - ALERT_TRANSACTION_MAX
    if attached:
        with connection.cursor() as cur:
            cur.execute(f'SELECT id FROM "{reads}" WHERE id IN {HIT_READ_IDS}')
            kept = {r[0] for r in cur.fetchall()}
    t0 = perf_counter()
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'")
        cur.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cur.execute(f'LOCK TABLE "{FRAMES}", "{READS}" IN ACCESS EXCLUSIVE MODE')
        cur.execute("LOCK TABLE alerts_alert, alerts_sighting IN SHARE MODE")
        if attached:
            # Every transaction that added alerts has ended (the lock waited for them). Those that were
            # still open during the search above began after ``since``: take their alerts' reads too.
            cur.execute(
                "SELECT read_id FROM alerts_alert WHERE created_at >= %s UNION "
                "SELECT s.read_id FROM alerts_sighting s JOIN alerts_alert a ON a.id = s.alert_id "
                "WHERE a.created_at >= %s OR a.last_seen_at >= %s",
                [since, since, since],
            )
            kept |= {r[0] for r in cur.fetchall()}
        for table in TABLES:
            if day in day_partitions(table):
                cur.execute(f'ALTER TABLE "{table}" DETACH PARTITION "{name_of(table, day)}"')
        if attached and kept:
            for table in TABLES:
                _ensure_kept_month(cur, table, day)
            cols = _cols(READS)
            # With the day detached its range has no partition, so the parent routes these rows to the default.
            cur.execute(
                f'WITH kept AS (DELETE FROM "{reads}" WHERE id = ANY(%s) '
                f'RETURNING {cols}) INSERT INTO "{READS}" ({cols}) SELECT {cols} FROM kept',
                [sorted(kept)],
            )
            out.kept_reads = cur.rowcount
        if to_regclass(frames) and out.kept_reads:
            cols = _cols(FRAMES)
            # Frames that kept reads point to (kept reads are now in the default partition).
            start, end = bounds(day)
            cur.execute(
                f'WITH kept AS (DELETE FROM "{frames}" WHERE id IN (SELECT frame_id FROM "{READS}" '
                f"WHERE {KEY} >= %s AND {KEY} < %s) RETURNING {cols}) "
                f'INSERT INTO "{FRAMES}" ({cols}) SELECT {cols} FROM kept',
                [start, end],
            )
            out.kept_frames = cur.rowcount
    out.locked_s = perf_counter() - t0
    return out


def to_regclass(name: str) -> bool:
    with connection.cursor() as cur:
        cur.execute("SELECT to_regclass(%s) IS NOT NULL", [name])
        return cur.fetchone()[0]


def finish_day(day: date, delete_file) -> DayPurge:
    """Delete the files of a detached day's rows (``delete_file(name) -> bool``), then drop its tables."""
    out = DayPurge(day)
    for table, file_columns in ((READS, ("crop",)), (FRAMES, ("image", "thumbnail"))):
        name = name_of(table, day)
        if not to_regclass(name):
            continue
        deleted = 0
        with transaction.atomic(), connection.chunked_cursor() as cur:  # server-side: millions of names
            cur.execute(f'SELECT {", ".join(file_columns)} FROM "{name}"')
            rows = 0
            while chunk := cur.fetchmany(5000):
                rows += len(chunk)
                deleted += sum(bool(delete_file(f)) for row in chunk for f in row if f)
        with connection.cursor() as cur:
            # Deferred foreign-key checks of rows written earlier in the same transaction (tests) must run
            # before a table they concern can go.
            cur.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cur.execute(f'DROP TABLE "{name}"')
        if table == READS:
            out.reads = rows
            prune_texts(day)
        else:
            out.frames = rows
        out.files_deleted += deleted
    return out


def add_all_texts() -> None:
    """Add every text the reads hold to ``READ_TEXTS`` (after a bulk load that bypassed its trigger). Its
    secondary indexes are built again afterwards: far faster than adding millions of texts to them."""
    with connection.cursor() as cur:
        cur.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s AND indexname <> %s",
            [READ_TEXTS, f"{READ_TEXTS}_pkey"],
        )
        saved = cur.fetchall()
        for name, _ in saved:
            cur.execute(f'DROP INDEX "{name}"')
        _add_texts(
            cur,
            "",
            [],
            f"DO UPDATE SET last_day = GREATEST({READ_TEXTS}.last_day, EXCLUDED.last_day), "
            f"days = {READ_TEXTS}.days | EXCLUDED.days",
        )
        for _, definition in saved:
            cur.execute(definition)


def day_bit(day: date) -> int:
    """The bit of ``day`` in ``READ_TEXTS.days`` (the same as the trigger's)."""
    return 1 << ((day - TEXT_DAYS_EPOCH).days % 64)


def prune_texts(day: date) -> int:
    """After ``day``'s reads went: remove the distinct texts (``READ_TEXTS``, for wildcard searches) last
    read on that day or before, then add back those of the reads still held from before its end (hits
    kept longer, stray rows). Returns the texts removed for good."""
    if not to_regclass(READ_TEXTS):
        return 0
    _, end = bounds(day)
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute(f"DELETE FROM {READ_TEXTS} WHERE last_day <= %s", [day])
        removed = cur.rowcount
        return removed - _add_texts(cur, f"WHERE {KEY} < %s", [end], "DO NOTHING")


def _add_texts(cur, where: str, params: list, on_conflict: str) -> int:
    """Add the texts of the reads ``where`` selects to ``READ_TEXTS`` with their last day and days; returns
    the rows written."""
    cur.execute(
        f"""INSERT INTO {READ_TEXTS} (text, last_day, days)
        SELECT text, max(({KEY} AT TIME ZONE 'UTC')::date), bit_or({_DAY_BIT_SQL}) FROM {READS} {where} GROUP BY text
        ON CONFLICT (text) {on_conflict}""",
        params,
    )
    return cur.rowcount


def drop_day(day: date, delete_file) -> DayPurge:
    """Remove a day: keep its reads with alerts (and their frames) in the default partition, delete the
    files of the rest, drop its partitions."""
    kept = detach_day(day)
    done = finish_day(day, delete_file)
    done.kept_reads, done.kept_frames, done.locked_s = kept.kept_reads, kept.kept_frames, kept.locked_s
    return done
