"""Lockout under concurrent guesses, the second factor's own lock, logins without the cache, odd user names."""

import threading
import time

import pytest
from django.db import connection
from django.test import Client

from accounts import totp
from accounts.models import Security
from audit.models import AuditLog
from conftest import require

PASSWORD = "correct-horse-battery"


def login(client, username, password):
    return client.post("/login/", {"username": username, "password": password})


@pytest.fixture
def slow_password_check(monkeypatch):
    """Checking a password takes a while in production (PBKDF2): make the tests' MD5 take as long, so that
    concurrent guesses really overlap."""
    from django.contrib.auth.backends import ModelBackend

    original = ModelBackend.authenticate

    def authenticate(self, request, username=None, password=None, **kwargs):
        time.sleep(0.3)
        return original(self, request, username=username, password=password, **kwargs)

    monkeypatch.setattr(ModelBackend, "authenticate", authenticate)


@pytest.mark.django_db(transaction=True)
def test_concurrent_wrong_passwords_check_at_most_the_limit(officer, slow_password_check):
    require(connection.vendor == "postgresql", "the race needs PostgreSQL (set DATABASE_URL)")
    barrier = threading.Barrier(25)
    codes = []

    def guess(i):
        from django.db import connections

        try:
            client = Client(REMOTE_ADDR=f"10.0.0.{i}")  # many addresses: the per-user lock is what is tested
            barrier.wait()
            codes.append(login(client, "officer1", f"wrong-{i}").status_code)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=guess, args=(i,)) for i in range(25)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert codes == [200] * 25
    checked = AuditLog.objects.filter(action="login.failed").count()  # Django signals each checked password
    assert checked == 5
    assert AuditLog.objects.filter(action="login.locked").count() == 20
    assert AuditLog.objects.filter(action="login.lockout").count() == 1
    assert "locked" in login(Client(), "officer1", PASSWORD).content.decode()


@pytest.fixture
def with_totp(client, officer):
    client.force_login(officer)
    client.get("/account/2fa/")
    secret = Security.of(officer).totp_secret
    client.post("/account/2fa/", {"code": totp.code_at(secret, totp.current_step())})
    client.logout()
    security = Security.of(officer)
    assert security.totp_enabled
    Security.objects.filter(pk=security.pk).update(totp_last_step=None)
    return secret


def wrong_code(secret):
    right = {totp.code_at(secret, totp.current_step() + d) for d in (-1, 0, 1)}
    return next(c for c in ("000000", "111111", "222222", "333333") if c not in right)


@pytest.mark.django_db
def test_second_factor_failures_are_counted_across_logins_and_lock(client, officer, admin_user, with_totp):
    secret = with_totp
    for _ in range(3):  # a right password does not reset the second factor's count
        assert login(client, "officer1", PASSWORD)["Location"] == "/login/verify/"
        for _ in range(4):
            assert client.post("/login/verify/", {"code": wrong_code(secret)}).status_code == 200
    assert login(client, "officer1", PASSWORD)["Location"] == "/login/verify/"
    response = client.post("/login/verify/", {"code": totp.code_at(secret, totp.current_step())})
    assert response.status_code == 200 and "second factor is locked" in response.content.decode()
    assert client.get("/alerts/").status_code == 302  # not logged in
    assert AuditLog.objects.filter(action="login.failed", query__factor="totp").count() == 5  # 5 checked of 12
    assert AuditLog.objects.filter(action="login.lockout", query__factor="totp").count() == 1

    admin = Client()
    admin.force_login(admin_user)
    admin.post(f"/users/{officer.pk}/", {"role": "officer", "active": "on", "unlock": "on"})
    assert login(client, "officer1", PASSWORD)["Location"] == "/login/verify/"
    response = client.post("/login/verify/", {"code": totp.code_at(secret, totp.current_step())})
    assert response.status_code == 302 and client.get("/alerts/").status_code == 200


@pytest.mark.django_db
def test_a_right_code_clears_the_second_factors_count(client, officer, with_totp):
    secret = with_totp
    login(client, "officer1", PASSWORD)
    for _ in range(4):
        client.post("/login/verify/", {"code": wrong_code(secret)})
    assert client.post("/login/verify/", {"code": totp.code_at(secret, totp.current_step())}).status_code == 302
    from accounts.models import LoginThrottle

    assert not LoginThrottle.objects.filter(key=f"2fa:{officer.pk}").exists()


UNREACHABLE_CACHE = {
    "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "redis://127.0.0.1:1/0"}
}


@pytest.mark.django_db
def test_login_lockout_and_pages_work_while_the_cache_is_down(client, officer, settings):
    settings.CACHES = UNREACHABLE_CACHE
    from django.core.cache import cache

    with pytest.raises(Exception):
        cache.get("anything")  # the cache really is unreachable
    response = login(client, "officer1", PASSWORD)
    assert response.status_code == 302
    assert client.get("/alerts/").status_code == 200
    other = Client()
    for _ in range(5):
        assert login(other, "officer1", "wrong").status_code == 200
    assert "locked" in login(other, "officer1", PASSWORD).content.decode()


@pytest.mark.django_db
def test_a_full_width_user_name_that_normalises_to_an_existing_one_is_refused_clearly(client, admin_user, officer):
    client.force_login(admin_user)
    response = client.post(
        "/users/new/", {"username": "ｏｆｆｉｃｅｒ１", "role": "auditor", "password": "a-long-unusual-pass"}
    )
    assert response.status_code == 200
    assert "A user with that name exists" in response.content.decode()
    response = client.post(
        "/users/new/", {"username": "ＣＡＲＯＬ", "role": "auditor", "password": "a-long-unusual-pass"}
    )
    assert response.status_code == 302
    from django.contrib.auth import get_user_model

    assert get_user_model().objects.filter(username="CAROL").exists()


@pytest.mark.django_db
def test_create_user_command_refuses_a_full_width_duplicate(officer):
    from django.core.management import CommandError, call_command

    with pytest.raises(CommandError, match="A user with that name exists"):
        call_command("create_user", "ｏｆｆｉｃｅｒ１", "--role", "officer", "--password", "a-long-unusual-pass")


@pytest.mark.django_db
def test_the_hourly_retention_run_forgets_expired_login_counters(client, officer):
    from datetime import timedelta

    from django.utils import timezone

    from accounts.models import LoginThrottle
    from oversight.retention import purge

    login(client, "officer1", "wrong")
    login(client, "nobody-at-all", "wrong")
    assert LoginThrottle.objects.count() == 3  # two names, one address
    LoginThrottle.objects.filter(key__contains="nobody").update(last_at=timezone.now() - timedelta(hours=1))
    assert purge()["login_counters_expired"] == 1
    assert LoginThrottle.objects.count() == 2
