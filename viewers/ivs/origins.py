"""Origins in IVS playback tokens: which ones IVS accepts in aws:access-control-allow-origin, and its rule for
matching a browser's Origin against that claim. Pure Python: the token code and the local origin use it."""

import re
from urllib.parse import urlsplit

_ORIGIN_RE = re.compile(r"^https?://(\*\.)?[A-Za-z0-9.-]+(:\d{1,5})?$")


def origin_of(url: str) -> str | None:
    """The origin (scheme://host[:port]) of an http(s) URL, or None for anything else."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme in ("http", "https") and parts.netloc else None


def validate_origin(origin: str) -> str:
    """Return the origin if IVS would accept it in aws:access-control-allow-origin."""
    if not _ORIGIN_RE.match(origin):
        raise ValueError(f"{origin!r} is not an origin like https://example.com or https://*.example.com")
    return origin


def origin_allowed(allow_claim: str | None, origin: str | None) -> bool:
    """IVS's origin rule: no claim allows any origin; entries may wildcard the host's left part."""
    if not allow_claim or origin is None:
        # Non-browser clients send no Origin; the claim is a browser control.
        return True
    origin = origin.lower().rstrip("/")
    for entry in (e.strip().lower().rstrip("/") for e in allow_claim.split(",")):
        if entry == "*" or entry == origin:
            return True
        if "://*." in entry:
            scheme, _, pattern = entry.partition("://*.")
            o_scheme, _, o_host = origin.partition("://")
            if o_scheme == scheme and o_host.endswith("." + pattern):
                return True
    return False
