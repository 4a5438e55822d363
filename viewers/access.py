"""The access rule: who may watch which channel, and when. The only place it is decided.

A user may watch a private channel only if the user is active and holds an
entitlement, directly or through a group, that is not revoked and whose window
contains now. Public channels are open to everyone. Staff get nothing implicitly.
A channel's country rules come first, for every viewer, when the caller gives a
country (viewers/player/geo.py finds it); without one there is no country check.

Its parts are query rules on EntitlementQuerySet (viewers/models/entitlements.py: current, held_by, holders),
which the reconciler, the admin and the activity page use too; the resolution ladder is viewers/resolutions.py. The
rows decide() judges are read by the SQL in viewers/player/sql.py (the player page reads them with its channel).
"""

from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone

from viewers import resolutions
from viewers.models import Entitlement
from viewers.player import geo, pageread
from viewers.reasons import Reason


@dataclass(frozen=True)
class AccessDecision:
    allowed: bool
    reason: Reason
    message: str
    max_resolution: str | None = None  # None: no limit
    when: datetime | None = None  # the start or end the message refers to
    country: str | None = None  # the viewer's country, on a refusal by the country rule ("" when unknown)

    @property
    def may_buy(self) -> bool:
        """A refusal that buying access would lift (not one that a purchase cannot change, like a country)."""
        return self.reason in (Reason.NO_ENTITLEMENT, Reason.ENDED, Reason.REVOKED)


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
    """May `user` watch `channel` at `now`? One query at most, none when `held` (viewers/player/pageread.py) is given.

    `country`: the viewer's ISO 3166-1 alpha-2 code, or "" when the country check could not tell it. None
    (the default) makes no country check: the reconciler re-checks running sessions that way, so a viewer is
    not cut off mid-stream because a CDN edge changed."""
    now = now or timezone.now()
    if country is not None and not country_allowed(channel, country):
        return _country_denial(country)
    if not channel.is_private:
        return AccessDecision(True, Reason.PUBLIC, "This channel is public.")
    if not user.is_authenticated:
        return AccessDecision(False, Reason.LOGIN_REQUIRED, "Log in to watch this channel.")
    if not user.is_active:
        return AccessDecision(False, Reason.INACTIVE, "Your account is not active.")

    if held is None:
        held = pageread.decision_rows(user.pk, channel.pk, now)
    current = [row for row in held if row["is_current"]]
    if current:
        best = resolutions.most_generous(row["max_resolution"] for row in current)
        return AccessDecision(True, Reason.ENTITLED, "You have access.", max_resolution=best or None)
    return _explain_denial(held, now)


def entitlement_state(revoked_at, starts_at, ends_at, now: datetime) -> str:
    """One entitlement's window at `now`: "revoked", "upcoming", "ended" or "active" (the admin's label too)."""
    if revoked_at:
        return "revoked"
    if starts_at and starts_at > now:
        return "upcoming"
    if ends_at and ends_at <= now:
        return "ended"
    return "active"


@dataclass(frozen=True)
class AccessTimes:
    """What a viewer is told about their own access to a private channel, besides whether they have it."""

    ends_at: datetime | None = None  # they may watch, until then (None: no end, or no access)
    starts_at: datetime | None = None  # they may not watch yet; their first upcoming entitlement starts then


def access_times(held, now: datetime) -> AccessTimes:
    """When `held` (the rows decide() judges: revoked_at, starts_at, ends_at) let the viewer start or stop watching.

    Judged row by row with entitlement_state, the rule's own labels. The end is the latest end among the current
    entitlements, carried on through any upcoming one that starts before it (a renewal bought ahead ends access
    when it ends); no end while any of them is open-ended. Only without a current one is there a start to tell."""
    states = [(row, entitlement_state(row["revoked_at"], row["starts_at"], row["ends_at"], now)) for row in held]
    upcoming = sorted((row for row, state in states if state == "upcoming"), key=lambda row: row["starts_at"])
    ends = [row["ends_at"] for row, state in states if state == "active"]
    if not ends:
        return AccessTimes(starts_at=upcoming[0]["starts_at"] if upcoming else None)
    end = None if None in ends else max(ends)
    for row in upcoming:
        if end is None or row["starts_at"] > end:
            break
        end = None if row["ends_at"] is None else max(end, row["ends_at"])
    return AccessTimes(ends_at=end)


def access_times_by_channel(user, now: datetime) -> dict[int, AccessTimes]:
    """access_times() for every channel `user` holds a current or upcoming entitlement on: one query, whatever the
    number of channels (the home page). Empty for a visitor or an inactive account, whom decide() lets watch
    nothing private."""
    if not user.is_authenticated or not user.is_active:
        return {}
    fields = ("channel_id", "revoked_at", "starts_at", "ends_at")
    rows = (Entitlement.objects.current(now) | Entitlement.objects.upcoming(now)).values(*fields).held_by(user)
    by_channel: dict[int, list] = {}
    for row in rows:
        by_channel.setdefault(row["channel_id"], []).append(row)
    return {channel_id: access_times(held, now) for channel_id, held in by_channel.items()}


def _country_denial(country: str) -> AccessDecision:
    where = f"your country ({geo.country_name(country)})" if country else "your country"
    message = f"This channel is not available in {where}."
    return AccessDecision(False, Reason.COUNTRY, message, country=country)


def _explain_denial(rows, now: datetime) -> AccessDecision:
    by_state: dict[str, list] = {}
    for row in rows:
        by_state.setdefault(entitlement_state(row["revoked_at"], row["starts_at"], row["ends_at"], now), []).append(row)
    if "upcoming" in by_state:
        starts = min(row["starts_at"] for row in by_state["upcoming"])
        return AccessDecision(
            False, Reason.NOT_STARTED, "Your access to this channel has not started yet.", when=starts
        )
    if "ended" in by_state:
        ended = max(row["ends_at"] for row in by_state["ended"])
        return AccessDecision(False, Reason.ENDED, "Your access to this channel has ended.", when=ended)
    if rows:
        return AccessDecision(False, Reason.REVOKED, "Your access to this channel has been revoked.")
    return AccessDecision(False, Reason.NO_ENTITLEMENT, "You do not have access to this channel.")


def users_who_may_watch(channel, user_ids, now: datetime | None = None) -> set[int]:
    """Of `user_ids`, those the rule above lets watch `channel` at `now` (the set form of decide()).

    It makes no country check, like decide() without a country: a session that started where the channel is
    available keeps running."""
    user_ids = set(user_ids)
    if not channel.is_private:
        return user_ids
    holders = Entitlement.objects.filter(channel=channel).current(now).holders()
    return set(holders.filter(pk__in=user_ids, is_active=True).values_list("pk", flat=True))
