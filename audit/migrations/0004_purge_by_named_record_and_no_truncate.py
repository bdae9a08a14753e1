"""On PostgreSQL the audit table refuses UPDATE, TRUNCATE and DELETE, whoever asks.

The one exception is the retention purge. It first appends a keyed ``retention.purge`` record saying
which records go (``through``), then sets ``alpr.audit_purge`` to that record's number for its own
transaction; the trigger then lets go only records numbered up to ``through`` and before that record.
A session that merely sets ``alpr.audit_purge='on'`` (as the earlier trigger allowed) removes nothing, and
a purge record forged by hand fails ``verify_audit`` because its keyed hash cannot be computed here.
"""

from django.db import migrations

FORWARD = """
CREATE OR REPLACE FUNCTION audit_auditlog_append_only() RETURNS trigger AS $$
DECLARE
    authority text := current_setting('alpr.audit_purge', true);
BEGIN
    IF TG_OP = 'DELETE' AND authority ~ '^[0-9]{1,18}$' AND EXISTS (
        SELECT 1 FROM audit_auditlog p
        WHERE p.seq = authority::bigint AND p.action = 'retention.purge' AND p.seq > OLD.seq
          AND jsonb_typeof(p.query -> 'through') = 'number' AND (p.query ->> 'through')::bigint >= OLD.seq
    ) THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'audit_auditlog is append-only (% refused)', TG_OP;
END;
$$ LANGUAGE plpgsql;
CREATE OR REPLACE FUNCTION audit_auditlog_no_truncate() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit_auditlog is append-only (TRUNCATE refused)';
END;
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS audit_auditlog_no_truncate ON audit_auditlog;
CREATE TRIGGER audit_auditlog_no_truncate BEFORE TRUNCATE ON audit_auditlog
    FOR EACH STATEMENT EXECUTE FUNCTION audit_auditlog_no_truncate();
"""
BACKWARD = """
DROP TRIGGER IF EXISTS audit_auditlog_no_truncate ON audit_auditlog;
DROP FUNCTION IF EXISTS audit_auditlog_no_truncate();
CREATE OR REPLACE FUNCTION audit_auditlog_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' AND current_setting('alpr.audit_purge', true) = 'on' THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'audit_auditlog is append-only (% refused)', TG_OP;
END;
$$ LANGUAGE plpgsql;
"""


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORWARD, params=None)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(BACKWARD, params=None)


class Migration(migrations.Migration):
    dependencies = [("audit", "0003_retention")]
    operations = [migrations.RunPython(forward, backward)]
