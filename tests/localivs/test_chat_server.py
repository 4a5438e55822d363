"""The local IVS Chat messaging WebSocket (localivs/chat_server.py), driven by a Python WebSocket client as the JS SDK
drives it: the token as the one sub-protocol, JSON requests, MESSAGE / EVENT / ERROR frames in the shapes the SDK's
deserializers read (amazon-ivs-chat-messaging's dist/esm/utils/deserialize.js), and what the control plane sends
reaching the sockets."""

import json
import os
import re
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

from localivs import chat
from localivs.models import ChatToken
from tests import ROOT

REGION = "us-west-2"
ID_RE = re.compile(r"[A-Za-z0-9]{12}")
SEND_TIME_RE = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")
EVERYTHING = ("SEND_MESSAGE", "DELETE_MESSAGE", "DISCONNECT_USER")


@pytest.fixture
def room(transactional_db):
    body = {"name": "main-event", "maximumMessageRatePerSecond": 50, "maximumMessageLength": 100}
    return chat.create_room(REGION, body)


def token_for(room, user_id, capabilities=("SEND_MESSAGE",), **attributes) -> str:
    body = {"roomIdentifier": room["arn"], "userId": user_id, "capabilities": list(capabilities)}
    if attributes:
        body["attributes"] = attributes
    return chat.create_chat_token(REGION, body)["token"]


def join(url, token):
    return connect(url, subprotocols=[token], open_timeout=5, close_timeout=2)


def recv(ws, timeout=3) -> dict:
    return json.loads(ws.recv(timeout=timeout))


def nothing_for(ws, seconds=0.3):
    with pytest.raises(TimeoutError):
        ws.recv(timeout=seconds)


def request(ws, action, **members):
    ws.send(json.dumps({"Action": action, **members}))


def closed_with(ws) -> int:
    with pytest.raises(ConnectionClosed):
        while True:
            ws.recv(timeout=3)
    return ws.close_code


def refused(url, token):
    with pytest.raises(InvalidStatus) as caught, join(url, token):
        pass
    return caught.value.response.status_code


