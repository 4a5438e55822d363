"""A channel's activity at a glance: tokens and viewers per hour, the heaviest viewers, entitlement counts.

Every number is aggregated by the database. The audit queries filter on (channel, issued_at), which the
`audit_channel_issued` index covers, so they read only the last 48 hours of one channel, however large the table.
"""

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Count, Max, Q
from django.db.models.functions import TruncHour
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.safestring import SafeString

from viewers.models import AccountStatus, Entitlement, TokenAudit, account_status_q
from viewers.models.entitlements import current_entitlement_q, ended_entitlement_q, upcoming_entitlement_q
from viewers.player import geo
from viewers.wording import counted

HOURS = 48
TOP_VIEWERS = 15


@dataclass(frozen=True)
class Bucket:
    start: datetime  # the hour, in the site's time zone
    tokens: int
    viewers: int


def window(now: datetime) -> tuple[datetime, datetime]:
    """The last HOURS whole hours, the current one included: [start, end)."""
    end = timezone.localtime(now).replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    return end - timedelta(hours=HOURS), end


def audits_in_window(channel, now):
    start, end = window(now)
    return TokenAudit.objects.filter(channel=channel, issued_at__gte=start, issued_at__lt=end)


def hourly(channel, now: datetime) -> list[Bucket]:
    """Tokens issued and distinct viewers for each of the last HOURS hours, empty hours included."""
    start, _ = window(now)
    counts = {
        timezone.localtime(row["hour"]): row
        for row in audits_in_window(channel, now)
        .annotate(hour=TruncHour("issued_at"))
        .values("hour")
        .annotate(tokens=Count("pk"), viewers=Count("user", distinct=True))
        .order_by("hour")
    }
    buckets = []
    for i in range(HOURS):
        hour = timezone.localtime(start + timedelta(hours=i))
        row = counts.get(hour, {})
        buckets.append(Bucket(hour, row.get("tokens", 0), row.get("viewers", 0)))
    return buckets


def totals(channel, now: datetime) -> dict:
    return audits_in_window(channel, now).aggregate(tokens=Count("pk"), viewers=Count("user", distinct=True))


def top_viewers(channel, now: datetime, limit: int = TOP_VIEWERS) -> list[dict]:
    """Viewers by tokens issued. Many tokens from many addresses or browsers is what a shared login looks like."""
    return list(
        audits_in_window(channel, now)
        .filter(user__isnull=False)
        .values("user_id", "user__username", "user__email")
        .annotate(
            tokens=Count("pk"),
            addresses=Count("client_ip", distinct=True),
            browsers=Count("user_agent", distinct=True),
            last_at=Max("issued_at"),
        )
        .order_by("-tokens", "-addresses", "user_id")[:limit]
    )


def entitlement_counts(channel, now: datetime) -> dict:
    """The channel's entitlements by state, and the people holding those in force (directly or through a group,
    each once) by account status: only active accounts can watch; invited ones can once they set a password."""
    entitlements = Entitlement.objects.filter(channel=channel)
    current = current_entitlement_q(now)
    # One aggregate: each count filtered by the same rule as the queryset method of that name.
    counts = entitlements.aggregate(
        current_users=Count("pk", filter=current & Q(user__isnull=False)),
        current_groups=Count("pk", filter=current & Q(group__isnull=False)),
        upcoming=Count("pk", filter=upcoming_entitlement_q(now)),
        ended=Count("pk", filter=ended_entitlement_q(now)),
        revoked=Count("pk", filter=Q(revoked_at__isnull=False)),
    )
    # And one for the holders, by the account statuses the user list shows.
    counts |= (
        entitlements.current(now)
        .holders()
        .aggregate(
            holders=Count("pk"),
            viewers_now=Count("pk", filter=account_status_q(AccountStatus.ACTIVE)),
            invited=Count("pk", filter=account_status_q(AccountStatus.INVITED)),
            inactive=Count("pk", filter=account_status_q(AccountStatus.INACTIVE)),
        )
    )
    counts["current"] = counts["current_users"] + counts["current_groups"]
    return counts


