"""Everyday use in a real browser against the real stack: a phone-sized dashboard, the vehicle on the card,
repeat sightings, a disposition kept after an error, one clock on every page, the alert history.

The stack runs in the agency zone STACK_TIME_ZONE and the browser in another (Asia/Tokyo), so a time shown
in the browser's or the server's own zone fails the checks. Screenshots of the pages go to test-artifacts/,
and with UPDATE_SCREENSHOTS=1 to docs/screenshots/ too (the README shows them).
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from conftest import jpeg_bytes
from tests.conftest import STACK_TIME_ZONE, make_stack_user
from tests.test_browser import ARTIFACTS

pytestmark = [pytest.mark.browser, pytest.mark.stack]
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

SCREENSHOTS = Path(__file__).resolve().parent.parent / "docs" / "screenshots"
BROWSER_ZONE = "Asia/Tokyo"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


def agency(dt) -> str:
    """How the product must show ``dt``: the agency zone, with the zone named."""
    local = dt.astimezone(ZoneInfo(STACK_TIME_ZONE))
    return local.strftime("%Y-%m-%d %H:%M:%S ") + local.tzname()


def screenshot(page, name: str, full_page: bool = False) -> None:
    """A small PNG of the page in test-artifacts/ (and docs/screenshots/ with UPDATE_SCREENSHOTS=1)."""
    from io import BytesIO

    from PIL import Image

    ARTIFACTS.mkdir(exist_ok=True)
    image = Image.open(BytesIO(page.screenshot(full_page=full_page))).convert("RGB")
    if image.height > 1600:
        image = image.crop((0, 0, image.width, 1600))
    if image.width > 900:
        image = image.resize((900, round(image.height * 900 / image.width)), Image.LANCZOS)
    small = image.quantize(colors=128, method=Image.Quantize.MEDIANCUT)
    small.save(ARTIFACTS / name, optimize=True)
    if os.environ.get("UPDATE_SCREENSHOTS") == "1":
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        small.save(SCREENSHOTS / name, optimize=True)


def log_in(browser, base_url: str, username: str, password: str, viewport=DESKTOP, landing="/alerts/", **options):
    context = browser.new_context(viewport=viewport, timezone_id=BROWSER_ZONE, **options)
    page = context.new_page()
    page.goto(f"{base_url}/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base_url}{landing}")
    return page


def no_horizontal_scroll(page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    viewport = page.evaluate("window.innerWidth")
    assert width <= viewport, f"{page.url}: the page is {width} px wide in a {viewport} px window"


def inside_viewport(page, locator) -> None:
    box = locator.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= page.viewport_size["width"], box


# Records the dashboard's notifications (the real API needs a visible, unfocused browser window).
NOTIFICATION_RECORDER = """
window.__notifications = [];
window.Notification = class {
  constructor(title, options) { window.__notifications.push({ title, body: (options || {}).body }); }
  static get permission() { return "granted"; }
  static requestPermission() { return Promise.resolve("granted"); }
};
document.hasFocus = () => false;
"""


def test_an_officer_on_a_phone_sees_the_vehicle_repeats_and_keeps_a_refused_disposition(stack, browser):
    from playwright.sync_api import expect

    from alerts.models import Alert, Sighting
    from cameras.services import do_create_camera
    from hotlist.models import Entry, Hotlist
    from recognition.vision.synth import render_vehicle_scene

    make_stack_user("officer-p", "officer", "officer-p-password")
    _, token = do_create_camera(name="Harbor Rd camera", region="us", location="Harbor Rd & 2nd")
    hotlist = Hotlist.objects.create(name="Stolen vehicles", instructions="Do not stop alone: call for backup.")
    Entry.objects.create(
        hotlist=hotlist,
        plate="5GHN218",
        plate_raw="5GHN218",
        state="CA",
        reason="Stolen vehicle",
        case_number="26-9001",
        make="Toyota",
        model="Camry",
        colour="black",
        vehicle_year="2019",
    )

    page = log_in(
        browser, stack.base_url, "officer-p", "officer-p-password", viewport=PHONE, is_mobile=True, has_touch=True
    )
    page.add_init_script(NOTIFICATION_RECORDER)
    page.reload()
    expect(page.get_by_test_id("connection")).to_have_text("live", timeout=15000)
    # The sound choice is kept across reloads.
    page.get_by_test_id("sound").click()
    page.reload()
    expect(page.get_by_test_id("sound")).to_have_text("sound on")
    expect(page.get_by_test_id("connection")).to_have_text("live", timeout=15000)

    jpeg = jpeg_bytes(render_vehicle_scene("5GHN218", seed=31)[0])
    assert stack.post_frame(token, jpeg).status_code == 202
    card = page.get_by_test_id("alert").first
    expect(card).to_be_visible(timeout=20000)
    expect(card.get_by_test_id("vehicle")).to_have_text("2019 black Toyota Camry")
    expect(card.get_by_test_id("instructions")).to_contain_text("Do not stop alone: call for backup.")
    expect(card).to_contain_text("(CA)")
    alert = Alert.objects.get()
    expect(card).to_contain_text(agency(alert.read.captured_at))
    # Announced: the tab title, screen readers (aria-live) and a browser notification.
    expect(page).to_have_title("(1 new) Live alerts · ALPR Alerts")
    expect(page.get_by_test_id("announcer")).to_contain_text("New alert. 5GHN218, 2019 black Toyota Camry")
    notes = page.evaluate("window.__notifications")
    assert notes and notes[0]["title"] == "Hotlist alert: 5GHN218" and "Harbor Rd camera" in notes[0]["body"]
    # The whole card fits the phone, its buttons included.
    no_horizontal_scroll(page)
    inside_viewport(page, card.get_by_test_id("ack"))
    inside_viewport(page, card.get_by_test_id("open-alert"))
    screenshot(page, "officer-dashboard-phone.png")

    # The vehicle comes by again within the window: recorded and shown on the same alert, not a new one.
    assert stack.post_frame(token, jpeg).status_code == 202
    expect(card.get_by_test_id("repeats")).to_have_text("seen 2 times", timeout=20000)
    assert Alert.objects.count() == 1 and Sighting.objects.filter(alert=alert).count() == 2

    card.get_by_test_id("open-alert").click()
    expect(page.get_by_test_id("detail-vehicle")).to_have_text("2019 black Toyota Camry")
    expect(page.get_by_test_id("detail-instructions")).to_contain_text("call for backup")
    expect(page.get_by_test_id("detail-seen")).to_have_text(agency(alert.read.captured_at))
    expect(page.get_by_test_id("sightings-count")).to_contain_text("Seen 2 times")
    repeat = Sighting.objects.get(alert=alert, repeat=True)
    expect(page.get_by_test_id("sightings")).to_contain_text(agency(repeat.captured_at) + " — 5GHN218 (repeat)")
    no_horizontal_scroll(page)

    # A refused disposition keeps what the officer chose; the second try records it.
    page.select_option("select[name=disposition]", "other")
    page.click("[data-testid=disposition-form] button[type=submit]")
    expect(page.locator("select[name=disposition]")).to_have_value("other")
    expect(page.locator("[data-testid=disposition-form]")).to_contain_text("Say what happened.")
    page.fill("textarea[name=note]", "Owner recovered it an hour ago")
    page.click("[data-testid=disposition-form] button[type=submit]")
    expect(page.get_by_test_id("disposition")).to_contain_text("Other (explain) by officer-p")
    alert.refresh_from_db()
    assert alert.disposition == "other"
    expect(page.get_by_test_id("disposition")).to_contain_text(agency(alert.dispositioned_at))
    no_horizontal_scroll(page)
    screenshot(page, "officer-alert-phone.png", full_page=True)

    # The alert as one evidence package for the case file.
    import json
    import zipfile

    with page.expect_download() as download:
        page.get_by_test_id("evidence").click()
    package = zipfile.ZipFile(download.value.path())
    record = json.loads(package.read(f"alert-{alert.pk}/alert.json"))
    assert record["entry"]["vehicle"] == {"year": "2019", "colour": "black", "make": "Toyota", "model": "Camry"}
    assert [e["kind"] for e in record["trail"]][-1] == "dispositioned" and len(record["sightings"]) == 2
    assert package.read(f"alert-{alert.pk}/frame.jpg")[:2] == b"\xff\xd8"  # the JPEG the camera sent

    # Every officer page fits the phone.
    for path in ("/alerts/", "/alerts/history/", "/alerts/watch/"):
        page.goto(stack.base_url + path)
        expect(page.get_by_test_id("time-zone")).to_have_text(f"Times: {STACK_TIME_ZONE}")
        no_horizontal_scroll(page)
    page.goto(stack.base_url + "/alerts/")
    handled = page.get_by_test_id("handled").get_by_test_id("alert")
    expect(handled).to_have_count(1)  # dispositioned: moved out of "Needs action"
    expect(page.get_by_test_id("alerts").get_by_test_id("alert")).to_have_count(0)
    expect(page).to_have_title("Live alerts · ALPR Alerts")


def test_history_pages_and_filters_and_auditors_read_alerts_and_repeats(stack, browser):
    from playwright.sync_api import expect

    from alerts.models import Alert
    from alerts.services import do_create_alerts, do_disposition
    from cameras.services import do_create_camera
    from hotlist.matching import HotlistIndex, MatchPolicy
    from hotlist.models import Entry, Hotlist
    from recognition.tests.factories import make_read

    officer = make_stack_user("officer-h", "officer", "officer-h-password")
    make_stack_user("auditor-h", "auditor", "auditor-h-password")
    make_stack_user("admin-h", "admin", "admin-h-password")
    camera, _ = do_create_camera(name="Elm St camera", region="us", location="Elm St")
    other, _ = do_create_camera(name="Oak Ave camera", region="us", location="Oak Ave")
    hotlist = Hotlist.objects.create(name="Wanted", instructions="Notify dispatch before any stop.")
    entry = Entry.objects.create(
        hotlist=hotlist,
        plate="7ABC123",
        plate_raw="7ABC123",
        state="CA",
        reason="Wanted person",
        make="Ford",
        model="F-150",
        colour="white",
    )
    match = HotlistIndex.build([(entry.pk, entry.plate, MatchPolicy.exact())]).match(entry.plate)[0]
    from django.db import transaction
    from django.utils import timezone

    t0 = timezone.now() - timedelta(hours=3)
    # 30 passes, 10 minutes apart, alternating cameras; each followed by a repeat read a minute later.
    for i in range(30):
        cam = camera if i % 2 == 0 else other
        at = t0 + timedelta(minutes=10 * i)
        for read_at in (at, at + timedelta(minutes=1)):
            with transaction.atomic():
                do_create_alerts(make_read(cam, "7ABC123", read_at), [(entry, match)])
    alerts = list(Alert.objects.order_by("read__captured_at"))
    assert len(alerts) == 30 and all(a.repeats == 1 for a in alerts)
    for a in alerts[:4]:
        do_disposition(a.pk, officer, "misread")

    page = log_in(browser, stack.base_url, "officer-h", "officer-h-password")
    page.goto(f"{stack.base_url}/alerts/history/")
    expect(page.get_by_test_id("history-count")).to_contain_text("30 alerts; page 1 of 2")
    rows = page.get_by_test_id("history-row")
    expect(rows).to_have_count(25)
    expect(rows.first).to_contain_text(agency(alerts[-1].created_at))
    expect(rows.first).to_contain_text("white Ford F-150")
    screenshot(page, "officer-history.png")
    page.get_by_test_id("older").click()
    expect(rows).to_have_count(5)
    expect(page.get_by_test_id("history-count")).to_contain_text("page 2 of 2")
    page.select_option("select[name=status]", "dispositioned")
    page.select_option("select[name=camera]", label="Elm St camera")
    page.click("[data-testid=history-filters] button[type=submit]")
    expect(rows).to_have_count(2)  # passes 0 and 2 of the four dispositioned were at Elm St
    expect(page.get_by_test_id("history-count")).to_contain_text("2 alerts")
    page.goto(f"{stack.base_url}/alerts/")
    expect(page.get_by_test_id("alerts").get_by_test_id("alert")).to_have_count(26)  # every unhandled one
    expect(page.get_by_test_id("handled").get_by_test_id("alert")).to_have_count(4)
    expect(page.get_by_test_id("unhandled-count")).to_have_text("26")
    screenshot(page, "officer-dashboard.png")

    # The auditor opens an alert read-only, with its repeat, and finds the repeat read as a hit.
    auditor = log_in(browser, stack.base_url, "auditor-h", "auditor-h-password", landing="/audit/reads/")
    auditor.goto(f"{stack.base_url}/alerts/history/")
    expect(auditor.get_by_test_id("history-row")).to_have_count(25)
    first = alerts[0]
    auditor.goto(f"{stack.base_url}/alerts/{first.pk}/")
    expect(auditor.get_by_test_id("disposition")).to_contain_text("Misread by officer-h")
    expect(auditor.get_by_test_id("disposition-form")).to_have_count(0)
    expect(auditor.get_by_test_id("events")).to_contain_text("repeated")
    expect(auditor.get_by_test_id("sightings-count")).to_contain_text("Seen 2 times")
    expect(auditor.get_by_test_id("detail-seen")).to_have_text(agency(first.read.captured_at))
    screenshot(auditor, "auditor-alert.png", full_page=True)
    auditor.goto(f"{stack.base_url}/audit/reads/")
    auditor.fill("input[name=plate]", "7ABC123")
    start = (t0 - timedelta(minutes=5)).astimezone(ZoneInfo(STACK_TIME_ZONE))
    end = (t0 + timedelta(minutes=5)).astimezone(ZoneInfo(STACK_TIME_ZONE))
    # Start and end are typed in the agency's zone: only the first pass and its repeat fall inside.
    auditor.fill("input[name=start]", start.strftime("%Y-%m-%dT%H:%M"))
    auditor.fill("input[name=end]", end.strftime("%Y-%m-%dT%H:%M"))
    auditor.check("input[name=hits_only]")
    auditor.fill("textarea[name=reason]", "Reviewing repeat sightings")
    auditor.fill("input[name=case_number]", "26-7001")
    auditor.click("form button[type=submit]")
    expect(auditor.get_by_test_id("result-count")).to_contain_text("2 read(s)")
    hits = auditor.get_by_test_id("hit")
    expect(hits).to_have_count(2)
    expect(hits.first).to_contain_text(f"yes: Wanted (repeat of alert {first.pk})")
    expect(auditor.locator("table")).to_contain_text(agency(first.read.captured_at))
    screenshot(auditor, "auditor-search.png", full_page=True)
    auditor.goto(f"{stack.base_url}/audit/log/")
    expect(auditor.get_by_test_id("audit-log")).to_contain_text("alert.view")
    expect(auditor.get_by_test_id("time-zone")).to_have_text(f"Times: {STACK_TIME_ZONE}")

    # Admin pages name the zone too; the list's instructions are set on its page.
    admin = log_in(browser, stack.base_url, "admin-h", "admin-h-password")
    for path in ("/cameras/", "/hotlists/", f"/hotlists/{hotlist.pk}/", "/users/"):
        admin.goto(stack.base_url + path)
        expect(admin.get_by_test_id("time-zone")).to_have_text(f"Times: {STACK_TIME_ZONE}")
    admin.goto(f"{stack.base_url}/hotlists/{hotlist.pk}/")
    expect(admin.locator("textarea[name=instructions]")).to_have_value("Notify dispatch before any stop.")
    screenshot(admin, "admin-hotlist.png")
    admin.goto(f"{stack.base_url}/cameras/")
    screenshot(admin, "admin-cameras.png")

    # An entry edited with a reason: audited; the alerts already raised keep what they copied.
    admin.goto(f"{stack.base_url}/hotlists/{hotlist.pk}/")
    admin.get_by_test_id("edit-entry").first.click()
    admin.fill("[data-testid=entry-form] input[name=colour]", "silver")
    admin.fill("[data-testid=entry-form] textarea[name=change_reason]", "typo")
    admin.click("[data-testid=entry-form] button[type=submit]")
    expect(admin.locator("[data-testid=entry-form]")).to_contain_text("Say why (at least 5 characters).")
    expect(admin.locator("[data-testid=entry-form] input[name=colour]")).to_have_value("silver")
    admin.fill("[data-testid=entry-form] textarea[name=change_reason]", "Colour corrected from the registration")
    admin.click("[data-testid=entry-form] button[type=submit]")
    expect(admin.locator("table")).to_contain_text("silver Ford F-150")
    entry.refresh_from_db()
    assert entry.colour == "silver" and Alert.objects.filter(vehicle_colour="white").count() == 30


def test_an_import_that_would_remove_entries_asks_before_removing(stack, browser, tmp_path):
    from playwright.sync_api import expect

    from hotlist.models import Entry, Hotlist

    make_stack_user("admin-i", "admin", "admin-i-password")
    hotlist = Hotlist.objects.create(name="Stolen plates")
    for plate in ("AAA111", "BBB222"):
        Entry.objects.create(hotlist=hotlist, plate=plate, plate_raw=plate, reason="Stolen plate")
    one_row = tmp_path / "one.csv"
    one_row.write_text("plate,reason\nCCC333,Stolen plate\n")
    admin = log_in(browser, stack.base_url, "admin-i", "admin-i-password")

    def upload():
        admin.goto(f"{stack.base_url}/hotlists/upload/")
        admin.select_option("select[name=hotlist]", label="Stolen plates")
        admin.set_input_files("input[name=file]", str(one_row))
        admin.click("#upload-form button[type=submit]")
        confirm = admin.get_by_test_id("import-confirm")
        expect(confirm).to_contain_text("would add 1, change 0 and REMOVE 2 entries", timeout=30000)
        assert sorted(Entry.objects.filter(hotlist=hotlist).values_list("plate", flat=True)) == ["AAA111", "BBB222"]
        return confirm

    upload().get_by_test_id("cancel-import").click()
    expect(admin.get_by_test_id("import-phase")).to_have_text("cancelled: the list is unchanged")
    confirm = upload()
    screenshot(admin, "admin-import-confirm.png", full_page=True)
    confirm.get_by_test_id("confirm-import").click()
    expect(admin.get_by_test_id("import-result")).to_contain_text("1 added, 0 updated, 2 removed", timeout=30000)
    assert list(Entry.objects.filter(hotlist=hotlist).values_list("plate", flat=True)) == ["CCC333"]
    # A typo in a new list's name that matches an existing list is refused, not made a second list.
    admin.goto(f"{stack.base_url}/hotlists/upload/")
    admin.fill("input[name=list_name]", "stolen plates")
    admin.set_input_files("input[name=file]", str(one_row))
    admin.click("#upload-form button[type=submit]")
    expect(admin.locator("#upload-form")).to_contain_text("exists already; pick it under List")
    assert Hotlist.objects.count() == 1


def test_alerts_reach_email_and_a_signed_webhook_configured_by_an_admin(stack, browser):
    import hashlib
    import hmac
    import json
    import time

    from playwright.sync_api import expect

    from cameras.services import do_create_camera
    from deliveries.models import Delivery, DeliveryAttempt
    from deliveries.tests.test_deliveries import Receiver
    from hotlist.models import Entry, Hotlist
    from recognition.vision.synth import render_vehicle_scene

    make_stack_user("admin-d", "admin", "admin-d-password")
    _, token = do_create_camera(name="Bay Rd camera", region="us", location="Bay Rd")
    hotlist = Hotlist.objects.create(name="Auto theft", instructions="Notify the auto theft unit.")
    Entry.objects.create(
        hotlist=hotlist,
        plate="8KTR552",
        plate_raw="8KTR552",
        state="CA",
        reason="Stolen vehicle",
        make="Honda",
        model="Civic",
        colour="grey",
    )
    hook = Receiver(statuses=(500, 200))  # fails once: retried with backoff
    try:
        admin = log_in(browser, stack.base_url, "admin-d", "admin-d-password")
        admin.goto(f"{stack.base_url}/hotlists/{hotlist.pk}/")
        admin.get_by_test_id("deliveries-link").click()
        form = admin.get_by_test_id("delivery-form")
        form.locator("select[name=kind]").select_option("email")
        form.locator("input[name=name]").fill("Auto theft unit")
        form.locator("textarea[name=recipients]").fill("theft-unit@agency.example")
        form.locator("button[type=submit]").click()
        expect(admin.get_by_test_id("deliveries")).to_contain_text("theft-unit@agency.example")
        form = admin.get_by_test_id("delivery-form")
        form.locator("select[name=kind]").select_option("webhook")
        form.locator("input[name=name]").fill("Dispatch CAD")
        form.locator("input[name=url]").fill(hook.url)
        form.locator("button[type=submit]").click()
        secret = admin.get_by_test_id("webhook-secret").inner_text()
        assert secret == Delivery.objects.get(kind="webhook").secret

        jpeg = jpeg_bytes(render_vehicle_scene("8KTR552", seed=21)[0])
        assert stack.post_frame(token, jpeg).status_code == 202
        deadline = time.monotonic() + 40
        while time.monotonic() < deadline and not (stack.smtp.messages and len(hook.received) >= 2):
            time.sleep(0.3)
        assert stack.smtp.messages, stack.logs()
        envelope = stack.smtp.messages[-1]
        assert envelope.rcpt_tos == ["theft-unit@agency.example"]
        assert b"Hotlist alert: 8KTR552 (Auto theft)" in envelope.content
        assert b"Vehicle: grey Honda Civic" in envelope.content
        assert len(hook.received) == 2, stack.logs()
        headers, body = hook.received[-1]
        expected = hmac.new(
            secret.encode(), headers["X-ALPR-Timestamp"].encode() + b"." + body, hashlib.sha256
        ).hexdigest()
        assert headers["X-ALPR-Signature"] == f"sha256={expected}"
        assert json.loads(body)["alert"]["plate"] == "8KTR552"
        tries = list(
            DeliveryAttempt.objects.filter(delivery__kind="webhook")
            .order_by("number")
            .values_list("number", "ok", "status_code")
        )
        assert tries == [(1, False, 500), (2, True, 200)]

        admin.reload()
        attempts = admin.get_by_test_id("delivery-attempt")
        expect(attempts).to_have_count(3)
        expect(admin.get_by_test_id("delivery-attempts")).to_contain_text("failed (HTTP 500)")
        expect(admin.get_by_test_id("delivery-attempts")).to_contain_text("delivered (HTTP 200)")
        expect(admin.get_by_test_id("delivery-attempts")).to_contain_text("sent to theft-unit@agency.example")
        screenshot(admin, "admin-deliveries.png", full_page=True)
    finally:
        hook.close()


def test_a_user_changes_their_password_after_an_admin_reset_and_scans_the_qr_code(stack, browser):
    import cv2
    import numpy as np
    from playwright.sync_api import expect

    from accounts.models import Security

    officer = make_stack_user("officer-w", "officer", "officer-w-password")
    make_stack_user("admin-w", "admin", "admin-w-password")
    admin = log_in(browser, stack.base_url, "admin-w", "admin-w-password")
    admin.goto(f"{stack.base_url}/users/{officer.pk}/")
    admin.get_by_test_id("reset-password-form").locator("button").click()
    one_time = admin.get_by_test_id("one-time-password").inner_text().strip()
    assert len(one_time) >= 12

    page = log_in(browser, stack.base_url, "officer-w", one_time, viewport=PHONE, landing="/account/password/")
    expect(page.get_by_test_id("password-forced")).to_be_visible()
    no_horizontal_scroll(page)
    page.fill("input[name=old_password]", one_time)
    page.fill("input[name=new_password1]", "my-own-new-passphrase-7")
    page.fill("input[name=new_password2]", "my-own-new-passphrase-7")
    page.click("[data-testid=password-form] button[type=submit]")
    page.wait_for_url(f"{stack.base_url}/alerts/")
    assert not Security.objects.get(user=officer).must_change_password

    # The second factor's key as a QR code that a phone can scan: it decodes to the provisioning URI.
    page.goto(f"{stack.base_url}/account/2fa/")
    png = page.get_by_test_id("totp-qr").screenshot()
    image = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_GRAYSCALE)
    # As a phone's camera would see it: a white margin around the code, at a few sizes, as shot
    # and binarised, by OpenCV's two detectors (each misses some renderings at one size and not
    # another: 3 of 300 random keys with the first detector at three sizes, none this way).
    image = cv2.copyMakeBorder(image, 40, 40, 40, 40, cv2.BORDER_CONSTANT, value=255)
    binary = cv2.threshold(image, 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)[1]
    detectors = [cv2.QRCodeDetector(), cv2.QRCodeDetectorAruco()]
    views = (
        cv2.resize(source, None, fx=scale, fy=scale, interpolation=cv2.INTER_NEAREST)
        for source in (image, binary)
        for scale in (1, 2, 3, 4)
    )
    text = next((t for view in views for d in detectors if (t := d.detectAndDecode(view)[0])), "")
    secret = Security.objects.get(user=officer).totp_secret
    assert text.startswith("otpauth://totp/") and f"secret={secret}" in text, text
    screenshot(page, "officer-second-factor-phone.png", full_page=True)

    # The next login takes the new password only.
    again = browser.new_context(viewport=PHONE).new_page()
    again.goto(f"{stack.base_url}/login/")
    again.fill("input[name=username]", "officer-w")
    again.fill("input[name=password]", one_time)
    again.click("button[type=submit]")
    expect(again.get_by_test_id("login-error")).to_contain_text("Please enter a correct username and password")
    expect(again.locator("input[name=username]")).to_have_value("officer-w")  # kept after the error
    again.fill("input[name=password]", "my-own-new-passphrase-7")
    again.click("button[type=submit]")
    again.wait_for_url(f"{stack.base_url}/alerts/")
