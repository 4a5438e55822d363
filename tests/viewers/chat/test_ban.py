"""A moderator removes a viewer from a channel's chat: banned until lifted, their chat sessions ended and a
disconnect queued; nobody else may, and bad input is a clear 4xx that changes nothing."""

import pytest
from django.test import Client

from tests.viewers.chat.conftest import chatting, make_moderator
from viewers.chat import moderation
from viewers.models import ChatBan, ChatSession, Revocation, RevocationKind

pytestmark = pytest.mark.django_db
URL = "/channels/main-event/chat-ban"


def ban(moderator, **data):
    client = Client()
    if moderator is not None:
        client.force_login(moderator)
    return client.post(URL, data)


class TestRemoving:
    def test_a_moderator_bans_and_the_viewer_leaves_the_chat(self, room, alice, bob, private_channel):
        make_moderator(alice)
        session = chatting(bob, private_channel)
        response = ban(alice, user_id=bob.viewer_id, reason="spam links")
        assert response.status_code == 204
        chat_ban = ChatBan.objects.get()
        assert (chat_ban.user, chat_ban.channel, chat_ban.reason, chat_ban.banned_by) == (
            bob,
            private_channel,
            "spam links",
            alice,
        )
        session.refresh_from_db()
        assert session.end_reason == "banned"
        disconnect = Revocation.objects.get(kind=RevocationKind.CHAT)
        assert (disconnect.viewer_id, disconnect.reason) == (bob.viewer_id, "banned")

    def test_banning_twice_keeps_the_first_ban(self, room, alice, bob, private_channel):
        make_moderator(alice)
        ban(alice, user_id=bob.viewer_id, reason="first")
        assert ban(alice, user_id=bob.viewer_id, reason="second").status_code == 204
        assert list(ChatBan.objects.values_list("reason", flat=True)) == ["first"]

    def test_lifting_lets_them_back(self, room, alice, bob, private_channel):
        make_moderator(alice)
        ban(alice, user_id=bob.viewer_id)
        assert moderation.lift(ChatBan.objects.all(), by=alice) == 1
        assert not ChatBan.objects.active().exists()
        ban(alice, user_id=bob.viewer_id, reason="again")
        assert ChatBan.objects.active().get().reason == "again"


class TestWhoMay:
    def test_a_viewer_may_not(self, room, alice, bob):
        response = ban(alice, user_id=bob.viewer_id)
        assert response.status_code == 403 and response.json()["error"] == "not_moderator"
        assert not ChatBan.objects.exists()

    def test_staff_without_the_permission_may_not(self, room, sam, bob):
        assert ban(sam, user_id=bob.viewer_id).status_code == 403

    def test_anonymous_may_not(self, room, bob):
        assert ban(None, user_id=bob.viewer_id).status_code == 401

    def test_not_on_a_channel_without_chat(self, alice, bob):
        make_moderator(alice)
        assert ban(alice, user_id=bob.viewer_id).status_code == 404

    def test_get_is_not_allowed(self, room, alice):
        make_moderator(alice)
        client = Client()
        client.force_login(alice)
        assert client.get(URL).status_code == 405


class TestBadInput:
    @pytest.mark.parametrize(
        "data",
        [
            {},
            {"user_id": ""},
            {"user_id": "not-a-chat-user"},
            {"user_id": "0" * 31 + "\x00"},
            {"user_id": "A" * 32},
            {"user_id": "0" * 33},
            {"user_id": "0" * 32, "reason": "x" * 201},
        ],
    )
    def test_refused_with_a_message(self, room, alice, data):
        make_moderator(alice)
        response = ban(alice, **data)
        assert response.status_code == 400
        assert response.json()["error"] == "invalid" and response.json()["message"]
        assert not ChatBan.objects.exists()

    def test_an_unknown_viewer(self, room, alice):
        make_moderator(alice)
        response = ban(alice, user_id="0" * 32)
        assert response.status_code == 404 and response.json()["message"] == "No such viewer."

    def test_not_oneself(self, room, alice):
        make_moderator(alice)
        response = ban(alice, user_id=alice.viewer_id)
        assert response.status_code == 400 and "yourself" in response.json()["message"]
        assert not ChatSession.objects.exists() and not ChatBan.objects.exists()
