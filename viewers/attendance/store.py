"""Where heartbeats wait for the worker's fold, so that a heartbeat request writes nothing to the database.

Redis (IVS_HEARTBEAT_REDIS_URL, by default CACHE_URL's Redis): one hash, a few fields per playback session, written
with HINCRBY/HSET in one pipelined round trip. Its size follows the sessions playing, not the heartbeats sent, so a
worker that is down for an hour costs no more memory than one minute. The fold renames the hash (atomic: heartbeats
that arrive meanwhile start a new one), reads it in HSCAN pages and deletes it once the database has the result; a
fold that dies in between leaves the renamed hash, which the next fold reads first, so nothing is lost.

Without Redis (the embedded default, one machine): a PendingHeartbeat row per heartbeat, the cheapest insert there
is. The same fold reads them. A system check says so outside DEBUG (ivs.W070).

Ours rather than a queue library's: what is kept is a running total per session, which a queue would not fold.
With Redis down, record() drops the heartbeat and the request still answers 204: attendance loses a minute, the
viewer loses nothing.
"""

import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime

import redis
from django.conf import settings
from django.db import DatabaseError, transaction

from viewers.models import PendingHeartbeat

logger = logging.getLogger(__name__)

PREFIX = "ivs:heartbeats"
LOCK_SECONDS = 120
RETRY_AFTER_SECONDS = 5  # after a Redis error, heartbeats are dropped without trying for this long


@dataclass(frozen=True)
class Beat:
    """One heartbeat, as the endpoint checked it: its session is not checked yet (the fold does that in bulk)."""

    session_id: int
    user_id: int
    seconds: int
    seen_at: float  # epoch seconds
    ip: str | None
    final: bool = False


@dataclass
class Folded:
    """A session's heartbeats since the last fold."""

    seconds: int = 0
    first_seen: float | None = None
    last_seen: float | None = None  # of a heartbeat that was not the last one
    left: float | None = None  # of the pagehide heartbeat
    ip: str | None = None

    @property
    def seen(self) -> float:
        return max(filter(None, (self.last_seen, self.left)))

    @property
    def has_left(self) -> bool:
        return self.left is not None and self.left >= (self.last_seen or 0)


def at(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


class RedisStore:
    def __init__(self, url, prefix=PREFIX):
        self.client = redis.Redis.from_url(url, socket_connect_timeout=0.2, socket_timeout=0.5)
        self.pending, self.folding, self.lock = prefix, f"{prefix}:folding", f"{prefix}:lock"
        self.down_until = 0.0

    def record(self, beat: Beat) -> bool:
        if time.monotonic() < self.down_until:
            return False
        field = f"{beat.session_id}:{beat.user_id}"
        pipeline = self.client.pipeline(transaction=False)
        pipeline.hincrby(self.pending, f"{field}:s", beat.seconds)
        pipeline.hsetnx(self.pending, f"{field}:f", beat.seen_at)
        pipeline.hset(
            self.pending, mapping={f"{field}:{'e' if beat.final else 't'}": beat.seen_at, f"{field}:i": beat.ip or ""}
        )
        try:
            pipeline.execute()
        except redis.RedisError as exc:
            self.down_until = time.monotonic() + RETRY_AFTER_SECONDS
            logger.warning("heartbeats dropped for %d s: Redis answered %s", RETRY_AFTER_SECONDS, type(exc).__name__)
            return False
        return True

    def fold(self, apply) -> int:
        """Call apply({(session, user): Folded}) with what is pending; forget it once apply has returned."""
        if not self.client.set(self.lock, "1", nx=True, ex=LOCK_SECONDS):
            return 0  # another worker is folding
        try:
            if not self.client.exists(self.folding):
                try:
                    self.client.rename(self.pending, self.folding)
                except redis.ResponseError:  # no such key: no heartbeats since the last fold
                    return 0
            sessions: dict[tuple[int, int], Folded] = {}
            for name, value in self.client.hscan_iter(self.folding, count=1000):
                session, user, part = name.decode().split(":")
                _fold_field(sessions.setdefault((int(session), int(user)), Folded()), part, value.decode())
            apply(sessions)
            self.client.delete(self.folding)
            return len(sessions)
        finally:
            self.client.delete(self.lock)


def _fold_field(folded: Folded, part: str, value: str) -> None:
    if part == "s":
        folded.seconds = int(value)
    elif part == "f":
        folded.first_seen = float(value)
    elif part == "t":
        folded.last_seen = float(value)
    elif part == "e":
        folded.left = float(value)
    elif part == "i":
        folded.ip = value or None


class DatabaseStore:
    BATCH = 5000

    def record(self, beat: Beat) -> bool:
        try:
            PendingHeartbeat.objects.create(
                session_id=beat.session_id,
                user_id=beat.user_id,
                seconds=beat.seconds,
                seen_at=at(beat.seen_at),
                ip=beat.ip,
                final=beat.final,
            )
        except DatabaseError as exc:
            logger.warning("heartbeat dropped: %s", type(exc).__name__)
            return False
        return True

    def fold(self, apply) -> int:
        """One batch of rows, folded and deleted in one transaction."""
        with transaction.atomic():
            rows = list(PendingHeartbeat.objects.select_for_update(skip_locked=True).order_by("pk")[: self.BATCH])
            if not rows:
                return 0
            sessions: dict[tuple[int, int], Folded] = {}
            for row in rows:
                folded = sessions.setdefault((row.session_id, row.user_id), Folded())
                seen = row.seen_at.timestamp()
                folded.seconds += row.seconds
                folded.first_seen = min(folded.first_seen or seen, seen)
                if row.final:
                    folded.left = max(folded.left or 0, seen)
                else:
                    folded.last_seen = max(folded.last_seen or 0, seen)
                folded.ip = row.ip or folded.ip
            apply(sessions)
            PendingHeartbeat.objects.filter(pk__in=[row.pk for row in rows]).delete()
        return len(sessions)


_store = None


def store():
    """This process's store, made on first use (settings cannot change without a restart)."""
    global _store
    if _store is None:
        url = settings.IVS_HEARTBEAT_REDIS_URL
        _store = RedisStore(url) if url else DatabaseStore()
    return _store


def reset():
    """Forget this process's store (tests that change the settings)."""
    global _store
    _store = None
