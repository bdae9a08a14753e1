"""Every page under the production Content-Security-Policy in a real browser: no violation, and the
scripts that moved out of the templates (camera status refresh, the token confirmation) still work."""

from __future__ import annotations

import os

import pytest

from tests.conftest import make_stack_user

pytestmark = [pytest.mark.browser, pytest.mark.stack]
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

# Recorded in the page before any of its scripts run.
_WATCH = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__csp.push(e.violatedDirective + " " + (e.blockedURI || "inline") + " " + (e.sourceFile || "") + ":" + e.lineNumber);
});
"""


def _session(browser, base_url: str, username: str, password: str, landing: str):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.add_init_script(_WATCH)
    page = context.new_page()
    messages: list[str] = []
    page.on("console", lambda m: messages.append(m.text) if "Content Security Policy" in m.text else None)
    page.goto(f"{base_url}/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base_url}{landing}")
    return page, messages


def _visit(page, url: str, messages: list[str]) -> None:
    response = page.goto(url)
    assert response is not None and response.status == 200, url
    assert "script-src 'self'" in (response.headers.get("content-security-policy") or ""), url
    page.wait_for_load_state("networkidle")
    violations = page.evaluate("window.__csp")
    assert violations == [] and messages == [], f"{url}: {violations} {messages}"


def test_every_page_runs_under_the_csp_without_a_violation(stack, browser):
    from playwright.sync_api import expect

    from cameras.models import Camera
    from cameras.services import do_create_camera
    from hotlist.models import Entry, Hotlist

    make_stack_user("admin-csp", "admin", "admin-csp-password")
    make_stack_user("officer-csp", "officer", "officer-csp-password")
    make_stack_user("auditor-csp", "auditor", "auditor-csp-password")
    camera, _ = do_create_camera(name="CSP camera", region="us", latitude=40.7, longitude=-74.0)
    hotlist = Hotlist.objects.create(name="CSP list")
    Entry.objects.create(hotlist=hotlist, plate="ABC123", plate_raw="ABC123", reason="test")
    base = stack.base_url

    officer, messages = _session(browser, base, "officer-csp", "officer-csp-password", "/alerts/")
    expect(officer.get_by_test_id("connection")).to_have_text("live", timeout=15000)  # the websocket connects
    assert officer.evaluate("window.__csp") == [] and messages == []
    _visit(officer, f"{base}/alerts/watch/", messages)

    admin, messages = _session(browser, base, "admin-csp", "admin-csp-password", "/alerts/")
    expect(admin.get_by_test_id("connection")).to_have_text("live", timeout=15000)
    for path in [
        "/cameras/",
        f"/cameras/{camera.pk}/",
        "/hotlists/",
        f"/hotlists/{hotlist.pk}/",
        "/hotlists/upload/",
        "/users/",
        "/account/2fa/",
        "/alerts/watch/",
    ]:
        _visit(admin, base + path, messages)
    # The camera status page refreshes itself from a static script.
    _visit(admin, f"{base}/cameras/{camera.pk}/status/", messages)
    with admin.expect_response(lambda r: r.url.endswith(f"/cameras/{camera.pk}/status.json"), timeout=15000):
        pass
    # Issuing a new token asks first (confirm.js): dismissed, nothing changes; accepted, the token changes.
    hint = Camera.objects.get(pk=camera.pk).token_hash
    admin.goto(f"{base}/cameras/{camera.pk}/")
    admin.once("dialog", lambda dialog: dialog.dismiss())
    admin.get_by_role("button", name="Issue a new token").click()
    admin.wait_for_timeout(500)
    assert Camera.objects.get(pk=camera.pk).token_hash == hint
    admin.once("dialog", lambda dialog: dialog.accept())
    admin.get_by_role("button", name="Issue a new token").click()
    admin.wait_for_load_state("networkidle")
    assert Camera.objects.get(pk=camera.pk).token_hash != hint
    assert admin.evaluate("window.__csp") == [] and messages == []

    auditor, messages = _session(browser, base, "auditor-csp", "auditor-csp-password", "/audit/reads/")
    for path in ["/audit/reads/", "/audit/log/", "/audit/retention/"]:
        _visit(auditor, base + path, messages)
