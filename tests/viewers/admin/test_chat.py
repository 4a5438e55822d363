"""Chat in the admin: adding or linking a room only writes what is wanted (the worker talks to IVS), a ban from the
admin is a moderator's ban, lifting needs the change permission, and chat sessions are a read-only audit."""

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django_tasks_db.models import DBTaskResult

from tests.viewers.admin.test_permissions import staff_with
from tests.viewers.chat.conftest import ROOM_ARN, chatting
from viewers.chat import rooms
from viewers.models import ChatBan, ChatRoom, ChatRoomStatus, ChatSession, Revocation, RevocationKind

pytestmark = pytest.mark.django_db
ROOMS = "/admin/viewers/chatroom/"
BANS = "/admin/viewers/chatban/"


@pytest.fixture
def room(private_channel):
    return ChatRoom.objects.create(channel=private_channel, arn=ROOM_ARN, status=ChatRoomStatus.READY)


def as_staff(client, *codenames):
    client.force_login(staff_with(*codenames))
    return client


class TestRooms:
    def test_adding_a_room_asks_the_worker_and_calls_no_aws(self, client, private_channel):
        as_staff(client, "add_chatroom", "view_chatroom", "change_chatroom")
        data = {
            "channel": private_channel.pk,
            "arn": "",
            "maximum_message_rate_per_second": 5,
            "maximum_message_length": 300,
        }
        response = client.post(f"{ROOMS}add/", data, follow=True)
        assert response.status_code == 200
        made = ChatRoom.objects.get()
        assert (made.status, made.arn, made.maximum_message_length) == (ChatRoomStatus.CREATING, "", 300)
        assert DBTaskResult.objects.ready().filter(task_path=rooms.sync_rooms.module_path).exists()
        assert "The worker now creates the room at IVS" in response.content.decode()

    def test_linking_an_arn_in_another_region_is_refused(self, client, private_channel):
        as_staff(client, "add_chatroom", "view_chatroom")
        arn = ROOM_ARN.replace("us-west-2", "eu-west-1")
        data = {
            "channel": private_channel.pk,
            "arn": arn,
            "maximum_message_rate_per_second": 10,
            "maximum_message_length": 500,
        }
        response = client.post(f"{ROOMS}add/", data)
        assert "The room must be in the channel&#x27;s region, us-west-2." in response.content.decode()
        assert not ChatRoom.objects.exists()

    @pytest.mark.parametrize(
        "field, value",
        [
            ("arn", "arn:aws:ivs:us-west-2:123456789012:channel/x"),
            ("maximum_message_length", 501),
            ("maximum_message_rate_per_second", 0),
            ("arn", "arn:aws:ivschat:us-west-2:1:room/x\x00"),
        ],
    )
    def test_bad_values_are_refused_in_the_form(self, client, private_channel, field, value):
        as_staff(client, "add_chatroom", "view_chatroom")
        data = {
            "channel": private_channel.pk,
            "arn": "",
            "maximum_message_rate_per_second": 10,
            "maximum_message_length": 500,
        }
        response = client.post(f"{ROOMS}add/", {**data, field: value})
        assert response.status_code == 200 and "errorlist" in response.content.decode()
        assert not ChatRoom.objects.exists()

    def test_re_pointing_the_arn_relinks_and_asks_for_a_reconcile(self, client, room):
        as_staff(client, "change_chatroom", "view_chatroom")
        other = ROOM_ARN.replace("0001", "0009")
        data = {"arn": other, "maximum_message_rate_per_second": 10, "maximum_message_length": 500}
        client.post(f"{ROOMS}{room.pk}/change/", data)
        room.refresh_from_db()
        assert (room.arn, room.status) == (other, ChatRoomStatus.LINKING)

    def test_view_only_staff_change_nothing(self, client, room):
        as_staff(client, "view_chatroom")
        data = {"arn": "", "maximum_message_rate_per_second": 1, "maximum_message_length": 1}
        assert client.post(f"{ROOMS}{room.pk}/change/", data).status_code == 403
        room.refresh_from_db()
        assert room.status == ChatRoomStatus.READY and room.arn == ROOM_ARN


class TestBans:
    def test_a_ban_from_the_admin_ends_the_viewers_chat(self, client, room, alice, private_channel):
        session = chatting(alice, private_channel)
        as_staff(client, "add_chatban", "view_chatban")
        response = client.post(f"{BANS}add/", {"channel": private_channel.pk, "user": alice.pk, "reason": "abuse"})
        assert response.status_code == 302
        chat_ban = ChatBan.objects.get()
        assert (chat_ban.reason, chat_ban.banned_by.username) == ("abuse", "clerk")
        session.refresh_from_db()
        assert session.end_reason == "banned"
        assert Revocation.objects.filter(kind=RevocationKind.CHAT, viewer_id=alice.viewer_id).exists()

    def test_lifting_needs_the_change_permission(self, client, alice, private_channel):
        chat_ban = ChatBan.objects.create(channel=private_channel, user=alice, reason="abuse")
        body = {"action": "lift", ACTION_CHECKBOX_NAME: [chat_ban.pk]}
        as_staff(client, "view_chatban").post(BANS, body)
        assert ChatBan.objects.active().exists()
        client.force_login(staff_with("view_chatban", "change_chatban", username="lead"))
        client.post(BANS, body)
        chat_ban.refresh_from_db()
        assert chat_ban.lifted_at and chat_ban.lifted_by.username == "lead"

    def test_bans_are_not_deleted_only_lifted(self, client, alice, private_channel):
        chat_ban = ChatBan.objects.create(channel=private_channel, user=alice)
        client.force_login(staff_with("view_chatban", "change_chatban", "delete_chatban"))
        assert client.post(f"{BANS}{chat_ban.pk}/delete/", {"post": "yes"}).status_code == 403
        assert ChatBan.objects.exists()


def test_chat_sessions_are_a_read_only_audit(client, alice, private_channel):
    session = chatting(alice, private_channel)
    as_staff(client, "view_chatsession", "change_chatsession", "delete_chatsession")
    page = client.get("/admin/viewers/chatsession/").content.decode()
    assert "alice" in page
    assert client.post(f"/admin/viewers/chatsession/{session.pk}/delete/", {"post": "yes"}).status_code == 403
    assert ChatSession.objects.exists()
