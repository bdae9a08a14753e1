"""On PostgreSQL, turn cameras_frame and recognition_read into tables partitioned by capture day.

The model state changes only in that Read.frame has no database constraint (Alert.read and Sighting.read lost theirs in
alerts 0007): a partitioned table's keys must include the partition column, so nothing can reference
``id`` alone. Each table is rebuilt: the old one is renamed, a partitioned one with the same columns,
checks, indexes (names kept, so later migrations find them) and id sequence is created, with
a default partition and one partition per day for the days of the last DAYS_BACK days that have rows and
for today and the next week, and the rows are copied over (older ones to the default partition). On a large database this copies every row
once: plan a maintenance window. SQLite keeps plain tables.
"""

import re
from datetime import UTC, datetime, time, timedelta

import django.db.models.deletion
from django.db import migrations, models

TABLES = ("cameras_frame", "recognition_read")
KEY = "captured_at"
DAYS_BACK = 92
DAYS_AHEAD = 7
UNIQUE_NOTE = "unique before partitioning"


def _fetch(cur, sql, params=None):
    cur.execute(sql, params or [])
    return cur.fetchall()


def partition(table, cur, today):
    old = f"{table}_unpartitioned"
    seq = _fetch(cur, "SELECT pg_get_serial_sequence(%s, 'id')", [table])[0][0]
    last = _fetch(cur, f"SELECT pg_sequence_last_value('{seq}')")[0][0] if seq else None
    top = _fetch(cur, f'SELECT max(id) FROM "{table}"')[0][0]
    start_id = max(last or 0, top or 0) + 1
    indexes = _fetch(cur, "SELECT i.indexname, i.indexdef, c.conname FROM pg_indexes i "
                          "LEFT JOIN pg_constraint c ON c.conindid = to_regclass(quote_ident(i.indexname)) "
                          "AND c.conrelid = to_regclass(%s) AND c.contype IN ('p', 'u') "
                          "WHERE i.tablename = %s AND i.schemaname = current_schema()", [table, table])
    foreign_keys = _fetch(cur, "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
                               "WHERE conrelid = to_regclass(%s) AND contype = 'f'", [table])
    cols = ", ".join(f'"{c}"' for (c,) in _fetch(
        cur, "SELECT attname FROM pg_attribute WHERE attrelid = to_regclass(%s) AND attnum > 0 "
             "AND NOT attisdropped ORDER BY attnum", [table]))

    cur.execute(f'ALTER TABLE "{table}" RENAME TO "{old}"')
    cur.execute(f'ALTER TABLE "{old}" ALTER COLUMN id DROP IDENTITY IF EXISTS')
    cur.execute(f'ALTER TABLE "{old}" ALTER COLUMN id DROP DEFAULT')
    if seq:
        cur.execute(f"DROP SEQUENCE IF EXISTS {seq}")
    for name, _, constraint in indexes:  # free the names for the new table
        if constraint:
            cur.execute(f'ALTER TABLE "{old}" DROP CONSTRAINT "{constraint}"')
        else:
            cur.execute(f'DROP INDEX "{name}"')

    cur.execute(f'CREATE TABLE "{table}" (LIKE "{old}" INCLUDING DEFAULTS INCLUDING CONSTRAINTS) '
                f"PARTITION BY RANGE ({KEY})")
    cur.execute(f'CREATE SEQUENCE "{table}_id_seq" START {start_id} OWNED BY "{table}".id')
    cur.execute(f"""ALTER TABLE "{table}" ALTER COLUMN id SET DEFAULT nextval('"{table}_id_seq"')""")
    # The default partition is partitioned by month itself (kept hits, recognition/partitions.py) with a
    # default of its own for everything else.
    cur.execute(f'CREATE TABLE "{table}_default" PARTITION OF "{table}" DEFAULT PARTITION BY RANGE ({KEY})')
    cur.execute(f'CREATE TABLE "{table}_stray" PARTITION OF "{table}_default" DEFAULT')
    days = {d for (d,) in _fetch(cur, f"SELECT DISTINCT ({KEY} AT TIME ZONE 'UTC')::date FROM \"{old}\" "
                                      f"WHERE {KEY} >= %s AND {KEY} < %s",
                                 [_start(today - timedelta(days=DAYS_BACK)), _start(today + timedelta(days=DAYS_AHEAD + 1))])}
    days |= {today + timedelta(days=k) for k in range(DAYS_AHEAD + 1)}
    for day in sorted(days):
        cur.execute(f'CREATE TABLE "{table}_p{day:%Y%m%d}" PARTITION OF "{table}" FOR VALUES FROM (%s) TO (%s)',
                    [_start(day), _start(day + timedelta(days=1))])
    cur.execute(f'INSERT INTO "{table}" ({cols}) SELECT {cols} FROM "{old}"')
    cur.execute(f'DROP TABLE "{old}"')

    # Indexes after the copy (faster), under their old names. The primary key gains the partition column;
    # a unique index without it cannot exist on a partitioned table and becomes a plain index (the
    # service layer keeps that rule: see cameras/services.py do_accept_frame).
    for name, definition, constraint in indexes:
        if constraint and constraint.endswith("_pkey"):
            cur.execute(f'ALTER TABLE "{table}" ADD CONSTRAINT "{constraint}" PRIMARY KEY (id, {KEY})')
            continue
        definition = re.sub(r" ON (ONLY )?\S+ USING ", f' ON "{table}" USING ', definition)
        demoted = definition.startswith("CREATE UNIQUE INDEX") and KEY not in definition.split(" USING ", 1)[1]
        if demoted:
            definition = definition.replace("CREATE UNIQUE INDEX", "CREATE INDEX", 1)
        cur.execute(definition)
        if demoted:  # so that unpartitioning makes it unique again
            cur.execute(f'COMMENT ON INDEX "{name}" IS %s', [UNIQUE_NOTE])
    for name, definition in foreign_keys:  # to cameras, plate events: they are not partitioned
        cur.execute(f'ALTER TABLE "{table}" ADD CONSTRAINT "{name}" {definition}')
    cur.execute(f'ANALYZE "{table}"')


