"""The player page's hot statements, written once, as SQL with named parameters.

Why SQL rather than the ORM: the player page is the site's hottest page, its statements never change shape, and
building and compiling the equivalent QuerySets cost more CPU than the database spends running them (the access
decision's union with its annotation ~1 ms a page, the channel lookup 0.45 ms, TokenAudit.objects.create ~0.2 ms
over this INSERT; bench/breakdown.py). Table and column names come from the models' metadata, every value is a
parameter, and the rows read are converted by the ORM's own converters (rows.py).
tests/viewers/test_access_query.py checks the rows against the ORM's definition of the same rule, on SQLite and on
PostgreSQL; tests/viewers/player/test_views.py reads the audit row back through the model.

Parameters: %(now)s, %(user_id)s, %(slug)s, %(channel_id)s, %(page_limit_offset)s.
"""

import functools

from django.db.models import DateTimeField, GenericIPAddressField, UUIDField

from viewers.models import Channel, ChatRoom, Entitlement, TokenAudit, User

# The entitlements a user holds on a channel, directly or through a group (EntitlementQuerySet.held_by's UNION ALL:
# PostgreSQL serves each half from its (user, channel) or (group, channel) index, where an OR reads every
# entitlement of the channel; docs/EXPLAIN.md), each marked current at %(now)s or not: the rows access.decide()
# judges. {channel_id} is the SQL that names the channel: a parameter, or the page's subquery by slug.
HELD = """
SELECT revoked_at, starts_at, ends_at, max_resolution,
       (revoked_at IS NULL AND (starts_at IS NULL OR starts_at <= %(now)s) AND (ends_at IS NULL OR ends_at > %(now)s))
           AS is_current
FROM (
    SELECT revoked_at, starts_at, ends_at, max_resolution
    FROM {entitlement} WHERE channel_id = {channel_id} AND user_id = %(user_id)s
    UNION ALL
    SELECT revoked_at, starts_at, ends_at, max_resolution
    FROM {entitlement} WHERE channel_id = {channel_id}
        AND group_id IN (SELECT group_id FROM {user_groups} WHERE user_id = %(user_id)s)
) AS held
"""
HELD_COLUMNS = ("revoked_at", "starts_at", "ends_at", "max_resolution")

# Everything the page reads in one statement: the channel at %(slug)s, the page limit's column and HELD's rows.
# The page limit's column is the issue time of the viewer's n-th newest token on the channel (n = the limit;
# %(page_limit_offset)s is n - 1), or NULL while they have fewer. "The n-th newest" rather than a COUNT over the
# last minute, so that the database walks the (user, channel, issued_at) index backwards and stops after n rows,
# however long the viewer's history; a time range would be planned on the issued_at index, the newest rows being
# always past the planner's statistics (measured: 2,900 rows read to count 6).
# The channel's chat room comes with it (one to one, so the join adds no rows): its ARN, state and message length.
PAGE_READ = """
SELECT {channel_columns}, {room_columns},
       (SELECT {audit}.issued_at FROM {audit}
        WHERE {audit}.user_id = %(user_id)s AND {audit}.channel_id = {channel}.id
        ORDER BY {audit}.issued_at DESC LIMIT 1 OFFSET %(page_limit_offset)s) AS limit_reached_at,
       holdings.*
FROM {channel} LEFT JOIN {room} ON {room}.channel_id = {channel}.id LEFT JOIN ({held}) AS holdings ON 1 = 1
WHERE {channel}.{slug} = %(slug)s
"""
ROOM_COLUMNS = ("arn", "status", "maximum_message_length")


def _held(channel_id: str) -> str:
    return HELD.format(
        entitlement=Entitlement._meta.db_table, user_groups=User.groups.through._meta.db_table, channel_id=channel_id
    )


@functools.cache
def decision() -> str:
    """HELD for the channel %(channel_id)s: access.decide()'s one query when the page has not read its rows."""
    return _held("%(channel_id)s")


@functools.cache
def page_read() -> tuple[str, tuple]:
    """PAGE_READ, and the model fields of the columns before HELD's (the channel's, its chat room's, then the page
    limit's)."""
    table, slug = Channel._meta.db_table, Channel._meta.get_field("slug").column
    room_fields = tuple(ChatRoom._meta.get_field(name) for name in ROOM_COLUMNS)
    sql = PAGE_READ.format(
        channel_columns=", ".join(f"{table}.{field.column}" for field in Channel._meta.concrete_fields),
        room_columns=", ".join(f"{ChatRoom._meta.db_table}.{field.column}" for field in room_fields),
        room=ChatRoom._meta.db_table,
        audit=TokenAudit._meta.db_table,
        channel=table,
        slug=slug,
        held=_held(f"(SELECT id FROM {table} WHERE {slug} = %(slug)s)"),  # noqa: S608  names from the models
    )
    return sql, (*Channel._meta.concrete_fields, *room_fields, TokenAudit._meta.get_field("issued_at"))


# The audit row's values that need their backend's form (dates, the UUID, the address); text and ids go as they
# are, since the fields' preparation would return them unchanged at ~5 µs a field.
_PREPARED = (DateTimeField, UUIDField, GenericIPAddressField)


@functools.cache
def audit_insert(columns: tuple[str, ...]) -> tuple[str, tuple]:
    """INSERT … RETURNING id of one audit row with `columns`, and per column the field whose get_db_prep_save
    its value needs, or None: planned once, not judged per value on every page."""
    fields = tuple(TokenAudit._meta.get_field(name) for name in columns)
    sql = "INSERT INTO {} ({}) VALUES ({}) RETURNING {}".format(  # noqa: S608  names from the model's metadata
        TokenAudit._meta.db_table,
        ", ".join(field.column for field in fields),
        ", ".join(f"%({name})s" for name in columns),
        TokenAudit._meta.pk.column,
    )
    return sql, tuple(field if isinstance(field, _PREPARED) else None for field in fields)
