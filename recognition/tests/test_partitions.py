"""Frames and reads partitioned by capture day on PostgreSQL: creation ahead, retention by day, search, migration."""

from __future__ import annotations

import threading
import time as time_mod
from datetime import UTC, datetime, timedelta

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection
from django.utils import timezone

from alerts.models import Alert
from audit.models import AuditLog, RetentionRun
from cameras.ingest import ImageInfo
from cameras.models import Frame
from cameras.services import do_accept_frame
from conftest import require
from oversight.retention import purge
from oversight.search import search_reads
from recognition import partitions
from recognition.models import Read
from recognition.tests.factories import make_stored_read as make_read


def need_postgresql():
    require(connection.vendor == "postgresql", "partitioning is PostgreSQL only (set DATABASE_URL)")


def where(table: str, pk: int) -> str:
    with connection.cursor() as cur:
        cur.execute(f'SELECT tableoid::regclass::text FROM "{table}" WHERE id = %s', [pk])
        row = cur.fetchone()
    return row[0] if row else ""


@pytest.fixture
def drops_new_days():
    """For tests outside a rolled-back transaction: the day partitions they add are dropped after them, so
    that later purges in the session do not find them due."""
    before = (
        {t: set(partitions.day_partitions(t)) for t in partitions.TABLES} if connection.vendor == "postgresql" else {}
    )
    yield
    if connection.vendor == "postgresql" and partitions.is_partitioned():
        with connection.cursor() as cur:
            for table, days in before.items():
                for day, name in partitions.day_partitions(table).items():
                    if day not in days:
                        cur.execute(f'DROP TABLE "{name}"')


def test_the_beat_schedule_creates_partitions_hourly(settings):
    assert settings.CELERY_BEAT_SCHEDULE["create-partitions"] == {
        "task": "recognition.create_partitions",
        "schedule": 3600.0,
    }


@pytest.mark.django_db
def test_frames_and_reads_are_partitioned_by_day_with_a_default_partition():
    need_postgresql()
    today = datetime.now(UTC).date()
    for table in partitions.TABLES:
        assert partitions.is_partitioned(table)
        days = partitions.day_partitions(table)
        assert {today + timedelta(days=k) for k in range(8)} <= set(days)
        assert partitions.to_regclass(partitions.default_of(table))
    with connection.cursor() as cur:  # the database key carries the partition column; Django's pk is id
        cur.execute("SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = 'recognition_read_pkey'")
        assert cur.fetchone()[0] == "PRIMARY KEY (id, captured_at)"


@pytest.mark.django_db
def test_the_beat_task_creates_the_missing_days_ahead(settings):
    need_postgresql()
    from recognition.tasks import create_partitions

    today = datetime.now(UTC).date()
    gone = today + timedelta(days=3)
    with connection.cursor() as cur:
        for table in partitions.TABLES:
            cur.execute(f'DROP TABLE "{partitions.name_of(table, gone)}"')
    settings.PARTITION_DAYS_AHEAD = 9
    created = create_partitions.delay().get()
    assert set(created) == {
        partitions.name_of(t, d)
        for t in partitions.TABLES
        for d in (gone, today + timedelta(days=8), today + timedelta(days=9))
    }
    for table in partitions.TABLES:
        assert {today + timedelta(days=k) for k in range(10)} <= set(partitions.day_partitions(table))
    assert create_partitions.delay().get() == []  # safe to run twice


@pytest.mark.django_db
def test_a_frame_captured_outside_the_created_days_is_still_stored(camera):
    far = timezone.now() + timedelta(days=400)
    old = timezone.now() - timedelta(days=4000)
    info = ImageInfo(content_type="image/jpeg", extension="jpg", width=10, height=10)
    future, _ = do_accept_frame(camera, b"jpeg", info, far)
    past, _ = do_accept_frame(camera, b"jpeg", info, old)
    assert Frame.objects.get(pk=future.pk).captured_at == far
    assert Frame.objects.get(pk=past.pk).captured_at == old
    read = make_read(camera, "FAR001", far)
    assert Read.objects.get(pk=read.pk).text == "FAR001"
    if connection.vendor == "postgresql":
        assert where("cameras_frame", future.pk) == "cameras_frame_stray"
        assert where("recognition_read", read.pk) == "recognition_read_stray"


