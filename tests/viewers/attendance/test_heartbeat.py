"""The heartbeat endpoint: authenticated by the session cookie and the ticket its page was given for it, cheap (no
query at all with Redis), and never a 500, whatever it is sent or whatever state Redis is in."""

import logging

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from tests.factories import make_user, watch
from viewers.attendance import store as stores
from viewers.models import PendingHeartbeat

pytestmark = pytest.mark.django_db


def config_of(client, slug="main-event"):
    return client.get(f"/channels/{slug}/").context["player_config"]


def beat(client, config, seconds=60, **extra):
    fields = {"user": str(config["viewer"]), "session": str(config["session"]), "ticket": config["heartbeatTicket"]}
    return client.post("/heartbeat", {**fields, "seconds": str(seconds), **extra})


@pytest.fixture
def viewer_client(alice):
    client = Client()
    client.force_login(alice)
    return client


def test_a_beat_is_kept_for_the_fold(database_store, viewer_client, alice):
    config = config_of(viewer_client)
    session = config["session"]
    response = beat(viewer_client, config, 42)
    assert response.status_code == 204
    row = PendingHeartbeat.objects.get()
    assert (row.session_id, row.user_id, row.seconds, row.final) == (session, alice.pk, 42, False)
    assert row.ip == "127.0.0.1"


def test_the_pagehide_beat_says_it_is_the_last(database_store, viewer_client, alice):
    beat(viewer_client, config_of(viewer_client), 5, final="1")
    assert PendingHeartbeat.objects.get().final is True


def test_with_redis_a_beat_makes_no_query_at_all(redis_store, viewer_client, alice):
    config = config_of(viewer_client)
    session = config["session"]
    with CaptureQueriesContext(connection) as queries:
        assert beat(viewer_client, config).status_code == 204
    assert [q["sql"] for q in queries] == []  # no session load, no user, no write
    fields = redis_store.client.hgetall(redis_store.pending)
    assert fields[f"{session}:{alice.pk}:s".encode()] == b"60"


def test_seconds_are_capped_at_two_periods(database_store, viewer_client, alice, settings):
    settings.IVS_HEARTBEAT_SECONDS = 30
    beat(viewer_client, config_of(viewer_client), 999_999)
    assert PendingHeartbeat.objects.get().seconds == 60


def test_without_the_session_cookie_the_ticket_is_worth_nothing(database_store, viewer_client):
    config = config_of(viewer_client)
    assert beat(Client(), config).status_code == 401
    assert not PendingHeartbeat.objects.exists()


def test_a_ticket_belongs_to_one_login(database_store, viewer_client, alice):
    config = config_of(viewer_client)
    other_login = Client()
    other_login.force_login(alice)
    assert beat(other_login, config).status_code == 401  # the same user, another session cookie
    viewer_client.logout()
    assert beat(viewer_client, config).status_code == 401  # logged out: the cookie it was made for is gone
    assert not PendingHeartbeat.objects.exists()


def test_another_users_session_or_a_forged_ticket_is_refused(database_store, viewer_client, alice, bob):
    config = config_of(viewer_client)
    bobs = Client()
    bobs.force_login(bob)
    bob_session = watch(bob, client=bobs)
    assert beat(viewer_client, {**config, "session": bob_session}).status_code == 401
    assert beat(viewer_client, {**config, "viewer": bob.pk}).status_code == 401
    assert beat(viewer_client, {**config, "heartbeatTicket": "0" * 40}).status_code == 401
    assert beat(viewer_client, {**config, "heartbeatTicket": ""}).status_code == 401
    assert not PendingHeartbeat.objects.exists()


def test_a_refreshed_token_brings_the_ticket_for_its_session(database_store, viewer_client):
    config = config_of(viewer_client)
    fresh = viewer_client.post("/channels/main-event/playback", {"session": str(config["session"])}).json()
    assert fresh["session"] != config["session"]
    assert beat(viewer_client, {**config, **fresh}).status_code == 204


def test_a_get_is_refused(database_store, viewer_client):
    assert viewer_client.get("/heartbeat").status_code == 405


@pytest.mark.parametrize(
    "fields",
    [
        {},
        {"user": "1", "session": "abc", "seconds": "60"},
        {"user": "1", "session": "0", "seconds": "60"},
        {"user": "0", "session": "12", "seconds": "60"},
        {"session": "12", "seconds": "60"},
        {"user": "1", "session": "12", "seconds": "-1"},
        {"user": "1", "session": "12", "seconds": "1e3"},
        {"user": "1", "session": "1" * 19, "seconds": "60"},
        {"user": "1", "session": "12\x00", "seconds": "60"},
        {"user": "1\x00", "session": "12", "seconds": "60"},
        {"user": "1", "session": "١٢", "seconds": "60"},
        {"user": "1", "session": "12", "seconds": "9" * 40},
    ],
)
def test_what_the_player_never_sends_is_a_400(database_store, viewer_client, fields):
    response = viewer_client.post("/heartbeat", fields)
    assert response.status_code == 400
    assert not PendingHeartbeat.objects.exists()


def test_no_csrf_token_is_needed_the_ticket_does_its_work(database_store, alice):
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    assert beat(client, config_of(client)).status_code == 204


def test_redis_down_drops_the_beat_and_answers_204(settings, monkeypatch, viewer_client, alice, caplog):
    store = stores.RedisStore("redis://127.0.0.1:1/0")  # nothing listens there
    monkeypatch.setattr(stores, "_store", store)
    config = config_of(viewer_client)
    with caplog.at_level(logging.WARNING, logger="viewers.attendance.store"):
        assert beat(viewer_client, config).status_code == 204
        assert beat(viewer_client, config).status_code == 204  # within the pause: not even tried
    assert len([r for r in caplog.records if "dropped" in r.getMessage()]) == 1
    assert not PendingHeartbeat.objects.exists()
    stores.reset()


def test_the_player_page_tells_the_player_where_and_how_often(viewer_client, alice, settings):
    settings.IVS_HEARTBEAT_SECONDS = 45
    config = viewer_client.get("/channels/main-event/").context["player_config"]
    assert (config["heartbeatUrl"], config["heartbeatSeconds"]) == ("/heartbeat", 45)


def test_a_public_channel_has_no_heartbeat(public_channel):
    client = Client()
    client.force_login(make_user("paula"))
    assert client.get("/channels/lobby/").context["player_config"]["heartbeatUrl"] is None
