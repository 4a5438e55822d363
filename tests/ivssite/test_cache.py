"""Redis down: the site keeps serving player pages, throttles keep counting, and it says so in the log.

Real Redis clients against a closed port (nothing mocked on the wire); the stale-key clean-up is the one
place a failing call is simulated, since a real partition cannot be made on loopback without a proxy.
"""

import logging
import socket

import pytest
import redis
from django.core.cache import caches
from django.test import Client

from ivssite.cache import ResilientRedisCache

CLOSED = "redis://127.0.0.1:1/0"  # port 1: connection refused at once
REAL = "redis://127.0.0.1:6379/15"


def redis_running() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=0.2):
            return True
    except OSError:
        return False


def resilient(location, **options):
    return {"BACKEND": "ivssite.cache.ResilientRedisCache", "LOCATION": location, "OPTIONS": options}


@pytest.fixture
def redis_down(settings):
    settings.CACHES = {
        "default": resilient(CLOSED),
        "sessions": resilient(CLOSED, LOCAL_FALLBACK=False),
    }
    return settings


class TestTheBackend:
    def test_it_falls_back_to_process_memory_and_logs_once(self, caplog):
        cache = ResilientRedisCache(CLOSED, {})
        with caplog.at_level(logging.WARNING, logger="ivssite.cache"):
            assert cache.get("missing", "default") == "default"
            cache.set("k", 1)
            assert cache.get("k") == 1
            assert cache.add("n", 0) is True
            assert cache.incr("n") == 1
            assert cache.get_many(["k", "n"]) == {"k": 1, "n": 1}
        warnings = [r for r in caplog.records if r.name == "ivssite.cache"]
        assert len(warnings) == 1
        assert "Redis cache unavailable" in warnings[0].getMessage()
        assert "per-process memory" in warnings[0].getMessage()
        assert cache.is_down

    def test_without_a_fallback_reads_miss_and_writes_vanish(self):
        cache = ResilientRedisCache(CLOSED, {"OPTIONS": {"LOCAL_FALLBACK": False}})
        cache.set("k", 1)
        assert cache.get("k") is None
        assert cache.add("k", 1) is False  # a claim is refused, never granted twice
        assert not cache.has_key("k")
        with pytest.raises(ValueError):
            cache.incr("k")

    def test_it_stops_asking_a_dead_redis_for_a_while(self, monkeypatch):
        cache = ResilientRedisCache(CLOSED, {"OPTIONS": {"RETRY_AFTER": 60}})
        cache.get("a")
        calls = []
        monkeypatch.setattr(cache._cache, "get", lambda *a: calls.append(a))
        for _ in range(5):
            cache.get("a")
        assert calls == []

    @pytest.mark.parametrize(
        "error",
        [
            redis.exceptions.ReadOnlyError("You can't write against a read only replica."),
            redis.exceptions.ResponseError("OOM command not allowed when used memory > 'maxmemory'."),
            redis.exceptions.BusyLoadingError("Redis is loading the dataset in memory"),
        ],
    )
    def test_any_redis_error_is_served_like_a_lost_connection(self, monkeypatch, caplog, error):
        """A failover (read-only replica) or a full Redis must not turn logins and session writes into 500s."""
        cache = ResilientRedisCache(CLOSED, {})

        def failing(*args, **kwargs):
            raise error

        for name in ("get", "set", "add", "incr", "delete", "get_many"):
            monkeypatch.setattr(cache._cache, name, failing)
        with caplog.at_level(logging.WARNING, logger="ivssite.cache"):
            cache.set("k", 1)
            assert cache.get("k") == 1  # from the per-process fallback
            assert cache.add("n", 0) is True
            assert cache.incr("n") == 1
        assert cache.is_down
        assert type(error).__name__ in caplog.text

    def test_ping_reports_the_truth(self):
        assert ResilientRedisCache(CLOSED, {}).ping() is False

    @pytest.mark.skipif(not redis_running(), reason="no Redis on 127.0.0.1:6379")
    def test_it_works_normally_on_a_live_redis(self):
        cache = ResilientRedisCache(REAL, {"KEY_PREFIX": "test-cache"})
        cache.set("k", {"a": 1})
        assert cache.get("k") == {"a": 1}
        assert cache.ping() and not cache.is_down
        cache.delete("k")

    @pytest.mark.skipif(not redis_running(), reason="no Redis on 127.0.0.1:6379")
    def test_keys_written_during_an_outage_are_dropped_when_redis_is_back(self, monkeypatch, caplog):
        cache = ResilientRedisCache(REAL, {"KEY_PREFIX": "test-cache", "OPTIONS": {"RETRY_AFTER": 0}})
        cache.set("session", "logged in")
        real_delete = type(cache._cache).delete

        def partition(*args, **kwargs):
            raise redis.exceptions.ConnectionError("simulated partition")

        monkeypatch.setattr(cache._cache, "delete", partition)
        cache.delete("session")  # a logout while Redis is unreachable
        monkeypatch.setattr(cache._cache, "delete", real_delete.__get__(cache._cache))
        with caplog.at_level(logging.WARNING, logger="ivssite.cache"):
            assert cache.get("session") is None  # not resurrected from Redis's stale copy
        assert "Redis cache is back; dropped 1 entries" in caplog.text