@pytest.mark.django_db
def test_creating_a_day_moves_its_rows_out_of_the_default_partition(camera):
    need_postgresql()
    day = datetime.now(UTC).date() + timedelta(days=30)
    read = make_read(camera, "EARLY1", partitions.bounds(day)[0] + timedelta(hours=3))
    assert where("recognition_read", read.pk) == "recognition_read_stray"
    assert partitions.create_day(day) == [partitions.name_of(t, day) for t in partitions.TABLES]
    assert where("recognition_read", read.pk) == partitions.name_of("recognition_read", day)
    assert where("cameras_frame", read.frame_id) == partitions.name_of("cameras_frame", day)
    assert Read.objects.get(pk=read.pk).frame_id == read.frame_id


@pytest.fixture
def old_day(db):
    """A day 40 days back with its own partitions (past the default 30 days for reads without hits)."""
    day = datetime.now(UTC).date() - timedelta(days=40)
    if partitions.is_partitioned():
        partitions.create_day(day)
    return day


@pytest.mark.django_db
def test_purge_drops_a_due_day_and_keeps_its_hits_with_their_frames(camera, old_day):
    need_postgresql()
    start = partitions.bounds(old_day)[0]
    plain = make_read(camera, "OLD111", start + timedelta(hours=1))
    hit = make_read(camera, "HIT333", start + timedelta(hours=2), hit=True)
    recent = make_read(camera, "NEW222", timezone.now() - timedelta(days=2))
    alert = Alert.objects.get(read=hit)
    assert where("recognition_read", plain.pk) == partitions.name_of("recognition_read", old_day)
    gone_files = [plain.crop.name, plain.frame.image.name]

    counts = purge()

    assert old_day not in partitions.day_partitions("recognition_read")
    assert old_day not in partitions.day_partitions("cameras_frame")
    assert not partitions.to_regclass(partitions.name_of("recognition_read", old_day))
    assert counts["partitions_dropped"] == [old_day.isoformat()]
    assert counts["non_hit_reads"] == 1 and counts["kept_reads"] == 1 and counts["kept_frames"] == 1
    assert set(Read.objects.values_list("text", flat=True)) == {"HIT333", "NEW222"}
    assert not Frame.objects.filter(pk=plain.frame_id).exists()
    assert not any(default_storage.exists(name) for name in gone_files)
    kept = Read.objects.get(pk=hit.pk)
    # Kept rows go to the default partition's month, which carries the CHECK of its range.
    assert where("recognition_read", kept.pk) == partitions.kept_of("recognition_read", old_day)
    assert where("cameras_frame", kept.frame_id) == partitions.kept_of("cameras_frame", old_day)
    assert kept.frame.image.name == hit.frame.image.name and default_storage.exists(kept.crop.name)
    assert Alert.objects.get(pk=alert.pk).read_id == hit.pk
    assert default_storage.exists(recent.crop.name)
    # Every purge is still recorded, with what it dropped.
    run = RetentionRun.objects.get()
    assert run.counts["partitions_dropped"] == [old_day.isoformat()] and run.finished_at
    assert AuditLog.objects.get(action="retention.run").query["kept_reads"] == 1

    # The kept hit leaves when the period for hits is over (batched, from the default partition).
    later = purge(now=timezone.now() + timedelta(days=800))
    assert later["hit_reads"] == 1 and not Read.objects.filter(pk=hit.pk).exists()
    assert not Alert.objects.filter(pk=alert.pk).exists()


