"""The player page's one read: the channel at a slug, the entitlements the viewer holds on it (the rows
access.decide() judges) and whether the viewer got as many tokens on it in the last minute as the page rate limit
allows, in one statement.

Why one statement: each round trip to the database or to Redis costs the app server far more CPU than the
database spends answering it (the access decision's rows: ~0.1 ms of PostgreSQL's CPU, ~0.3 ms of the app's,
with the context switches; bench/breakdown.py), and the player page is the site's hottest page. The page limit
counts the audit rows themselves, which every token already writes: exact over any 60 seconds, the same on every
app server, and unaffected by a Redis outage. tests/test_access_query.py checks the rows against the ORM's
definition, tests/test_player_limits.py the limit.
"""

import functools
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import connections, router

from viewers import access
from viewers.models import Channel, TokenAudit
from viewers.player import rows

WINDOW = timedelta(seconds=60)

# The page limit's column: the issue time of the `limit`-th newest token the viewer got on the channel (whatever
# asked for it), or NULL while they have fewer. "The n-th newest" rather than a COUNT over the last minute, so
# that the database walks the (user, channel, issued_at) index backwards and stops after n rows, however long
# the viewer's history; a time range would be planned on the issued_at index, the newest rows being always past
# the planner's statistics (measured: 2,900 rows read to count 6).
PAGE_READ_SQL = """
SELECT {channel_columns},
       (SELECT {audit}.issued_at FROM {audit}
        WHERE {audit}.user_id = %s AND {audit}.channel_id = {channel}.id
        ORDER BY {audit}.issued_at DESC LIMIT 1 OFFSET %s) AS limit_reached_at,
       holdings.*
FROM {channel} LEFT JOIN ({held}) AS holdings ON 1 = 1
WHERE {channel}.{slug} = %s
"""


@dataclass(frozen=True)
class PageRead:
    channel: Channel | None  # None: no channel at that slug
    held: list[dict]  # for access.decide(held=...)
    # At the page limit: when a slot comes free (the oldest of the viewer's last `limit` tokens on the channel
    # leaves the window). None: under the limit.
    page_free_at: datetime | None


@functools.cache
def _sql() -> tuple[str, tuple]:
    table, slug = Channel._meta.db_table, Channel._meta.get_field("slug").column
    fields = (*Channel._meta.concrete_fields, TokenAudit._meta.get_field("issued_at"))
    sql = PAGE_READ_SQL.format(
        channel_columns=", ".join(f"{table}.{field.column}" for field in Channel._meta.concrete_fields),
        audit=TokenAudit._meta.db_table,
        channel=table,
        slug=slug,
        held=access.held_sql(channel_id=f"(SELECT id FROM {table} WHERE {slug} = %s)"),  # noqa: S608  model names
    )
    return sql, fields


def read(slug: str, user, now: datetime, page_limit: int) -> PageRead:
    """What the player page at `slug` needs to know about `user` at `now`, with at most `page_limit` tokens per
    viewer and channel in any WINDOW (refreshes count too: a reload loop and a refresh loop mint the same)."""
    sql, fields = _sql()
    alias = router.db_for_read(Channel)
    connection = connections[alias]
    user_id = user.pk if user.is_authenticated else None
    params = [user_id, max(page_limit - 1, 0), *access.held_params(connection, now, slug, user_id), slug]
    with rows.hot_cursor(connection) as cursor:
        cursor.execute(sql, params)
        fetched = cursor.fetchall()
    if not fetched:
        return PageRead(channel=None, held=[], page_free_at=None)
    count = len(fields)
    values = rows.convert(connection, fields, fetched[0][:count])
    channel = Channel.from_db(alias, [field.attname for field in fields[:-1]], values[:-1])
    limit_reached_at = values[-1] if page_limit > 0 else now
    at_limit = limit_reached_at is not None and limit_reached_at > now - WINDOW
    return PageRead(
        channel=channel,
        held=access.held_rows(connection, [row[count:] for row in fetched]),
        page_free_at=limit_reached_at + WINDOW if at_limit else None,
    )
