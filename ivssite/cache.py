"""Django's built-in Redis cache, made to survive Redis being down.

Redis holds state every app server must share (login lockouts, rate limits, sessions' fast copy).
When it is unreachable the site must still serve player pages, so instead of raising, this backend:

- logs one warning per outage (never a key: session cache keys contain the session id),
- stops trying Redis for RETRY_AFTER seconds, so a dead Redis costs no time per request,
- serves the call from a per-process memory cache (LOCAL_FALLBACK=True: counters and throttles keep
  working, per process instead of site-wide), or as a miss (LOCAL_FALLBACK=False: the sessions alias,
  whose database copy is the truth; a per-process copy could resurrect a session logged out elsewhere),
- remembers the keys it could not write or delete and deletes them from Redis when it is back, so a
  session ended during the outage does not come back from a stale Redis copy.
"""

import logging
import threading
import time

import redis.exceptions
from django.core.cache.backends.locmem import LocMemCache
from django.core.cache.backends.redis import RedisCache, RedisCacheClient

logger = logging.getLogger("ivssite.cache")

# Not only a lost connection: a replica that turned read-only in a failover, an out-of-memory Redis or any
# other error Redis answers with must cost a degraded request, never a 500 on a login or a session write.
REDIS_ERRORS = (redis.exceptions.RedisError,)
MAX_STALE_KEYS = 50_000


class ReusedClientRedisCacheClient(RedisCacheClient):
    """Django makes a new redis.Redis for every cache call, and each one copies redis-py's ~170 response callbacks:
    0.3 ms of CPU per call, three calls per player page (py-spy, bench/). One client per connection pool does the
    same work: a redis.Redis is safe to share between threads, its pool hands each command its own connection."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients = {}

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._clients.get(pool)
        if client is None:
            client = self._clients[pool] = self._client(connection_pool=pool)
        return client

    def count_hit(self, key, timeout) -> int:
        """SET NX EX and INCR, pipelined: one round trip where Django's incr() makes two and a new window a third."""
        pipeline = self.get_client(key, write=True).pipeline(transaction=False)
        pipeline.set(key, 0, ex=timeout, nx=True)
        pipeline.incr(key)
        return pipeline.execute()[1]


class CountingRedisCache(RedisCache):
    """Django's RedisCache on one client per connection pool, plus count_hit (the rate limits' counter)."""

    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = ReusedClientRedisCacheClient

    def count_hit(self, key, *, timeout, version=None) -> int:
        """Add one to the counter at `key`, starting it at 0 with `timeout` if there is none, and return it."""
        return self._cache.count_hit(self.make_and_validate_key(key, version=version), timeout)


class CountingMemoryCache(LocMemCache):
    """The per-process fallback, with the same count_hit."""

    def count_hit(self, key, *, timeout, version=None) -> int:
        self.add(key, 0, timeout=timeout, version=version)
        return self.incr(key, version=version)


