"""The worker makes IVS Chat agree with the rooms the admin wants: create (once, even if a run dies), link and
check, apply the limits; failures wait and retry, and never undo what the admin changed meanwhile."""

import pytest
from botocore.stub import ANY
from django.utils import timezone

from tests.factories import run_worker
from tests.viewers.chat.conftest import ROOM_ARN
from viewers.chat import rooms
from viewers.models import ChatRoom, ChatRoomStatus

pytestmark = pytest.mark.django_db


def room_answer(arn=ROOM_ARN, name="room", **limits):
    return {"arn": arn, "id": arn.rsplit("/", 1)[1], "name": name, **limits}


@pytest.fixture
def wanted(private_channel):
    room = ChatRoom(channel=private_channel, maximum_message_rate_per_second=5, maximum_message_length=200)
    rooms.wish(room, arn_changed=False, limits_changed=True)
    room.save()
    return room


class TestCreating:
    def test_a_new_room_is_created_in_the_channels_region_with_its_limits(self, ivschat, wanted):
        ivschat.add_response("list_rooms", {"rooms": []})
        ivschat.add_response(
            "create_room",
            room_answer(),
            {
                "name": ANY,
                "tags": {"ivssite-channel": "main-event"},
                "maximumMessageRatePerSecond": 5,
                "maximumMessageLength": 200,
            },
        )
        rooms.sync_soon()
        run_worker()
        wanted.refresh_from_db()
        assert (wanted.status, wanted.arn, wanted.last_error) == (ChatRoomStatus.READY, ROOM_ARN, "")
        assert wanted.name.startswith(f"ivssite-{wanted.channel_id}-") and wanted.synced_at
        assert ivschat.clients_made == [("us-west-2", False)]

    def test_a_room_made_by_a_run_that_died_is_found_not_made_twice(self, ivschat, wanted):
        ChatRoom.objects.filter(pk=wanted.pk).update(name="ivssite-1-deadbeef")
        ivschat.add_response(
            "list_rooms",
            {"rooms": [room_answer(name="ivssite-1-deadbeef")]},
            {
                "name": "ivssite-1-deadbeef",
                "maxResults": 1,
            },
        )
        rooms.sync_soon()
        run_worker()  # no create_room queued: the Stubber would fail the test had it been called
        wanted.refresh_from_db()
        assert (wanted.status, wanted.arn) == (ChatRoomStatus.READY, ROOM_ARN)


class TestLinking:
    def test_an_existing_room_is_checked_and_given_the_limits(self, ivschat, private_channel):
        room = ChatRoom(channel=private_channel, arn=ROOM_ARN, maximum_message_length=300)
        rooms.wish(room, arn_changed=True, limits_changed=False)
        room.save()
        assert room.status == ChatRoomStatus.LINKING
        ivschat.add_response("get_room", room_answer(), {"identifier": ROOM_ARN})
        ivschat.add_response(
            "update_room",
            room_answer(),
            {"identifier": ROOM_ARN, "maximumMessageRatePerSecond": 10, "maximumMessageLength": 300},
        )
        rooms.sync_soon()
        run_worker()
        room.refresh_from_db()
        assert room.status == ChatRoomStatus.READY

    def test_a_room_that_does_not_exist_fails_with_the_reason(self, ivschat, private_channel):
        room = ChatRoom.objects.create(channel=private_channel, arn=ROOM_ARN, status=ChatRoomStatus.LINKING)
        ivschat.add_client_error("get_room", service_error_code="ResourceNotFoundException", http_status_code=404)
        rooms.sync_soon()
        run_worker()
        room.refresh_from_db()
        assert room.status == ChatRoomStatus.FAILED and "ResourceNotFoundException" in room.last_error

    def test_clearing_the_arn_creates_a_new_room_not_the_old_one_again(self, private_channel):
        room = ChatRoom.objects.create(channel=private_channel, arn=ROOM_ARN, name="old", status="ready")
        room.arn = ""
        rooms.wish(room, arn_changed=True, limits_changed=False)
        assert (room.status, room.name) == (ChatRoomStatus.CREATING, "")


class TestFailing:
    def test_throttled_waits_and_retries(self, ivschat, wanted):
        ivschat.add_client_error("list_rooms", service_error_code="ThrottlingException", http_status_code=429)
        rooms.sync_soon()
        run_worker()
        wanted.refresh_from_db()
        assert wanted.status == ChatRoomStatus.CREATING and wanted.attempts == 1
        assert wanted.next_attempt_at > timezone.now() and "Throttling" in wanted.last_error
        assert not ChatRoom.objects.due().exists()

    def test_an_admin_change_meanwhile_is_not_undone(self, wanted, monkeypatch, settings):
        settings.AWS_REGION = "us-west-2"

        def create_while_the_operator_saves(client, room, limits):
            ChatRoom.objects.filter(pk=wanted.pk).update(maximum_message_length=100)
            return ROOM_ARN

        monkeypatch.setattr(rooms, "_create", create_while_the_operator_saves)
        rooms.sync_rooms.call()
        wanted.refresh_from_db()
        # Not marked ready on the old wish: the next run applies the new one.
        assert (wanted.status, wanted.maximum_message_length) == (ChatRoomStatus.CREATING, 100)
