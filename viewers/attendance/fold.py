"""The worker's fold: heartbeats waiting in the store (viewers/attendance/store.py) become Viewing rows, in batches.

Every IVS_HEARTBEAT_SECONDS / 2, so a session that beats every period is at most one and a half periods behind in
the database, inside the live page's "watching now" window of two periods. Each session the store holds costs one
row written per fold, whatever number of heartbeats it sent: at one heartbeat a minute, the database writes as many
rows a minute as there are viewers, in statements of BATCH rows.

A heartbeat names its session (the audit id the player was given) and comes with the user its request logged in
as. The fold keeps only those whose session belongs to that user: a beacon for another user's session is dropped
here, in one query per batch, rather than with a query in every request.
"""

import logging

import redis
from django.conf import settings
from django.core import checks
from django.db import transaction
from django_tasks import task

from viewers import periodic
from viewers.attendance import store as stores
from viewers.attendance.store import at
from viewers.models import TokenAudit, Viewing

logger = logging.getLogger(__name__)

BATCH = 500
MAX_FOLDS_PER_RUN = 50  # 25,000 sessions from the database store a run; the Redis store folds all in one


def fold_period() -> float:
    return max(settings.IVS_HEARTBEAT_SECONDS / 2, 1)


def fold(store=None) -> int:
    """Fold what the store holds into Viewing rows. Returns how many sessions were folded."""
    store = store or stores.store()
    total = 0
    for _ in range(MAX_FOLDS_PER_RUN):
        try:
            folded = store.fold(apply)
        except redis.RedisError as exc:  # what is pending stays in Redis for the next run
            logger.warning("heartbeat fold put off: Redis answered %s", type(exc).__name__)
            break
        total += folded
        if not folded:
            break
    return total


def apply(sessions: dict) -> None:
    """Merge {(session id, user id): Folded} into the Viewing rows, BATCH sessions to a statement or two."""
    keys = sorted(sessions)
    for start in range(0, len(keys), BATCH):
        with transaction.atomic():
            _apply_batch({key: sessions[key] for key in keys[start : start + BATCH]})


def _apply_batch(batch: dict) -> None:
    sessions = TokenAudit.objects.filter(pk__in=[session for session, _ in batch]).values_list(
        "pk", "user_id", "channel_id"
    )
    ours = {pk: (channel_id, user_id) for pk, user_id, channel_id in sessions if (pk, user_id) in batch}
    if not ours:
        return
    existing = Viewing.objects.select_for_update().in_bulk(list(ours))
    rows = []
    for session, (channel_id, user_id) in ours.items():
        folded = batch[session, user_id]
        first, seen = at(folded.first_seen or folded.seen), at(folded.seen)
        row = existing.get(session) or Viewing(
            session_id=session, channel_id=channel_id, user_id=user_id, first_seen_at=first, last_seen_at=seen
        )
        row.first_seen_at, row.last_seen_at = min(row.first_seen_at, first), max(row.last_seen_at, seen)
        # No more than the time between first and last heartbeat, and one period: a player cannot claim more.
        elapsed = (row.last_seen_at - row.first_seen_at).total_seconds()
        row.seconds_watched = min(row.seconds_watched + folded.seconds, int(elapsed) + settings.IVS_HEARTBEAT_SECONDS)
        row.last_ip = folded.ip or row.last_ip
        if folded.has_left:
            row.left_at = at(folded.left)
        elif folded.last_seen is not None:
            row.left_at = None  # playing again (a page restored from the back/forward cache)
        rows.append(row)
    Viewing.objects.bulk_create(
        rows,
        update_conflicts=True,
        unique_fields=["session"],
        update_fields=["first_seen_at", "last_seen_at", "seconds_watched", "last_ip", "left_at"],
    )


@task()
def fold_periodically():
    """The worker's periodic fold; it books its next run first, as the other periodic tasks do."""
    schedule(delay=fold_period())
    return {"sessions": fold()}


def schedule(*, delay: float = 0) -> None:
    periodic.book(fold_periodically, delay=delay)


@checks.register(checks.Tags.compatibility)
def check_heartbeat_settings(app_configs=None, **kwargs):
    errors = []
    if not 2 <= settings.IVS_HEARTBEAT_SECONDS <= 600:
        errors.append(checks.Error("IVS_HEARTBEAT_SECONDS must be between 2 and 600.", id="ivs.E070"))
    if not settings.DEBUG and not settings.IVS_HEARTBEAT_REDIS_URL:
        errors.append(
            checks.Warning(
                "No Redis for heartbeats (IVS_HEARTBEAT_REDIS_URL, or a Redis CACHE_URL): each heartbeat writes a "
                "database row.",
                id="ivs.W070",
            )
        )
    return errors