class ResilientRedisCache(CountingRedisCache):
    def __init__(self, server, params):
        options = dict(params.get("OPTIONS") or {})
        self.retry_after = float(options.pop("RETRY_AFTER", 5))
        local_fallback = options.pop("LOCAL_FALLBACK", True)
        # Fail fast: a request must not hang on a Redis that does not answer.
        options.setdefault("socket_connect_timeout", 0.5)
        options.setdefault("socket_timeout", 0.5)
        super().__init__(server, {**params, "OPTIONS": options})
        self._fallback = (
            CountingMemoryCache(
                f"ivssite-fallback-{id(self)}",
                {
                    "TIMEOUT": params.get("TIMEOUT", 300),
                    "KEY_PREFIX": params.get("KEY_PREFIX", ""),
                    "VERSION": params.get("VERSION", 1),
                    "OPTIONS": {"MAX_ENTRIES": 10_000},
                },
            )
            if local_fallback
            else None
        )
        self._lock = threading.Lock()
        self._down_until = 0.0
        self._down = False
        self._stale: set[str] = set()
        self._stale_overflow = False

    # --- state

    @property
    def is_down(self) -> bool:
        return self._down

    def _mark_down(self, exc: Exception, quiet: bool = False) -> None:
        with self._lock:
            self._down_until = time.monotonic() + self.retry_after
            first = not self._down
            self._down = True
        if first and not quiet:
            logger.warning(
                "Redis cache unavailable (%s: %s); %s, retrying every %gs",
                type(exc).__name__,
                str(exc)[:200],
                "using per-process memory" if self._fallback else "reading through to the database",
                self.retry_after,
            )

    def _recover(self) -> bool:
        """Redis answered again (or may have): drop what went stale meanwhile, before anyone reads it."""
        with self._lock:
            stale, self._stale = list(self._stale), set()
            overflow, self._stale_overflow = self._stale_overflow, False
        try:
            if stale:
                self._cache.delete_many(stale)
            else:
                self._cache.get_client(write=True).ping()
        except REDIS_ERRORS as exc:
            with self._lock:
                self._stale.update(stale)
                self._stale_overflow |= overflow
            self._mark_down(exc, quiet=True)
            return False
        with self._lock:
            self._down = False
        logger.warning(
            "Redis cache is back; dropped %d entries written during the outage%s",
            len(stale),
            " (more were written than tracked: some may be stale until they expire)" if overflow else "",
        )
        return True

    def _remember_stale(self, keys, version) -> None:
        with self._lock:
            for key in keys:
                if len(self._stale) >= MAX_STALE_KEYS:
                    self._stale_overflow = True
                    return
                self._stale.add(self.make_key(key, version=version))

    # --- the wrapper every operation goes through

    def _run(self, name, *args, writes=(), version=None, miss=None, **kwargs):
        if self._down and (time.monotonic() < self._down_until or not self._recover()):
            return self._degraded(name, args, kwargs, writes, version, miss)
        try:
            return getattr(super(), name)(*args, version=version, **kwargs)
        except REDIS_ERRORS as exc:
            self._mark_down(exc)
            return self._degraded(name, args, kwargs, writes, version, miss)

    def _degraded(self, name, args, kwargs, writes, version, miss):
        if writes:
            self._remember_stale(writes, version)
        if self._fallback is not None:
            return getattr(self._fallback, name)(*args, version=version, **kwargs)
        if isinstance(miss, Exception):
            raise miss
        return miss

    def add(self, key, value, timeout=..., version=None):
        kwargs = {} if timeout is ... else {"timeout": timeout}
        # Without a fallback, "not added" is the safe answer: whoever relies on add() for a claim refuses.
        return self._run("add", key, value, writes=[key], version=version, miss=False, **kwargs)

    def get(self, key, default=None, version=None):
        return self._run("get", key, default, version=version, miss=default)

    def set(self, key, value, timeout=..., version=None):
        kwargs = {} if timeout is ... else {"timeout": timeout}
        return self._run("set", key, value, writes=[key], version=version, **kwargs)

    def touch(self, key, timeout=..., version=None):
        kwargs = {} if timeout is ... else {"timeout": timeout}
        return self._run("touch", key, writes=[key], version=version, miss=False, **kwargs)

    def delete(self, key, version=None):
        return self._run("delete", key, writes=[key], version=version, miss=False)

    def get_many(self, keys, version=None):
        return self._run("get_many", keys, version=version, miss={})

    def has_key(self, key, version=None):
        return self._run("has_key", key, version=version, miss=False)

    def incr(self, key, delta=1, version=None):
        return self._run(
            "incr", key, delta, writes=[key], version=version, miss=ValueError("cache unavailable: no counter")
        )

    def count_hit(self, key, *, timeout, version=None) -> int:
        return self._run(
            "count_hit", key, timeout=timeout, writes=[key], version=version, miss=ValueError("cache unavailable")
        )

    def set_many(self, data, timeout=..., version=None):
        kwargs = {} if timeout is ... else {"timeout": timeout}
        return self._run("set_many", data, writes=list(data), version=version, miss=[], **kwargs)

    def delete_many(self, keys, version=None):
        keys = list(keys)
        return self._run("delete_many", keys, writes=keys, version=version)

    def clear(self):
        try:
            result = super().clear()
        except REDIS_ERRORS as exc:
            self._mark_down(exc)
            result = False
        if self._fallback is not None:
            self._fallback.clear()
        return result

    def ping(self) -> bool:
        """For the readiness check: ask Redis itself, whatever state the fallback is in."""
        try:
            self._cache.get_client(write=True).ping()
        except REDIS_ERRORS:
            return False
        return not self._down or self._recover()


def caches(default: dict, key_prefix: str) -> dict:
    """settings.CACHES from CACHE_URL's parsed config: a Redis URL becomes ResilientRedisCache, with a "sessions" alias
    on the same Redis that falls back to the database rather than to per-process memory; anything else serves
    both aliases as it is."""
    if default["BACKEND"] != "django.core.cache.backends.redis.RedisCache":
        return {"default": default, "sessions": default}
    default = {**default, "BACKEND": "ivssite.cache.ResilientRedisCache", "KEY_PREFIX": key_prefix}
    sessions = {**default, "OPTIONS": {**default.get("OPTIONS", {}), "LOCAL_FALLBACK": False}}
    return {"default": default, "sessions": sessions}


def redis_url(caches_setting: dict) -> str:
    """The default cache's Redis URL, or "" when the cache is not Redis (the heartbeats' default store)."""
    default = caches_setting["default"]
    return default["LOCATION"] if default["BACKEND"] == "ivssite.cache.ResilientRedisCache" else ""
