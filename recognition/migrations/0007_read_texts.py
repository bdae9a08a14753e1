"""PostgreSQL: ``recognition_readtext``, every distinct plate text that reads hold, for wildcard searches.

A wildcard search that is not a prefix (``*BC12*``, ``A?C*``) finds the distinct texts that match on
this table's pg_trgm index, then pages over ``text IN (...)`` on the reads' (text, captured_at, id)
index (oversight/search.py). Finding them on the reads' own trigram index visited every matching read
in the table: at 100 million reads (more than memory holds) that cost the most of any search. There
are far fewer distinct texts than reads and their table stays in memory.

A statement trigger on recognition_read keeps it: each inserted text is added, with the last capture
day it was read on (``last_day``). Retention (recognition.partitions.finish_day) removes the texts
whose last day was purged, except those of reads still held (hits kept longer). Existing reads are
added here, once: on a large database that reads the whole table (plan a maintenance window).
SQLite keeps no such table: its searches read the reads themselves.
"""

from django.db import migrations

TABLE = "recognition_readtext"

TABLE_SQL = f"CREATE TABLE IF NOT EXISTS {TABLE} (text varchar(16) PRIMARY KEY, last_day date NOT NULL)"
# Made after the existing texts are in: building a trigram index once is far faster than adding
# millions of texts to it one by one.
INDEXES = [
    f"CREATE INDEX IF NOT EXISTS {TABLE}_trgm_idx ON {TABLE} USING gin (text gin_trgm_ops)",
    f"CREATE INDEX IF NOT EXISTS {TABLE}_day_idx ON {TABLE} (last_day)",
]
TRIGGER = [
    # Texts in order, so that two transactions adding the same new texts take their row locks in the
    # same order (no deadlock); a text's row is written once a day at most.
    f"""CREATE OR REPLACE FUNCTION {TABLE}_add() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        INSERT INTO {TABLE} (text, last_day)
        SELECT text, max((captured_at AT TIME ZONE 'UTC')::date) FROM new_reads GROUP BY text ORDER BY text
        ON CONFLICT (text) DO UPDATE SET last_day = EXCLUDED.last_day
        WHERE {TABLE}.last_day < EXCLUDED.last_day;
        RETURN NULL;
    END $$""",
    f"DROP TRIGGER IF EXISTS {TABLE}_add ON recognition_read",
    f"""CREATE TRIGGER {TABLE}_add AFTER INSERT ON recognition_read
    REFERENCING NEW TABLE AS new_reads FOR EACH STATEMENT EXECUTE FUNCTION {TABLE}_add()""",
]

BACKFILL = f"""INSERT INTO {TABLE} (text, last_day)
SELECT text, max((captured_at AT TIME ZONE 'UTC')::date) FROM recognition_read GROUP BY text
ON CONFLICT (text) DO UPDATE SET last_day = GREATEST({TABLE}.last_day, EXCLUDED.last_day)"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(TABLE_SQL)
    # The trigger first: its lock holds new reads back until the migration commits, so none is missed.
    for sql in TRIGGER:
        schema_editor.execute(sql)
    schema_editor.execute(BACKFILL)
    for sql in INDEXES:
        schema_editor.execute(sql)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"DROP TRIGGER IF EXISTS {TABLE}_add ON recognition_read")
    schema_editor.execute(f"DROP FUNCTION IF EXISTS {TABLE}_add()")
    schema_editor.execute(f"DROP TABLE IF EXISTS {TABLE}")


class Migration(migrations.Migration):
    dependencies = [
        ("recognition", "0006_read_text_key_index"),
    ]

    operations = [
        migrations.RunPython(forwards, backwards),
    ]
