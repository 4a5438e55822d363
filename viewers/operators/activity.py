"""A channel's activity at a glance: tokens and viewers per hour, the heaviest viewers, entitlement counts.

Every number is aggregated by the database. The audit queries filter on (channel, issued_at), which the
`audit_channel_issued` index covers, so they read only the last 48 hours of one channel, however large the table.
"""

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Count, Max, Q
from django.db.models.functions import TruncHour
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from viewers.models import Entitlement, TokenAudit
from viewers.models.entitlements import current_entitlement_q, ended_entitlement_q, upcoming_entitlement_q
from viewers.player import geo

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
    counts["viewers_now"] = entitlements.current(now).holders().filter(is_active=True).count()
    return counts


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


def chart_svg(buckets: list[Bucket]) -> SafeString:
    """Bars for tokens per hour, a line for distinct viewers per hour, on one axis."""
    top = nice_ceiling(max([b.tokens for b in buckets] + [b.viewers for b in buckets] + [1]))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = plot_w / max(len(buckets), 1)
    base = TOP + plot_h

    def y(value):
        return base - plot_h * value / top

    # Numbers are formatted here; the only text (hour labels) goes through escape(). Presentation attributes,
    # not <style>: the Content-Security-Policy allows no inline CSS.
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" '
        f'height="{HEIGHT}" role="img" class="activity-chart" '
        f'aria-label="Tokens issued and distinct viewers per hour, last {len(buckets)} hours" '
        'font-family="sans-serif">',
    ]
    for i in range(5):
        value = top * i / 4
        parts.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(value):.1f}" y2="{y(value):.1f}" '
            'stroke="#e4e7ec" stroke-width="1"/>'
            f'<text x="{LEFT - 6}" y="{y(value) + 4:.1f}" font-size="11" fill="#667085" '
            f'text-anchor="end">{value:g}</text>'
        )
    for i, b in enumerate(buckets):
        label = escape(b.start.strftime("%a %H:00"))
        parts.append(
            f'<rect x="{LEFT + i * slot + 1:.1f}" y="{y(b.tokens):.1f}" width="{max(slot - 2, 1):.1f}" '
            f'height="{base - y(b.tokens):.1f}" fill="#79aec8"><title>{label}: {b.tokens} token(s), '
            f"{b.viewers} viewer(s)</title></rect>"
        )
    points = " ".join(f"{LEFT + (i + 0.5) * slot:.1f},{y(b.viewers):.1f}" for i, b in enumerate(buckets))
    parts.append(f'<polyline points="{points}" fill="none" stroke="#e04f1a" stroke-width="2"/>')
    for i, b in enumerate(buckets):
        if b.start.hour % 6 == 0:
            text = escape(b.start.strftime("%a %d" if b.start.hour == 0 else "%H:00"))
            parts.append(
                f'<text x="{LEFT + (i + 0.5) * slot:.1f}" y="{base + 16}" font-size="11" fill="#667085" '
                f'text-anchor="middle">{text}</text>'
            )
    legend_y = HEIGHT - 8
    parts.append(
        f'<rect x="{LEFT}" y="{legend_y - 10}" width="12" height="12" fill="#79aec8"/>'
        f'<text x="{LEFT + 18}" y="{legend_y}" font-size="12" fill="#344054">tokens issued</text>'
        f'<line x1="{LEFT + 130}" x2="{LEFT + 150}" y1="{legend_y - 4}" y2="{legend_y - 4}" '
        'fill="none" stroke="#e04f1a" stroke-width="2"/>'
        f'<text x="{LEFT + 156}" y="{legend_y}" font-size="12" fill="#344054">distinct viewers</text></svg>'
    )
    return mark_safe("".join(parts))  # noqa: S308  every interpolated text is escaped above


def channel_activity(channel, now: datetime | None = None) -> dict:
    now = now or timezone.now()
    buckets = hourly(channel, now)
    start, end = window(now)
    return {
        "buckets": buckets,
        "chart": chart_svg(buckets),
        "totals": totals(channel, now),
        "top_viewers": top_viewers(channel, now),
        "entitlements": entitlement_counts(channel, now),
        "since": start,
        "until": end,
        "peak": max(buckets, key=lambda b: b.tokens) if buckets else None,
        # Counted per day: from the first day the window touches.
        "country_denials": geo.denials_since(channel, timezone.localtime(start).date()),
    }
