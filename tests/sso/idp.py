"""The local IdP as the site's login code reaches it, without a server: requests' calls from allauth (discovery,
JWKS, the token endpoint) go to Django's test client, as HTTP would, so both halves run their real code. A test may
answer one path itself (a forged token endpoint); and `log_in` walks a browser through the whole flow."""

import time
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.contrib.auth.hashers import make_password
from django.test import Client

from localidp import keys
from localidp.models import LocalGroup, LocalUser
from sso.adapters import SocialAccountAdapter

PASSWORD = "idp-password"  # noqa: S105  tests only


class ToTestClient(requests.adapters.BaseAdapter):
    """requests → django.test.Client, with a cookie-less client of its own (the site calling the IdP)."""

    def __init__(self, answers=None):
        super().__init__()
        self.client = Client()
        self.answers = answers if answers is not None else {}
        self.calls = []

    def send(self, request, **kwargs):
        parts = urlsplit(request.url)
        self.calls.append((request.method, parts.path))
        if parts.path in self.answers:
            status, body = self.answers[parts.path](request)
            return self._response(request, status, body, {"Content-Type": "application/json"})
        extra = {"HTTP_AUTHORIZATION": request.headers["Authorization"]} if "Authorization" in request.headers else {}
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        body = request.body.encode() if isinstance(request.body, str) else (request.body or b"")
        content_type = request.headers.get("Content-Type", "application/octet-stream")
        answer = self.client.generic(request.method, path, body, content_type=content_type, **extra)
        return self._response(request, answer.status_code, answer.content, dict(answer.items()))

    def _response(self, request, status, body, headers):
        response = requests.Response()
        response.status_code, response.request, response.url = status, request, request.url
        response._content = body if isinstance(body, bytes) else __import__("json").dumps(body).encode()
        response.headers.update(headers)
        return response

    def close(self):
        pass


def idp_user(username="idp-alice", *, groups=(), email="", email_verified=True) -> LocalUser:
    user = LocalUser.objects.create(
        username=username, password=make_password(PASSWORD), email=email, email_verified=email_verified
    )
    for name in groups:
        user.groups.add(LocalGroup.objects.get_or_create(name=name)[0])
    return user


def start(client, next_path="/"):
    """The login page's button: POST to the site, which redirects to the IdP's authorization endpoint."""
    response = client.post("/accounts/sso/local/login/", {"next": next_path})
    assert response.status_code == 302, response.content[:500]
    return response["Location"]


def authorize(client, location, username="idp-alice", password=PASSWORD):
    """At the IdP: sign in and continue; returns the callback URL the IdP sends the browser back to."""
    parts = urlsplit(location)
    response = client.post(f"{parts.path}?{parts.query}", {"username": username, "password": password})
    assert response.status_code == 302, response.content[:500]
    return response["Location"]


def finish(client, callback):
    parts = urlsplit(callback)
    return client.get(f"{parts.path}?{parts.query}")


def log_in(client, username="idp-alice", next_path="/"):
    return finish(client, authorize(client, start(client, next_path), username))


def query(url: str) -> dict:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def signed_id_token(claims: dict, *, key=None, kid=None) -> str:
    """An ID token signed with `key` (default: the local IdP's own) under `kid` (default: the IdP's kid)."""
    real = keys.private_key()
    pem = key or real.as_pem(private=True)
    now = int(time.time())
    body = {"iat": now, "exp": now + 300, **claims}
    return jwt.encode(body, pem, algorithm="RS256", headers={"kid": kid or real.kid})


def other_key_pem() -> bytes:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


@pytest.fixture
def idp_http(db, monkeypatch):
    """Every HTTP call of the site's login code reaches the local IdP through the test client."""
    transport = ToTestClient()

    def session(self):
        import requests

        http = requests.Session()
        http.mount("http://testserver/", transport)
        return http

    monkeypatch.setattr(SocialAccountAdapter, "get_requests_session", session, raising=False)
    return transport