class TestChatting:
    def test_two_users_chat_and_everyone_gets_the_message_as_the_sdk_reads_it(self, chat_server, room):
        alice = token_for(room, "alice", displayName="Alice")
        with join(chat_server, alice) as a, join(chat_server, token_for(room, "bob", displayName="Bob")) as b:
            assert a.subprotocol == alice  # the token, echoed back, as browsers require
            request(a, "SEND_MESSAGE", RequestId="r-1", Content="Hello 👋", Attributes={"kind": "greeting"})
            mine, theirs = recv(a), recv(b)
            assert mine == theirs
            assert mine["Type"] == "MESSAGE" and ID_RE.fullmatch(mine["Id"])
            assert (mine["RequestId"], mine["Content"], mine["Attributes"]) == ("r-1", "Hello 👋", {"kind": "greeting"})
            assert SEND_TIME_RE.fullmatch(mine["SendTime"])
            assert mine["Sender"] == {"UserId": "alice", "Attributes": {"displayName": "Alice"}}
            request(b, "SEND_MESSAGE", Content="Hi")  # no RequestId, no Attributes
            answer = recv(a)
            assert "RequestId" not in answer and answer["Attributes"] == {} and answer["Sender"]["UserId"] == "bob"
            assert recv(b)["Id"] == answer["Id"]

    def test_rooms_are_apart(self, chat_server, room):
        other = chat.create_room(REGION, {"name": "elsewhere"})
        with join(chat_server, token_for(room, "alice")) as a, join(chat_server, token_for(other, "bob")) as b:
            request(a, "SEND_MESSAGE", Content="only here")
            assert recv(a)["Content"] == "only here"
            nothing_for(b)

    def test_each_action_needs_its_capability(self, chat_server, room):
        with join(chat_server, token_for(room, "viewer", capabilities=())) as viewer:
            for action, members in [
                ("SEND_MESSAGE", {"Content": "hi"}),
                ("DELETE_MESSAGE", {"Id": "AbCdEf123456"}),
                ("DISCONNECT_USER", {"UserId": "bob"}),
            ]:
                request(viewer, action, RequestId=f"req-{action}", **members)
                error = recv(viewer)
                assert (error["Type"], error["ErrorCode"], error["RequestId"]) == ("ERROR", 403, f"req-{action}")
                assert ID_RE.fullmatch(error["Id"]) and action in error["ErrorMessage"]
            with join(chat_server, token_for(room, "talker")) as talker:  # a viewer still reads the room
                request(talker, "SEND_MESSAGE", Content="hello viewer")
                assert recv(viewer)["Content"] == "hello viewer"

    def test_a_moderator_deletes_a_message_for_everyone(self, chat_server, room):
        with (
            join(chat_server, token_for(room, "mod", EVERYTHING)) as mod,
            join(chat_server, token_for(room, "bob")) as bob,
        ):
            request(bob, "SEND_MESSAGE", Content="spam")
            message_id = recv(bob)["Id"]
            recv(mod)
            request(mod, "DELETE_MESSAGE", RequestId="del-1", Id=message_id, Reason="spam")
            for ws in (mod, bob):
                event = recv(ws)
                assert (event["Type"], event["EventName"], event["RequestId"]) == (
                    "EVENT",
                    "aws:DELETE_MESSAGE",
                    "del-1",
                )
                assert event["Attributes"] == {"MessageID": message_id, "MessageId": message_id, "Reason": "spam"}
                assert SEND_TIME_RE.fullmatch(event["SendTime"]) and ID_RE.fullmatch(event["Id"])

    def test_disconnecting_a_user_closes_all_their_sockets_in_that_room_and_no_others(self, chat_server, room):
        other_room = chat.create_room(REGION, {})
        with (
            join(chat_server, token_for(room, "mod", EVERYTHING)) as mod,
            join(chat_server, token_for(room, "bob")) as bob_1,
            join(chat_server, token_for(room, "bob")) as bob_2,
            join(chat_server, token_for(other_room, "bob")) as bob_elsewhere,
            join(chat_server, token_for(room, "carol")) as carol,
        ):
            request(mod, "DISCONNECT_USER", RequestId="out-1", UserId="bob", Reason="rude")
            for ws in (mod, bob_1, bob_2, carol):
                event = recv(ws)
                assert (event["EventName"], event["RequestId"]) == ("aws:DISCONNECT_USER", "out-1")
                assert event["Attributes"] == {"UserId": "bob", "Reason": "rude"}
            assert closed_with(bob_1) == 1000 and closed_with(bob_2) == 1000
            request(carol, "SEND_MESSAGE", Content="still here")
            assert recv(carol)["Content"] == recv(mod)["Content"] == "still here"
            request(bob_elsewhere, "SEND_MESSAGE", Content="me too")
            assert recv(bob_elsewhere)["Content"] == "me too"


class TestTokens:
    def test_a_token_opens_one_connection_only(self, chat_server, room):
        token = token_for(room, "alice")
        with join(chat_server, token):
            assert refused(chat_server, token) == 401
        assert refused(chat_server, token) == 401
        assert ChatToken.objects.get().spent_at is not None

    def test_an_expired_a_forged_or_a_missing_token_opens_nothing(self, chat_server, room):
        expired = token_for(room, "alice")
        ChatToken.objects.update(token_expires_at=timezone.now() - timedelta(seconds=1))
        assert refused(chat_server, expired) == 401
        assert refused(chat_server, "Zm9yZ2VkLXRva2VuLWZvcmdlZC10b2tlbg") == 401
        assert refused(chat_server, "not.our~token") == 401  # not the alphabet the tokens use
        with pytest.raises(InvalidStatus) as caught, connect(chat_server, open_timeout=5):
            pass
        assert caught.value.response.status_code == 401

    def test_a_deleted_room_s_token_opens_nothing(self, chat_server, room):
        token = token_for(room, "alice")
        chat.delete_room(REGION, {"identifier": room["arn"]})
        assert refused(chat_server, token) == 401

    def test_a_session_ends_at_its_expiration_with_the_error_the_sdk_reconnects_on(self, chat_server, room):
        token = token_for(room, "alice")
        ChatToken.objects.update(session_expires_at=timezone.now() + timedelta(seconds=1))
        with join(chat_server, token) as ws:
            error = recv(ws, timeout=5)
            assert (error["Type"], error["ErrorCode"]) == ("ERROR", 401)
            assert closed_with(ws) == 1000

    def test_a_plain_http_request_spends_no_token(self, chat_server, room):
        import http.client

        token = token_for(room, "alice")
        host, port = chat_server.removeprefix("ws://").split(":")
        plain = http.client.HTTPConnection(host, int(port), timeout=5)
        plain.request("GET", "/", headers={"Sec-WebSocket-Protocol": token})
        assert plain.getresponse().status == 426
        plain.close()
        with join(chat_server, token) as ws:
            assert ws.subprotocol == token


