"""One index for plate searches on reads: (text varchar_pattern_ops, captured_at, id).

It replaces three: Django's two for ``db_index=True`` on ``text`` (plain and ``varchar_pattern_ops``)
and (text, captured_at) from 0002. It serves an exact plate (``text = X``, newest first straight from
the index), a prefix (``text LIKE 'ABC%'``) and ``text IN (...)``. Because it holds the read's whole
key, the key pages and capped counts of oversight.search read it alone (an index-only scan) instead
of visiting every matching row in the table: at 100 million reads that is what a prefix search cost.

On PostgreSQL it is built on every day partition; on a large database that takes a while and locks
the table for writes (plan a maintenance window). Elsewhere (SQLite) a plain (text, captured_at)
index takes the place of the one Django made.
"""

from django.db import migrations, models

KEY_INDEX = "recognition_read_text_key_idx"
OLD_TEXT_TIME = "recognition_read_text_captured_idx"


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {KEY_INDEX} ON recognition_read (text varchar_pattern_ops, captured_at, id)"
        )
        schema_editor.execute(f"DROP INDEX IF EXISTS {OLD_TEXT_TIME}")
    else:
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {KEY_INDEX} ON recognition_read (text, captured_at, id)")


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {OLD_TEXT_TIME} ON recognition_read (text, captured_at)")
    schema_editor.execute(f"DROP INDEX IF EXISTS {KEY_INDEX}")


class Migration(migrations.Migration):
    dependencies = [
        ("recognition", "0005_partition_reads_and_frames_by_day"),
    ]

    operations = [
        # Django's own indexes on text go (the first operation drops them), the key index comes.
        migrations.AlterField(
            model_name="read",
            name="text",
            field=models.CharField(max_length=16),
        ),
        migrations.RunPython(forwards, backwards),
    ]
