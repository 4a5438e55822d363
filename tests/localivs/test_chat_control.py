"""The local IVS Chat control plane (/ivschat/), driven by a real boto3 `ivschat` client over HTTP.

Every answer, success or error, is checked against botocore's `ivschat` model (tests/localivs/answers.py): the
required members (an error's resourceId, resourceType or reason too), no unknown ones, the model's constraints, the
modeled status. Bad bodies go through Django's test client at the end: a 4xx in IVS Chat's shape, never a 500.
"""

import hashlib
import json
import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.test import Client

from localivs import chat, control, shapes
from localivs.models import ChatCommand, ChatRoom, ChatToken
from tests.localivs.answers import check_answer, error_of

ARN_RE = re.compile(r"arn:aws:ivschat:us-west-2:123456789012:room/(?P<id>[A-Za-z0-9]{12})")
TOKEN_RE = re.compile(r"[A-Za-z0-9_-]{43,}")
SIGV4 = (
    "AWS4-HMAC-SHA256 Credential=local/20260101/us-west-2/ivschat/aws4_request, "
    "SignedHeaders=host;x-amz-date, Signature=" + "0" * 64
)
UNKNOWN_ROOM = "arn:aws:ivschat:us-west-2:123456789012:room/Nope00000000"


def parse_time(value) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(value)


@pytest.fixture
def room(ivschat, transactional_db):
    return ivschat.create_room(name="main-event", maximumMessageRatePerSecond=5, maximumMessageLength=200)