class TestRoomLimits:
    def test_a_message_longer_than_the_room_allows_is_refused(self, chat_server, room):
        with join(chat_server, token_for(room, "alice")) as ws:
            request(ws, "SEND_MESSAGE", RequestId="long", Content="x" * 101)
            error = recv(ws)
            assert (error["ErrorCode"], error["RequestId"]) == (400, "long") and "100" in error["ErrorMessage"]
            request(ws, "SEND_MESSAGE", Content="🎉" * 100)  # code points, not bytes
            assert recv(ws)["Type"] == "MESSAGE"

    def test_the_room_s_rate_counts_everyone_s_messages(self, chat_server, transactional_db):
        room = chat.create_room(REGION, {"maximumMessageRatePerSecond": 2})
        with join(chat_server, token_for(room, "alice")) as a, join(chat_server, token_for(room, "bob")) as b:
            request(a, "SEND_MESSAGE", Content="one")
            assert recv(a)["Content"] == "one"
            request(b, "SEND_MESSAGE", Content="two")
            assert recv(a)["Content"] == "two"
            request(a, "SEND_MESSAGE", RequestId="three", Content="three")
            error = recv(a)
            assert (error["Type"], error["ErrorCode"], error["RequestId"]) == ("ERROR", 429, "three")
            assert [recv(b)["Content"] for _ in range(2)] == ["one", "two"]
            nothing_for(b, 0.1)  # the refused one reached nobody
            time.sleep(1.05)
            request(a, "SEND_MESSAGE", Content="later")
            assert recv(a)["Content"] == "later"

    def test_an_update_of_the_room_applies_to_open_connections(self, chat_server, room):
        with join(chat_server, token_for(room, "alice")) as ws:
            chat.update_room(REGION, {"identifier": room["arn"], "maximumMessageLength": 5})
            deadline = time.monotonic() + 3
            while True:  # the server reads the update within its poll interval
                request(ws, "SEND_MESSAGE", Content="sixsix")
                if recv(ws)["Type"] == "ERROR" or time.monotonic() > deadline:
                    break
                time.sleep(0.05)
            request(ws, "SEND_MESSAGE", Content="sixsix")
            assert recv(ws)["ErrorCode"] == 400

    def test_deleting_the_room_closes_its_connections(self, chat_server, room):
        with join(chat_server, token_for(room, "alice")) as ws:
            chat.delete_room(REGION, {"identifier": room["arn"]})
            assert closed_with(ws) == 1000


class TestTheControlPlaneReachesTheSockets:
    """boto3's ivschat through /ivschat/ (the live server), then the messaging server's poll, as in the demo."""

    def test_send_event_delete_message_and_disconnect_user(self, chat_server, ivschat):
        arn = ivschat.create_room(name="live")["arn"]
        room = {"arn": arn}
        with join(chat_server, token_for(room, "alice")) as alice, join(chat_server, token_for(room, "bob")) as bob:
            sent = ivschat.send_event(roomIdentifier=arn, eventName="poll_started", attributes={"question": "Best?"})
            for ws in (alice, bob):
                event = recv(ws)
                assert (event["Type"], event["Id"], event["EventName"]) == ("EVENT", sent["id"], "poll_started")
                assert event["Attributes"] == {"question": "Best?"} and "RequestId" not in event
                assert SEND_TIME_RE.fullmatch(event["SendTime"])
            request(bob, "SEND_MESSAGE", Content="buy now")
            message_id = recv(alice)["Id"]
            recv(bob)
            deleted = ivschat.delete_message(roomIdentifier=arn, id=message_id)
            event = recv(alice)
            assert (event["Id"], event["EventName"], event["Attributes"]) == (
                deleted["id"],
                "aws:DELETE_MESSAGE",
                {"MessageID": message_id, "MessageId": message_id},
            )
            recv(bob)
            ivschat.disconnect_user(roomIdentifier=arn, userId="bob", reason="spam")
            assert recv(bob)["Attributes"] == {"UserId": "bob", "Reason": "spam"}
            assert closed_with(bob) == 1000
            assert recv(alice)["EventName"] == "aws:DISCONNECT_USER"
            nothing_for(alice)  # each command once


