"""A channel's live page: watching now, shared logins with their evidence, attendance and its CSV, and the
permissions each part needs."""

import csv
import io
from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.utils import timezone

from tests.factories import audit_row, make_user, viewed
from viewers.models import User

pytestmark = pytest.mark.django_db

CHROME = "Mozilla/5.0 (X11; Linux x86_64) Chrome/156.0"
SAFARI = "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) Version/18.0 Mobile/15E148 Safari/604.1"


def session_of(user, channel, ip="192.0.2.10", agent=CHROME, **fields):
    return audit_row(user, channel, viewer_id=user.viewer_id, client_ip=ip, user_agent=agent, **fields)


def live_url(channel):
    return f"/admin/viewers/channel/{channel.pk}/live/"


def staff_client(*codenames):
    user = User.objects.create_user(f"staff-{len(codenames)}", "staff@example.com", "password", is_staff=True)
    user.user_permissions.add(*Permission.objects.filter(codename__in=codenames))
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def ops(admin_client):
    return admin_client


def body(response):
    return response.content.decode()


class TestWatchingNow:
    def test_counts_sessions_seen_in_the_last_two_periods(self, ops, private_channel, settings):
        settings.IVS_HEARTBEAT_SECONDS = 60
        now = timezone.now()
        viewed(session_of(make_user("ann"), private_channel), last=now - timedelta(seconds=30))
        viewed(session_of(make_user("ben"), private_channel), last=now - timedelta(seconds=119))
        viewed(session_of(make_user("cat"), private_channel), last=now - timedelta(seconds=125))  # gone quiet
        viewed(session_of(make_user("dan"), private_channel), last=now, left=True)  # closed the tab
        ended = session_of(make_user("eve"), private_channel, ended_at=now, end_reason="revoked")
        viewed(ended, last=now)
        response = ops.get(live_url(private_channel))
        assert response.status_code == 200
        assert response.context["view"]["count"] == {"sessions": 2, "viewers": 2}
        assert "2 viewers watching now." in body(response)
        assert [v.username for v in response.context["view"]["listed"]] == ["ben", "ann"]  # watching longest first

    def test_the_count_for_the_polling_script(self, ops, private_channel):
        alice = make_user("ann")
        viewed(session_of(alice, private_channel))
        viewed(session_of(alice, private_channel, ip="192.0.2.11"))
        response = ops.get(live_url(private_channel) + "now.json")
        assert response.json() == {"sessions": 2, "viewers": 1, "said": "1 viewer watching now (2 sessions)."}
        assert "no-cache" in response["Cache-Control"] or "no-store" in response["Cache-Control"]

    def test_nobody(self, ops, private_channel):
        response = ops.get(live_url(private_channel))
        assert "Nobody is watching now." in body(response)
        assert "No login looks shared" in body(response)

    def test_the_polling_script_is_a_file(self, ops, private_channel):
        page = body(ops.get(live_url(private_channel)))
        assert 'src="/static/js/admin-live.js"' in page
        assert "<script>" not in page.replace("<script></script>", "")


class TestSharedLogins:
    def test_one_login_from_two_addresses_is_flagged_with_the_evidence(self, ops, private_channel):
        shared, honest = make_user("shared"), make_user("honest")
        viewed(session_of(shared, private_channel, ip="198.51.100.7", agent=CHROME))
        viewed(session_of(shared, private_channel, ip="203.0.113.9", agent=SAFARI))
        viewed(session_of(honest, private_channel))
        viewed(session_of(honest, private_channel))  # two tabs, one address: not sharing
        response = ops.get(live_url(private_channel))
        flagged = response.context["view"]["flagged"]
        assert [v.username for v in flagged] == ["shared"]
        assert flagged[0].addresses == ["198.51.100.7", "203.0.113.9"]
        assert flagged[0].user_agents == sorted([CHROME, SAFARI])
        assert [device for device, _ in flagged[0].devices] == [
            "Chrome 156 on Linux",
            "Mobile Safari 18 on iOS 18 (iPhone)",
        ]
        page = body(response)
        assert "198.51.100.7" in page and "203.0.113.9" in page and "iPhone" in page

    def test_an_address_that_changed_while_watching_is_evidence_too(self, ops, private_channel):
        roamer = make_user("roamer")
        viewed(session_of(roamer, private_channel, ip="198.51.100.7"), ip="198.51.100.7")
        viewed(session_of(roamer, private_channel, ip="198.51.100.7"), ip="192.0.2.99")
        flagged = ops.get(live_url(private_channel)).context["view"]["flagged"]
        assert flagged[0].addresses == ["192.0.2.99", "198.51.100.7"]

    def test_more_devices_than_the_channel_allows(self, ops, private_channel):
        private_channel.max_devices = 1
        private_channel.save()
        viewer = make_user("twice")
        viewed(session_of(viewer, private_channel))
        viewed(session_of(viewer, private_channel))
        assert [v.username for v in ops.get(live_url(private_channel)).context["view"]["flagged"]] == ["twice"]