@pytest.mark.django_db
def test_a_day_is_kept_until_its_first_hour_is_past_the_period(camera):
    need_postgresql()
    today = datetime.now(UTC).date()
    # 29 whole days back: its start is younger than 30 days, so nothing of it goes.
    young = today - timedelta(days=29)
    partitions.create_day(young)
    read = make_read(camera, "YOUNG1", partitions.bounds(young)[0] + timedelta(minutes=5))
    counts = purge()
    assert young in partitions.day_partitions("recognition_read")
    assert Read.objects.filter(pk=read.pk).exists() and counts["non_hit_reads"] == 0


@pytest.mark.django_db
def test_dry_run_counts_a_due_day_and_drops_nothing(camera, old_day):
    need_postgresql()
    start = partitions.bounds(old_day)[0]
    make_read(camera, "OLD111", start + timedelta(hours=1))
    make_read(camera, "HIT333", start + timedelta(hours=2), hit=True)
    make_read(camera, "STRAY1", timezone.now() - timedelta(days=4000))  # default partition: batched
    counts = purge(dry_run=True)
    assert counts["non_hit_reads"] == 2 and counts["kept_reads"] == 1
    assert old_day in partitions.day_partitions("recognition_read")
    assert Read.objects.count() == 3


@pytest.mark.django_db
def test_a_purge_that_stopped_after_detaching_a_day_is_finished_by_the_next(camera, old_day):
    need_postgresql()
    start = partitions.bounds(old_day)[0]
    plain = make_read(camera, "OLD111", start + timedelta(hours=1))
    hit = make_read(camera, "HIT333", start + timedelta(hours=2), hit=True)
    partitions.detach_day(old_day)  # ... and the process died here
    assert Read.objects.filter(pk=hit.pk).exists() and not Read.objects.filter(pk=plain.pk).exists()
    counts = purge()
    assert counts["partitions_dropped"] == [old_day.isoformat()] and counts["non_hit_reads"] == 1
    assert not partitions.to_regclass(partitions.name_of("recognition_read", old_day))
    assert not partitions.to_regclass(partitions.name_of("cameras_frame", old_day))
    assert not default_storage.exists(plain.crop.name)
    assert Read.objects.filter(pk=hit.pk).exists()


@pytest.mark.django_db
def test_search_finds_reads_across_partitions(camera, old_day):
    now = timezone.now()
    whens = [now - timedelta(days=1), now, now + timedelta(days=2), now - timedelta(days=4000)]
    if connection.vendor == "postgresql":
        whens.append(partitions.bounds(old_day)[0] + timedelta(hours=5))
    reads = [make_read(camera, "SPREAD1", when) for when in whens]
    make_read(camera, "OTHER99", now)
    found = list(search_reads(plate="SPREAD1"))
    assert [r.pk for r in found] == [r.pk for r in sorted(reads, key=lambda r: r.captured_at, reverse=True)]
    assert [
        r.pk for r in search_reads(plate="SPREAD*", start=now - timedelta(days=2), end=now + timedelta(days=1))
    ] == [reads[1].pk, reads[0].pk]
    if connection.vendor == "postgresql":
        assert len({where("recognition_read", r.pk) for r in reads}) >= 4  # days, and the default partition


@pytest.mark.django_db(transaction=True)
def test_concurrent_uploads_with_one_idempotency_key_store_one_frame(camera, monkeypatch):
    need_postgresql()
    from django.db import connections

    real_save = Frame.save

    def slow_save(self, *args, **kwargs):  # widen the gap between "no frame with this key" and the insert
        time_mod.sleep(0.3)
        return real_save(self, *args, **kwargs)

    monkeypatch.setattr(Frame, "save", slow_save)
    info = ImageInfo(content_type="image/jpeg", extension="jpg", width=10, height=10)
    results = []

    def upload():
        try:
            results.append(do_accept_frame(camera, b"jpeg", info, timezone.now(), idempotency_key="k-1")[0].pk)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=upload) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 2 and results[0] == results[1]
    assert Frame.objects.filter(idempotency_key="k-1").count() == 1


