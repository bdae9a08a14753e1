import itertools

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
def chain(db, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):  # each committed append advances the checkpoint
        return [
            append(
                action="search.reads",
                username=f"auditor{i}",
                query={"plate": f"ABC12{i}"},
                reason="case 1",
                result_count=i,
            )
            for i in range(5)
        ]


def test_records_link_into_a_chain_that_verifies(chain):
    assert [r.seq for r in chain] == [1, 2, 3, 4, 5]
    assert all(b.prev_hash == a.hash for a, b in itertools.pairwise(chain))
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
    for statement in (
        "UPDATE audit_auditlog SET reason = 'x' WHERE seq = 1",
        "DELETE FROM audit_auditlog WHERE seq = 1",
    ):
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


def on_postgresql():
    if connection.vendor != "postgresql":
        pytest.skip("the triggers are PostgreSQL's (SQLite is the single-user demo database)")


def test_removing_the_last_record_is_reported(chain):
    tamper("DELETE FROM audit_auditlog WHERE seq = %s", [5])
    code, output = run_verify()
    assert code == 1 and "records after #4 are missing" in output and "removed from the end" in output


def test_removing_the_last_records_after_a_purge_setting_is_refused_and_would_be_reported(chain):
    on_postgresql()
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL alpr.audit_purge = 'on'")
        cursor.execute("DELETE FROM audit_auditlog WHERE seq >= 4")
    assert AuditLog.objects.count() == 5


def test_removing_the_first_records_is_reported(chain):
    tamper("DELETE FROM audit_auditlog WHERE seq <= %s", [3])
    code, output = run_verify()
    assert code == 1 and "#1 to #3 are missing" in output and "removed from the start" in output


def test_removing_the_first_record_is_reported(chain):
    tamper("DELETE FROM audit_auditlog WHERE seq = %s", [1])
    code, output = run_verify()
    assert code == 1 and "record #2" in output and "removed from the start" in output


def test_a_chain_recomputed_with_plain_sha256_is_reported(chain):
    import hashlib

    prev = AuditLog.objects.get(seq=2).hash
    for record in AuditLog.objects.filter(seq__gte=3).order_by("seq"):
        if record.seq == 3:
            record.reason = "nothing to see"
        record.prev_hash = prev
        record.hash = prev = hashlib.sha256(record.content()).hexdigest()
        tamper(
            "UPDATE audit_auditlog SET reason = %s, prev_hash = %s, hash = %s WHERE seq = %s",
            [record.reason, record.prev_hash, record.hash, record.seq],
        )
    code, output = run_verify()
    assert code == 1 and "record #3" in output and "keyed hash" in output


def test_postgresql_refuses_truncate(chain):
    on_postgresql()
    with pytest.raises(DatabaseError, match="TRUNCATE refused"):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("TRUNCATE audit_auditlog")
    assert AuditLog.objects.count() == 5
    assert run_verify()[0] == 0


def test_a_truncated_table_is_reported(chain):
    tamper("DELETE FROM audit_auditlog", [])
    code, output = run_verify()
    assert code == 1 and "the checkpoint says the chain reached #5" in output


def test_a_forged_purge_record_lets_rows_go_but_is_reported(chain):
    on_postgresql()
    forged = AuditLog(
        seq=6,
        at=AuditLog.objects.get(seq=5).at,
        username="retention",
        action="retention.purge",
        query={"through": 5, "through_hash": AuditLog.objects.get(seq=5).hash},
        prev_hash=AuditLog.objects.get(seq=5).hash,
        hash="0" * 64,
    )
    forged.hash = forged.legacy_hash()  # the attacker can only hash without the key
    forged.save(force_insert=True)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL alpr.audit_purge = '6'")
        cursor.execute("DELETE FROM audit_auditlog WHERE seq <= 5")
    code, output = run_verify()
    assert code == 1 and "record #6" in output and "keyed hash" in output


def test_the_checkpoint_cannot_be_edited(chain, audit_checkpoint):
    import json

    data = json.loads(audit_checkpoint.read_text())
    data["body"]["head_seq"] = 4
    audit_checkpoint.write_text(json.dumps(data))
    code, output = run_verify()
    assert code == 1 and "signature" in output


def test_a_missing_checkpoint_is_reported_until_the_chain_is_adopted(chain, audit_checkpoint):
    audit_checkpoint.unlink()
    code, output = run_verify()
    assert code == 1 and "no checkpoint" in output
    call_command("verify_audit", "--adopt", stdout=__import__("io").StringIO())
    assert run_verify()[0] == 0
    assert AuditLog.objects.order_by("-seq").first().action == "audit.adopt"


def test_a_chain_from_before_keyed_hashes_is_adopted_as_legacy(
    db, audit_checkpoint, django_capture_on_commit_callbacks
):
    from django.utils import timezone

    from audit.models import GENESIS

    prev = GENESIS
    for seq in (1, 2, 3):
        record = AuditLog(seq=seq, at=timezone.now(), username="old", action="login", prev_hash=prev)
        record.hash = prev = record.legacy_hash()
        record.save(force_insert=True)
    assert run_verify()[0] == 1
    with django_capture_on_commit_callbacks(execute=True):
        call_command("verify_audit", "--adopt", stdout=__import__("io").StringIO())
        append(action="search.reads", username="new")
    code, output = run_verify()
    assert code == 0 and "5 record(s) verified" in output
    tamper("UPDATE audit_auditlog SET username = %s WHERE seq = %s", ["forger", 5])
    assert run_verify()[0] == 1
