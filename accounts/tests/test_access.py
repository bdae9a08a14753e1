import pytest
from django.contrib.auth.models import Group

from accounts.roles import ROLES

PAGES = {
    "/alerts/": {"officer", "admin"},
    "/alerts/feed/": {"officer", "admin"},
    "/cameras/": {"admin"},
    "/cameras/new/": {"admin"},
    "/hotlists/": {"admin"},
    "/hotlists/upload/": {"admin"},
    "/users/": {"admin"},
    "/audit/reads/": {"auditor"},
    "/audit/log/": {"auditor"},
}


@pytest.mark.django_db
def test_role_groups_exist_with_permissions():
    for role in ROLES:
        group = Group.objects.get(name=role)
        assert group.permissions.exists(), role
    assert Group.objects.get(name="auditor").permissions.filter(codename="view_auditlog").exists()
    assert not Group.objects.get(name="officer").permissions.filter(codename="add_camera").exists()


@pytest.mark.django_db
@pytest.mark.parametrize("url", [*PAGES, "/", "/media/frames/x.jpg"])
def test_anonymous_users_are_sent_to_the_login_page(client, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
def test_each_page_is_open_to_its_roles_only(client, make_user, role):
    client.force_login(make_user(role))
    for url, allowed in PAGES.items():
        status = client.get(url).status_code
        assert status == (200 if role in allowed else 403), (role, url, status)


@pytest.mark.django_db
def test_user_without_role_sees_no_page(client, django_user_model):
    client.force_login(django_user_model.objects.create_user("nobody", password="x"))
    assert client.get("/").status_code == 403
    assert client.get("/alerts/").status_code == 403


@pytest.mark.django_db
def test_login_page_logs_in_and_records_the_login(client, officer):
    from audit.models import AuditLog

    response = client.post("/login/", {"username": "officer1", "password": "correct-horse-battery"})
    assert response.status_code == 302
    assert client.get("/", follow=True).request["PATH_INFO"] == "/alerts/"
    client.logout()
    bad = client.post("/login/", {"username": "officer1", "password": "nope"})
    assert bad.status_code == 200
    actions = list(AuditLog.objects.order_by("pk").values_list("action", "username"))
    assert actions == [("login", "officer1"), ("login.failed", "officer1")]


@pytest.mark.django_db
def test_admin_creates_an_officer_with_a_valid_password(client, admin_user, django_user_model):
    client.force_login(admin_user)
    weak = client.post("/users/new/", {"username": "bob", "role": "officer", "password": "123"})
    assert weak.status_code == 200 and not django_user_model.objects.filter(username="bob").exists()
    ok = client.post("/users/new/", {"username": "bob", "role": "officer", "password": "a-long-unusual-pass"})
    assert ok.status_code == 302
    bob = django_user_model.objects.get(username="bob")
    assert list(bob.groups.values_list("name", flat=True)) == ["officer"]


@pytest.mark.django_db
def test_admin_creates_a_camera_and_sees_its_token_once(client, admin_user):
    from cameras.models import Camera, hash_token

    client.force_login(admin_user)
    response = client.post(
        "/cameras/new/",
        {"name": "Bridge", "region": "eu", "location": "Bridge", "enabled": "on", "silence_minutes": 10},
    )
    assert response.status_code == 200
    token = response.context["token"]
    camera = Camera.objects.get(name="Bridge")
    assert camera.token_hash == hash_token(token)
    assert token not in client.get("/cameras/").content.decode()


def test_production_settings_refuse_to_start_without_secret_key_and_hosts():
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "ALLOWED_HOSTS", "DEBUG")}
    env["DJANGO_SETTINGS_MODULE"] = "config.settings"
    run = subprocess.run([sys.executable, "manage.py", "check"], env=env, capture_output=True, text=True, timeout=120)
    assert run.returncode != 0
    assert "SECRET_KEY must be set" in run.stderr
    env["SECRET_KEY"] = "x" * 50
    run = subprocess.run([sys.executable, "manage.py", "check"], env=env, capture_output=True, text=True, timeout=120)
    assert run.returncode != 0
    assert "ALLOWED_HOSTS must be set" in run.stderr


@pytest.mark.django_db
def test_create_user_command_prints_a_password_that_works(client, capsys):
    from django.core.management import call_command

    call_command("create_user", "alice", "--role", "admin")
    password = capsys.readouterr().out.strip().split("Password: ")[1]
    assert client.login(username="alice", password=password)
    assert client.get("/users/").status_code == 200