class TestRooms:
    def test_a_new_room_has_an_arn_in_the_signed_region_and_ivs_chat_s_default_limits(self, ivschat, checked, db):
        created = ivschat.create_room()
        assert ARN_RE.fullmatch(created["arn"])["id"] == created["id"]
        assert (created["maximumMessageRatePerSecond"], created["maximumMessageLength"]) == (10, 500)
        assert created["name"] == "" and created["tags"] == {}
        assert created["createTime"] == created["updateTime"]
        assert checked == ["CreateRoom"]

    def test_it_keeps_what_it_was_given_and_answers_it_again(self, ivschat, room):
        got = ivschat.get_room(identifier=room["arn"])
        for member in ("arn", "id", "name", "maximumMessageRatePerSecond", "maximumMessageLength", "createTime"):
            assert got[member] == room[member]
        tagged = ivschat.create_room(name="tagged", tags={"site": "ivs-demo"})
        assert ivschat.get_room(identifier=tagged["arn"])["tags"] == {"site": "ivs-demo"}

    def test_times_are_iso_8601_in_utc_with_milliseconds(self, live_server, room):
        response = post(Client(), "GetRoom", {"identifier": room["arn"]})
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", response.json()["createTime"])

    def test_an_unknown_room_or_one_in_another_region_is_not_found(self, ivschat_in, room):
        other_region = room["arn"].replace("us-west-2", "eu-west-1")
        for client, arn in [(ivschat_in("us-west-2"), UNKNOWN_ROOM), (ivschat_in("eu-west-1"), room["arn"])]:
            assert error_of(lambda c=client, a=arn: c.get_room(identifier=a)) == ("ResourceNotFoundException", 404)
        client = ivschat_in("us-west-2")
        assert error_of(lambda: client.get_room(identifier=other_region)) == ("ResourceNotFoundException", 404)

    def test_a_room_is_named_by_its_arn_only_as_the_model_says(self, ivschat, room):
        """botocore's RoomIdentifier pattern admits an ARN and nothing else ("Currently this must be an ARN")."""
        assert error_of(lambda: ivschat.get_room(identifier=room["id"])) == ("ValidationException", 400)

    def test_an_update_changes_the_limits_and_tells_the_messaging_server(self, ivschat, room):
        with time_machine.travel(datetime.now(UTC) + timedelta(seconds=5)):
            updated = ivschat.update_room(identifier=room["arn"], maximumMessageLength=20, name="renamed")
        assert (updated["maximumMessageLength"], updated["maximumMessageRatePerSecond"]) == (20, 5)
        assert updated["name"] == "renamed" and updated["updateTime"] > updated["createTime"]
        assert ivschat.get_room(identifier=room["arn"])["maximumMessageLength"] == 20
        assert ChatCommand.objects.get().kind == ChatCommand.ROOM_UPDATED

    def test_a_deleted_room_is_gone_with_its_tokens(self, ivschat, checked, room):
        ivschat.create_chat_token(roomIdentifier=room["arn"], userId="viewer-1")
        response = ivschat.delete_room(identifier=room["arn"])
        assert response["ResponseMetadata"]["HTTPStatusCode"] == 204
        assert error_of(lambda: ivschat.get_room(identifier=room["arn"])) == ("ResourceNotFoundException", 404)
        assert not ChatToken.objects.exists()
        assert list(ChatCommand.objects.values_list("room_arn", "kind")) == [(room["arn"], ChatCommand.ROOM_DELETED)]
        assert "DeleteRoom" in checked
        assert error_of(lambda: ivschat.delete_room(identifier=room["arn"])) == ("ResourceNotFoundException", 404)

    def test_the_list_filters_by_name_and_pages_in_a_stable_order(self, ivschat_in, transactional_db):
        here = ivschat_in("us-west-2")
        arns = {here.create_room(name=f"room-{n % 2}")["arn"] for n in range(5)}
        ivschat_in("eu-west-1").create_room(name="room-0")
        seen, token = [], None
        while True:
            page = here.list_rooms(maxResults=2, **({"nextToken": token} if token else {}))
            assert len(page["rooms"]) <= 2
            seen += [summary["arn"] for summary in page["rooms"]]
            token = page.get("nextToken")
            if not token:
                break
        assert set(seen) == arns and len(seen) == 5
        assert len(here.list_rooms(name="room-0")["rooms"]) == 3
        assert here.list_rooms(name="nope")["rooms"] == []
        assert (
            here.list_rooms(messageReviewHandlerUri="arn:aws:lambda:us-west-2:123456789012:function:x")["rooms"] == []
        )
        assert set(here.list_rooms()["rooms"][0]) >= {"arn", "id", "name", "createTime", "updateTime", "tags"}

    @pytest.mark.parametrize(
        "kwargs",
        [
            {"maximumMessageRatePerSecond": 101},
            {"maximumMessageLength": 501},
            {"name": "has space"},
            {"name": "n" * 129},
            {"messageReviewHandler": {"uri": "arn:aws:lambda:us-west-2:123456789012:function:review"}},
            {"loggingConfigurationIdentifiers": ["arn:aws:ivschat:us-west-2:123456789012:logging-configuration/x"]},
        ],
    )
    def test_what_ivs_chat_refuses_or_the_stand_in_does_not_offer_makes_no_room(self, ivschat, db, kwargs):
        assert error_of(lambda: ivschat.create_room(**kwargs)) == ("ValidationException", 400)
        assert not ChatRoom.objects.exists()

    def test_the_rooms_quota_is_per_region(self, ivschat_in, transactional_db, monkeypatch):
        monkeypatch.setattr(chat, "ROOMS_PER_REGION", 1)
        ivschat_in("us-west-2").create_room()
        client = ivschat_in("us-west-2")
        assert error_of(client.create_room) == ("ServiceQuotaExceededException", 402)
        ivschat_in("eu-west-1").create_room()