@pytest.mark.django_db(transaction=True)
def test_migration_moves_existing_rows_into_partitions(drops_new_days):
    need_postgresql()
    from django.db.migrations.executor import MigrationExecutor

    before = [
        ("recognition", "0004_read_country"),
        ("alerts", "0006_alert_vehicle_and_sightings"),
        ("cameras", "0007_region_country_codes"),
    ]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    assert not partitions.is_partitioned("recognition_read")
    apps = executor.loader.project_state(before).apps
    Camera, Frame_, Read_, Alert_, Sighting_ = (
        apps.get_model(m)
        for m in ("cameras.Camera", "cameras.Frame", "recognition.Read", "alerts.Alert", "alerts.Sighting")
    )
    cam = Camera.objects.create(name="old", token_hash="x" * 64, token_hint="x")
    now = timezone.now()
    ids = {}
    for days in (0, 3, 60, 1000):
        when = now - timedelta(days=days)
        frame = Frame_.objects.create(
            camera=cam,
            content_type="image/jpeg",
            width=1,
            height=1,
            captured_at=when,
            image="f.jpg",
            idempotency_key=f"k{days}",
        )
        read = Read_.objects.create(
            frame=frame,
            camera=cam,
            captured_at=when,
            text=f"OLD{days}",
            confidence=1,
            box_x=0,
            box_y=0,
            box_w=1,
            box_h=1,
            detector_confidence=1,
            crop="c.jpg",
            engine="e",
        )
        alert = Alert_.objects.create(read=read, hotlist_name="L", entry_plate="X", camera=cam)
        Sighting_.objects.create(alert=alert, read=read, captured_at=when)  # its key to the read must go too
        ids[days] = read.pk

    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())

    assert partitions.is_partitioned("recognition_read") and partitions.is_partitioned("cameras_frame")
    for days, pk in ids.items():
        day = (now - timedelta(days=days)).astimezone(UTC).date()
        expected = "recognition_read_stray" if days == 1000 else partitions.name_of("recognition_read", day)
        assert where("recognition_read", pk) == expected
        read = Read.objects.select_related("frame").get(pk=pk)
        assert read.text == f"OLD{days}" and read.frame.idempotency_key == f"k{days}"
        assert Alert.objects.get(read_id=pk)
    # New rows continue the ids, and keep the partitioned key.
    from cameras.models import Camera as LiveCamera

    newer = make_read(LiveCamera.objects.get(pk=cam.pk), "NEW000", now)
    assert newer.pk > max(ids.values()) and newer.frame_id > Read.objects.get(pk=ids[0]).frame_id
    with connection.cursor() as cur:
        cur.execute(
            "SELECT indexname FROM pg_indexes WHERE tablename = 'cameras_frame' "
            "AND indexname = 'one_frame_per_camera_idempotency_key'"
        )
        assert cur.fetchone()


@pytest.mark.bench
@pytest.mark.django_db
def test_bench_purge_times_both_ways_on_a_small_day(capsys):
    need_postgresql()
    import json

    from django.core.management import call_command

    from benchmarks import purge

    call_command(purge.Command(), "--reads", "2000", "--hit-rate", "0.01", "--json")  # keeps the test's connection
    result = json.loads(capsys.readouterr().out)
    assert result["partition_counts"]["non_hit_reads"] == 1980 and result["partition_counts"]["kept_reads"] == 20
    assert result["partition_counts"]["empty_frames"] == 1980 and result["partition_counts"]["kept_frames"] == 20
    assert result["batched_counts"] == {"non_hit_reads": 1980, "empty_frames": 1980}
    assert result["partition_s"] > 0 and result["batched_s"] > 0
    assert Read.objects.count() == 40  # the hits of both fills, kept


