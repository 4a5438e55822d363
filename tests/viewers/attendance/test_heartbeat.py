"""The heartbeat endpoint: authenticated by the session cookie, cheap (no database write with Redis), and never a
500, whatever it is sent or whatever state Redis is in."""

import logging

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from tests.factories import make_user, watch
from viewers.attendance import store as stores
from viewers.models import PendingHeartbeat

pytestmark = pytest.mark.django_db


def beat(client, session, seconds=60, **extra):
    return client.post("/heartbeat", {"session": str(session), "seconds": str(seconds), **extra})


@pytest.fixture
def viewer_client(alice):
    client = Client()
    client.force_login(alice)
    return client


def test_a_beat_is_kept_for_the_fold(database_store, viewer_client, alice):
    session = watch(alice, client=viewer_client)
    response = beat(viewer_client, session, 42)
    assert response.status_code == 204
    row = PendingHeartbeat.objects.get()
    assert (row.session_id, row.user_id, row.seconds, row.final) == (session, alice.pk, 42, False)
    assert row.ip == "127.0.0.1"


def test_the_pagehide_beat_says_it_is_the_last(database_store, viewer_client, alice):
    session = watch(alice, client=viewer_client)
    beat(viewer_client, session, 5, final="1")
    assert PendingHeartbeat.objects.get().final is True


def test_with_redis_a_beat_writes_nothing_to_the_database(redis_store, viewer_client, alice):
    session = watch(alice, client=viewer_client)
    with CaptureQueriesContext(connection) as queries:
        assert beat(viewer_client, session).status_code == 204
    writes = [q["sql"] for q in queries if not q["sql"].lstrip().upper().startswith("SELECT")]
    assert writes == []
    assert len(queries) <= 1  # the user, at most: the session comes from the cache
    fields = redis_store.client.hgetall(redis_store.pending)
    assert fields[f"{session}:{alice.pk}:s".encode()] == b"60"


def test_seconds_are_capped_at_two_periods(database_store, viewer_client, alice, settings):
    settings.IVS_HEARTBEAT_SECONDS = 30
    beat(viewer_client, watch(alice, client=viewer_client), 999_999)
    assert PendingHeartbeat.objects.get().seconds == 60


def test_anonymous_gets_401_and_nothing_is_kept(database_store, alice):
    session = watch(alice)
    response = beat(Client(), session)
    assert response.status_code == 401
    assert not PendingHeartbeat.objects.exists()


def test_a_get_is_refused(database_store, viewer_client):
    assert viewer_client.get("/heartbeat").status_code == 405


@pytest.mark.parametrize(
    "fields",
    [
        {},
        {"session": "abc", "seconds": "60"},
        {"session": "0", "seconds": "60"},
        {"session": "12", "seconds": "-1"},
        {"session": "12", "seconds": "1e3"},
        {"session": "1" * 19, "seconds": "60"},
        {"session": "12\x00", "seconds": "60"},
        {"session": "١٢", "seconds": "60"},
        {"session": "12", "seconds": "9" * 40},
    ],
)
def test_what_the_player_never_sends_is_a_400(database_store, viewer_client, fields):
    response = viewer_client.post("/heartbeat", fields)
    assert response.status_code == 400
    assert not PendingHeartbeat.objects.exists()


def test_a_beat_needs_the_csrf_token(database_store, alice):
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    session = watch(alice, client=client)
    assert beat(client, session).status_code == 403
    page = client.get("/channels/main-event/")
    token = page.context["csrf_token"]
    assert beat(client, session, csrfmiddlewaretoken=str(token)).status_code == 204


def test_redis_down_drops_the_beat_and_answers_204(settings, monkeypatch, viewer_client, alice, caplog):
    store = stores.RedisStore("redis://127.0.0.1:1/0")  # nothing listens there
    monkeypatch.setattr(stores, "_store", store)
    session = watch(alice, client=viewer_client)
    with caplog.at_level(logging.WARNING, logger="viewers.attendance.store"):
        assert beat(viewer_client, session).status_code == 204
        assert beat(viewer_client, session).status_code == 204  # within the pause: not even tried
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