class TestTokens:
    def test_a_token_is_a_websocket_sub_protocol_valid_a_minute_for_a_session_of_an_hour(self, ivschat, room):
        before = datetime.now(UTC)
        answer = ivschat.create_chat_token(roomIdentifier=room["arn"], userId="viewer-1")
        assert TOKEN_RE.fullmatch(answer["token"])
        token_expires = parse_time(answer["tokenExpirationTime"]) - before
        session_expires = parse_time(answer["sessionExpirationTime"]) - before
        assert timedelta(seconds=59) < token_expires < timedelta(seconds=62)
        assert timedelta(minutes=59, seconds=59) < session_expires < timedelta(minutes=60, seconds=2)

    def test_the_session_lasts_the_minutes_asked_for(self, ivschat, room):
        answer = ivschat.create_chat_token(roomIdentifier=room["arn"], userId="viewer-1", sessionDurationInMinutes=5)
        session = parse_time(answer["sessionExpirationTime"]) - parse_time(answer["tokenExpirationTime"])
        assert timedelta(minutes=3, seconds=59) < session < timedelta(minutes=4, seconds=1)

    def test_only_a_hash_of_the_token_is_stored_with_what_the_messaging_server_needs(self, ivschat, room):
        answer = ivschat.create_chat_token(
            roomIdentifier=room["arn"],
            userId="viewer-1",
            capabilities=["SEND_MESSAGE", "DELETE_MESSAGE", "SEND_MESSAGE"],
            attributes={"displayName": "Alice"},
        )
        row = ChatToken.objects.get()
        assert row.token_sha256 == hashlib.sha256(answer["token"].encode()).hexdigest()
        assert answer["token"] not in json.dumps([str(value) for value in vars(row).values()])
        assert (row.user_id, row.capabilities, row.attributes) == (
            "viewer-1",
            ["DELETE_MESSAGE", "SEND_MESSAGE"],
            {"displayName": "Alice"},
        )
        assert row.room.arn == room["arn"] and row.spent_at is None

    def test_every_token_is_new(self, ivschat, room):
        tokens = {ivschat.create_chat_token(roomIdentifier=room["arn"], userId="v")["token"] for _ in range(3)}
        assert len(tokens) == 3

    def test_the_room_must_exist_in_the_signed_region(self, ivschat_in, room):
        client = ivschat_in("eu-west-1")
        assert error_of(lambda: client.create_chat_token(roomIdentifier=room["arn"], userId="v")) == (
            "ResourceNotFoundException",
            404,
        )
        here = ivschat_in("us-west-2")
        assert error_of(lambda: here.create_chat_token(roomIdentifier=UNKNOWN_ROOM, userId="v"))[0] == (
            "ResourceNotFoundException"
        )
        assert not ChatToken.objects.exists()

    @pytest.mark.parametrize(
        "kwargs",
        [
            {"sessionDurationInMinutes": 181},
            {"capabilities": ["SEND_MESSAGE", "BAN_USER"]},
            {"attributes": {"displayName": "x" * 1014}},  # 11 + 1014 bytes: just over 1 KB
            {"attributes": {f"k{n}": "é" * 20 for n in range(30)}},
            {"userId": "u" * 129},
        ],
    )
    def test_what_ivs_chat_refuses_issues_no_token(self, ivschat, room, kwargs):
        arguments = {"roomIdentifier": room["arn"], "userId": "viewer-1", **kwargs}
        assert error_of(lambda: ivschat.create_chat_token(**arguments)) == ("ValidationException", 400)
        assert not ChatToken.objects.exists()

    def test_attributes_of_exactly_1_kb_are_accepted(self, ivschat, room):
        ivschat.create_chat_token(roomIdentifier=room["arn"], userId="v", attributes={"displayName": "x" * 1013})
        assert ChatToken.objects.count() == 1

    @pytest.mark.parametrize("minutes", [0, -5])
    def test_a_session_of_less_than_a_minute_is_refused_on_the_server_too(self, room, minutes):
        body = {"roomIdentifier": room["arn"], "userId": "v", "sessionDurationInMinutes": minutes}
        response = post(Client(), "CreateChatToken", body)
        assert response.status_code == 400 and rejected(response, "CreateChatToken")

    def test_old_tokens_are_forgotten_a_minute_after_they_expire(self, ivschat, room):
        ivschat.create_chat_token(roomIdentifier=room["arn"], userId="v")
        assert chat.forget_chat_tokens(datetime.now(UTC) + timedelta(seconds=90)) == 0
        assert chat.forget_chat_tokens(datetime.now(UTC) + timedelta(seconds=121)) == 1


