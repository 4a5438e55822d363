"""No token, private key or session id in any log line.

The logs are captured from the handler the settings configure (its filter and formatter included) while
a viewer fails to log in, gets locked out, logs in through the real form, opens the player page,
refreshes the token, plays from the local IVS origin, and hits a 404 and a database outage; then every
secret the test saw is looked for in everything that was written.
"""

import io
import logging
import os
import re
import subprocess
import sys

import pytest
from django.db import OperationalError
from django.test import Client

from ivssite.logfilters import RedactingFormatter
from tests import ROOT

pytestmark = pytest.mark.django_db


@pytest.fixture
def log_output():
    """The configured console handler, writing into a buffer, with everything at DEBUG."""
    root = logging.getLogger()
    handlers = [h for h in root.handlers if isinstance(h.formatter, RedactingFormatter)]
    assert handlers, "the settings' console handler (RedactingFormatter) is not installed"
    buffer = io.StringIO()
    old_streams = [h.setStream(buffer) for h in handlers]
    loggers = [root, *(logging.getLogger(n) for n in ["django", "django.request", "django.server", "viewers"])]
    old_levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.DEBUG)
    yield buffer
    for h, stream in zip(handlers, old_streams, strict=True):
        h.setStream(stream)
    for lg, level in zip(loggers, old_levels, strict=True):
        lg.setLevel(level)


def test_a_whole_viewing_leaves_no_secret_in_the_logs(
    log_output, alice, registered_key, private_channel, settings, monkeypatch
):
    settings.LOGIN_FAILURES_PER_ACCOUNT = 2
    private_channel.playback_url = private_channel.playback_url.replace(
        "https://a1b2c3d4e5f6.us-west-2.playback.live-video.net", "http://testserver/ivs"
    )
    private_channel.save()
    secrets_seen = set()

    # A failed login, a lockout, then the real login form.
    Client().post("/accounts/login/", {"username": "carol", "password": "guess"})
    Client().post("/accounts/login/", {"username": "carol", "password": "guess-again"})
    client = Client()
    response = client.post("/accounts/login/", {"username": "alice", "password": "password"})
    assert response.status_code == 302
    secrets_seen.add(client.cookies["sessionid"].value)
    secrets_seen.add(client.cookies["csrftoken"].value)

    # The player page and a refresh: two tokens.
    page = client.get("/channels/main-event/")
    url = re.search(rb'"playbackUrl": "([^"]+)"', page.content).group(1).decode()
    token = url.split("?token=")[1]
    secrets_seen.add(token)
    refreshed = client.post("/channels/main-event/playback").json()["playbackUrl"]
    secrets_seen.add(refreshed.split("?token=")[1])

    # Local-origin playback: the multivariant playlist with the token, a variant, a segment; then a replay (403).
    origin = Client()
    multivariant = origin.get(url.replace("http://testserver", ""))
    assert multivariant.status_code == 200
    variant_uri = next(line for line in multivariant.content.decode().splitlines() if line.endswith(".m3u8"))
    variant = origin.get(variant_uri)
    segment_uri = next(line for line in variant.content.decode().splitlines() if line.endswith(".ts"))
    assert origin.get(segment_uri).status_code == 200
    assert origin.get(url.replace("http://testserver", "")).status_code == 403
    secrets_seen.add(variant_uri.split("/")[3])  # the playback session id in the URIs

    # A 404 that quotes a token, code that carelessly logs a URL, a key, an exception, and a database outage.
    client.get(f"/no/such/page/?token={token}")
    careless = logging.getLogger("viewers.careless")
    careless.warning("issued %s", url)
    careless.error("key was %s", settings.IVS_PLAYBACK_PRIVATE_KEY)
    try:
        raise ValueError(f"bad token {token}")
    except ValueError:
        careless.exception("while checking")
    monkeypatch.setattr("viewers.access.decide", lambda *a, **k: (_ for _ in ()).throw(OperationalError("down")))
    assert client.get("/channels/main-event/").status_code == 503

    written = log_output.getvalue()
    assert "login lockout" in written and "Not Found: /no/such/page/" in written and "database unavailable" in written
    assert "token=[redacted]" in written and "[redacted-private-key]" in written and "[redacted-jwt]" in written
    for secret in secrets_seen:
        assert secret not in written
    assert "PRIVATE KEY" not in written
    assert settings.IVS_PLAYBACK_PRIVATE_KEY.splitlines()[1] not in written


def test_in_debug_each_django_record_is_written_once_and_redacted():
    """Django adds a console handler of its own to the "django" logger when DEBUG is on (DEFAULT_LOGGING), which
    wrote every django.* line a second time past the redaction. Set up as `make run` is: a fresh process, DEBUG."""
    token = "eyJhbGciOiJFUzM4NCJ9.eyJhd3M6Y2hhbm5lbC1hcm4iOiJ4In0.c2lnbmF0dXJl"
    code = (
        "import django, logging; django.setup(); "
        "logging.getLogger('django.request').warning("
        f"'Not Found: %s', '/ivs/v1/demo.m3u8?token={token}', extra={{'status_code': 404}})"
    )
    env = {"PATH": os.environ["PATH"], "DJANGO_SETTINGS_MODULE": "ivssite.settings", "DEBUG": "true"}
    result = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True, timeout=60, check=True
    )
    written = result.stdout + result.stderr
    assert token not in written and "eyJ" not in written
    assert written.count("Not Found: /ivs/v1/demo.m3u8?token=[redacted]") == 1
    assert written.count("Not Found") == 1


def test_an_idps_code_and_a_scim_token_are_redacted():
    from ivssite.logfilters import redact

    line = '"GET /accounts/sso/okta/login/callback/?code=SplxlOBeZQQYbYS6WxSbIA&state=xyz HTTP/1.1" 302'
    assert "SplxlOBeZQQYbYS6WxSbIA" not in redact(line) and "state=xyz" in redact(line)
    assert redact("Bearer ivs-scim-AbC_d-9") == "Bearer ivs-scim-[redacted]"
    assert redact("?country_code=FR") == "?country_code=FR"


def test_a_chat_token_is_redacted_in_json_and_in_the_sockets_header():
    from ivssite.logfilters import redact

    body = """Response body: b'{"token": "AQICAHg-secret_chat-token", "sessionExpirationTime": "2026-12-04"}'"""
    assert "secret_chat" not in redact(body) and "sessionExpirationTime" in redact(body)
    assert "secret" not in redact('{"token":"AQICAHg-secret"}')
    header = "< Sec-WebSocket-Protocol: AQICAHg-secret_chat-token\\r\\n< Upgrade: websocket"
    assert "secret_chat" not in redact(header) and "Upgrade: websocket" in redact(header)
