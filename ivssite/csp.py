"""The Content-Security-Policy, declared for django-csp (settings.CONTENT_SECURITY_POLICY).

The narrowest policy the IVS Player Web SDK plays under (tested in Chromium with no violations,
tests/browser/test_csp.py); no 'unsafe-inline' and no nonce, because the pages have no inline script
(the player's configuration is a `json_script` block, which is data, not script):

- script-src: this site, the SDK's origin when it comes from AWS's CDN, and 'wasm-unsafe-eval'
  (the player decodes in WebAssembly; that keyword allows compiling wasm, not JavaScript eval);
- worker-src: the player runs a worker from a blob: URL (the CDN build) or from this site;
- connect-src / media-src: playlists and segments from IVS (`https://*.live-video.net`,
  CSP_PLAYBACK_ORIGINS in the environment) or from this site (the local origin); media from blob: (MediaSource).
"""

from urllib.parse import urlsplit

from csp.constants import NONE, SELF, WASM_UNSAFE_EVAL


def origin(url: str) -> str | None:
    parts = urlsplit(url)
    if parts.scheme in ("http", "https") and parts.netloc:
        return f"{parts.scheme}://{parts.netloc}"
    return None  # a path on this site: covered by 'self'


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
