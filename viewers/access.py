"""The access rule: who may watch which channel, and when. The only place it is decided.

A user may watch a private channel only if the user is active and holds an
entitlement, directly or through a group, that is not revoked and whose window
contains now. Public channels are open to everyone. Staff get nothing implicitly.
A channel's country rules come first, for every viewer, when the caller gives a
country (viewers/geo.py finds it); without one there is no country check.

Its parts are query rules on EntitlementQuerySet (viewers/models/entitlements.py: current, held_by, holders),
which the reconciler, the admin and the activity page use too; the resolution ladder is viewers/resolutions.py.
"""

import functools
from dataclasses import dataclass
from datetime import datetime

from django.db import connections, router
from django.utils import timezone

from viewers import geo, resolutions
from viewers.models import Channel, Entitlement, User, rows


@dataclass(frozen=True)
class AccessDecision:
    allowed: bool
    reason: str
    message: str
    max_resolution: str | None = None  # None: no limit
    when: datetime | None = None  # the start or end the message refers to
    country: str | None = None  # the viewer's country, on a refusal by the country rule ("" when unknown)


def country_allowed(channel, country: str) -> bool:
    """The channel's country rule for a viewer in `country` ("" when it could not be told).

    An allow-list admits only its countries, so an unknown country is refused; a block-list refuses only its
    countries, so an unknown country passes. Both lists: the country must be allowed and not blocked."""
    allowed = {c.code for c in channel.allowed_countries}
    if allowed and country not in allowed:
        return False
    return not country or country not in {c.code for c in channel.blocked_countries}


def decide(
    user, channel, now: datetime | None = None, country: str | None = None, held: list[dict] | None = None
) -> AccessDecision:
    """May `user` watch `channel` at `now`? One query at most, none when `held` (channel_and_holdings()) is given.

    `country`: the viewer's ISO 3166-1 alpha-2 code, or "" when the country check could not tell it. None
    (the default) makes no country check: the reconciler re-checks running sessions that way, so a viewer is
    not cut off mid-stream because a CDN edge changed."""
    now = now or timezone.now()
    if country is not None and not country_allowed(channel, country):
        return _country_denial(country)
    if not channel.is_private:
        return AccessDecision(True, "public", "This channel is public.")
    if not user.is_authenticated:
        return AccessDecision(False, "login_required", "Log in to watch this channel.")
    if not user.is_active:
        return AccessDecision(False, "inactive", "Your account is not active.")

    if held is None:
        held = _decision_rows(user.pk, channel.pk, now)
    current = [row for row in held if row["is_current"]]
    if current:
        best = resolutions.most_generous(row["max_resolution"] for row in current)
        return AccessDecision(True, "entitled", "You have access.", max_resolution=best or None)
    return _explain_denial(held, now)


# decide()'s one query, written once as SQL: the entitlements a user holds on a channel, directly or through a
# group (EntitlementQuerySet.held_by's UNION ALL, for the reason it gives), each marked current or not. Named SQL
# rather than the ORM because building and compiling the equivalent queryset (a union with an annotation) cost
# about 1 ms of CPU per player page, several times what the database takes to run it; its values are converted
# by the ORM's own converters (viewers/models/rows.py). tests/test_access_query.py checks that both statements
# below return the same rows as the ORM's definition, on SQLite and on PostgreSQL.
HELD_SQL = """
SELECT revoked_at, starts_at, ends_at, max_resolution,
       (revoked_at IS NULL AND (starts_at IS NULL OR starts_at <= %s) AND (ends_at IS NULL OR ends_at > %s))
           AS is_current
FROM (
    SELECT revoked_at, starts_at, ends_at, max_resolution
    FROM {entitlement} WHERE channel_id = {channel_id} AND user_id = %s
    UNION ALL
    SELECT revoked_at, starts_at, ends_at, max_resolution
    FROM {entitlement} WHERE channel_id = {channel_id}
        AND group_id IN (SELECT group_id FROM {user_groups} WHERE user_id = %s)
) AS held
"""
# The player page's one read: the channel at a slug and the same rows, which a viewer who may not watch (or a
# public channel) gets as one row of the channel with empty holdings.
CHANNEL_AND_HELD_SQL = """
SELECT {channel_columns}, holdings.*
FROM {channel} LEFT JOIN ({held}) AS holdings ON 1 = 1
WHERE {channel}.{slug} = %s
"""
_HELD_COLUMNS = ("revoked_at", "starts_at", "ends_at", "max_resolution")


@functools.cache
def _held_fields() -> tuple:
    return tuple(Entitlement._meta.get_field(name) for name in _HELD_COLUMNS)