@pytest.mark.bench
@pytest.mark.django_db(transaction=True)  # it runs VACUUM
def test_bench_search_fills_one_partition_per_day_and_searches_them(capsys, monkeypatch, drops_new_days):
    import json

    from benchmarks import run_command, search

    monkeypatch.setattr(search, "REBUILD_ABOVE", 0)  # the big load's way
    monkeypatch.setattr(search, "FRAMES_PER_CAMERA", 50)

    run_command(search.Command(), "python -m benchmarks.search", ["--reads", "3000", "--queries", "2", "--json"])
    result = json.loads(capsys.readouterr().out)
    assert result["reads"] == 3000 and result["queries"] == 10
    assert result["kinds"]["exact"]["median_results"] >= 1
    if connection.vendor == "postgresql":
        assert result["day_partitions"] >= 30
        with connection.cursor() as cur:
            cur.execute("SELECT count(*) FROM recognition_read_default")
            assert cur.fetchone()[0] == 0
            # The indexes dropped for the load are built again on every partition.
            cur.execute(
                "SELECT count(*), count(*) FILTER (WHERE i.indisvalid) FROM pg_index i "
                "WHERE i.indrelid = 'recognition_read'::regclass"
            )
            total, valid = cur.fetchone()
            assert total >= 8 and valid == total


@pytest.mark.django_db
def test_an_alert_made_while_a_day_is_being_purged_keeps_its_read(camera, old_day, monkeypatch):
    need_postgresql()
    start = partitions.bounds(old_day)[0]
    late = make_read(camera, "LATE01", start + timedelta(hours=1))
    plain = make_read(camera, "OLD111", start + timedelta(hours=2))
    real = partitions.perf_counter
    calls = []

    def alert_in_between():  # runs after the unlocked search for alerted reads, before the locked step
        if not calls:
            Alert.objects.create(read=late, hotlist_name="L", entry_plate="LATE01", camera=camera)
        calls.append(1)
        return real()

    monkeypatch.setattr(partitions, "perf_counter", alert_in_between)
    counts = purge()
    assert counts["kept_reads"] == 1 and counts["non_hit_reads"] == 1
    assert Read.objects.filter(pk=late.pk).exists() and not Read.objects.filter(pk=plain.pk).exists()
    assert Alert.objects.get(read=late)


@pytest.mark.django_db
def test_creating_a_day_does_not_scan_the_kept_months(camera, old_day):
    need_postgresql()
    start = partitions.bounds(old_day)[0]
    make_read(camera, "HIT333", start + timedelta(hours=2), hit=True)
    purge()
    kept = partitions.kept_of("recognition_read", old_day)
    assert where("recognition_read", Read.objects.get(text="HIT333").pk) == kept
    with connection.cursor() as cur:
        cur.execute(
            "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = to_regclass(%s) "
            "AND contype = 'c' AND conname = %s",
            [kept, f"{kept}_range"],
        )
        assert "captured_at >=" in cur.fetchone()[0]
        cur.execute("SET LOCAL client_min_messages = debug1")  # PostgreSQL says which partitions it skips
    said = []

    def handler(diag):
        said.append(diag.message_primary)

    connection.connection.add_notice_handler(handler)
    day = datetime.now(UTC).date() + timedelta(days=20)
    try:
        assert partitions.create_day(day) == [partitions.name_of(t, day) for t in partitions.TABLES]
    finally:
        connection.connection.remove_notice_handler(handler)
    assert f'updated partition constraint for default partition "{kept}" is implied by existing constraints' in said


