"""Content-Security-Policy for every response (Django 5.2 has no built-in one).

The pages load scripts and styles from /static/ only: no inline <script>, no style attributes, no
inline event handlers (templates keep data in ``json_script`` blocks, which are not executed). The
dashboard's websocket goes to the page's own host.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from django.http import HttpRequest, HttpResponse


def _origin(url: str) -> str:
    parts = urlsplit(url.replace("{", "").replace("}", ""))
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""


def content_security_policy(request: HttpRequest) -> str:
    host = request.get_host()
    images = ["'self'"]
    tiles = _origin(getattr(settings, "SEARCH_MAP_TILE_URL", "") or "")
    if tiles:
        images.append(tiles)
    directives = {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": images,
        # 'self' covers ws(s) to the same host in current browsers; the explicit entries cover the rest.
        "connect-src": ["'self'", f"ws://{host}", f"wss://{host}"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
    return "; ".join(f"{name} {' '.join(values)}" for name, values in directives.items())


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if getattr(settings, "CONTENT_SECURITY_POLICY", True) and "Content-Security-Policy" not in response:
            response["Content-Security-Policy"] = content_security_policy(request)
        return response