class TestBadInput:
    @pytest.mark.parametrize(
        "frame, code",
        [
            (b"\x00\x01binary", 400),
            ("not json", 400),
            ("[1, 2]", 400),
            ("null", 400),
            ("[" * 10_000, 400),
            ("{}", 400),
            ('{"Action": "SHOUT", "Content": "hi"}', 400),
            ('{"Action": 7}', 400),
            ('{"Action": "SEND_MESSAGE"}', 400),
            ('{"Action": "SEND_MESSAGE", "Content": ""}', 400),
            ('{"Action": "SEND_MESSAGE", "Content": 12}', 400),
            ('{"Action": "SEND_MESSAGE", "Content": "\\ud800"}', 400),
            ('{"Action": "SEND_MESSAGE", "Content": "hi", "Attributes": ["a"]}', 400),
            ('{"Action": "SEND_MESSAGE", "Content": "hi", "Attributes": {"a": 1}}', 400),
            ('{"Action": "SEND_MESSAGE", "Content": "hi", "RequestId": 5}', 400),
            ('{"Action": "SEND_MESSAGE", "Content": "hi", "RequestId": ""}', 400),
            (json.dumps({"Action": "SEND_MESSAGE", "Content": "hi", "Attributes": {"a": "b" * 1100}}), 413),
            ('{"Action": "DELETE_MESSAGE", "Id": "short"}', 400),
            ('{"Action": "DELETE_MESSAGE", "Id": "AbCdEf123456", "Reason": 3}', 400),
            ('{"Action": "DISCONNECT_USER"}', 400),
            ('{"Action": "DISCONNECT_USER", "UserId": ["bob"]}', 400),
            (json.dumps({"Action": "SEND_MESSAGE", "Content": "x" * 20_000}), 413),
        ],
    )
    def test_a_bad_request_gets_an_error_frame_and_the_socket_stays_open(self, chat_server, room, frame, code):
        with join(chat_server, token_for(room, "mod", EVERYTHING)) as ws:
            ws.send(frame)
            error = recv(ws)
            assert (error["Type"], error["ErrorCode"]) == ("ERROR", code)
            assert isinstance(error["ErrorMessage"], str) and ID_RE.fullmatch(error["Id"])
            request(ws, "SEND_MESSAGE", Content="still fine")
            assert recv(ws)["Content"] == "still fine"

    def test_a_frame_over_the_cap_closes_only_that_connection(self, chat_server, room):
        with join(chat_server, token_for(room, "alice")) as big, join(chat_server, token_for(room, "bob")) as other:
            big.send("x" * (2**20 + 1))
            assert closed_with(big) == 1009  # message too big
            request(other, "SEND_MESSAGE", Content="unharmed")
            assert recv(other)["Content"] == "unharmed"
        with join(chat_server, token_for(room, "carol")) as ws:
            assert ws.subprotocol


@pytest.mark.skipif(connection.vendor != "sqlite", reason="shares the SQLite test database with a subprocess")
def test_the_management_command_serves_and_stops_on_ctrl_c(room, tmp_path):
    """`manage.py localivs_chat` as `make run` starts it: a token from the control plane opens a socket, SIGINT ends
    the process cleanly."""
    port = _free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "DATABASE_URL": f"sqlite:///{Path(connection.settings_dict['NAME']).resolve()}",
    }
    process = subprocess.Popen(
        [sys.executable, "manage.py", "localivs_chat", "--port", str(port), "--poll-interval", "0.1"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        output = []
        while not output or (output[-1] and f"ws://127.0.0.1:{port}" not in output[-1]):  # after the checks' words
            output.append(process.stdout.readline())
        assert output[-1], "".join(output)
        token = token_for(room, "alice")
        with join(f"ws://127.0.0.1:{port}", token) as ws:
            request(ws, "SEND_MESSAGE", Content="through the command")
            assert recv(ws)["Content"] == "through the command"
            process.send_signal(signal.SIGINT)
            assert closed_with(ws) == 1001  # going away
        assert process.wait(timeout=10) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        process.stdout.close()


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
