"""Hardening: headers, cookies, no-store on tokens, and `check --deploy` clean under production settings."""

import os
import secrets
import subprocess
import sys

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from csp.utils import build_policy
from django.http import HttpResponse
from django.test import Client, RequestFactory

from ivssite import csp as site_csp
from ivssite.middleware import SecurityHeadersMiddleware
from tests import ROOT

pytestmark = pytest.mark.django_db


def directives(response):
    policy = response["Content-Security-Policy"]
    return {part.split()[0]: part.split()[1:] for part in policy.split("; ")}


def whole_directives(policy: str) -> list[str]:
    """The header's directives, whole: django-csp orders them as a set does, so none is reliably last."""
    return [directive.strip() for directive in policy.split(";")]


class TestContentSecurityPolicy:
    def test_the_player_page_allows_exactly_what_the_ivs_player_needs(self, client, alice, settings):
        sdk = "https://player.live-video.net/1.56.1/amazon-ivs-player.min.js"
        settings.IVS_PLAYER_SDK_URL = sdk
        settings.CONTENT_SECURITY_POLICY = site_csp.policy(sdk, ["https://*.live-video.net"])
        client.force_login(alice)
        csp = directives(client.get("/channels/main-event/"))
        assert csp["default-src"] == ["'self'"]
        assert csp["script-src"] == ["'self'", "'wasm-unsafe-eval'", "https://player.live-video.net"]
        assert csp["worker-src"] == ["'self'", "blob:", "https://player.live-video.net"]
        assert csp["connect-src"] == ["'self'", "https://*.live-video.net", "https://player.live-video.net"]
        assert csp["media-src"] == ["'self'", "blob:", "https://*.live-video.net"]
        assert csp["object-src"] == ["'none'"] and csp["frame-ancestors"] == ["'none'"]
        policy = " ".join(v for values in csp.values() for v in values)
        assert "'unsafe-inline'" not in policy and "'unsafe-eval'" not in policy

    def test_a_self_hosted_player_adds_no_other_origin(self):
        config = site_csp.policy("/static/vendor/ivs/ivs-player.js", ["https://*.live-video.net"])
        policy = build_policy(config=config["DIRECTIVES"])
        assert "player.live-video.net" not in policy
        assert "script-src 'self' 'wasm-unsafe-eval'" in whole_directives(policy)

    def test_playback_origins_and_reports_are_configurable(self):
        config = site_csp.policy("/static/p.js", ["https://cdn.example.net"], "https://reports.example.net/csp")
        policy = build_policy(config=config["DIRECTIVES"])
        assert "media-src 'self' blob: https://cdn.example.net" in whole_directives(policy)
        assert "report-uri https://reports.example.net/csp" in whole_directives(policy)

    def test_the_settings_declare_it_from_the_player_and_playback_origins(self, settings):
        declared = settings.CONTENT_SECURITY_POLICY
        origins, report_uri = settings.IVS_CSP_PLAYBACK_ORIGINS, settings.IVS_CSP_REPORT_URI
        assert declared == site_csp.policy(settings.IVS_PLAYER_SDK_URL, origins, report_uri)
        assert "csp.middleware.CSPMiddleware" in settings.MIDDLEWARE

    def test_every_page_carries_it_error_pages_too(self, client):
        assert "Content-Security-Policy" in client.get("/accounts/login/")
        assert "Content-Security-Policy" in client.get("/no/such/page/")


class TestHeadersAndCookies:
    @pytest.fixture
    def production(self, settings):
        settings.SECURE_HSTS_SECONDS = 31536000
        settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True
        settings.SECURE_HSTS_PRELOAD = True
        settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = True
        settings.SECURE_SSL_REDIRECT = True
        return settings

    def test_plain_http_is_redirected_to_https(self, production):
        response = Client().get("/accounts/login/")
        assert response.status_code == 301
        assert response["Location"] == "https://testserver/accounts/login/"

    def test_https_responses_carry_hsts_and_the_other_headers(self, production):
        response = Client().get("/accounts/login/", secure=True)
        assert response["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
        assert response["X-Frame-Options"] == "DENY"
        assert response["Referrer-Policy"] == "same-origin"
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["Cross-Origin-Opener-Policy"] == "same-origin"
        assert "camera=()" in response["Permissions-Policy"]

    def test_cookies_are_secure_httponly_and_samesite(self, production, alice):
        client = Client()
        page = client.get("/accounts/login/", secure=True)
        csrf = page.cookies["csrftoken"]
        assert csrf["secure"] and csrf["samesite"] == "Lax"
        response = client.post(
            "/accounts/login/",
            {"username": "alice", "password": "password", "csrfmiddlewaretoken": csrf.value},
            secure=True,
            HTTP_REFERER="https://testserver/accounts/login/",
        )
        assert response.status_code == 302
        session = response.cookies["sessionid"]
        assert session["secure"] and session["httponly"] and session["samesite"] == "Lax"


class TestNoStore:
    def test_the_player_page_and_the_refresh_endpoint_are_no_store(self, client, alice):
        client.force_login(alice)
        page = client.get("/channels/main-event/")
        assert b"?token=" in page.content
        assert page["Cache-Control"] == "private, no-store"
        refresh = client.post("/channels/main-event/playback")
        assert b"?token=" in refresh.content
        assert refresh["Cache-Control"] == "private, no-store"

    @pytest.mark.parametrize(
        "body, content_type",
        [
            (b'<a href="https://x.live-video.net/a.m3u8?token=abc">', "text/html; charset=utf-8"),
            (b'{"t": "eyJhbGciOiJFUzM4NCJ9.eyJleHAiOjF9.sig"}', "application/json"),
        ],
    )
    def test_any_response_that_carries_a_token_is_made_no_store(self, body, content_type):
        def view(request):
            response = HttpResponse(body, content_type=content_type)
            response["Cache-Control"] = "public, max-age=600"
            return response

        response = SecurityHeadersMiddleware(view)(RequestFactory().get("/"))
        assert response["Cache-Control"] == "private, no-store"

    def test_pages_without_tokens_keep_their_caching(self):
        response = SecurityHeadersMiddleware(lambda r: HttpResponse("<p>hello</p>"))(RequestFactory().get("/"))
        assert "Cache-Control" not in response


def test_check_deploy_is_clean_under_production_settings(tmp_path):
    key = tmp_path / "playback.pem"
    key.write_bytes(
        ec.generate_private_key(ec.SECP384R1()).private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    env = {
        "PATH": os.environ["PATH"],
        "DJANGO_SETTINGS_MODULE": "ivssite.settings",
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "watch.example.com",
        "SITE_URL": "https://watch.example.com",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "CACHE_URL": "redis://127.0.0.1:6379/0",
        "IVS_PLAYBACK_PRIVATE_KEY_FILE": str(key),
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout
