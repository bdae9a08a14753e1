"""Side effects after commit (config/commit.py) never break the transaction that scheduled them."""

import pytest
from django.db import transaction

from config.commit import after_commit


def broadcast_while_redis_is_away(alert_id: int) -> None:
    raise RuntimeError(f"cannot reach Redis for alert {alert_id}")


@pytest.mark.django_db(transaction=True)
def test_a_failing_side_effect_is_logged_with_its_name_and_the_commit_stands(caplog):
    from cameras.models import Camera

    with transaction.atomic():
        Camera.objects.create(name="North gate", token_hash="x" * 64, token_hint="x")
        after_commit(broadcast_while_redis_is_away, 7)
    assert Camera.objects.filter(name="North gate").exists()
    assert "broadcast_while_redis_is_away" in caplog.text and "cannot reach Redis for alert 7" in caplog.text


@pytest.mark.django_db(transaction=True)
def test_the_side_effect_runs_once_after_commit_with_its_arguments():
    calls = []
    with transaction.atomic():
        after_commit(lambda *a, **k: calls.append((a, k)), 1, kind="alert.new")
        assert calls == []
    assert calls == [((1,), {"kind": "alert.new"})]
