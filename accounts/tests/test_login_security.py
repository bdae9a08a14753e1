import pytest
from django.core.cache import cache

from accounts import totp
from accounts.models import AgencySecurity, Security
from audit.models import AuditLog

PASSWORD = "correct-horse-battery"


@pytest.fixture(autouse=True)
def _clear_cache():
    cache.clear()
    yield
    cache.clear()


def login(client, username, password):
    return client.post("/login/", {"username": username, "password": password})


def test_totp_codes_follow_rfc_6238():
    # RFC 6238 appendix B, SHA-1 secret "12345678901234567890", T = 59 s -> 94287082 (8 digits); 6 digits: 287082.
    import base64

    secret = base64.b32encode(b"12345678901234567890").decode()
    assert totp.code_at(secret, 59 // 30) == "287082"
    assert totp.verify(secret, "287082", now=59) == 1
    assert totp.verify(secret, "287082", now=59, last_step=1) is None  # never twice
    assert totp.verify(secret, "000000", now=59) is None


@pytest.mark.django_db
def test_five_failures_lock_the_account_even_for_the_right_password(client, officer, admin_user):
    for _ in range(5):
        assert login(client, "officer1", "wrong").status_code == 200
    locked = login(client, "officer1", PASSWORD)
    assert locked.status_code == 200 and "locked" in locked.content.decode()
    assert AuditLog.objects.filter(action="login.lockout").count() == 1
    assert AuditLog.objects.filter(action="login.locked").exists()
    admin = client.__class__()
    admin.force_login(admin_user)
    admin.post(f"/users/{officer.pk}/", {"role": "officer", "active": "on", "unlock": "on"})
    assert login(client, "officer1", PASSWORD).status_code == 302


@pytest.mark.django_db
def test_a_user_with_totp_needs_the_code_after_the_password(client, officer):
    client.force_login(officer)
    page = client.get("/account/2fa/")
    secret = Security.of(officer).totp_secret
    assert secret in page.content.decode()
    code = totp.code_at(secret, totp.current_step())
    assert client.post("/account/2fa/", {"code": code}).status_code == 302
    assert Security.of(officer).totp_enabled
    client.logout()
    response = login(client, "officer1", PASSWORD)
    assert response.status_code == 302 and response["Location"] == "/login/verify/"
    assert client.get("/alerts/").status_code == 302  # not logged in yet
    assert client.post("/login/verify/", {"code": "123456"}).status_code == 200
    security = Security.of(officer)
    next_code = totp.code_at(secret, totp.current_step() + 1)
    response = client.post("/login/verify/", {"code": next_code})
    assert response.status_code == 302
    assert client.get("/alerts/").status_code == 200
    assert Security.of(officer).totp_last_step > (security.totp_last_step or 0)


@pytest.mark.django_db
def test_agency_can_require_a_second_factor_for_admins(client, admin_user, officer):
    AgencySecurity.objects.update_or_create(pk=1, defaults={"require_totp_for_admins": True})
    client.force_login(admin_user)
    response = client.get("/cameras/")
    assert response.status_code == 302 and response["Location"] == "/account/2fa/"
    client.force_login(officer)
    assert client.get("/alerts/").status_code == 200


@pytest.mark.django_db
def test_sessions_expire(settings):
    assert settings.SESSION_COOKIE_AGE <= 12 * 3600 and settings.SESSION_SAVE_EVERY_REQUEST