def _held_sql(channel_id: str) -> str:
    return HELD_SQL.format(
        entitlement=Entitlement._meta.db_table, user_groups=User.groups.through._meta.db_table, channel_id=channel_id
    )


@functools.cache
def _decision_sql() -> str:
    return _held_sql(channel_id="%s")


@functools.cache
def _channel_and_held_sql() -> tuple[str, tuple]:
    table, slug = Channel._meta.db_table, Channel._meta.get_field("slug").column
    fields = tuple(Channel._meta.concrete_fields)
    sql = CHANNEL_AND_HELD_SQL.format(
        channel_columns=", ".join(f"{table}.{field.column}" for field in fields),
        channel=table,
        slug=slug,
        held=_held_sql(channel_id=f"(SELECT id FROM {table} WHERE {slug} = %s)"),  # noqa: S608  names from the model
    )
    return sql, fields


def _held_rows(connection, fetched) -> list[dict]:
    return [
        {
            **dict(zip(_HELD_COLUMNS, rows.convert(connection, _held_fields(), row[:4]), strict=True)),
            "is_current": bool(row[4]),
        }
        for row in fetched
        if row[4] is not None  # the LEFT JOIN's empty holdings
    ]


def _decision_rows(user_id: int, channel_id: int, now: datetime) -> list[dict]:
    connection = connections[router.db_for_read(Entitlement)]
    when = _held_fields()[1].get_db_prep_value(now, connection)
    with rows.hot_cursor(connection) as cursor:
        cursor.execute(_decision_sql(), [when, when, channel_id, user_id, channel_id, user_id])
        return _held_rows(connection, cursor.fetchall())


def channel_and_holdings(slug: str, user, now: datetime):
    """The channel at `slug` (None if there is none) and the entitlements `user` holds on it, each marked current
    at `now`: what decide() reads, for it to take as `held`, in one statement with the channel's lookup (the
    player page's only read before its audit row)."""
    sql, fields = _channel_and_held_sql()
    alias = router.db_for_read(Channel)
    connection = connections[alias]
    when = _held_fields()[1].get_db_prep_value(now, connection)
    user_id = user.pk if user.is_authenticated else None
    with rows.hot_cursor(connection) as cursor:
        cursor.execute(sql, [when, when, slug, user_id, slug, user_id, slug])
        fetched = cursor.fetchall()
    if not fetched:
        return None, []
    count = len(fields)
    channel_row = rows.convert(connection, fields, fetched[0][:count])
    channel = Channel.from_db(alias, [field.attname for field in fields], channel_row)
    return channel, _held_rows(connection, [row[count:] for row in fetched])


def entitlement_state(revoked_at, starts_at, ends_at, now: datetime) -> str:
    """One entitlement's window at `now`: "revoked", "upcoming", "ended" or "active" (the admin's label too)."""
    if revoked_at:
        return "revoked"
    if starts_at and starts_at > now:
        return "upcoming"
    if ends_at and ends_at <= now:
        return "ended"
    return "active"


def _country_denial(country: str) -> AccessDecision:
    where = f"your country ({geo.country_name(country)})" if country else "your country"
    message = f"This channel is not available in {where}."
    return AccessDecision(False, "country", message, country=country)


def _explain_denial(rows, now: datetime) -> AccessDecision:
    by_state: dict[str, list] = {}
    for row in rows:
        by_state.setdefault(entitlement_state(row["revoked_at"], row["starts_at"], row["ends_at"], now), []).append(row)
    if "upcoming" in by_state:
        starts = min(row["starts_at"] for row in by_state["upcoming"])
        return AccessDecision(False, "not_started", "Your access to this channel has not started yet.", when=starts)
    if "ended" in by_state:
        ended = max(row["ends_at"] for row in by_state["ended"])
        return AccessDecision(False, "ended", "Your access to this channel has ended.", when=ended)
    if rows:
        return AccessDecision(False, "revoked", "Your access to this channel has been revoked.")
    return AccessDecision(False, "no_entitlement", "You do not have access to this channel.")


def users_who_may_watch(channel, user_ids, now: datetime | None = None) -> set[int]:
    """Of `user_ids`, those the rule above lets watch `channel` at `now` (the set form of decide()).

    It makes no country check, like decide() without a country: a session that started where the channel is
    available keeps running."""
    user_ids = set(user_ids)
    if not channel.is_private:
        return user_ids
    holders = Entitlement.objects.filter(channel=channel).current(now).holders()
    return set(holders.filter(pk__in=user_ids, is_active=True).values_list("pk", flat=True))