@pytest.mark.django_db(transaction=True)
def test_a_day_whose_tables_stay_busy_waits_for_the_next_purge_which_is_still_recorded(
    camera, monkeypatch, drops_new_days
):
    need_postgresql()
    import psycopg

    day = datetime.now(UTC).date() - timedelta(days=40)
    partitions.create_day(day)
    plain = make_read(camera, "OLD111", partitions.bounds(day)[0] + timedelta(hours=1))
    monkeypatch.setattr(partitions, "LOCK_TIMEOUT", "200ms")
    settings = connection.settings_dict
    other = psycopg.connect(
        host=settings["HOST"] or "localhost",
        port=settings["PORT"] or 5432,
        user=settings["USER"],
        dbname=settings["NAME"],
        password=settings["PASSWORD"] or None,
    )
    try:
        other.execute("LOCK TABLE recognition_read IN ROW EXCLUSIVE MODE")  # a frame being stored, say
        counts = purge()
    finally:
        other.rollback()
        other.close()
    assert counts["partitions_postponed"] == [day.isoformat()] and "partitions_dropped" not in counts
    assert counts["non_hit_reads"] == 0  # not deleted row by row meanwhile either
    assert day in partitions.day_partitions("recognition_read") and Read.objects.filter(pk=plain.pk).exists()
    assert RetentionRun.objects.get().finished_at
    assert AuditLog.objects.get(action="retention.run").query["partitions_postponed"] == [day.isoformat()]
    assert purge()["partitions_dropped"] == [day.isoformat()]
    assert not Read.objects.filter(pk=plain.pk).exists()


def read_texts() -> dict[str, str]:
    with connection.cursor() as cur:
        cur.execute(f"SELECT text, last_day::text FROM {partitions.READ_TEXTS}")
        return dict(cur.fetchall())


def text_indexes() -> int:
    with connection.cursor() as cur:
        cur.execute("SELECT count(*) FROM pg_indexes WHERE tablename = %s", [partitions.READ_TEXTS])
        return cur.fetchone()[0]


def text_days(text: str) -> int:
    with connection.cursor() as cur:
        cur.execute(f"SELECT days FROM {partitions.READ_TEXTS} WHERE text = %s", [text])
        return cur.fetchone()[0]


def bits(*days) -> int:
    """The day mask of ``days`` as PostgreSQL returns it (a signed 64-bit integer)."""
    mask = 0
    for day in days:
        mask |= partitions.day_bit(day)
    return mask - (1 << 64) if mask >= 1 << 63 else mask


@pytest.mark.django_db
def test_every_stored_text_is_listed_with_the_last_day_it_was_read(camera, old_day):
    need_postgresql()
    start = partitions.bounds(old_day)[0]
    make_read(camera, "TWICE12", start + timedelta(hours=1))
    make_read(camera, "ONCE345", start + timedelta(hours=2))
    later = timezone.now() - timedelta(days=1)
    make_read(camera, "TWICE12", later)
    texts = read_texts()
    assert texts["ONCE345"] == old_day.isoformat()
    assert texts["TWICE12"] == later.astimezone(UTC).date().isoformat()  # a later read moves it on
    make_read(camera, "TWICE12", start + timedelta(hours=3))  # an older read (a late upload) does not
    assert read_texts()["TWICE12"] == later.astimezone(UTC).date().isoformat()


@pytest.mark.django_db
def test_every_text_has_the_mask_of_the_days_it_was_read_on(camera, old_day):
    need_postgresql()
    from datetime import date

    yesterday = timezone.now() - timedelta(days=1)
    make_read(camera, "MASK123", yesterday)
    make_read(camera, "MASK123", partitions.bounds(old_day)[0] + timedelta(hours=1))  # a late upload adds its day
    both = bits(yesterday.astimezone(UTC).date(), old_day)
    assert text_days("MASK123") == both and bin(both).count("1") == 2
    assert partitions.day_bit(date(2000, 1, 1)) == 1 == partitions.day_bit(date(2000, 3, 5))  # 64 days on
    assert bits(date(2000, 1, 1) + timedelta(days=63)) == -(1 << 63)  # the sign bit, as bigint holds it
    with connection.cursor() as cur:
        cur.execute(f"DELETE FROM {partitions.READ_TEXTS}")  # as if loaded with the trigger off
    partitions.add_all_texts()
    assert text_days("MASK123") == both


