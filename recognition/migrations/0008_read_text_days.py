"""PostgreSQL: the days each distinct text was read on, so that a wildcard search looks in those days only.

``recognition_readtext.days`` is a 64-bit mask: bit ``(day - 2000-01-01) % 64`` is set when the text has
a read captured on that UTC day. An infix search (``*BC12*``) finds its texts on the table's trigram index,
then asks each day's partition only for the texts whose bit is set for that day
(oversight.search.DaySplit): at 100 million reads in 30 days, most texts are read on a few days, and
``text IN (...)`` over every partition descended each text in each partition's index.

Bits are set, never cleared: a bit can be stale (the day was purged, or a day 64 days apart shares it),
which costs one needless index descent and never hides a read. A mask of 0 means "not known": such a
text is searched in every day. The trigger now sets the day's bit once per text and day, as it already
wrote ``last_day`` once per text and day. Upgrading reads every existing read once and holds new reads
back meanwhile (10 minutes at 100 million reads here): plan a maintenance window.
"""

from django.db import migrations

TABLE = "recognition_readtext"
DAY = "(captured_at AT TIME ZONE 'UTC')::date"
BIT = f"(1::bigint << mod(mod({DAY} - DATE '2000-01-01', 64) + 64, 64))"

TRIGGER = f"""CREATE OR REPLACE FUNCTION {TABLE}_add() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        INSERT INTO {TABLE} (text, last_day, days)
        SELECT text, max({DAY}), bit_or({BIT}) FROM new_reads GROUP BY text ORDER BY text
        ON CONFLICT (text) DO UPDATE
        SET last_day = GREATEST({TABLE}.last_day, EXCLUDED.last_day), days = {TABLE}.days | EXCLUDED.days
        WHERE {TABLE}.last_day < EXCLUDED.last_day OR ({TABLE}.days | EXCLUDED.days) <> {TABLE}.days;
        RETURN NULL;
    END $$"""

OLD_TRIGGER = f"""CREATE OR REPLACE FUNCTION {TABLE}_add() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        INSERT INTO {TABLE} (text, last_day)
        SELECT text, max({DAY}) FROM new_reads GROUP BY text ORDER BY text
        ON CONFLICT (text) DO UPDATE SET last_day = EXCLUDED.last_day
        WHERE {TABLE}.last_day < EXCLUDED.last_day;
        RETURN NULL;
    END $$"""

# The table is filled again from the reads (it holds exactly their texts) with its secondary indexes
# dropped and built after: at 100 million reads an UPDATE of every text's row, which rewrote its
# trigram index entries one by one, had not finished after 17 minutes.
REFILL = f"""INSERT INTO {TABLE} (text, last_day, days)
SELECT text, max({DAY}), bit_or({BIT}) FROM recognition_read GROUP BY text"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"ALTER TABLE {TABLE} ADD COLUMN IF NOT EXISTS days bigint NOT NULL DEFAULT 0")
    schema_editor.execute(TRIGGER)  # the ALTER's lock holds new reads back until the migration commits
    with schema_editor.connection.cursor() as cur:
        cur.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s AND indexname <> %s",
            [TABLE, f"{TABLE}_pkey"],
        )
        indexes = cur.fetchall()
    for name, _ in indexes:
        schema_editor.execute(f'DROP INDEX "{name}"')
    schema_editor.execute(f"TRUNCATE {TABLE}")
    schema_editor.execute(REFILL)
    for _, definition in indexes:
        schema_editor.execute(definition)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(OLD_TRIGGER)
    schema_editor.execute(f"ALTER TABLE {TABLE} DROP COLUMN IF EXISTS days")


class Migration(migrations.Migration):
    dependencies = [
        ("recognition", "0007_read_texts"),
    ]

    operations = [
        migrations.RunPython(forwards, backwards),
    ]