class TestTrafficToTheRoom:
    """SendEvent, DeleteMessage and DisconnectUser reach the room's sockets through the messaging server
    (tests/localivs/test_chat_server.py follows them there); here, what the control plane answers and queues."""

    def test_an_event_is_queued_for_the_room_and_answered_with_its_id(self, ivschat, room):
        answer = ivschat.send_event(roomIdentifier=room["arn"], eventName="poll_started", attributes={"q": "Best?"})
        command = ChatCommand.objects.get()
        assert answer["id"] == command.event_id and re.fullmatch(r"[A-Za-z0-9]{12}", answer["id"])
        assert (command.room_arn, command.kind, command.payload) == (
            room["arn"],
            ChatCommand.SEND_EVENT,
            {"name": "poll_started", "attributes": {"q": "Best?"}},
        )

    def test_a_deleted_message_and_a_disconnected_user_are_queued(self, ivschat, room):
        answer = ivschat.delete_message(roomIdentifier=room["arn"], id="AbCdEf123456", reason="spam")
        assert set(ivschat.disconnect_user(roomIdentifier=room["arn"], userId="viewer-2", reason="rude")) == {
            "ResponseMetadata"  # an empty answer
        }
        rows = list(ChatCommand.objects.order_by("pk").values_list("kind", "payload", "event_id"))
        assert rows[0] == (ChatCommand.DELETE_MESSAGE, {"message_id": "AbCdEf123456", "reason": "spam"}, answer["id"])
        assert rows[1][:2] == (ChatCommand.DISCONNECT_USER, {"user_id": "viewer-2", "reason": "rude"})

    def test_system_event_names_cannot_be_forged(self, ivschat, room):
        send = lambda: ivschat.send_event(roomIdentifier=room["arn"], eventName="aws:DISCONNECT_USER")  # noqa: E731
        assert error_of(send) == ("ValidationException", 400)
        assert not ChatCommand.objects.exists()

    @pytest.mark.parametrize(
        "call",
        [
            lambda c, arn: c.delete_message(roomIdentifier=arn, id="not-an-id-12"),
            lambda c, arn: c.delete_message(roomIdentifier=arn, id="AbCdEf123456", reason="r" * 257),
            lambda c, arn: c.disconnect_user(roomIdentifier=arn, userId="u" * 129),
            lambda c, arn: c.send_event(roomIdentifier=arn, eventName="e" * 101),
            lambda c, arn: c.send_event(roomIdentifier=arn, eventName="e", attributes={"a": "b" * 1024}),
        ],
    )
    def test_bad_members_queue_nothing(self, ivschat, room, call):
        assert error_of(lambda: call(ivschat, room["arn"])) == ("ValidationException", 400)
        assert not ChatCommand.objects.exists()

    def test_an_unknown_room_gets_nothing(self, ivschat, transactional_db):
        for call in (
            lambda: ivschat.send_event(roomIdentifier=UNKNOWN_ROOM, eventName="e"),
            lambda: ivschat.delete_message(roomIdentifier=UNKNOWN_ROOM, id="AbCdEf123456"),
            lambda: ivschat.disconnect_user(roomIdentifier=UNKNOWN_ROOM, userId="v"),
        ):
            assert error_of(call) == ("ResourceNotFoundException", 404)
        assert not ChatCommand.objects.exists()

    def test_the_room_s_rate_throttles_them(self, ivschat, transactional_db):
        arn = ivschat.create_room(maximumMessageRatePerSecond=2)["arn"]
        with time_machine.travel(datetime.now(UTC), tick=False):
            ivschat.send_event(roomIdentifier=arn, eventName="one")
            ivschat.disconnect_user(roomIdentifier=arn, userId="v")
            throttled = lambda: ivschat.delete_message(roomIdentifier=arn, id="AbCdEf123456")  # noqa: E731
            assert error_of(throttled) == ("ThrottlingException", 429)
        with time_machine.travel(datetime.now(UTC) + timedelta(seconds=2), tick=False):
            ivschat.delete_message(roomIdentifier=arn, id="AbCdEf123456")
        assert ChatCommand.objects.count() == 3


