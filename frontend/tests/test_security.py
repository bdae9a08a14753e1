"""Transport and content security: Secure cookies and HSTS by default in production, a CSP the pages keep."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent.parent
TEMPLATES = ROOT / "frontend" / "templates"


def _settings(**env: str) -> dict:
    """Security settings as config.settings computes them from ``env`` (in a fresh interpreter)."""
    clean = {
        k: v
        for k, v in os.environ.items()
        if k
        not in {"DEBUG", "SECURE_COOKIES", "SECURE_HSTS_SECONDS", "SECURE_PROXY_SSL_HEADER", "DJANGO_SETTINGS_MODULE"}
    }
    clean.update(SECRET_KEY="x" * 50, ALLOWED_HOSTS="alpr.example.org", **env)
    code = (
        "import json; from config import settings as s; print(json.dumps([s.SESSION_COOKIE_SECURE, "
        "s.CSRF_COOKIE_SECURE, s.SECURE_HSTS_SECONDS, getattr(s, 'SECURE_PROXY_SSL_HEADER', None)]))"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=clean, capture_output=True, text=True, check=True)
    session, csrf, hsts, proxy = json.loads(out.stdout.strip().splitlines()[-1])
    return {"session": session, "csrf": csrf, "hsts": hsts, "proxy": proxy}


def test_production_defaults_are_secure_cookies_and_hsts():
    prod = _settings(DEBUG="0")
    assert prod["session"] is True and prod["csrf"] is True and prod["hsts"] >= 180 * 24 * 3600
    assert prod["proxy"] is None


def test_the_demo_and_an_explicit_override_keep_plain_http_working():
    demo = _settings(DEBUG="1")
    assert demo["session"] is False and demo["csrf"] is False and demo["hsts"] == 0
    trial = _settings(DEBUG="0", SECURE_COOKIES="0")
    assert trial["session"] is False and trial["csrf"] is False


def test_behind_a_tls_proxy_the_forwarded_protocol_header_is_trusted_when_configured():
    assert _settings(DEBUG="0", SECURE_PROXY_SSL_HEADER="X-Forwarded-Proto")["proxy"] == [
        "HTTP_X_FORWARDED_PROTO",
        "https",
    ]


@pytest.mark.django_db
def test_pages_carry_a_strict_csp_and_https_requests_get_hsts(client, settings):
    settings.SECURE_HSTS_SECONDS = 31536000
    page = client.get("/login/")
    csp = page["Content-Security-Policy"]
    assert "script-src 'self';" in csp and "style-src 'self';" in csp and "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp and "connect-src 'self' ws://testserver wss://testserver" in csp
    assert "Strict-Transport-Security" not in page  # plain http: browsers ignore it there anyway
    assert client.get("/login/", secure=True)["Strict-Transport-Security"].startswith("max-age=31536000")


@pytest.mark.django_db
def test_a_tls_proxy_header_makes_requests_secure(client, settings):
    settings.SECURE_HSTS_SECONDS = 31536000
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    assert "Strict-Transport-Security" in client.get("/login/", HTTP_X_FORWARDED_PROTO="https")


@pytest.mark.django_db
def test_the_session_cookie_is_secure_when_secure_cookies_are_on(client, settings, officer):
    settings.SESSION_COOKIE_SECURE = True
    settings.CSRF_COOKIE_SECURE = True
    client.get("/login/")
    response = client.post("/login/", {"username": "officer1", "password": "correct-horse-battery"})
    assert response.status_code == 302
    assert response.cookies["sessionid"]["secure"] is True and response.cookies["sessionid"]["httponly"] is True


_INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*application/json)[^>]*>", re.IGNORECASE)
_STYLE_ATTR = re.compile(r"\sstyle\s*=", re.IGNORECASE)
_HANDLER_ATTR = re.compile(r"\son[a-z]+\s*=\s*[\"']", re.IGNORECASE)
_STYLE_TAG = re.compile(r"<style\b", re.IGNORECASE)


def test_templates_hold_no_inline_scripts_styles_or_event_handlers():
    """The CSP (script-src/style-src 'self') would block them: behaviour belongs in frontend/static/."""
    problems = []
    for path in sorted(TEMPLATES.rglob("*.html")):
        text = path.read_text()
        for name, pattern in [
            ("inline <script>", _INLINE_SCRIPT),
            ("style attribute", _STYLE_ATTR),
            ("inline event handler", _HANDLER_ATTR),
            ("<style> element", _STYLE_TAG),
        ]:
            for match in pattern.finditer(text):
                problems.append(f"{path.relative_to(ROOT)}:{text.count(chr(10), 0, match.start()) + 1}: {name}")
    assert problems == []


def test_scripts_set_no_style_attributes():
    problems = [
        str(path.relative_to(ROOT))
        for path in (ROOT / "frontend" / "static").glob("*.js")
        if re.search(r"setAttribute\(\s*[\"']style|\bstyle:\s*[\"']|\.innerHTML\s*=.*style=", path.read_text())
    ]
    assert problems == []