class TestCountingHits:
    """count_hit: the rate limits' counter in one round trip, the same value Django's get() reads."""

    @pytest.mark.skipif(not redis_running(), reason="no Redis on 127.0.0.1:6379")
    def test_it_counts_in_one_round_trip_and_starts_the_window_once(self, monkeypatch):
        cache = ResilientRedisCache(REAL, {"KEY_PREFIX": "test-count"})
        cache.delete("hits")
        client = cache._cache.get_client(write=True)
        round_trips = []
        real_pipeline = type(client).pipeline

        def counted_pipeline(self, *args, **kwargs):
            pipeline = real_pipeline(self, *args, **kwargs)
            real_execute = pipeline.execute
            pipeline.execute = lambda *a, **k: round_trips.append(1) or real_execute(*a, **k)
            return pipeline

        monkeypatch.setattr(type(client), "pipeline", counted_pipeline)
        monkeypatch.setattr(type(client), "execute_command", lambda *a, **k: pytest.fail("a second round trip"))
        assert [cache.count_hit("hits", timeout=30) for _ in range(3)] == [1, 2, 3]
        assert round_trips == [1, 1, 1]
        monkeypatch.undo()
        assert cache.get("hits") == 3
        assert 0 < client.ttl(cache.make_key("hits")) <= 30  # the first hit's window, not renewed by later hits
        cache.delete("hits")

    def test_with_redis_down_it_counts_per_process(self):
        cache = ResilientRedisCache(CLOSED, {})
        assert [cache.count_hit("hits", timeout=30) for _ in range(3)] == [1, 2, 3]
        assert cache.is_down

    def test_without_a_fallback_it_raises_for_the_caller_to_fail_open(self):
        cache = ResilientRedisCache(CLOSED, {"OPTIONS": {"LOCAL_FALLBACK": False}})
        with pytest.raises(ValueError):
            cache.count_hit("hits", timeout=30)


@pytest.mark.django_db
class TestTheSiteWithRedisDown:
    def test_login_and_the_player_page_still_work(self, redis_down, alice, caplog):
        client = Client()
        with caplog.at_level(logging.WARNING):
            response = client.post("/accounts/login/", {"username": "alice", "password": "password"})
            assert response.status_code == 302
            response = client.get("/channels/main-event/")
        assert response.status_code == 200
        assert b"?token=" in response.content
        assert "Redis cache unavailable" in caplog.text

    def test_sessions_read_through_to_the_database(self, redis_down, alice):
        client = Client()
        client.post("/accounts/login/", {"username": "alice", "password": "password"})
        caches["sessions"].get("anything")  # the outage is noticed
        assert client.get("/channels/main-event/").status_code == 200
        assert client.get("/").context["user"] == alice

    def test_login_throttling_still_holds_per_process(self, redis_down, settings, alice):
        settings.LOGIN_FAILURES_PER_ACCOUNT = 3
        for _ in range(3):
            Client().post("/accounts/login/", {"username": "alice", "password": "nope"})
        assert Client().post("/accounts/login/", {"username": "alice", "password": "password"}).status_code == 429

    def test_readiness_says_degraded_but_stays_in_rotation(self, redis_down):
        response = Client().get("/readyz")
        assert response.status_code == 200
        assert response.json() == {"status": "degraded", "database": "ok", "cache": "unavailable"}