class TestQueries:
    def test_the_page_costs_the_same_queries_for_two_viewers_or_forty(
        self, ops, private_channel, django_assert_num_queries
    ):
        def viewers(count, start):
            for i in range(start, start + count):
                user = make_user(f"v{i}")
                viewed(session_of(user, private_channel, ip=f"192.0.2.{i}"))
                viewed(session_of(user, private_channel, ip=f"198.51.100.{i}"))

        viewers(2, 0)
        ops.get(live_url(private_channel))  # the session and the user are cached from here on
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as few:
            ops.get(live_url(private_channel))
        viewers(40, 10)
        with django_assert_num_queries(len(few)):
            ops.get(live_url(private_channel))


class TestAttendance:
    def test_each_viewer_once_with_their_minutes(self, ops, private_channel):
        ann = make_user("ann")
        viewed(session_of(ann, private_channel), seconds=600)
        viewed(session_of(ann, private_channel, ip="192.0.2.77"), seconds=300)
        viewed(session_of(make_user("ben"), private_channel), seconds=45)
        response = ops.get(live_url(private_channel))
        viewers = {v.username: v for v in response.context["attendance"]["viewers"]}
        assert viewers["ann"].seconds == 900 and len(viewers["ann"].sessions) == 2
        page = body(response)
        assert "15 min" in page and "under a minute" in page

    def test_the_range_leaves_out_other_days(self, ops, private_channel):
        old = timezone.now() - timedelta(days=30)
        viewed(session_of(make_user("then"), private_channel), last=old)
        viewed(session_of(make_user("now"), private_channel))
        names = [v.username for v in ops.get(live_url(private_channel)).context["attendance"]["viewers"]]
        assert names == ["now"]
        day = timezone.localtime(old).date()
        response = ops.get(live_url(private_channel), {"since": day.isoformat(), "until": day.isoformat()})
        assert [v.username for v in response.context["attendance"]["viewers"]] == ["then"]

    @pytest.mark.parametrize(
        "query",
        [
            {"since": "2026-12-09", "until": "2026-12-01"},
            {"since": "1900-01-01", "until": "2026-12-01"},
            {"since": "not a date"},
            {"since": "9999-12-31", "until": "9999-12-31"},
            {"page": "-3"},
            {"page": "999999999999999999999"},
        ],
    )
    def test_a_bad_range_says_so_and_shows_the_default(self, ops, private_channel, query):
        response = ops.get(live_url(private_channel), query)
        assert response.status_code == 200
        assert response.context["attendance"]["page"] == 1

    def test_the_csv_is_formula_escaped(self, ops, private_channel):
        evil = User.objects.create_user("=HYPERLINK(evil)", "+cmd@example.com", "password")
        viewed(session_of(evil, private_channel, agent="=1+1"), seconds=90)
        today = timezone.localdate().isoformat()
        response = ops.get(live_url(private_channel) + "attendance.csv", {"since": today, "until": today})
        assert response.status_code == 200
        assert "attendance-main-event-" in response["Content-Disposition"]
        rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode().removeprefix("\ufeff"))))
        assert rows[0][:5] == ["viewer", "email", "first_seen", "last_seen", "minutes_watched"]
        assert rows[1][0] == "'=HYPERLINK(evil)" and rows[1][1] == "'+cmd@example.com"
        assert rows[1][4:6] == ["1.5", "90"] and rows[1][8] == "'=1+1"

    def test_a_bad_csv_range_goes_back_to_the_page(self, ops, private_channel):
        response = ops.get(live_url(private_channel) + "attendance.csv", {"since": "2026-12-09", "until": "2026-12-01"})
        assert response.status_code == 302 and response["Location"] == live_url(private_channel)


class TestPermissions:
    def test_channel_view_alone_is_not_enough(self, private_channel):
        client = staff_client("view_channel")
        for path in ("", "now.json", "attendance.csv"):
            assert client.get(live_url(private_channel) + path).status_code == 403

    def test_view_only_staff_see_the_page_without_stop_buttons(self, private_channel):
        viewed(session_of(make_user("ann"), private_channel))
        client = staff_client("view_channel", "view_tokenaudit", "view_user")
        response = client.get(live_url(private_channel))
        assert response.status_code == 200
        assert "Stop watching" not in body(response)
