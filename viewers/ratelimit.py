"""Fixed-window rate limits kept in the shared cache, so every app server counts the same hits."""

import logging
import time

from django.core.cache import cache

logger = logging.getLogger(__name__)


def hit(key: str, *, limit: int, window: int = 60) -> int:
    """Count one hit. Returns 0 if allowed, else the seconds until the window resets.

    If the cache is unreachable the hit is allowed: refusing viewers because Redis is down would
    turn a cache outage into a site outage.
    """
    now = time.time()
    bucket = int(now // window)
    cache_key = f"ratelimit:{key}:{bucket}"
    try:
        count = _count(cache_key, timeout=window + 1)
    except Exception:  # any cache backend error: fail open, loudly
        logger.warning("rate limit cache unavailable; allowing %s", key.split(":")[0])
        return 0
    if count > limit:
        return max(1, int((bucket + 1) * window - now) + 1)
    return 0


def _count(cache_key: str, *, timeout: int) -> int:
    """One round trip on Redis (ivssite/cache.py count_hit); on other caches one call when the window's counter
    exists (a reload), two or three when it must be made."""
    count_hit = getattr(cache, "count_hit", None)
    if count_hit is not None:
        return count_hit(cache_key, timeout=timeout)
    try:
        return cache.incr(cache_key)
    except ValueError:  # no counter yet in this window
        if cache.add(cache_key, 1, timeout=timeout):
            return 1
        return cache.incr(cache_key)  # another request made it meanwhile