def unpartition(table, cur):
    """The way back: a plain table with the same rows, keys and indexes."""
    old = f"{table}_partitioned"
    indexes = _fetch(cur, "SELECT i.indexname, i.indexdef, c.conname, obj_description(to_regclass(quote_ident("
                          "i.indexname)), 'pg_class') FROM pg_indexes i "
                          "LEFT JOIN pg_constraint c ON c.conindid = to_regclass(quote_ident(i.indexname)) "
                          "AND c.conrelid = to_regclass(%s) AND c.contype IN ('p', 'u') "
                          "WHERE i.tablename = %s AND i.schemaname = current_schema()", [table, table])
    foreign_keys = _fetch(cur, "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
                               "WHERE conrelid = to_regclass(%s) AND contype = 'f' AND conparentid = 0", [table])
    cols = ", ".join(f'"{c}"' for (c,) in _fetch(
        cur, "SELECT attname FROM pg_attribute WHERE attrelid = to_regclass(%s) AND attnum > 0 "
             "AND NOT attisdropped ORDER BY attnum", [table]))
    cur.execute(f'ALTER TABLE "{table}" RENAME TO "{old}"')
    cur.execute(f'ALTER SEQUENCE "{table}_id_seq" OWNED BY NONE')
    for name, _, constraint, _ in indexes:
        if constraint:
            cur.execute(f'ALTER TABLE "{old}" DROP CONSTRAINT "{constraint}"')
        else:
            cur.execute(f'DROP INDEX "{name}"')
    cur.execute(f'CREATE TABLE "{table}" (LIKE "{old}" INCLUDING DEFAULTS INCLUDING CONSTRAINTS)')
    cur.execute(f'ALTER SEQUENCE "{table}_id_seq" OWNED BY "{table}".id')
    cur.execute(f'INSERT INTO "{table}" ({cols}) SELECT {cols} FROM "{old}"')
    cur.execute(f'DROP TABLE "{old}" CASCADE')
    for name, definition, constraint, note in indexes:
        if constraint and constraint.endswith("_pkey"):
            cur.execute(f'ALTER TABLE "{table}" ADD CONSTRAINT "{constraint}" PRIMARY KEY (id)')
            continue
        definition = re.sub(r" ON (ONLY )?\S+ USING ", f' ON "{table}" USING ', definition)
        if note == UNIQUE_NOTE:
            definition = definition.replace("CREATE INDEX", "CREATE UNIQUE INDEX", 1)
        cur.execute(definition)
    for name, definition in foreign_keys:
        cur.execute(f'ALTER TABLE "{table}" ADD CONSTRAINT "{name}" {definition}')


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cur:
        for table in TABLES:
            unpartition(table, cur)


def _start(day):
    return datetime.combine(day, time.min, tzinfo=UTC)


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    today = datetime.now(UTC).date()
    with schema_editor.connection.cursor() as cur:
        for table in TABLES:
            partition(table, cur, today)


class Migration(migrations.Migration):

    dependencies = [
        ('alerts', '0007_alert_read_without_db_constraint'),
        ('cameras', '0007_region_country_codes'),
        ('recognition', '0004_read_country'),
    ]

    operations = [
        migrations.AlterField(
            model_name='read',
            name='frame',
            field=models.ForeignKey(db_constraint=False, on_delete=django.db.models.deletion.CASCADE, related_name='reads', to='cameras.frame'),
        ),
        migrations.RunPython(forwards, backwards, elidable=False),
    ]
