"""The audit checkpoint in the object store (a real SeaweedFS on loopback, the ``object_store`` fixture): no
node needs a shared disk, verification still finds records removed from the end, and a writer that lost a
race cannot move the head backwards."""

from __future__ import annotations

import io
import json
import random
import threading

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from audit import checkpoint
from audit.models import AuditLog
from audit.services import append
from audit.tests.test_chain import run_verify, tamper
from conftest import bucket_keys


def head_key(seq: int) -> str:
    return f"audit/checkpoint/head-{seq:020d}.json"


def append_records(count: int, capture) -> list[AuditLog]:
    with capture(execute=True):  # each committed append advances the checkpoint
        return [append(action="search.reads", username=f"auditor{i}", query={"plate": f"ABC{i}"}) for i in range(count)]


@pytest.fixture
def bucket_chain(db, s3_media, django_capture_on_commit_callbacks):
    return append_records(5, django_capture_on_commit_callbacks)


def test_the_checkpoint_is_an_object_in_the_bucket_not_a_file(bucket_chain, s3_media, audit_checkpoint):
    assert bucket_keys(s3_media) == [head_key(5)]  # the older heads were pruned as the head moved on
    assert not audit_checkpoint.exists() and not audit_checkpoint.parent.exists()
    stored = json.loads(s3_media.client().get_object(Bucket=s3_media.bucket, Key=head_key(5))["Body"].read())
    assert stored["body"]["head_seq"] == 5 and stored["body"]["head_hash"] == bucket_chain[-1].hash
    assert checkpoint.read()["head_seq"] == 5
    assert checkpoint.where() == f"s3://{s3_media.bucket}/audit/checkpoint/"
    code, output = run_verify()
    assert code == 0 and "5 record(s) verified" in output


def test_records_removed_from_the_end_are_reported_with_the_checkpoint_in_the_bucket(bucket_chain):
    tamper("DELETE FROM audit_auditlog WHERE seq >= %s", [4])
    code, output = run_verify()
    assert code == 1 and "the checkpoint says the chain reached #5" in output and "removed from the end" in output


def test_a_truncated_table_is_reported_with_the_checkpoint_in_the_bucket(bucket_chain):
    tamper("DELETE FROM audit_auditlog", [])
    code, output = run_verify()
    assert code == 1 and "the checkpoint says the chain reached #5" in output


def test_a_writer_that_lost_the_race_cannot_move_the_head_backwards(
    db, s3_media, monkeypatch, django_capture_on_commit_callbacks
):
    client = s3_media.client()
    records = append_records(2, django_capture_on_commit_callbacks)
    head_2 = client.get_object(Bucket=s3_media.bucket, Key=head_key(2))["Body"].read()
    records += append_records(3, django_capture_on_commit_callbacks)
    # The writer of #3 listed the bucket when #2 was the head; #4 and #5 were written before its own write.
    client.put_object(Bucket=s3_media.bucket, Key=head_key(2), Body=head_2)
    monkeypatch.setattr(checkpoint, "_list_heads", lambda: [2])  # what it had listed
    checkpoint.advance(3, records[2].hash)
    monkeypatch.undo()
    assert head_key(3) in bucket_keys(s3_media)  # the stale write happened...
    assert checkpoint.read()["head_seq"] == 5  # ...and the head is still #5
    assert run_verify()[0] == 0  # so it neither makes verification fail falsely
    tamper("DELETE FROM audit_auditlog WHERE seq = %s", [5])
    code, output = run_verify()
    assert code == 1 and "reached #5" in output  # nor hides a truncation


