"""The JSON endpoint that replaces a token a player page outlived."""

import jwt
import pytest

from viewers import services
from viewers.models import Entitlement, TokenAudit

pytestmark = pytest.mark.django_db

URL = "/channels/main-event/playback"


def refresh(client, **data):
    return client.post(URL, data)


def test_it_requires_login_and_answers_in_json(client, private_channel):
    response = refresh(client)
    assert response.status_code == 401
    assert response.json()["error"] == "login_required"


def test_it_refuses_get(client, alice):
    client.force_login(alice)
    assert client.get(URL).status_code == 405


def test_it_needs_the_csrf_token(alice, private_channel):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    strict.force_login(alice)
    assert strict.post(URL).status_code == 403


def test_it_returns_a_fresh_token_that_verifies(client, alice, public_key):
    client.force_login(alice)
    response = refresh(client)
    assert response.status_code == 200
    assert response["Cache-Control"] == "private, no-store"
    body = response.json()
    claims = jwt.decode(body["playbackUrl"].split("token=")[1], public_key, algorithms=["ES384"])
    assert claims["exp"] == int(body["expiresAt"])
    assert claims["aws:viewer-session-version"] == body["session"]
    # Without a session the player is starting (a device-limited page has no embedded token); with one, refreshing.
    assert TokenAudit.objects.get().purpose == "page"
    refresh(client, session=body["session"])
    assert TokenAudit.objects.latest("pk").purpose == "refresh"


@pytest.mark.parametrize("person, reason", [("carol", "no_entitlement"), ("dave", "ended"), ("frank", "revoked")])
def test_it_applies_the_same_access_rule(client, person, reason, request, private_channel):
    client.force_login(request.getfixturevalue(person))
    response = refresh(client)
    assert response.status_code == 403
    assert response.json()["error"] == reason
    assert "token" not in response.content.decode().replace('"error"', "")
    assert not TokenAudit.objects.exists()


def test_revoked_access_is_refused_at_once(client, alice):
    client.force_login(alice)
    assert refresh(client).status_code == 200
    services.entitlements_revoke(entitlements=Entitlement.objects.filter(user=alice))
    assert refresh(client).json()["error"] == "revoked"


def test_unknown_channels_are_404_in_json(client, alice):
    client.force_login(alice)
    response = client.post("/channels/nope/playback")
    assert response.status_code == 404 and response.json()["error"] == "not_found"


def test_it_is_rate_limited_per_user(client, alice, bob, settings):
    settings.IVS_REFRESH_PER_MINUTE = 3
    client.force_login(alice)
    assert [refresh(client).status_code for _ in range(4)] == [200, 200, 200, 429]
    limited = refresh(client)
    assert 1 <= int(limited["Retry-After"]) <= 61
    assert limited.json()["error"] == "rate_limited"
    client.force_login(bob)
    assert refresh(client).status_code == 200  # another viewer has a budget of their own


def test_a_screen_replaced_by_another_is_told_so_instead_of_fighting_back(client, alice, private_channel):
    private_channel.max_devices = 1
    private_channel.save()
    client.force_login(alice)
    first = refresh(client).json()["session"]
    second = refresh(client).json()["session"]
    response = refresh(client, session=first)
    assert response.status_code == 409
    assert response.json()["error"] == "superseded"
    assert TokenAudit.objects.get(pk=second).ended_at is None  # the newer screen keeps playing


@pytest.mark.parametrize("junk", ["abc", "-1", "9" * 40, ""])
def test_junk_session_values_are_ignored(client, alice, junk):
    client.force_login(alice)
    assert refresh(client, session=junk).status_code == 200


def test_public_channels_need_no_refresh_url(client, public_channel):
    import json
    import re

    page = client.get("/channels/lobby/").content.decode()
    config = json.loads(re.search(r'id="player-config" type="application/json">(.*?)</script>', page).group(1))
    assert config["refreshUrl"] is None


@pytest.mark.parametrize("junk", ["²", "١٢٣", "１２", "12\n", " 12", "+12", "1_2", "\x00"])
def test_it_treats_a_session_that_is_not_ascii_digits_as_no_session(client, alice, junk):
    client.force_login(alice)
    response = refresh(client, session=junk)
    assert response.status_code == 200
    assert TokenAudit.objects.get().purpose == "page"


def test_only_ascii_digits_name_a_superseded_session(client, alice, private_channel):
    private_channel.max_devices = 1
    private_channel.save()
    client.force_login(alice)
    first = refresh(client).json()["session"]
    refresh(client)
    fullwidth = str(first).translate({ord(d): 0xFF10 + int(d) for d in "0123456789"})
    assert refresh(client, session=fullwidth).status_code == 200
    assert refresh(client, session=str(first)).status_code == 409
