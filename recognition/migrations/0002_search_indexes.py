"""Indexes for the auditors' read search (audit/search.py). PostgreSQL only; a no-op elsewhere.

* (text, captured_at): exact plate, newest first, LIMIT page, from the index alone;
* pg_trgm GIN on text: wildcard / infix patterns (``*BC12*``, ``A?C*``), regular expressions;
* btree on the canonical form TRANSLATE(text, '0OQ12586', 'DDDIZSBG') (look-alike groups mapped to one
  character; must equal oversight.search.CANON_FROM/CANON_TO): lenient search's candidate lookup.

Prefixes (``ABC*``) use the ``text varchar_pattern_ops`` index Django already made for ``db_index=True``.
"""

from django.db import migrations

INDEXES = [
    ("recognition_read_text_captured_idx",
     'CREATE INDEX IF NOT EXISTS recognition_read_text_captured_idx ON recognition_read (text, captured_at)'),
    ("recognition_read_text_trgm_idx",
     'CREATE INDEX IF NOT EXISTS recognition_read_text_trgm_idx ON recognition_read USING gin (text gin_trgm_ops)'),
    ("recognition_read_text_canon_idx",
     "CREATE INDEX IF NOT EXISTS recognition_read_text_canon_idx ON recognition_read "
     "((TRANSLATE(text, '0OQ12586', 'DDDIZSBG')) text_pattern_ops)"),
]


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for _, sql in INDEXES:
        schema_editor.execute(sql)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, _ in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):

    dependencies = [
        ("recognition", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(forwards, backwards),
    ]
