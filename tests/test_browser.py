"""Officers in a real browser (Chromium through Playwright) against the real stack."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from conftest import jpeg_bytes
from tests.conftest import make_stack_user

pytestmark = [pytest.mark.browser, pytest.mark.stack]
# Playwright's sync API keeps an event loop in this thread; the ORM calls in these tests are
# plain synchronous setup and checks, so Django's async-safety guard is lifted for them.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"


def log_in(browser, base_url: str, username: str, password: str):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(f"{base_url}/alerts/")
    assert "/login/" in page.url  # not logged in: sent to the login page
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base_url}/alerts/")
    page.get_by_test_id("connection").filter(has_text="live").wait_for(timeout=15000)
    return page


def test_officers_see_a_live_alert_and_its_acknowledgement(stack, browser):
    from playwright.sync_api import expect

    from cameras.services import do_create_camera
    from hotlist.models import Entry, Hotlist
    from recognition.vision.synth import render_vehicle_scene

    make_stack_user("officer-a", "officer", "officer-a-password")
    make_stack_user("officer-b", "officer", "officer-b-password")
    _, token = do_create_camera(name="Elm St camera", region="us", location="Elm St & 3rd")
    hotlist = Hotlist.objects.create(name="Stolen vehicles")
    Entry.objects.create(
        hotlist=hotlist,
        plate="8KTR552",
        plate_raw="8KTR552",
        state="CA",
        reason="Stolen vehicle",
        case_number="26-04412",
        notes="Grey sedan",
    )
    Entry.objects.create(
        hotlist=hotlist, plate="8ZPD903", plate_raw="8ZPD903", state="CA", reason="Stolen plate", case_number="26-04413"
    )

    page_a = log_in(browser, stack.base_url, "officer-a", "officer-a-password")
    page_b = log_in(browser, stack.base_url, "officer-b", "officer-b-password")
    expect(page_a.get_by_test_id("alert")).to_have_count(0)

    image, _ = render_vehicle_scene("8KTR552", seed=21)
    assert stack.post_frame(token, jpeg_bytes(image)).status_code == 202

    for page in (page_a, page_b):
        card = page.get_by_test_id("alert").first
        expect(card).to_be_visible(timeout=15000)
        expect(card.get_by_test_id("read-text")).to_have_text("8KTR552")
        expect(card.get_by_test_id("entry-plate")).to_have_text("8KTR552")
        expect(card).to_contain_text("Stolen vehicle")
        expect(card).to_contain_text("26-04412")
        expect(card).to_contain_text("Elm St camera")
        # The plate crop and the frame thumbnail really load (served behind the login).
        for img in card.locator("img").all():
            expect(img).to_have_js_property("complete", True)
            assert img.evaluate("i => i.naturalWidth") > 0
    ARTIFACTS.mkdir(exist_ok=True)
    page_a.screenshot(path=str(ARTIFACTS / "dashboard-alert.png"), full_page=True)

    page_a.get_by_test_id("ack").first.click()
    for page in (page_a, page_b):
        expect(page.get_by_test_id("alert-status").first).to_have_text("acknowledged by officer-a", timeout=10000)
    expect(page_b.get_by_test_id("ack")).to_have_count(0)
    page_b.screenshot(path=str(ARTIFACTS / "dashboard-acknowledged.png"), full_page=True)

    # A look-alike misread (Q for D) still hits the lenient list, and the card says how it differs.
    # Letter for letter: the US layouts cannot turn it back (as they would a B read for an 8 in
    # CA's 1ABC234, which then matches as an exact OCR alternative).
    image, _ = render_vehicle_scene("8ZPQ903", seed=22)
    assert stack.post_frame(token, jpeg_bytes(image)).status_code == 202
    card = page_a.locator("[data-testid=alert]", has=page_a.get_by_test_id("match-kind").filter(has_text="lookalike"))
    expect(card).to_be_visible(timeout=15000)
    expect(card.get_by_test_id("read-text")).to_have_text("8ZPQ903")
    expect(card.get_by_test_id("entry-plate")).to_have_text("8ZPD903")
    expect(card.get_by_test_id("explanation")).to_have_text("read Q where the list has D (look-alike)")
    expect(card.get_by_test_id("read-text").locator(".diff")).to_have_text("Q")
    page_a.screenshot(path=str(ARTIFACTS / "dashboard-lookalike.png"), full_page=True)


def test_an_auditor_cannot_open_the_officer_dashboard(stack, browser):
    make_stack_user("auditor-a", "auditor", "auditor-a-password")
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{stack.base_url}/login/")
    page.fill("input[name=username]", "auditor-a")
    page.fill("input[name=password]", "auditor-a-password")
    page.click("button[type=submit]")
    page.wait_for_url(f"{stack.base_url}/audit/reads/")
    response = page.goto(f"{stack.base_url}/alerts/")
    assert response.status == 403


def test_admin_uploads_a_list_with_progress_and_previews_its_matching(stack, browser, tmp_path):
    from playwright.sync_api import expect

    from hotlist.models import Entry, Hotlist

    make_stack_user("admin-a", "admin", "admin-a-password")
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    page = context.new_page()
    page.goto(f"{stack.base_url}/login/")
    page.fill("input[name=username]", "admin-a")
    page.fill("input[name=password]", "admin-a-password")
    page.click("button[type=submit]")
    page.wait_for_url(f"{stack.base_url}/alerts/")

    # A file with a bad row: the page lists the row error and nothing is imported.
    bad = tmp_path / "bad.csv"
    bad.write_text("plate,state,reason\nABC123,TX,Stolen vehicle\nUNK,TX,Stolen vehicle\n")
    page.goto(f"{stack.base_url}/hotlists/upload/")
    page.fill("input[name=list_name]", "Texas stolen")
    page.set_input_files("input[name=file]", str(bad))
    page.click("#upload-form button[type=submit]")
    expect(page.get_by_test_id("import-result")).to_contain_text("1 error(s); nothing was imported", timeout=20000)
    expect(page.get_by_test_id("import-result")).to_contain_text("line 3")
    assert not Hotlist.objects.filter(name="Texas stolen").exists()

    # A good NCIC-style file of 20,000 rows: progress is shown, then the counts.
    lines = []
    for i in range(20000):
        plate = f"T{i:05d}X"
        lines.append(f"V{i:010d}TX2270100240315 {plate:<10}TX20252019TOYTCAMBLK")
    good = tmp_path / "tcic.txt"
    good.write_text("\n".join(lines) + "\n")
    page.goto(f"{stack.base_url}/hotlists/upload/")
    page.fill("input[name=list_name]", "Texas stolen")
    page.set_input_files("input[name=file]", str(good))
    page.click("#upload-form button[type=submit]")
    expect(page.get_by_test_id("import-progress")).to_be_visible()
    expect(page.get_by_test_id("import-result")).to_contain_text("20000 added", timeout=60000)
    expect(page.get_by_test_id("import-result")).to_contain_text("(ncic)")
    assert Entry.objects.filter(hotlist__name="Texas stolen").count() == 20000
    page.screenshot(path=str(ARTIFACTS / "hotlist-upload.png"), full_page=True)

    # The preview on the list's settings page shows what the (unsaved) policy would accept.
    page.get_by_role("link", name="Open the list").click()
    page.fill("input[name=lookalike_budget]", "1")
    page.get_by_test_id("preview-plate").fill("T00012X")
    expect(page.get_by_test_id("preview-summary")).to_contain_text("look-alike misread(s) accepted", timeout=10000)
    expect(page.get_by_test_id("preview-variants")).to_contain_text("TO0012X")
    page.get_by_test_id("preview-plate").scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / "hotlist-preview.png"))


def test_officer_dispositions_and_auditor_searches_with_map_and_export_all_in_the_audit_trail(stack, browser):
    from playwright.sync_api import expect

    from cameras.services import do_create_camera
    from hotlist.models import Entry, Hotlist
    from recognition.vision.synth import render_vehicle_scene

    make_stack_user("officer-d", "officer", "officer-d-password")
    make_stack_user("auditor-d", "auditor", "auditor-d-password")
    _camera, token = do_create_camera(
        name="Harbor Rd camera", region="us", location="Harbor Rd", latitude=40.71, longitude=-74.0
    )
    hotlist = Hotlist.objects.create(name="Wanted")
    Entry.objects.create(
        hotlist=hotlist, plate="5GHN218", plate_raw="5GHN218", reason="Wanted person", case_number="26-9001"
    )

    officer = log_in(browser, stack.base_url, "officer-d", "officer-d-password")
    image, _ = render_vehicle_scene("5GHN218", seed=31)
    assert stack.post_frame(token, jpeg_bytes(image)).status_code == 202
    card = officer.get_by_test_id("alert").first
    expect(card).to_be_visible(timeout=15000)
    card.get_by_test_id("open-alert").click()
    expect(officer.get_by_test_id("detail-read")).to_have_text("5GHN218")
    expect(officer.get_by_test_id("detail-frame")).to_be_visible()
    assert officer.get_by_test_id("detail-box").count() == 1
    officer.select_option("select[name=disposition]", "confirmed")
    officer.fill("textarea[name=note]", "Stopped on Harbor Rd, driver detained")
    officer.click("[data-testid=disposition-form] button[type=submit]")
    expect(officer.get_by_test_id("disposition")).to_contain_text("Confirmed (stop made) by officer-d")
    expect(officer.get_by_test_id("events")).to_contain_text("dispositioned by officer-d")
    officer.screenshot(path=str(ARTIFACTS / "alert-dispositioned.png"), full_page=True)

    auditor = browser.new_context(viewport={"width": 1280, "height": 1000}, accept_downloads=True).new_page()
    auditor.goto(f"{stack.base_url}/login/")
    auditor.fill("input[name=username]", "auditor-d")
    auditor.fill("input[name=password]", "auditor-d-password")
    auditor.click("button[type=submit]")
    auditor.wait_for_url(f"{stack.base_url}/audit/reads/")
    # Without a reason and a case number nothing is searched.
    auditor.fill("input[name=plate]", "5GH*")
    auditor.click("form button[type=submit]")
    expect(auditor.get_by_test_id("result-count")).to_have_count(0)
    auditor.fill("textarea[name=reason]", "Follow-up on case 26-9001")
    auditor.fill("input[name=case_number]", "26-9001")
    auditor.click("form button[type=submit]")
    expect(auditor.get_by_test_id("result-count")).to_contain_text("1 read(s)")
    expect(auditor.get_by_test_id("hit")).to_contain_text("yes")
    # The map draws the camera's point without any tile server.
    expect(auditor.locator("#search-map circle")).to_have_count(1)
    expect(auditor.locator("#search-chart rect").first).to_be_visible()
    with auditor.expect_download() as download:
        auditor.get_by_test_id("export").click()
    csv_text = open(download.value.path(), encoding="utf-8").read()
    assert "5GHN218" in csv_text and "Harbor Rd camera" in csv_text
    auditor.screenshot(path=str(ARTIFACTS / "auditor-search.png"), full_page=True)

    auditor.goto(f"{stack.base_url}/audit/log/")
    log = auditor.get_by_test_id("audit-log")
    expect(log).to_contain_text("alert.disposition")
    expect(log).to_contain_text("search.reads")
    expect(log).to_contain_text("export.reads")
    expect(log).to_contain_text("Follow-up on case 26-9001")
