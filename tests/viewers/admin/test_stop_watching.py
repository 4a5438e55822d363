"""'Stop watching' one viewer on one channel: a confirmation that names them and says what happens, then their
sessions end now (revocation queued for the worker), optionally their own entitlement too; the player's automatic
retry is refused rather than handed a fresh token. Each step needs its permission."""

import pytest
from django.contrib.auth.models import Permission
from django.test import Client

from tests.factories import make_user, playing, watch
from viewers.models import Entitlement, Revocation, SessionEnd, TokenAudit, User

pytestmark = pytest.mark.django_db


def stop_url(channel, user):
    return f"/admin/viewers/channel/{channel.pk}/live/stop/{user.pk}/"


def staff_client(*codenames):
    staff = User.objects.create_user("desk", "desk@example.com", "password", is_staff=True)
    staff.user_permissions.add(*Permission.objects.filter(codename__in=codenames))
    client = Client()
    client.force_login(staff)
    return client


class TestConfirmation:
    def test_names_the_viewer_and_says_what_happens(self, admin_client, alice, private_channel):
        playing(alice, private_channel)
        page = admin_client.get(stop_url(private_channel, alice)).content.decode()
        assert "Stop <strong>alice</strong> (alice@example.com) watching <strong>Main Event</strong>?" in page
        assert "Their 1 open playback session on this channel ends now" in page
        assert "Also end their 1 entitlement to Main Event now" in page
        assert TokenAudit.objects.open().count() == 1  # a GET changes nothing

    def test_says_when_nothing_is_playing(self, admin_client, alice, private_channel):
        page = admin_client.get(stop_url(private_channel, alice)).content.decode()
        assert "They have no open playback session on this channel now" in page

    def test_says_a_group_entitlement_is_not_ended(self, admin_client, bob, private_channel):
        page = admin_client.get(stop_url(private_channel, bob)).content.decode()
        assert "the group" in page and "subscribers" in page and "Remove them from the group" in page

    def test_an_unknown_viewer_or_channel_is_a_404(self, admin_client, alice, private_channel):
        assert admin_client.get(f"/admin/viewers/channel/{private_channel.pk}/live/stop/99999/").status_code == 404
        assert admin_client.get(f"/admin/viewers/channel/99999/live/stop/{alice.pk}/").status_code == 404


class TestStopping:
    def test_ends_their_sessions_on_this_channel_only_and_queues_the_revocation(
        self, admin_client, alice, carol, private_channel, hidden_channel
    ):
        mine = playing(alice, private_channel)
        elsewhere = playing(alice, hidden_channel)
        theirs = playing(carol, private_channel)
        response = admin_client.post(stop_url(private_channel, alice))
        assert response.status_code == 302
        assert response["Location"] == f"/admin/viewers/channel/{private_channel.pk}/live/"
        mine.refresh_from_db()
        assert mine.end_reason == SessionEnd.STOPPED and mine.ended_at
        assert set(TokenAudit.objects.open().values_list("pk", flat=True)) == {elsewhere.pk, theirs.pk}
        revocation = Revocation.objects.get()
        assert (revocation.viewer_id, revocation.max_version) == (alice.viewer_id, mine.pk)
        assert Entitlement.objects.get(user=alice).ends_at is None  # not asked for

    def test_may_also_end_their_entitlement(self, admin_client, alice, private_channel):
        playing(alice, private_channel)
        admin_client.post(stop_url(private_channel, alice), {"end_entitlement": "1"})
        assert Entitlement.objects.get(user=alice).ends_at is not None
        viewer = Client()
        viewer.force_login(alice)
        assert viewer.get("/channels/main-event/").status_code == 403

    def test_back_to_the_users_page_when_asked_from_there(self, admin_client, alice, private_channel):
        response = admin_client.post(stop_url(private_channel, alice), {"next": "user"})
        assert response["Location"] == f"/admin/viewers/user/{alice.pk}/change/"
        response = admin_client.post(stop_url(private_channel, alice), {"next": "https://evil.example/"})
        assert response["Location"] == f"/admin/viewers/channel/{private_channel.pk}/live/"

    def test_the_players_retry_is_refused_but_a_reload_may_watch_again(self, admin_client, alice, private_channel):
        viewer = Client()
        viewer.force_login(alice)
        session = watch(alice, client=viewer)
        admin_client.post(stop_url(private_channel, alice))
        refresh = viewer.post("/channels/main-event/playback", {"session": str(session)})
        assert refresh.status_code == 409
        assert refresh.json()["error"] == "stopped"
        assert "token" not in refresh.content.decode().lower()
        assert viewer.get("/channels/main-event/").status_code == 200  # still entitled: the operator did not end it


class TestPermissions:
    def test_without_stop_session_nothing_changes(self, alice, private_channel):
        playing(alice, private_channel)
        client = staff_client("view_channel", "view_tokenaudit", "view_user", "view_entitlement")
        assert client.get(stop_url(private_channel, alice)).status_code == 403
        assert client.post(stop_url(private_channel, alice), {"end_entitlement": "1"}).status_code == 403
        assert TokenAudit.objects.open().count() == 1 and not Revocation.objects.exists()

    def test_stop_session_alone_stops_but_cannot_end_the_entitlement(self, alice, private_channel):
        playing(alice, private_channel)
        client = staff_client("view_channel", "stop_session")
        page = client.get(stop_url(private_channel, alice)).content.decode()
        assert "Also end" not in page
        client.post(stop_url(private_channel, alice), {"end_entitlement": "1"})
        assert TokenAudit.objects.open().count() == 0
        assert Entitlement.objects.get(user=alice).ends_at is None

    def test_the_users_page_offers_it_only_with_the_permission(self, alice, private_channel, admin_client):
        playing(alice, private_channel)
        user_page = f"/admin/viewers/user/{alice.pk}/change/"
        assert "stop watching" in admin_client.get(user_page).content.decode()
        looker = staff_client("view_user", "view_tokenaudit")
        assert "stop watching" not in looker.get(user_page).content.decode()

    def test_a_deleted_viewer_has_nothing_to_stop(self, admin_client, private_channel):
        ghost = make_user("ghost")
        pk = ghost.pk
        ghost.delete()
        assert admin_client.get(f"/admin/viewers/channel/{private_channel.pk}/live/stop/{pk}/").status_code == 404
