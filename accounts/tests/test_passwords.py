"""Users change their own password; admins reset one (changed at the next login); the QR code; all audited."""

import pytest

from accounts.models import Security
from audit.models import AuditLog

OLD = "correct-horse-battery"
NEW = "a-new-long-passphrase-42"


def change(client, old=OLD, new=NEW, again=None):
    return client.post("/account/password/", {"old_password": old, "new_password1": new, "new_password2": again or new})


@pytest.mark.django_db
def test_a_user_changes_their_own_password_and_stays_logged_in(client, officer):
    client.force_login(officer)
    assert client.get("/account/password/").status_code == 200
    assert change(client).status_code == 302
    officer.refresh_from_db()
    assert officer.check_password(NEW)
    assert client.get("/alerts/").status_code == 200  # this session goes on
    assert AuditLog.objects.filter(action="user.password_change", username="officer1").exists()


@pytest.mark.django_db
def test_a_wrong_old_password_or_a_weak_new_one_changes_nothing(client, officer):
    client.force_login(officer)
    assert change(client, old="wrong-password").status_code == 400
    assert change(client, new="1234567890").status_code == 400
    assert change(client, again="something-else-entirely").status_code == 400
    officer.refresh_from_db()
    assert officer.check_password(OLD)
    assert not AuditLog.objects.filter(action="user.password_change").exists()


@pytest.mark.django_db
def test_an_admin_reset_ends_sessions_and_forces_a_new_password(client, admin_user, officer):
    from django.test import Client

    officer_client = Client()
    officer_client.force_login(officer)
    client.force_login(admin_user)
    page = client.post(f"/users/{officer.pk}/reset-password/")
    assert page.status_code == 200
    one_time = page.context["password"]
    assert AuditLog.objects.filter(action="user.password_reset", query__user="officer1").exists()
    assert officer_client.get("/alerts/").status_code == 302  # the old session ended
    assert officer_client.login(username="officer1", password=one_time)
    forced = officer_client.get("/alerts/")
    assert forced.status_code == 302 and forced["Location"] == "/account/password/"
    assert "An admin reset your password" in officer_client.get("/account/password/").content.decode()
    assert change(officer_client, old=one_time).status_code == 302
    assert not Security.objects.get(user=officer).must_change_password
    assert officer_client.get("/alerts/").status_code == 200


@pytest.mark.django_db
def test_only_admins_reset_passwords(client, officer, auditor):
    client.force_login(officer)
    assert client.post(f"/users/{auditor.pk}/reset-password/").status_code == 403
    auditor.refresh_from_db()
    assert auditor.check_password(OLD)


@pytest.mark.django_db
def test_the_second_factor_setup_shows_a_qr_code_of_the_key(client, officer):
    client.force_login(officer)
    body = client.get("/account/2fa/").content.decode()
    assert 'data-testid="totp-qr"><svg' in body and "<path" in body
    secret = Security.objects.get(user=officer).totp_secret
    assert secret in body


@pytest.mark.django_db
def test_a_failed_login_keeps_the_user_name(client, officer):
    body = client.post("/login/", {"username": "officer1", "password": "wrong-password"}).content.decode()
    assert 'name="username" autocomplete="username" value="officer1"' in body
