"""The per-channel activity page: aggregation in the database, the index, the server-drawn SVG."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.factories import audit_row, make_invited
from viewers.models import Entitlement, TokenAudit, User
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


@pytest.fixture
def holders(alice, bob, ivan, carol, subscribers, private_channel):
    """alice (direct), bob (through subscribers) and carol (both) are active; ivan (direct) is deactivated; two
    invited users hold a direct entitlement and a third holds one through subscribers."""
    Entitlement.objects.create(user=carol, channel=private_channel)
    carol.groups.add(subscribers)
    for name in ("invited-1", "invited-2"):
        Entitlement.objects.create(user=make_invited(name), channel=private_channel)
    make_invited("invited-3").groups.add(subscribers)


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
            "current": 3,
            "upcoming": 1,
            "ended": 1,
            "revoked": 1,
            "holders": 3,
            "viewers_now": 2,
            "invited": 0,
            "inactive": 1,
        }

    def test_holders_are_counted_once_by_account_status(self, fixed_now, holders, private_channel):
        counts = activity.entitlement_counts(private_channel, fixed_now)
        assert (counts["current_users"], counts["current_groups"], counts["current"]) == (5, 1, 6)
        assert (counts["holders"], counts["viewers_now"], counts["invited"], counts["inactive"]) == (7, 3, 3, 1)
        assert activity.entitlements_summary(counts) == (
            "6 entitlements are in force (1 of them granted to a group), held by 7 people, of whom 3 can watch now "
            "(active accounts); 3 are invited users who have not set a password yet; 1 has a deactivated account."
        )

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
        assert "sharer" in body and "can watch now" in body

    def test_it_says_who_holds_the_entitlements_and_who_can_watch(self, holders, private_channel, client, admin_user):
        client.force_login(admin_user)
        body = client.get(f"/admin/viewers/channel/{private_channel.pk}/activity/").content.decode()
        assert '<span class="ops-num">3</span>can watch now' in body
        assert '<span class="ops-num">6</span>entitlements in force' in body
        assert "held by 7 people, of whom 3 can watch now" in body
        assert "Invited users can watch once they have set their password" in body

    def test_its_holder_counts_cost_the_same_for_many_holders(
        self, holders, private_channel, client, admin_user, django_assert_max_num_queries
    ):
        client.force_login(admin_user)
        with CaptureQueriesContext(connection) as few:
            client.get(f"/admin/viewers/channel/{private_channel.pk}/activity/")
        for i in range(30):
            Entitlement.objects.create(user=make_invited(f"more-{i}"), channel=private_channel)
        with django_assert_max_num_queries(len(few)):
            body = client.get(f"/admin/viewers/channel/{private_channel.pk}/activity/").content.decode()
        assert "held by 37 people, of whom 3 can watch now" in body

    def test_staff_without_permission_cannot_see_it(self, client, sam, private_channel):
        client.force_login(sam)
        assert client.get(f"/admin/viewers/channel/{private_channel.pk}/activity/").status_code == 403

    def test_an_unknown_channel_is_a_404(self, client, admin_user):
        client.force_login(admin_user)
        assert client.get("/admin/viewers/channel/999999/activity/").status_code == 404


def counts(current=0, groups=0, holders=0, can_watch=0, invited=0, inactive=0):
    return {
        "current": current,
        "current_groups": groups,
        "holders": holders,
        "viewers_now": can_watch,
        "invited": invited,
        "inactive": inactive,
    }


@pytest.mark.parametrize(
    "numbers,summary",
    [
        (counts(), "No entitlement is in force: no one can watch this channel now."),
        (
            counts(current=1, holders=1, can_watch=1),
            "1 entitlement is in force, held by 1 person, who can watch now (an active account).",
        ),
        (
            counts(current=2, holders=2, can_watch=2),
            "2 entitlements are in force, held by 2 people, all of whom can watch now (active accounts).",
        ),
        (
            counts(current=1, groups=1, holders=0),
            "1 entitlement is in force, granted to a group, held by no one (the group has no members yet): "
            "no one can watch this channel now.",
        ),
        (
            counts(current=2, groups=2, holders=5, can_watch=5),
            "2 entitlements are in force, all granted to groups, held by 5 people, all of whom can watch now "
            "(active accounts).",
        ),
        (
            counts(current=69, groups=1, holders=70, can_watch=3, invited=67),
            "69 entitlements are in force (1 of them granted to a group), held by 70 people, of whom 3 can watch "
            "now (active accounts); 67 are invited users who have not set a password yet.",
        ),
        (
            counts(current=2, holders=2, can_watch=1, invited=1),
            "2 entitlements are in force, held by 2 people, of whom 1 can watch now (an active account); "
            "1 is an invited user who has not set a password yet.",
        ),
        (
            counts(current=2, holders=2, inactive=2),
            "2 entitlements are in force, held by 2 people, none of whom can watch now (no active account); "
            "2 have deactivated accounts.",
        ),
    ],
)
def test_the_summary_says_who_can_watch_in_plain_words(numbers, summary):
    assert activity.entitlements_summary(numbers) == summary
