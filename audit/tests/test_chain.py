import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.db.utils import DatabaseError

from audit.models import AuditLog
from audit.services import append
from audit.tests.helpers import token


def run_verify():
    import io

    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("verify_audit", stdout=out, stderr=err)
        return 0, out.getvalue() + err.getvalue()
    except SystemExit as exc:
        return exc.code, out.getvalue() + err.getvalue()


def tamper(sql: str, params: list) -> None:
    """What an attacker with the database owner's rights would do (the app itself cannot)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE audit_auditlog DISABLE TRIGGER audit_auditlog_append_only")
        cursor.execute(sql, params)
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE audit_auditlog ENABLE TRIGGER audit_auditlog_append_only")


@pytest.fixture
def chain(db):
    return [append(action="search.reads", username=f"auditor{i}", query={"plate": f"ABC12{i}"}, reason="case 1",
                   result_count=i) for i in range(5)]


def test_records_link_into_a_chain_that_verifies(chain):
    assert [r.seq for r in chain] == [1, 2, 3, 4, 5]
    assert all(b.prev_hash == a.hash for a, b in zip(chain, chain[1:]))
    code, output = run_verify()
    assert code == 0 and "5 record(s) verified" in output


def test_an_altered_record_is_named(chain):
    tamper("UPDATE audit_auditlog SET reason = %s WHERE seq = %s", ["nothing to see", 3])
    code, output = run_verify()
    assert code == 1
    assert "record #3" in output and "altered" in output


def test_a_removed_record_is_found(chain):
    tamper("DELETE FROM audit_auditlog WHERE seq = %s", [2])
    code, output = run_verify()
    assert code == 1 and "#2 is missing" in output


def test_a_rewritten_record_with_a_fresh_hash_breaks_the_next_link(chain):
    record = AuditLog.objects.get(seq=2)
    record.reason = "forged"
    tamper("UPDATE audit_auditlog SET reason = %s, hash = %s WHERE seq = %s", ["forged", record.compute_hash(), 2])
    code, output = run_verify()
    assert code == 1 and "record #3" in output and "link" in output


@pytest.mark.django_db
def test_postgresql_refuses_updates_and_deletes_from_the_application(chain):
    if connection.vendor != "postgresql":
        pytest.skip("the append-only trigger is PostgreSQL's (SQLite is the single-user demo database)")
    for statement in ("UPDATE audit_auditlog SET reason = 'x' WHERE seq = 1", "DELETE FROM audit_auditlog WHERE seq = 1"):
        with pytest.raises(DatabaseError, match="append-only"):
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(statement)
    assert AuditLog.objects.count() == 5


@pytest.mark.django_db
def test_auditors_export_the_audit_log_and_the_export_is_logged(client, auditor, chain):
    client.force_login(auditor)
    response = client.get("/audit/log/export.csv", {**token(client), "action": "search.reads"})
    assert response.status_code == 200
    body = b"".join(response.streaming_content).decode()
    assert body.count("search.reads") == 5 and "ABC124" in body
    assert AuditLog.objects.filter(action="export.audit_log", username="auditor1").exists()