@pytest.mark.django_db(transaction=True)
def test_the_days_migration_gives_existing_texts_their_masks(camera):
    need_postgresql()
    from django.db.migrations.executor import MigrationExecutor

    today, yesterday = timezone.now(), timezone.now() - timedelta(days=1)
    make_read(camera, "MIGR123", today)
    make_read(camera, "MIGR123", yesterday)
    executor = MigrationExecutor(connection)
    executor.migrate([("recognition", "0007_read_texts")])
    assert "days" not in partitions.columns(partitions.READ_TEXTS)
    make_read(camera, "MIGR456", yesterday)  # added by the old trigger
    indexes = text_indexes()
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes("recognition"))
    assert text_days("MIGR123") == bits(today.astimezone(UTC).date(), yesterday.astimezone(UTC).date())
    assert text_days("MIGR456") == bits(yesterday.astimezone(UTC).date())
    assert read_texts()["MIGR123"] == today.astimezone(UTC).date().isoformat()
    assert text_indexes() == indexes == 3
    make_read(camera, "MIGR456", today)  # the new trigger adds the day
    assert text_days("MIGR456") == bits(today.astimezone(UTC).date(), yesterday.astimezone(UTC).date())


@pytest.mark.django_db
def test_an_infix_search_asks_each_day_only_for_the_texts_read_on_it(camera, old_day, auditor):
    """Page by page, counted and sampled for the map, the split search gives what one ``text IN`` gives:
    reads in day partitions, a kept hit and a stray capture in the default partition, a text whose mask
    is not known (0)."""
    need_postgresql()
    from oversight import search

    now = timezone.now()
    days = [now - timedelta(days=k) for k in range(4)]
    for k, at in enumerate(days):
        partitions.create_day(at.astimezone(UTC).date())
        for i in range(k + 1):
            make_read(camera, f"SPL{k}{i}99", at - timedelta(minutes=i))
    make_read(camera, "SPLKEPT", partitions.bounds(old_day)[0] + timedelta(hours=2), hit=True)
    make_read(camera, "SPLGONE", partitions.bounds(old_day)[0] + timedelta(hours=3))
    purge()  # the old day goes; its hit stays, in the default partition
    make_read(camera, "SPLSTRAY", now - timedelta(days=400))  # no day partition: the default partition
    unknown = make_read(camera, "SPLUNKN", days[2])
    make_read(camera, "OTHER12", days[1])
    with connection.cursor() as cur:
        cur.execute(f"UPDATE {partitions.READ_TEXTS} SET days = 0 WHERE text = 'SPLUNKN'")
    qs = search_reads(plate="*SPL*")
    plain = list(qs.order_by("-captured_at", "-pk"))  # a derived queryset: one text IN (...)
    assert not hasattr(qs.order_by("-captured_at", "-pk"), "day_split")
    assert len(plain) == 10 + 3 and {"SPLGONE", "OTHER12"}.isdisjoint(r.text for r in plain)
    day_segments = 0
    for lo, hi, texts in qs.day_split.segments:
        if lo is not None and hi is not None:  # a day partition: the texts read that day, and the unknown
            read_then = {r.text for r in plain if lo <= r.captured_at < hi}
            assert set(texts) == read_then | {"SPLUNKN"}, lo
            day_segments += 1
    assert day_segments == len(partitions.day_partitions())
    pages = [search.page_of(qs, p, size=4) for p in (1, 2, 3, 4, 5)]
    assert [[r.pk for r in page] for page in pages] == [[r.pk for r in plain[i : i + 4]] for i in range(0, 20, 4)]
    assert unknown.pk in {r.pk for page in pages for r in page}
    assert search.capped_count(qs) == (13, False) and search.capped_count(qs, cap=6) == (6, True)
    agg = search.aggregates(qs, auditor)
    assert agg["sampled"] == 13 and agg["map"]["points"][0]["hits"] == 1  # the kept hit
    assert search.aggregates(qs, auditor, cap=5)["sampled"] == 5
    # a time range asks only the segments that overlap it
    since = days[1] - timedelta(hours=1)
    ranged = search_reads(plate="*SPL*", start=since, end=now + timedelta(hours=1))
    assert search.capped_count(ranged) == (3, False)
    assert all(hi is None or hi > since for _, hi, _ in ranged.day_split.segments)


