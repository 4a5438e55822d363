"""Users in the admin: the list's status column and filter, and a user's page with their entitlements (their own
and their groups') and their latest playback sessions."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Group, Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories import audit_row, make_invited, make_user
from viewers.admin.users import RECENT_SESSIONS
from viewers.models import Entitlement

USERS = "/admin/viewers/user/"


def page(client, user):
    response = client.get(f"{USERS}{user.pk}/change/")
    assert response.status_code == 200
    return response.content.decode()


def viewers_of(response):
    return [user.username for user in response.context["cl"].result_list]


@pytest.mark.django_db
class TestTheList:
    def test_it_tells_active_invited_and_inactive_users_apart(self, admin_client, alice, ivan):
        make_invited("newcomer")
        response = admin_client.get(USERS, {"o": "1"})
        rows = {
            user.username: response.context["cl"].model_admin.status(user)
            for user in response.context["cl"].result_list
        }
        assert rows["alice"] == "active"
        assert rows["newcomer"] == "invited (no password yet)"
        assert rows["ivan"] == "inactive"
        body = response.content.decode()
        assert '<td class="field-status">invited (no password yet)</td>' in body
        assert "column-is_active" in body

    @pytest.mark.parametrize(
        "status,expected",
        [("active", ["admin", "alice"]), ("invited", ["newcomer"]), ("inactive", ["ivan"])],
    )
    def test_its_status_filter(self, admin_client, alice, ivan, status, expected):
        make_invited("newcomer")
        response = admin_client.get(USERS, {"status": status, "o": "1"})
        assert viewers_of(response) == expected

    def test_an_unknown_status_filters_nothing_out(self, admin_client, alice):
        response = admin_client.get(USERS, {"status": "nonsense"})
        assert response.status_code == 200
        assert "alice" in viewers_of(response)


@pytest.fixture
def finals_fan(alice, subscribers, finals, now):
    """alice: her own entitlement to the Main Event and an upcoming one to Finals, the subscribers' grant through
    her group, and a revoked one."""
    Entitlement.objects.create(user=alice, channel=finals, starts_at=now + timedelta(days=2), note="finals ticket")
    Entitlement.objects.create(user=alice, channel=finals, revoked_at=now - timedelta(days=1))
    alice.groups.add(subscribers)
    return alice


def sessions_of(user, channel, count, now):
    for i in range(count):
        audit_row(
            user,
            channel,
            issued_at=now - timedelta(minutes=i),
            viewer_id=user.viewer_id,
            client_ip=f"203.0.113.{i % 250}",
            user_agent=f"Firefox/{100 + i}",
        )


@pytest.mark.django_db
class TestAUsersPage:
    def test_it_lists_the_users_entitlements_their_own_and_their_groups(self, admin_client, finals_fan):
        body = page(admin_client, finals_fan)
        assert "<h2>Entitlements</h2>" in body
        for entitlement in Entitlement.objects.filter(user=finals_fan):
            assert f"/admin/viewers/entitlement/{entitlement.pk}/change/" in body
        group_grant = Entitlement.objects.get(group__name="subscribers")
        assert f"/admin/viewers/entitlement/{group_grant.pk}/change/" in body
        assert "through group" in body and ">subscribers</a>" in body
        assert "HD (720p and below)" in body  # the group's grant
        assert ">in force</td>" in body and ">upcoming</td>" in body and ">revoked</td>" in body

    def test_it_says_an_invited_user_cannot_watch_yet(self, admin_client, private_channel):
        newcomer = make_invited("newcomer")
        Entitlement.objects.create(user=newcomer, channel=private_channel)
        body = page(admin_client, newcomer)
        assert "Invited, and no password set yet: this user can watch none of these until" in body

    def test_it_says_an_inactive_user_cannot_watch(self, admin_client, ivan):
        assert "This account is inactive: it can watch none of these" in page(admin_client, ivan)

    def test_an_active_user_gets_no_such_note(self, admin_client, alice):
        assert "can watch none of these" not in page(admin_client, alice)

    def test_it_lists_the_latest_sessions_newest_first_and_links_the_rest(
        self, admin_client, alice, private_channel, now
    ):
        sessions_of(alice, private_channel, RECENT_SESSIONS + 5, now)
        body = page(admin_client, alice)
        assert f"Playback sessions (the latest {RECENT_SESSIONS})" in body
        shown = [agent for agent in (f"Firefox/{100 + i}" for i in range(RECENT_SESSIONS + 5)) if f">{agent}<" in body]
        assert shown == [f"Firefox/{100 + i}" for i in range(RECENT_SESSIONS)]
        assert body.index(">Firefox/100<") < body.index(">Firefox/101<")  # newest first
        assert "203.0.113.0" in body
        assert f"/admin/viewers/tokenaudit/?user__id__exact={alice.pk}" in body

    def test_the_linked_audit_list_shows_only_that_users_sessions(self, admin_client, alice, bob, private_channel, now):
        sessions_of(alice, private_channel, 2, now)
        sessions_of(bob, private_channel, 3, now)
        response = admin_client.get("/admin/viewers/tokenaudit/", {"user__id__exact": alice.pk})
        assert {row.user for row in response.context["cl"].result_list} == {alice}

    def test_a_session_the_site_ended_says_why(self, admin_client, alice, private_channel, now):
        audit_row(alice, private_channel, issued_at=now, ended_at=now, end_reason="superseded")
        assert ": playing on another device</td>" in page(admin_client, alice)

    def test_a_user_with_nothing_yet(self, admin_client, carol):
        body = page(admin_client, carol)
        assert "No entitlement, directly or through a group." in body
        assert "No playback session yet." in body

    def test_it_costs_the_same_queries_for_many_rows(self, admin_client, alice, private_channel, now):
        sessions_of(alice, private_channel, 1, now)
        with CaptureQueriesContext(connection) as few:
            page(admin_client, alice)
        for i in range(8):
            group = Group.objects.create(name=f"club-{i}")
            Entitlement.objects.create(group=group, channel=private_channel)
            alice.groups.add(group)
            Entitlement.objects.create(user=alice, channel=private_channel, note=f"ticket {i}")
        sessions_of(alice, private_channel, 30, now)
        with CaptureQueriesContext(connection) as many:
            body = page(admin_client, alice)
        assert body.count("/admin/viewers/entitlement/") >= 17
        assert len(many) <= len(few)


@pytest.fixture
def looker(client):
    """Staff who may only look, at everything."""
    user = make_user("looker", is_staff=True)
    user.user_permissions.add(*Permission.objects.filter(codename__startswith="view_"))
    client.force_login(user)
    return client


@pytest.mark.django_db
class TestForStaffWhoOnlyLook:
    def test_they_see_entitlements_and_sessions_but_no_password_or_its_hash(
        self, looker, finals_fan, private_channel, now
    ):
        sessions_of(finals_fan, private_channel, 2, now)
        body = page(looker, finals_fan)
        assert "<h2>Entitlements</h2>" in body and "Playback sessions" in body
        assert finals_fan.password not in body
        assert "pbkdf2" not in body and "salt" not in body.lower()
        assert "/password/" not in body and "Reset password" not in body
        assert '<div class="readonly">set</div>' in body

    def test_an_invited_users_password_is_not_set(self, looker):
        assert '<div class="readonly">not set</div>' in page(looker, make_invited("newcomer"))

    def test_without_the_permission_to_view_entitlements_or_the_audit_they_see_neither(self, client, alice):
        clerk = make_user("clerk", is_staff=True)
        clerk.user_permissions.add(Permission.objects.get(codename="view_user"))
        client.force_login(clerk)
        body = page(client, alice)
        assert "<h2>Entitlements</h2>" not in body and "Playback sessions" not in body

    def test_staff_who_may_change_users_still_get_the_password_form(self, client, alice):
        clerk = make_user("clerk", is_staff=True)
        clerk.user_permissions.add(*Permission.objects.filter(codename__in=["view_user", "change_user"]))
        client.force_login(clerk)
        assert "../password/" in page(client, alice)
