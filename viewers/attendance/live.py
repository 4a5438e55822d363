"""What a channel's live page shows, from the Viewing rows the fold wrote: who is watching now, whose login looks
shared, and attendance over a date range. Each is a fixed number of queries, whatever the audience: aggregates in
the database, and the details only for the viewers on the page."""

import functools
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import groupby

import ua_parser
from django.conf import settings
from django.db.models import Count, Max, Min, Q, Sum
from django.utils import timezone

from viewers.models import Viewing

WATCHING_ROWS = 100  # viewers listed as watching now; the count covers all of them
FLAGGED_ROWS = 50


def watching_since(now):
    """Seen in the last two heartbeat periods: a player that beats every period is never outside the window."""
    return now - timedelta(seconds=2 * settings.IVS_HEARTBEAT_SECONDS)


def watching(channel, now):
    """The channel's sessions watching now: seen lately, not left (the pagehide heartbeat), not ended by the site."""
    return Viewing.objects.filter(
        channel=channel, last_seen_at__gte=watching_since(now), left_at__isnull=True, session__ended_at__isnull=True
    )


def watching_count(channel, now) -> dict:
    return watching(channel, now).aggregate(sessions=Count("pk"), viewers=Count("user", distinct=True))


def sharing_q(channel) -> Q:
    """A viewer whose sessions watching now come from several addresses, or are more than the channel allows."""
    several = Q(addresses__gt=1) | Q(last_addresses__gt=1)
    return several | Q(sessions__gt=channel.max_devices) if channel.max_devices else several


@functools.lru_cache(maxsize=4096)
def device_of(user_agent: str) -> str:
    """A user agent as a person names it: "Chrome 156 on Linux", "Mobile Safari 18 on iOS 18 (iPhone)"."""
    parsed = ua_parser.parse(user_agent)
    browser = " ".join(
        filter(None, [parsed.user_agent and parsed.user_agent.family, parsed.user_agent and parsed.user_agent.major])
    )
    system = " ".join(filter(None, [parsed.os and parsed.os.family, parsed.os and parsed.os.major]))
    said = f"{browser or 'Unknown browser'} on {system}" if system else browser or user_agent[:60]
    if parsed.device and parsed.device.family not in ("Other", "Mac", "K"):
        said += f" ({parsed.device.family})"
    return said


@dataclass
class Viewer:
    """One viewer's sessions on the page, with the evidence: each session's address, device and times."""

    user_id: int | None
    username: str
    email: str
    sessions: list = field(default_factory=list)

    @property
    def addresses(self) -> list[str]:
        seen = {ip for s in self.sessions for ip in (s["session__client_ip"], s["last_ip"]) if ip}
        return sorted(seen)

    @property
    def user_agents(self) -> list[str]:
        return sorted({s["session__user_agent"] for s in self.sessions if s["session__user_agent"]})

    @property
    def devices(self) -> list[tuple[str, str]]:
        """(what a person calls it, the user agent) for each distinct user agent."""
        return sorted({(device_of(agent), agent) for agent in self.user_agents})

    @property
    def first_seen(self):
        return min(s["first_seen_at"] for s in self.sessions)

    @property
    def last_seen(self):
        return max(s["last_seen_at"] for s in self.sessions)

    @property
    def seconds(self) -> int:
        return sum(s["seconds_watched"] for s in self.sessions)


SESSION_FIELDS = (
    "user_id",
    "user__username",
    "user__email",
    "session_id",
    "session__client_ip",
    "session__user_agent",
    "last_ip",
    "first_seen_at",
    "last_seen_at",
    "seconds_watched",
)


def viewers_of(rows) -> list[Viewer]:
    """Session rows (SESSION_FIELDS, ordered by user) grouped into viewers."""
    viewers = []
    for user_id, sessions in groupby(rows, key=lambda row: row["user_id"]):
        sessions = list(sessions)
        first = sessions[0]
        viewers.append(
            Viewer(user_id, first["user__username"] or "a deleted user", first["user__email"] or "", sessions)
        )
    return viewers


