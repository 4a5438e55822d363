"""Response headers Django 5.2 does not set itself: Content-Security-Policy, Permissions-Policy, and
`no-store` on anything that carries a playback token.

The policy is the narrowest the IVS Player Web SDK plays under (tested in Chromium with no
violations, tests/browser/test_csp.py):

- script-src: this site, the SDK's origin when it comes from AWS's CDN, and 'wasm-unsafe-eval'
  (the player decodes in WebAssembly; that keyword allows compiling wasm, not JavaScript eval);
- worker-src: the player runs a worker from a blob: URL (the CDN build) or from this site;
- connect-src / media-src: playlists and segments from IVS (`https://*.live-video.net`,
  CSP_PLAYBACK_ORIGINS) or from this site (the local origin); media from blob: (MediaSource).
"""

import re
from urllib.parse import urlsplit

from django.conf import settings

_JWT = re.compile(rb"eyJ[A-Za-z0-9_-]{4,}\.eyJ")
_TOKEN_TYPES = ("text/html", "application/json")

PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=(), payment=(), usb=()"


def _origin(url: str) -> str | None:
    parts = urlsplit(url)
    if parts.scheme in ("http", "https") and parts.netloc:
        return f"{parts.scheme}://{parts.netloc}"
    return None  # a path on this site: covered by 'self'


def content_security_policy() -> str:
    sdk = [o for o in [_origin(settings.IVS_PLAYER_SDK_URL)] if o]
    playback = list(settings.CSP_PLAYBACK_ORIGINS)
    directives = {
        "default-src": ["'self'"],
        "script-src": ["'self'", "'wasm-unsafe-eval'", *sdk],
        "worker-src": ["'self'", "blob:", *sdk],
        "connect-src": ["'self'", *playback, *sdk],
        "media-src": ["'self'", "blob:", *playback],
        "img-src": ["'self'", "data:"],
        "style-src": ["'self'"],
        "font-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
    if settings.CSP_REPORT_URI:
        directives["report-uri"] = [settings.CSP_REPORT_URI]
    return "; ".join(f"{name} {' '.join(dict.fromkeys(values))}" for name, values in directives.items())


def carries_token(response) -> bool:
    if getattr(response, "streaming", False):
        return False
    if not response.get("Content-Type", "").startswith(_TOKEN_TYPES):
        return False
    content = response.content
    return b"?token=" in content or bool(_JWT.search(content))


class SecurityHeadersMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.setdefault("Content-Security-Policy", content_security_policy())
        response.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        # Views that mint tokens say no-store themselves; this catches any that forget.
        if carries_token(response):
            response["Cache-Control"] = "private, no-store"
        return response
