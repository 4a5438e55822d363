"""The Content-Security-Policy, declared for django-csp (settings.CONTENT_SECURITY_POLICY).

The narrowest policy the IVS Player Web SDK plays under (tested in Chromium with no violations,
tests/browser/test_csp.py); no 'unsafe-inline' and no nonce, because the pages have no inline script
(the player's configuration is a `json_script` block, which is data, not script):

- script-src: this site, the SDK's origin when it comes from AWS's CDN, and 'wasm-unsafe-eval'
  (the player decodes in WebAssembly; that keyword allows compiling wasm, not JavaScript eval);
- worker-src: the player runs a worker from a blob: URL (the CDN build) or from this site;
- connect-src / media-src: playlists and segments from IVS (`https://*.live-video.net`,
  CSP_PLAYBACK_ORIGINS in the environment) or from this site (the local origin); media from blob: (MediaSource).

A player page with a chat panel also connects to the IVS Chat messaging WebSocket: `allow_chat(response, url)`
adds that one origin (`wss://edge.ivschat.<region>.amazonaws.com`, or the local stand-in's `ws://host:port`) to that
response's connect-src only, through django-csp 4's per-response update (`response._csp_update`, what its
`@csp_update` decorator sets). Every other page keeps the policy above.
"""

from urllib.parse import urlsplit

from csp.constants import NONE, SELF, WASM_UNSAFE_EVAL
from django.http import HttpRequest


def origin(url: str) -> str | None:
    parts = urlsplit(url)
    if parts.scheme in ("http", "https") and parts.netloc:
        return f"{parts.scheme}://{parts.netloc}"
    return None  # a path on this site: covered by 'self'


def socket_origin(url: str) -> str:
    """The origin of a WebSocket URL, as connect-src matches it: `wss://host[:port]`, without path or credentials."""
    parts = urlsplit(url)
    if parts.scheme not in ("ws", "wss") or not parts.hostname:
        raise ValueError(f"not a ws:// or wss:// URL: {url!r}")
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    return f"{parts.scheme}://{host}" + (f":{parts.port}" if parts.port else "")


def allow_chat(response, messaging_url: str):
    """Let this response's page open the chat's WebSocket at `messaging_url`: its origin joins connect-src for
    this response alone. Returns the response. django-csp 4 reads a per-response update from the response, not the
    request, so it is the response this takes."""
    if isinstance(response, HttpRequest):
        raise TypeError("allow_chat() takes the response: django-csp 4 reads response._csp_update")
    update = dict(getattr(response, "_csp_update", None) or {})
    connect = list(update.get("connect-src") or [])
    allowed = socket_origin(messaging_url)
    if allowed not in connect:
        connect.append(allowed)
    update["connect-src"] = connect
    response._csp_update = update
    return response


def policy(sdk_url: str, playback_origins: list[str], report_uri: str = "") -> dict:
    sdk = [o for o in [origin(sdk_url)] if o]
    playback = list(playback_origins)
    directives = {
        "default-src": [SELF],
        "script-src": [SELF, WASM_UNSAFE_EVAL, *sdk],
        "worker-src": [SELF, "blob:", *sdk],
        "connect-src": [SELF, *playback, *sdk],
        "media-src": [SELF, "blob:", *playback],
        "img-src": [SELF, "data:"],
        "style-src": [SELF],
        "font-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
    if report_uri:
        directives["report-uri"] = [report_uri]
    return {"DIRECTIVES": {name: list(dict.fromkeys(values)) for name, values in directives.items()}}
