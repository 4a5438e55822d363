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
from datetime import UTC, datetime

from django.db import connections, router
from django.db.models import BooleanField, ExpressionWrapper
from django.utils import timezone

from viewers import geo, resolutions
from viewers.models import Channel, Entitlement, User, current_entitlement_q


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


def decide(user, channel, now: datetime | None = None, country: str | None = None) -> AccessDecision:
    """May `user` watch `channel` at `now`? One query at most.

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

    rows = _decision_rows(user.pk, channel.pk, now)
    current = [row for row in rows if row["is_current"]]
    if current:
        best = resolutions.most_generous(row["max_resolution"] for row in current)
        return AccessDecision(True, "entitled", "You have access.", max_resolution=best or None)
    return _explain_denial(rows, now)


def _decision_query(user, channel, now: datetime):
    """The entitlements `user` holds on `channel`, each marked current or not at `now`: decide()'s one query."""
    return (
        Entitlement.objects.filter(channel=channel)
        .annotate(is_current=ExpressionWrapper(current_entitlement_q(now), output_field=BooleanField()))
        .values("is_current", "revoked_at", "starts_at", "ends_at", "max_resolution")
        .held_by(user)
    )


# Building and compiling _decision_query() through the ORM (a UNION ALL of two lookups with an annotation) cost
# about 1.1 ms of CPU per player page, seven times what PostgreSQL takes to run it, and the player page's largest
# item after the session and user (bench/run.py, docs/BENCHMARKS.md). So it is compiled once per process and
# database, with placeholder values, and each call binds the real ones: same SQL, same single query, same
# converters; the ORM expression above stays the one definition of it.
_PLACEHOLDER_USER, _PLACEHOLDER_CHANNEL = -7_000_001, -7_000_002
_PLACEHOLDER_NOW = datetime(1901, 2, 3, 4, 5, 6, 789, tzinfo=UTC)


@functools.lru_cache(maxsize=8)
def _compiled_decision_query(alias: str):
    connection = connections[alias]
    queryset = _decision_query(User(pk=_PLACEHOLDER_USER), Channel(pk=_PLACEHOLDER_CHANNEL), _PLACEHOLDER_NOW)
    compiler = queryset.query.get_compiler(alias)
    sql, params = compiler.as_sql()
    placeholders = {
        _PLACEHOLDER_USER: "user",
        _PLACEHOLDER_CHANNEL: "channel",
        connection.ops.adapt_datetimefield_value(_PLACEHOLDER_NOW): "now",
    }
    roles = tuple(placeholders[param] for param in params)  # KeyError: a parameter we could not rebind
    converters = compiler.get_converters([column[0] for column in compiler.select[: compiler.col_count]])
    return compiler, sql, roles, converters


def _decision_rows(user_id: int, channel_id: int, now: datetime) -> list[dict]:
    alias = router.db_for_read(Entitlement)
    compiler, sql, roles, converters = _compiled_decision_query(alias)
    connection = connections[alias]
    values = {"user": user_id, "channel": channel_id, "now": connection.ops.adapt_datetimefield_value(now)}
    with connection.cursor() as cursor:
        cursor.execute(sql, [values[role] for role in roles])
        names = [column[0] for column in cursor.description]
        rows = cursor.fetchall()
    if converters:
        rows = compiler.apply_converters(rows, converters)
    return [dict(zip(names, row, strict=True)) for row in rows]


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
