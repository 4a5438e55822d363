"""The player page's one read: the channel at a slug, the entitlements the viewer holds on it (the rows
access.decide() judges) and whether the viewer got as many tokens on it in the last minute as the page rate limit
allows, in one statement (sql.PAGE_READ).

Why one statement: each round trip to the database or to Redis costs the app server far more CPU than the
database spends answering it (the access decision's rows: ~0.1 ms of PostgreSQL's CPU, ~0.3 ms of the app's,
with the context switches; bench/breakdown.py), and the player page is the site's hottest page. The page limit
counts the audit rows themselves, which every token already writes: exact over any 60 seconds, the same on every
app server, and unaffected by a Redis outage. tests/viewers/test_access_query.py checks the rows against the ORM's
definition, tests/viewers/player/test_limits.py the limit.
"""

import functools
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import connections, router

from viewers.models import Channel, Entitlement
from viewers.models.chat import room_is_ready
from viewers.player import rows, sql

WINDOW = timedelta(seconds=60)


@dataclass(frozen=True)
class PageRead:
    channel: Channel | None  # None: no channel at that slug
    held: list[dict]  # for access.decide(held=...)
    # At the page limit: when a slot comes free (the oldest of the viewer's last `limit` tokens on the channel
    # leaves the window). None: under the limit.
    page_free_at: datetime | None
    chat: "ChatRead | None" = None  # the channel's chat room, when it has one that is ready


@dataclass(frozen=True)
class ChatRead:
    room_arn: str
    max_length: int


def read(slug: str, user, now: datetime, page_limit: int) -> PageRead:
    """What the player page at `slug` needs to know about `user` at `now`, with at most `page_limit` tokens per
    viewer and channel in any WINDOW (refreshes count too: a reload loop and a refresh loop mint the same)."""
    statement, fields = sql.page_read()
    alias = router.db_for_read(Channel)
    connection = connections[alias]
    params = {
        "slug": slug,
        "user_id": user.pk if user.is_authenticated else None,
        "now": _when(connection, now),
        "page_limit_offset": max(page_limit - 1, 0),
    }
    with rows.hot_cursor(connection) as cursor:
        cursor.execute(statement, params)
        fetched = cursor.fetchall()
    if not fetched:
        return PageRead(channel=None, held=[], page_free_at=None)
    count, room_at = len(fields), len(fields) - 1 - len(sql.ROOM_COLUMNS)
    values = rows.convert(connection, fields, fetched[0][:count])
    channel = Channel.from_db(alias, [field.attname for field in fields[:room_at]], values[:room_at])
    room_arn, room_status, max_length = values[room_at:-1]
    limit_reached_at = values[-1] if page_limit > 0 else now
    at_limit = limit_reached_at is not None and limit_reached_at > now - WINDOW
    return PageRead(
        channel=channel,
        held=_held_rows(connection, [row[count:] for row in fetched]),
        page_free_at=limit_reached_at + WINDOW if at_limit else None,
        chat=ChatRead(room_arn, max_length) if room_is_ready(room_arn, room_status) else None,
    )


def decision_rows(user_id: int, channel_id: int, now: datetime) -> list[dict]:
    """The rows access.decide() judges, for a caller that has not read the page (sql.decision)."""
    connection = connections[router.db_for_read(Entitlement)]
    params = {"channel_id": channel_id, "user_id": user_id, "now": _when(connection, now)}
    with rows.hot_cursor(connection) as cursor:
        cursor.execute(sql.decision(), params)
        return _held_rows(connection, cursor.fetchall())


def _when(connection, now: datetime):
    return Entitlement._meta.get_field("starts_at").get_db_prep_value(now, connection)


@functools.cache
def _held_fields() -> tuple:
    return tuple(Entitlement._meta.get_field(name) for name in sql.HELD_COLUMNS)


def _held_rows(connection, fetched) -> list[dict]:
    """sql.HELD's rows (its five columns, first in each fetched row) as decide() takes them in `held`."""
    return [
        {
            **dict(zip(sql.HELD_COLUMNS, rows.convert(connection, _held_fields(), row[:4]), strict=True)),
            "is_current": bool(row[4]),
        }
        for row in fetched
        if row[4] is not None  # the outer join's row when the viewer holds nothing
    ]