@pytest.mark.django_db
def test_a_purged_day_takes_its_texts_except_those_read_again_or_kept(camera, old_day):
    need_postgresql()
    start = partitions.bounds(old_day)[0]
    make_read(camera, "GONE111", start + timedelta(hours=1))
    make_read(camera, "KEPT222", start + timedelta(hours=2), hit=True)
    make_read(camera, "AGAIN33", start + timedelta(hours=3))
    make_read(camera, "AGAIN33", timezone.now() - timedelta(days=1))
    purge()
    texts = read_texts()
    assert "GONE111" not in texts  # the plate of a purged read is not kept here either
    assert {"KEPT222", "AGAIN33"} <= set(texts)
    # Searches still find what is held, through the table of texts.
    assert [r.text for r in search_reads(plate="*EPT2*")] == ["KEPT222"]
    assert [r.text for r in search_reads(plate="*ONE1*")] == []


@pytest.mark.django_db
def test_an_infix_search_finds_its_texts_in_the_table_of_texts(camera, monkeypatch):
    need_postgresql()
    from oversight import search

    now = timezone.now()
    a = make_read(camera, "QXZ4471", now - timedelta(days=1))
    b = make_read(camera, "7QXZ440", now)
    make_read(camera, "QXY4471", now)
    asked = []
    real = search.matching_texts
    monkeypatch.setattr(search, "matching_texts", lambda regex, limit: asked.append(regex) or real(regex, limit))
    assert [r.pk for r in search_reads(plate="*QXZ44*")] == [b.pk, a.pk]
    assert [r.pk for r in search_reads(plate="?QXZ44?")] == [b.pk]
    assert asked == ["^.*QXZ44.*$", "^.QXZ44.$"]


@pytest.mark.django_db
def test_pages_are_read_by_key_in_order_across_days(camera):
    need_postgresql()
    from oversight.search import capped_count, page_of

    now = timezone.now()
    reads = [make_read(camera, f"PAGE{i:03d}", now - timedelta(days=i % 3, minutes=i)) for i in range(7)]
    newest = sorted(reads, key=lambda r: (r.captured_at, r.pk), reverse=True)
    qs = search_reads(plate="PAGE*")
    assert [r.pk for r in page_of(qs, 1, size=3)] == [r.pk for r in newest[:3]]
    assert [r.pk for r in page_of(qs, 3, size=3)] == [newest[6].pk]
    assert page_of(qs, 4, size=3) == []
    assert capped_count(qs) == (7, False) and capped_count(qs, cap=5) == (5, True)


@pytest.mark.django_db
def test_adding_all_texts_after_a_bulk_load_keeps_the_texts_indexes(camera):
    need_postgresql()
    make_read(camera, "BULK123", timezone.now() - timedelta(days=1))
    make_read(camera, "BULK123", timezone.now())
    with connection.cursor() as cur:
        cur.execute(f"DELETE FROM {partitions.READ_TEXTS}")  # as if loaded with the trigger off
    indexes = text_indexes()
    partitions.add_all_texts()
    assert read_texts() == {"BULK123": timezone.now().astimezone(UTC).date().isoformat()}
    assert text_indexes() == indexes == 3
    assert [r.text for r in search_reads(plate="*ULK12*")] == ["BULK123", "BULK123"]
