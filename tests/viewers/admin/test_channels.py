"""Channels in the admin: adding one, and changing one while viewers watch."""

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.auth.models import Permission

from tests.factories import PRIVATE_ARN, audit_row, playback_url_for
from viewers.models import Channel, TokenAudit, User

AUDITS = "/admin/viewers/tokenaudit/"


@pytest.mark.django_db
class TestAddingAChannel:
    def form(self, **fields):
        values = {
            "name": "Main Event",
            "slug": "main-event",
            "arn": PRIVATE_ARN,
            "playback_url": playback_url_for(PRIVATE_ARN),
            "is_private": "on",
            "is_listed": "on",
            "description": "",
        }
        return values | fields

    def test_it_adds_a_channel(self, admin_client):
        assert admin_client.post("/admin/viewers/channel/add/", self.form()).status_code == 302
        assert Channel.objects.get().arn == PRIVATE_ARN

    def test_it_refuses_a_playback_url_of_another_channel(self, admin_client):
        form = self.form(arn="arn:aws:ivs:us-west-2:123456789012:channel/OtherChan01")
        response = admin_client.post("/admin/viewers/channel/add/", form)
        assert response.status_code == 200
        assert response.context["adminform"].form.errors["playback_url"] == [
            "This playback URL belongs to a different channel than the ARN."
        ]
        assert not Channel.objects.exists()


@pytest.mark.django_db
class TestChangingAChannelWhileViewersWatch:
    """Deleting, re-pointing or making public a channel ends the sessions its tokens opened; the admin says so first,
    and the token audit outlives the channel."""

    CHANNEL = "/admin/viewers/channel/"

    @pytest.fixture
    def watched(self, alice, bob, private_channel):
        return [audit_row(alice, private_channel, viewer_id=alice.viewer_id) for _ in range(2)] + [
            audit_row(bob, private_channel, viewer_id=bob.viewer_id)
        ]

    def test_the_delete_confirmation_says_who_is_watching_and_that_they_will_be_stopped(
        self, admin_client, private_channel, watched
    ):
        page = admin_client.get(f"{self.CHANNEL}{private_channel.pk}/delete/").content.decode()
        assert "2 viewers may be watching now (3 playback sessions" in page
        assert "Deleting stops those streams within a few seconds" in page
        assert "token audit keeps its rows" in page

    def test_one_viewer_reads_in_the_singular(self, admin_client, private_channel, alice):
        audit_row(alice, private_channel, viewer_id=alice.viewer_id)
        page = admin_client.get(f"{self.CHANNEL}{private_channel.pk}/delete/").content.decode()
        assert "1 viewer may be watching now (1 playback session started" in page
        assert "Deleting stops that stream" in page

    def test_deleting_keeps_the_audit_and_ends_the_sessions(self, admin_client, private_channel, watched, worker):
        response = admin_client.post(f"{self.CHANNEL}{private_channel.pk}/delete/", {"post": "yes"})
        assert response.status_code == 302 and not Channel.objects.exists()
        worker()
        rows = TokenAudit.objects.all()
        assert rows.count() == 3
        assert {(row.channel_id, row.channel_name, row.channel_arn) for row in rows} == {
            (None, "Main Event", PRIVATE_ARN)
        }
        assert all(row.end_reason == "revoked" for row in rows)
        assert "Main Event (deleted)" in admin_client.get(AUDITS).content.decode()

    def test_the_bulk_delete_says_who_is_watching(self, admin_client, private_channel, public_channel, watched):
        data = {"action": "delete_selected", ACTION_CHECKBOX_NAME: [private_channel.pk, public_channel.pk]}
        page = admin_client.post(self.CHANNEL, data).content.decode()
        assert "2 viewers may be watching now" in page
        admin_client.post(self.CHANNEL, {**data, "post": "yes"})
        assert not Channel.objects.exists() and TokenAudit.objects.count() == 3

    def test_view_only_staff_cannot_delete(self, client, private_channel, watched):
        looker = User.objects.create_user("looker", password="x", is_staff=True)
        looker.user_permissions.add(*Permission.objects.filter(codename__startswith="view_"))
        client.force_login(looker)
        assert client.get(f"{self.CHANNEL}{private_channel.pk}/delete/").status_code == 403
        client.post(self.CHANNEL, {"action": "delete_selected", ACTION_CHECKBOX_NAME: [private_channel.pk]})
        assert Channel.objects.filter(pk=private_channel.pk).exists()

    def test_re_pointing_says_the_streams_on_the_old_arn_are_being_stopped(
        self, admin_client, private_channel, watched
    ):
        new_arn = PRIVATE_ARN.replace("MainEvent01", "MainEvent02")
        form = {
            "name": private_channel.name,
            "slug": private_channel.slug,
            "arn": new_arn,
            "playback_url": playback_url_for(new_arn),
            "is_private": "on",
            "is_listed": "on",
        }
        response = admin_client.post(f"{self.CHANNEL}{private_channel.pk}/change/", form, follow=True)
        assert Channel.objects.get().arn == new_arn
        assert "2 viewers watching Main Event played its old ARN: IVS is told to stop those streams" in (
            response.content.decode()
        )

    def test_making_it_public_says_the_private_streams_are_being_stopped(self, admin_client, private_channel, watched):
        form = {
            "name": private_channel.name,
            "slug": private_channel.slug,
            "arn": private_channel.arn,
            "playback_url": private_channel.playback_url,
            "is_listed": "on",
        }
        response = admin_client.post(f"{self.CHANNEL}{private_channel.pk}/change/", form, follow=True)
        assert not Channel.objects.get().is_private
        assert "played its old private stream" in response.content.decode()
        assert "each player then loads the channel&#x27;s public stream" in response.content.decode()