def test_every_operation_the_site_uses_is_answered(ivschat, checked, transactional_db):
    arn = ivschat.create_room(name="all")["arn"]
    ivschat.get_room(identifier=arn)
    ivschat.update_room(identifier=arn, maximumMessageRatePerSecond=20)
    ivschat.list_rooms(name="all")
    ivschat.create_chat_token(roomIdentifier=arn, userId="v", capabilities=["SEND_MESSAGE"])
    ivschat.send_event(roomIdentifier=arn, eventName="e")
    ivschat.delete_message(roomIdentifier=arn, id="AbCdEf123456")
    ivschat.disconnect_user(roomIdentifier=arn, userId="v")
    ivschat.delete_room(identifier=arn)
    assert sorted(checked) == sorted(chat.OPERATIONS)


# --- Bad input, through Django's test client --------------------------------------------------------


def post(client, operation, body, authorization=SIGV4, mount="ivschat"):
    data = body if isinstance(body, bytes) else json.dumps(body)
    extra = {"HTTP_AUTHORIZATION": authorization} if authorization else {}
    return client.generic("POST", f"/{mount}/{operation}", data, content_type="application/json", **extra)


def rejected(response, operation, code="ValidationException"):
    assert response["x-amzn-ErrorType"] == code
    return check_answer(operation, response.status_code, response, response.content, service="ivschat")["message"]


@pytest.mark.django_db
class TestBadInput:
    @pytest.mark.parametrize(
        "body",
        [
            b"not json",
            b"\xff\xfe{}",
            pytest.param(b"[" * 100_000, id="deeply-nested"),
            b"[]",
            b"null",
            {"name": 1},
            {"maximumMessageLength": "10"},
            {"maximumMessageLength": True},
            {"maximumMessageLength": 0},
            {"maximumMessageRatePerSecond": 1.5},
            {"tags": {"k": 1}},
            {"tags": {f"k{n}": "v" for n in range(51)}},
            {"unexpected": "member"},
        ],
    )
    def test_a_malformed_room_is_a_validation_error_and_makes_nothing(self, client, body):
        response = post(client, "CreateRoom", body)
        assert response.status_code == 400 and rejected(response, "CreateRoom")
        assert response.json()["reason"] == "FIELD_VALIDATION_FAILED"
        assert not ChatRoom.objects.exists()

    @pytest.mark.parametrize("hostile", [None, True, 1.5, -1, 2**63, "", "x" * 5000, [], {}, "\ud800", "\x00"])
    def test_no_member_of_any_operation_can_cause_a_500(self, client, hostile):
        room = ChatRoom.objects.create(region="us-west-2")
        for operation in sorted(chat.OPERATIONS):
            for member in shapes.input_shape(operation, "ivschat").members:
                body = {"identifier": room.arn, "roomIdentifier": room.arn, member: hostile}
                response = post(client, operation, body)
                assert response.status_code < 500, (operation, member, response.content)
                check_answer(operation, response.status_code, response, response.content, service="ivschat")

    def test_it_needs_a_sigv4_authorization_header_for_ivschat(self, client):
        assert post(client, "ListRooms", {}, authorization=None).status_code == 403
        for header in ("Bearer abc", SIGV4.replace("/ivschat/", "/ivs/")):
            response = post(client, "ListRooms", {}, authorization=header)
            assert response.status_code == 400 and rejected(response, "ListRooms", "IncompleteSignatureException")
        # and the IVS mount takes no ivschat signature
        assert post(client, "ListChannels", {}, mount="ivs").status_code == 400

    def test_the_two_mounts_answer_their_own_operations_only(self, client):
        assert post(client, "ListChannels", {}).status_code == 404
        response = post(client, "CreateLoggingConfiguration", {})
        assert response.status_code == 404 and "CreateLoggingConfiguration" in response.json()["message"]
        assert set(chat.OPERATIONS).isdisjoint(control.OPERATIONS)

    def test_it_is_csrf_exempt_and_post_only(self):
        strict = Client(enforce_csrf_checks=True)
        assert post(strict, "ListRooms", {}).status_code == 200
        assert strict.get("/ivschat/ListRooms").status_code == 405

    def test_bad_paging_is_a_validation_error(self, client):
        for body in ({"maxResults": 51}, {"nextToken": "!!"}, {"nextToken": "_w=="}):
            response = post(client, "ListRooms", body)
            assert response.status_code == 400 and rejected(response, "ListRooms")
