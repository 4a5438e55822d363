"""The player page's chat: a panel only with a ready room, the configuration chat.js reads, a moderator's extra
powers, and a CSP that lets this page, and only a chat page, open the chat's WebSocket."""

import json
import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from tests.viewers.chat.conftest import make_moderator
from viewers.models import ChatRoom, ChatRoomStatus

pytestmark = pytest.mark.django_db
CONFIG = re.compile(r'<script id="chat-config" type="application/json">(.*?)</script>', re.S)


def page(user, path="/channels/main-event/"):
    client = Client()
    if user is not None:
        client.force_login(user)
    return client.get(path)


def config_of(response):
    match = CONFIG.search(response.content.decode())
    return json.loads(match.group(1)) if match else None


def connect_src(response):
    policy = response["Content-Security-Policy"]
    return next(part for part in policy.split(";") if part.strip().startswith("connect-src")).split()[1:]


class TestThePanel:
    def test_a_viewer_gets_the_chat_and_its_socket(self, room, alice):
        response = page(alice)
        assert config_of(response) == {
            "tokenUrl": "/channels/main-event/chat-token",
            "banUrl": "/channels/main-event/chat-ban",
            "messagingUrl": "wss://edge.ivschat.us-west-2.amazonaws.com",
            "userId": alice.viewer_id,
            "displayName": "alice",
            "moderator": False,
            "maxLength": 500,
            "loginUrl": "/accounts/login/?next=/channels/main-event/",
        }
        assert "wss://edge.ivschat.us-west-2.amazonaws.com" in connect_src(response)

    def test_the_page_does_not_ask_who_moderates_the_token_does(self, room, alice):
        assert config_of(page(make_moderator(alice)))["moderator"] is False

    def test_the_messaging_url_setting_wins(self, room, alice, settings):
        settings.IVS_CHAT_MESSAGING_URL = "ws://127.0.0.1:8001"
        response = page(alice)
        assert config_of(response)["messagingUrl"] == "ws://127.0.0.1:8001"
        assert "ws://127.0.0.1:8001" in connect_src(response)

    def test_no_room_no_panel_and_no_socket(self, alice):
        response = page(alice)
        assert config_of(response) is None and 'class="chat' not in response.content.decode()
        assert not any("ivschat" in source for source in connect_src(response))

    @pytest.mark.parametrize("status", [ChatRoomStatus.CREATING, ChatRoomStatus.LINKING, ChatRoomStatus.FAILED])
    def test_a_room_not_ready_shows_no_panel(self, private_channel, alice, status):
        ChatRoom.objects.create(channel=private_channel, arn="", status=status)
        assert config_of(page(alice)) is None

    def test_a_visitor_on_a_public_channel_is_asked_to_log_in(self, public_channel):
        ChatRoom.objects.create(
            channel=public_channel, arn="arn:aws:ivschat:us-west-2:123456789012:room/Lobby0001", status="ready"
        )
        response = page(None, "/channels/lobby/")
        body = response.content.decode()
        assert "Log in to chat" in body and "/accounts/login/?next=/channels/lobby/" in body
        assert not any("ivschat" in source for source in connect_src(response))

    def test_the_chat_costs_the_page_no_query(self, private_channel, alice):
        def queries():
            with CaptureQueriesContext(connection) as captured:
                assert page(alice).status_code == 200
            return len(captured)

        without = queries()
        ChatRoom.objects.create(
            channel=private_channel, arn="arn:aws:ivschat:us-west-2:123456789012:room/MainRoom0001", status="ready"
        )
        # The room comes with the page's one read; whether the viewer moderates comes with the chat token.
        assert queries() == without