def test_concurrent_writers_leave_the_highest_head(db, s3_media):
    seqs = list(range(1, 41))
    random.Random(7).shuffle(seqs)
    checkpoint.advance(1, "h1")
    chunks = [seqs[i::8] for i in range(8)]
    threads = [
        threading.Thread(target=lambda part=part: [checkpoint.advance(s, f"h{s}") for s in part]) for part in chunks
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    head = checkpoint.read()
    assert head["head_seq"] == 40 and head["head_hash"] == "h40"
    assert bucket_keys(s3_media)[-1] == head_key(40)


def test_an_older_signed_head_copied_under_a_higher_name_is_reported(db, s3_media, django_capture_on_commit_callbacks):
    client = s3_media.client()
    append_records(3, django_capture_on_commit_callbacks)
    head_3 = client.get_object(Bucket=s3_media.bucket, Key=head_key(3))["Body"].read()
    append_records(2, django_capture_on_commit_callbacks)
    client.put_object(Bucket=s3_media.bucket, Key=head_key(9), Body=head_3)  # to hide that #4 and #5 existed
    tamper("DELETE FROM audit_auditlog WHERE seq >= %s", [4])
    code, output = run_verify()
    assert code == 1 and "cannot be trusted" in output and "not the one its name says" in output


def test_an_edited_checkpoint_object_is_reported(bucket_chain, s3_media):
    client = s3_media.client()
    data = json.loads(client.get_object(Bucket=s3_media.bucket, Key=head_key(5))["Body"].read())
    data["body"]["head_seq"] = 4
    client.put_object(Bucket=s3_media.bucket, Key=head_key(5), Body=json.dumps(data).encode())
    code, output = run_verify()
    assert code == 1 and "signature" in output


def test_a_missing_checkpoint_object_is_reported_until_the_chain_is_adopted(bucket_chain, s3_media):
    s3_media.client().delete_object(Bucket=s3_media.bucket, Key=head_key(5))
    code, output = run_verify()
    assert code == 1 and "no checkpoint at s3://" in output
    call_command("verify_audit", "--adopt", stdout=io.StringIO())
    assert bucket_keys(s3_media) == [head_key(5)]
    with pytest.raises(CommandError, match="exists"):
        call_command("verify_audit", "--adopt", stdout=io.StringIO())
    assert run_verify()[0] == 0


def test_a_checkpoint_file_is_moved_into_the_bucket_by_adopting(
    db, settings, object_store, audit_checkpoint, django_capture_on_commit_callbacks, request
):
    append_records(4, django_capture_on_commit_callbacks)  # on local disk: a checkpoint file
    assert json.loads(audit_checkpoint.read_text())["body"]["head_seq"] == 4
    store = request.getfixturevalue("s3_media")  # now the media, and so the checkpoint, go to the bucket
    assert run_verify()[0] == 1  # the bucket holds no checkpoint yet
    out = io.StringIO()
    call_command("verify_audit", "--adopt", stdout=out)
    assert "no longer used" in out.getvalue()
    assert bucket_keys(store) == [head_key(4)]
    assert run_verify()[0] == 0


def test_a_chain_truncated_before_the_move_is_not_adopted(
    db, settings, object_store, audit_checkpoint, django_capture_on_commit_callbacks, request
):
    append_records(4, django_capture_on_commit_callbacks)
    tamper("DELETE FROM audit_auditlog WHERE seq = %s", [4])
    store = request.getfixturevalue("s3_media")
    with pytest.raises(CommandError, match="does not verify against .*records after #3 are missing"):
        call_command("verify_audit", "--adopt", stdout=io.StringIO())
    assert bucket_keys(store) == []


def test_a_head_pruned_between_listing_and_reading_is_listed_again(db, s3_media, monkeypatch):
    checkpoint.advance(1, "h1")
    checkpoint.advance(2, "h2")  # prunes #1
    real = checkpoint._list_heads
    stale = [[1]]  # a listing taken before #2 was written

    def listing():
        return stale.pop() if stale else real()

    monkeypatch.setattr(checkpoint, "_list_heads", listing)
    checkpoint.advance(3, "h3")
    head = checkpoint.read()
    assert head["head_seq"] == 3 and head["head_hash"] == "h3"
