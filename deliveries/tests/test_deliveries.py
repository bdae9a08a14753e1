"""Alerts away from the dashboard: email (a real local SMTP server too) and signed webhooks (a real local
HTTP server), every try logged, failures retried, covert lists kept to their audience."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from django.core import mail

from alerts.models import Alert
from alerts.tests.test_alerts import make_list, push_frame
from deliveries.models import Delivery, DeliveryAttempt


class Receiver:
    """A local webhook receiver: answers with the given status codes in turn, keeps what it got."""

    def __init__(self, statuses=(200,)):
        self.statuses = list(statuses)
        self.received: list[tuple[dict, bytes]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                outer.received.append((dict(self.headers), body))
                status = outer.statuses.pop(0) if len(outer.statuses) > 1 else outer.statuses[0]
                self.send_response(status)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()


@pytest.fixture
def receiver():
    made = []

    def make(statuses=(200,)):
        r = Receiver(statuses)
        made.append(r)
        return r

    yield make
    for r in made:
        r.close()


@pytest.fixture
def listed(db):
    entry = make_list(plate="ABC123", make="Toyota", model="Camry", colour="black")
    entry.hotlist.instructions = "Call dispatch first."
    entry.hotlist.save()
    return entry


def raise_alert(client, token, fake_pipeline, capture):
    fake_pipeline("ABC123")
    with capture(execute=True):
        push_frame(client, token)
    return Alert.objects.latest("pk")


@pytest.mark.django_db
def test_a_new_alert_is_mailed_to_the_lists_recipients(
    client, camera_and_token, fake_pipeline, listed, django_capture_on_commit_callbacks
):
    Delivery.objects.create(
        hotlist=listed.hotlist, kind="email", name="Theft unit", recipients="theft@agency.example\nsgt@agency.example"
    )
    alert = raise_alert(client, camera_and_token[1], fake_pipeline, django_capture_on_commit_callbacks)
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["theft@agency.example", "sgt@agency.example"]
    assert message.subject == "Hotlist alert: ABC123 (Stolen) at Main St northbound"
    assert "Vehicle: black Toyota Camry" in message.body and "Instructions: Call dispatch first." in message.body
    attempt = DeliveryAttempt.objects.get()
    assert (attempt.alert, attempt.ok, attempt.number) == (alert, True, 1)


@pytest.mark.django_db
def test_email_reaches_a_real_smtp_server(
    client, camera_and_token, fake_pipeline, listed, settings, django_capture_on_commit_callbacks
):
    from aiosmtpd.controller import Controller

    from tests.conftest import free_port

    class Keep:
        def __init__(self):
            self.messages = []

        async def handle_DATA(self, server, session, envelope):
            self.messages.append(envelope)
            return "250 OK"

    handler = Keep()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", controller.port
        Delivery.objects.create(
            hotlist=listed.hotlist, kind="email", name="Theft unit", recipients="theft@agency.example"
        )
        raise_alert(client, camera_and_token[1], fake_pipeline, django_capture_on_commit_callbacks)
    finally:
        controller.stop()
    assert len(handler.messages) == 1
    envelope = handler.messages[0]
    assert envelope.rcpt_tos == ["theft@agency.example"]
    assert b"Subject: Hotlist alert: ABC123 (Stolen)" in envelope.content
    assert DeliveryAttempt.objects.get().ok


@pytest.mark.django_db
def test_a_webhook_receives_the_alert_signed_with_hmac_sha256(
    client, camera_and_token, fake_pipeline, listed, receiver, django_capture_on_commit_callbacks
):
    hook = receiver()
    delivery = Delivery.objects.create(
        hotlist=listed.hotlist, kind="webhook", name="CAD", url=hook.url, secret="s3cret-key"
    )
    alert = raise_alert(client, camera_and_token[1], fake_pipeline, django_capture_on_commit_callbacks)
    assert len(hook.received) == 1
    headers, body = hook.received[0]
    expected = hmac.new(b"s3cret-key", headers["X-ALPR-Timestamp"].encode() + b"." + body, hashlib.sha256).hexdigest()
    assert headers["X-ALPR-Signature"] == f"sha256={expected}"
    doc = json.loads(body)
    assert doc["event"] == "alert.new" and doc["alert"]["id"] == alert.pk
    assert (doc["alert"]["plate"], doc["alert"]["vehicle"], doc["alert"]["list"]) == (
        "ABC123",
        "black Toyota Camry",
        "Stolen",
    )
    assert DeliveryAttempt.objects.get(delivery=delivery).status_code == 200


@pytest.mark.django_db
def test_a_failing_webhook_is_retried_and_every_try_is_logged(
    client, camera_and_token, fake_pipeline, listed, receiver, settings, django_capture_on_commit_callbacks
):
    settings.DELIVERY_RETRY_BASE_SECONDS = 0
    hook = receiver(statuses=(503, 500, 200))
    Delivery.objects.create(hotlist=listed.hotlist, kind="webhook", name="CAD", url=hook.url, secret="k")
    raise_alert(client, camera_and_token[1], fake_pipeline, django_capture_on_commit_callbacks)
    tries = list(DeliveryAttempt.objects.order_by("number").values_list("number", "ok", "status_code"))
    assert tries == [(1, False, 503), (2, False, 500), (3, True, 200)]
    assert len(hook.received) == 3


@pytest.mark.django_db
def test_a_receiver_that_refuses_is_not_retried(
    client, camera_and_token, fake_pipeline, listed, receiver, django_capture_on_commit_callbacks
):
    hook = receiver(statuses=(403,))
    Delivery.objects.create(hotlist=listed.hotlist, kind="webhook", name="CAD", url=hook.url, secret="k")
    raise_alert(client, camera_and_token[1], fake_pipeline, django_capture_on_commit_callbacks)
    assert list(DeliveryAttempt.objects.values_list("ok", "status_code")) == [(False, 403)]


@pytest.mark.django_db
def test_a_covert_list_delivers_only_to_its_audience(
    client, camera_and_token, fake_pipeline, listed, make_user, receiver, django_capture_on_commit_callbacks
):
    cleared = make_user("officer", "cleared")
    cleared.email = "cleared@agency.example"
    cleared.save()
    hotlist = listed.hotlist
    hotlist.covert = True
    hotlist.save()
    hotlist.visible_to.add(cleared)
    hook = receiver()
    Delivery.objects.create(
        hotlist=hotlist, kind="email", name="Team", recipients="cleared@agency.example\noutsider@elsewhere.example"
    )
    Delivery.objects.create(hotlist=hotlist, kind="webhook", name="CAD", url=hook.url, secret="k")
    raise_alert(client, camera_and_token[1], fake_pipeline, django_capture_on_commit_callbacks)
    assert [m.to for m in mail.outbox] == [["cleared@agency.example"]]
    assert hook.received == []
    details = sorted(DeliveryAttempt.objects.values_list("delivery__kind", "ok", "detail"))
    assert details[0][:2] == ("email", True) and "outsider@elsewhere.example" in details[0][2]
    assert details[1][:2] == ("webhook", False) and "covert" in details[1][2]


@pytest.mark.django_db
def test_a_broker_outage_never_stops_an_alert(
    client, camera_and_token, fake_pipeline, listed, monkeypatch, django_capture_on_commit_callbacks
):
    from deliveries import tasks

    def broken(*args, **kwargs):
        raise ConnectionError("broker away")

    monkeypatch.setattr(tasks.deliver, "delay", broken)
    Delivery.objects.create(hotlist=listed.hotlist, kind="email", name="Team", recipients="a@agency.example")
    alert = raise_alert(client, camera_and_token[1], fake_pipeline, django_capture_on_commit_callbacks)
    assert alert.entry_plate == "ABC123" and not DeliveryAttempt.objects.exists()


@pytest.mark.django_db
def test_admins_configure_deliveries_and_see_every_try(client, admin_user, officer, listed, make_user):
    client.force_login(admin_user)
    url = f"/deliveries/list/{listed.hotlist.pk}/"
    assert client.get(url).status_code == 200
    bad = client.post(url, {"kind": "email", "name": "Team", "recipients": "not-an-address"})
    assert bad.status_code == 400 and "not an email address" in bad.content.decode()
    assert (
        client.post(
            url, {"kind": "webhook", "name": "CAD", "url": "https://cad.example/hook", "active": "on"}
        ).status_code
        == 302
    )
    hook = Delivery.objects.get()
    assert len(hook.secret) == 64
    assert hook.secret in client.get(url).content.decode()
    covert = make_list(name="Covert", plate="ZZZ999").hotlist
    covert.covert = True
    covert.save()
    refused = client.post(
        f"/deliveries/list/{covert.pk}/", {"kind": "webhook", "name": "CAD", "url": "https://cad.example/hook"}
    )
    assert refused.status_code == 400 and "never delivers to a webhook" in refused.content.decode()
    outside = client.post(
        f"/deliveries/list/{covert.pk}/", {"kind": "email", "name": "T", "recipients": "someone@elsewhere.example"}
    )
    assert outside.status_code == 400 and "mails only its admins" in outside.content.decode()
    client.post(f"/deliveries/{hook.pk}/remove/")
    hook.refresh_from_db()
    assert not hook.active
    assert client.get("/deliveries/").status_code == 200
    client.force_login(officer)
    assert client.get(url).status_code == 403 and client.get("/deliveries/").status_code == 403
