"""The per-channel activity page: aggregation in the database, the index, the server-drawn SVG."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.utils import timezone

from tests.factories import audit_row
from viewers.models import TokenAudit, User
from viewers.operators import activity


def audit(user, channel, at, ip="203.0.113.1", agent="Firefox"):
    return audit_row(user, channel, issued_at=at, client_ip=ip, user_agent=agent, save=False)


@pytest.fixture
def fixed_now():
    now = timezone.make_aware(timezone.datetime(2026, 3, 10, 12, 30))
    with time_machine.travel(now, tick=False):
        yield now


@pytest.fixture
def traffic(fixed_now, alice, bob, private_channel, public_channel):
    sharer = User.objects.create_user("sharer", "sharer@example.com")
    rows = []
    for i in range(9):  # one login, nine addresses in the last hour
        rows.append(audit(sharer, private_channel, fixed_now - timedelta(minutes=5 * i), ip=f"198.51.100.{i}"))
    rows += [
        audit(alice, private_channel, fixed_now - timedelta(hours=3)),
        audit(alice, private_channel, fixed_now - timedelta(hours=3, minutes=10)),
    ]
    rows.append(audit(bob, private_channel, fixed_now - timedelta(hours=47)))
    rows.append(audit(bob, private_channel, fixed_now - timedelta(hours=49)))  # outside the window
    rows.append(audit(bob, public_channel, fixed_now))  # another channel
    TokenAudit.objects.bulk_create(rows)
    return sharer


@pytest.mark.django_db
class TestAggregation:
    def test_it_counts_tokens_and_distinct_viewers_per_hour(self, traffic, private_channel, fixed_now):
        buckets = activity.hourly(private_channel, fixed_now)
        assert len(buckets) == 48
        assert buckets[-1].start == timezone.localtime(fixed_now).replace(minute=0, second=0, microsecond=0)
        by_hour = {b.start.hour: (b.tokens, b.viewers) for b in buckets if b.tokens}
        assert by_hour[12] == (7, 1) and by_hour[11] == (2, 1)
        assert by_hour[9] == (2, 1)
        assert sum(b.tokens for b in buckets) == 12
        assert activity.totals(private_channel, fixed_now) == {"tokens": 12, "viewers": 3}

    def test_top_viewers_puts_the_shared_login_first(self, traffic, private_channel, fixed_now):
        top = activity.top_viewers(private_channel, fixed_now)
        assert [(row["user__username"], row["tokens"], row["addresses"]) for row in top] == [
            ("sharer", 9, 9),
            ("alice", 2, 1),
            ("bob", 1, 1),
        ]

    def test_entitlement_counts_follow_the_access_rule(
        self, fixed_now, alice, bob, dave, erin, frank, ivan, private_channel
    ):
        counts = activity.entitlement_counts(private_channel, fixed_now)
        # alice direct, bob via subscribers; ivan is inactive so he is not a viewer now.
        assert counts == {
            "current_users": 2,
            "current_groups": 1,
            "upcoming": 1,
            "ended": 1,
            "revoked": 1,
            "viewers_now": 2,
        }

    def test_the_audit_queries_use_the_channel_time_index(self, traffic, private_channel, fixed_now):
        if connection.vendor != "sqlite":
            pytest.skip("plan text checked for SQLite")
        for queryset in [
            activity.audits_in_window(private_channel, fixed_now),
            activity.audits_in_window(private_channel, fixed_now).filter(user__isnull=False).values("user_id"),
        ]:
            assert "audit_channel_issued" in queryset.explain()

    def test_the_page_costs_a_fixed_number_of_queries(
        self, traffic, private_channel, fixed_now, client, admin_user, django_assert_max_num_queries
    ):
        client.force_login(admin_user)
        with django_assert_max_num_queries(12):
            assert client.get(f"/admin/viewers/channel/{private_channel.pk}/activity/").status_code == 200


class TestChart:
    def buckets(self, values):
        start = timezone.make_aware(timezone.datetime(2026, 3, 8, 13))
        return [activity.Bucket(start + timedelta(hours=i), t, v) for i, (t, v) in enumerate(values)]

    def test_it_draws_one_bar_per_hour_and_a_viewer_line(self):
        svg = str(activity.chart_svg(self.buckets([(i, i // 2) for i in range(48)])))
        assert svg.startswith("<svg") and svg.endswith("</svg>")
        assert svg.count("<rect") == 48 + 1  # 48 bars and the legend swatch
        assert len(re.search(r'<polyline points="([^"]+)"', svg).group(1).split()) == 48
        assert "<script" not in svg and "<style" not in svg and "style=" not in svg  # CSP allows neither

    def test_bar_heights_are_proportional_on_a_readable_axis(self):
        svg = str(activity.chart_svg(self.buckets([(0, 0), (37, 5), (74, 9)])))
        heights = [float(h) for h in re.findall(r'<rect x="[^"]+" y="[^"]+" width="[^"]+" height="([^"]+)"', svg)][:3]
        assert heights[0] == 0 and heights[2] == pytest.approx(2 * heights[1], rel=0.01)
        assert ">100<" in svg  # 74 rounds up to an axis of 100

    def test_empty_hours_draw_an_empty_chart(self):
        svg = str(activity.chart_svg(self.buckets([(0, 0)] * 48)))
        assert svg.count('height="0.0"') == 48

    @pytest.mark.parametrize("value,ceiling", [(0, 1), (1, 1), (3, 5), (7, 10), (12, 20), (180, 200), (1001, 2000)])
    def test_nice_ceiling(self, value, ceiling):
        assert activity.nice_ceiling(value) == ceiling


@pytest.mark.django_db
class TestThePage:
    def test_it_shows_counts_chart_and_top_viewers(self, traffic, private_channel, client, admin_user):
        client.force_login(admin_user)
        body = client.get(f"/admin/viewers/channel/{private_channel.pk}/activity/").content.decode()
        assert "<svg" in body and "tokens issued" in body
        assert "sharer" in body and "viewers entitled now" in body

    def test_staff_without_permission_cannot_see_it(self, client, sam, private_channel):
        client.force_login(sam)
        assert client.get(f"/admin/viewers/channel/{private_channel.pk}/activity/").status_code == 403

    def test_an_unknown_channel_is_a_404(self, client, admin_user):
        client.force_login(admin_user)
        assert client.get("/admin/viewers/channel/999999/activity/").status_code == 404