def entitlements_summary(counts: dict) -> str:
    """The entitlement counts in words a first-time operator reads right: an entitlement in force is not a viewer
    who can watch (most imported ones belong to invited users who have not set a password yet)."""
    current, to_groups, holders, can_watch = (
        counts["current"],
        counts["current_groups"],
        counts["holders"],
        counts["viewers_now"],
    )
    if not current:
        return "No entitlement is in force: no one can watch this channel now."
    in_force = counted(current, "entitlement is in force", "entitlements are in force")
    if to_groups == current:
        in_force += ", granted to a group" if current == 1 else ", all granted to groups"
    elif to_groups:
        in_force += f" ({to_groups} of them granted to a group)"
    if not holders:
        groups = "the group has" if to_groups == 1 else "those groups have"
        return f"{in_force}, held by no one ({groups} no members yet): no one can watch this channel now."
    held_by = counted(holders, "person", "people")
    if can_watch == holders:
        who = "who can watch now (an active account)" if holders == 1 else "all of whom can watch now (active accounts)"
        return f"{in_force}, held by {held_by}, {who}."
    if not can_watch:
        parts = ["none of whom can watch now (no active account)"]
    else:
        parts = [f"of whom {can_watch} can watch now ({'an active account' if can_watch == 1 else 'active accounts'})"]
    if counts["invited"]:
        parts.append(
            counted(counts["invited"], "is an invited user who has", "are invited users who have")
            + " not set a password yet"
        )
    if counts["inactive"]:
        parts.append(counted(counts["inactive"], "has a deactivated account", "have deactivated accounts"))
    return f"{in_force}, held by {held_by}, " + "; ".join(parts) + "."


# --- The chart: plain SVG, drawn on the server --------------------------------

WIDTH, HEIGHT = 960, 280
LEFT, RIGHT, TOP, BOTTOM = 48, 16, 16, 44


def nice_ceiling(value: int) -> int:
    """The smallest 1, 2 or 5 × 10^n at or above value (at least 1), for a readable axis."""
    if value <= 1:
        return 1
    exponent = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 5, 10):
        if step * exponent >= value:
            return step * exponent
    return 10 * exponent  # pragma: no cover


def chart(buckets: list[Bucket]) -> dict:
    """The chart's geometry: bars for tokens per hour, a line for distinct viewers per hour, on one axis. Numbers
    only; the template (admin/viewers/channel/activity_chart.svg) draws them, escaping the labels."""
    top = nice_ceiling(max([b.tokens for b in buckets] + [b.viewers for b in buckets] + [1]))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = plot_w / max(len(buckets), 1)
    base = TOP + plot_h

    def y(value):
        return round(base - plot_h * value / top, 1)

    def middle(i):
        return round(LEFT + (i + 0.5) * slot, 1)

    return {
        "width": WIDTH,
        "height": HEIGHT,
        "left": LEFT,
        "right": WIDTH - RIGHT,
        "hours": len(buckets),
        "label_x": LEFT - 6,
        "grid": [
            {"y": y(top * i / 4), "label_y": round(y(top * i / 4) + 4, 1), "label": f"{top * i / 4:g}"}
            for i in range(5)
        ],
        "bars": [
            {
                "x": round(LEFT + i * slot + 1, 1),
                "y": y(b.tokens),
                "width": round(max(slot - 2, 1), 1),
                "height": round(base - y(b.tokens), 1),
                "bucket": b,
            }
            for i, b in enumerate(buckets)
        ],
        "line": " ".join(f"{middle(i)},{y(b.viewers)}" for i, b in enumerate(buckets)),
        "ticks": [
            {"x": middle(i), "y": base + 16, "midnight": b.start.hour == 0, "start": b.start}
            for i, b in enumerate(buckets)
            if b.start.hour % 6 == 0
        ],
        "legend": {
            "y": HEIGHT - 8,
            "swatch_y": HEIGHT - 18,
            "line_y": HEIGHT - 12,
            "x": [LEFT + d for d in (18, 130, 150, 156)],
        },
    }


def chart_svg(buckets: list[Bucket]) -> SafeString:
    return render_to_string("admin/viewers/channel/activity_chart.svg", {"chart": chart(buckets)})


def channel_activity(channel, now: datetime | None = None) -> dict:
    now = now or timezone.now()
    buckets = hourly(channel, now)
    start, end = window(now)
    counts = entitlement_counts(channel, now)
    return {
        "buckets": buckets,
        "chart": chart_svg(buckets),
        "totals": totals(channel, now),
        "top_viewers": top_viewers(channel, now),
        "entitlements": counts,
        "entitlements_summary": entitlements_summary(counts),
        "since": start,
        "until": end,
        "peak": max(buckets, key=lambda b: b.tokens) if buckets else None,
        # Counted per day: from the first day the window touches.
        "country_denials": geo.denials_since(channel, timezone.localtime(start).date()),
    }
