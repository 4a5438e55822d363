"""Response headers neither Django 5.2 nor django-csp set: Permissions-Policy, and `no-store` on anything that
carries a playback token (django-csp sets the Content-Security-Policy: ivssite/csp.py). Request logs redact
tokens elsewhere (ivssite/logfilters.py).
"""

import re

from csp.utils import build_policy

_JWT = re.compile(rb"eyJ[A-Za-z0-9_-]{4,}\.eyJ")
_TOKEN_TYPES = ("text/html", "application/json")

PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=(), payment=(), usb=()"


def content_security_policy() -> str:
    """The header django-csp sends, from the current settings (tests serve static files with it)."""
    return build_policy()


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
        response.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        # Views that mint tokens say no-store themselves; this catches any that forget.
        if carries_token(response):
            response["Cache-Control"] = "private, no-store"
        return response