def _details(queryset, user_ids) -> list[Viewer]:
    rows = queryset.filter(user_id__in=user_ids).order_by("user_id", "first_seen_at").values(*SESSION_FIELDS)
    by_user = {viewer.user_id: viewer for viewer in viewers_of(rows)}
    return [by_user[user_id] for user_id in user_ids if user_id in by_user]


def live_view(channel, now) -> dict:
    """The live page's "watching now" half: the count, the viewers whose login looks shared, and the first
    WATCHING_ROWS viewers (longest watching first), each with their sessions. Five queries."""
    sessions = watching(channel, now)
    per_viewer = sessions.values("user_id").annotate(
        sessions=Count("pk"),
        addresses=Count("session__client_ip", distinct=True),
        last_addresses=Count("last_ip", distinct=True),
        since=Min("first_seen_at"),
    )
    flagged_ids = list(
        per_viewer.filter(sharing_q(channel))
        .order_by("-sessions", "since")
        .values_list("user_id", flat=True)[:FLAGGED_ROWS]
    )
    listed_ids = list(per_viewer.order_by("since", "user_id").values_list("user_id", flat=True)[:WATCHING_ROWS])
    details = {viewer.user_id: viewer for viewer in _details(sessions, list({*flagged_ids, *listed_ids}))}
    return {
        "count": watching_count(channel, now),
        "flagged": [details[pk] for pk in flagged_ids if pk in details],
        "listed": [details[pk] for pk in listed_ids if pk in details],
    }


def attended(channel, start: datetime, end: datetime):
    """The channel's sessions watched at some time in [start, end)."""
    return Viewing.objects.filter(channel=channel, first_seen_at__lt=end, last_seen_at__gte=start)


def attendance_page(channel, start, end, *, page_size=50, page=1) -> dict:
    """One page of attendance (viewers by name), with the total count of viewers. Three queries."""
    sessions = attended(channel, start, end)
    per_viewer = sessions.values("user_id").annotate(
        first=Min("first_seen_at"), last=Max("last_seen_at"), seconds=Sum("seconds_watched")
    )
    total = per_viewer.count()
    pages = max(1, -(-total // page_size))
    page = min(max(page, 1), pages)
    ids = list(
        per_viewer.order_by("user__username", "user_id").values_list("user_id", flat=True)[
            (page - 1) * page_size : page * page_size
        ]
    )
    return {"viewers": _details(sessions, ids), "total": total, "page": page, "pages": pages}


ATTENDANCE_HEADER = [
    "viewer",
    "email",
    "first_seen",
    "last_seen",
    "minutes_watched",
    "seconds_watched",
    "sessions",
    "addresses",
    "devices",
    "user_agents",
]


def attendance_rows(channel, start, end):
    """Every viewer of the range, for the CSV: one query, streamed, grouped by viewer as it arrives."""
    rows = attended(channel, start, end).order_by("user_id", "first_seen_at").values(*SESSION_FIELDS).iterator(2000)
    for viewer in viewers_of(rows):
        yield [
            viewer.username,
            viewer.email,
            viewer.first_seen,
            viewer.last_seen,
            f"{viewer.seconds / 60:.1f}",
            viewer.seconds,
            len(viewer.sessions),
            " ".join(viewer.addresses),
            " | ".join(sorted({device for device, _ in viewer.devices})),
            " | ".join(viewer.user_agents),
        ]


def day_range(first_day, last_day):
    """[start of first_day, start of the day after last_day), in the site's time zone."""
    zone = timezone.get_current_timezone()
    start = datetime.combine(first_day, datetime.min.time(), tzinfo=zone)
    end = datetime.combine(last_day + timedelta(days=1), datetime.min.time(), tzinfo=zone)
    return start, end
