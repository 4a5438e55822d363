"""POST /channels/<slug>/chat-token: the access rule first, then one CreateChatToken; IVS's refusals and slowness
become a 503 the panel can show, never a 500 or a token in an error."""

from datetime import timedelta

import pytest
from botocore.exceptions import ConnectTimeoutError, ReadTimeoutError
from django.test import Client
from django.utils import timezone

from tests.factories import make_user
from tests.viewers.chat.conftest import ROOM_ARN, make_moderator, token_answer
from viewers.models import ChatBan, ChatRoom, ChatRoomStatus, ChatSession, Entitlement

pytestmark = pytest.mark.django_db
URL = "/channels/main-event/chat-token"


def post(user, url=URL, **headers):
    client = Client()
    if user is not None:
        client.force_login(user)
    return client.post(url, **headers)


def expect_token(ivschat, user, *, capabilities=("SEND_MESSAGE",), minutes=180, name=None):
    ivschat.add_response(
        "create_chat_token",
        token_answer(minutes),
        {
            "roomIdentifier": ROOM_ARN,
            "userId": user.viewer_id,
            "capabilities": list(capabilities),
            "sessionDurationInMinutes": minutes,
            "attributes": {"displayName": name or user.username, "moderator": str(len(capabilities) > 1).lower()},
        },
    )


class TestTheAccessRuleDecidesFirst:
    def test_an_entitled_viewer_gets_a_token_for_their_pseudonymous_id(self, ivschat, room, alice):
        expect_token(ivschat, alice)
        response = post(alice, HTTP_USER_AGENT="Firefox")
        assert response.status_code == 200
        body = response.json()
        assert body["token"] == "AQICAHg-secret-chat-token"
        assert {"tokenExpirationTime", "sessionExpirationTime"} <= body.keys()
        assert response["Cache-Control"] == "private, no-store"
        assert ivschat.clients_made == [("us-west-2", True)]  # the request's client: tight timeouts, one retry

    def test_the_token_is_audited_but_never_stored(self, ivschat, room, alice):
        expect_token(ivschat, alice)
        post(alice, HTTP_USER_AGENT="Firefox")
        session = ChatSession.objects.get()
        assert (session.user, session.room_arn, session.chat_user_id) == (alice, ROOM_ARN, alice.viewer_id)
        assert session.user_agent == "Firefox" and not session.moderator
        row = {field.attname: getattr(session, field.attname) for field in ChatSession._meta.fields}
        assert "secret-chat-token" not in repr(row)

    def test_a_stranger_is_refused_and_no_aws_call_is_made(self, ivschat, room, carol):
        response = post(carol)
        assert response.status_code == 403
        assert response.json()["error"] == "no_entitlement"
        assert ivschat.clients_made == [] and not ChatSession.objects.exists()

    @pytest.mark.parametrize("viewer", ["dave", "erin", "frank"])  # ended, not started, revoked
    def test_no_current_entitlement_no_token(self, ivschat, room, viewer, request):
        assert post(request.getfixturevalue(viewer)).status_code == 403
        assert ivschat.clients_made == []

    def test_an_inactive_viewer_has_no_session_to_chat_with(self, ivschat, room, ivan):
        assert post(ivan).status_code == 401  # inactive users cannot be logged in

    def test_anonymous_is_told_to_log_in(self, ivschat, room):
        response = post(None)
        assert response.status_code == 401 and response.json()["error"] == "login_required"

    def test_a_group_entitlement_counts(self, ivschat, room, bob):
        expect_token(ivschat, bob)
        assert post(bob).status_code == 200

    def test_get_is_not_allowed(self, room, alice):
        client = Client()
        client.force_login(alice)
        assert client.get(URL).status_code == 405

    def test_the_country_rule_applies_too(self, ivschat, room, alice, block_de, settings):
        settings.IVS_COUNTRY_HEADER, settings.IVS_COUNTRY_DATABASE = "CloudFront-Viewer-Country", ""
        settings.TRUST_X_FORWARDED_FOR = True
        response = post(alice, HTTP_CLOUDFRONT_VIEWER_COUNTRY="DE")
        assert response.status_code == 403 and response.json()["error"] == "country"


class TestTheSession:
    def test_it_ends_no_later_than_the_entitlement(self, ivschat, room, carol, private_channel):
        Entitlement.objects.create(
            user=carol, channel=private_channel, ends_at=timezone.now() + timedelta(minutes=30, seconds=50)
        )
        expect_token(ivschat, carol, minutes=30)
        body = post(carol).json()
        session = ChatSession.objects.get()
        assert session.session_expires_at <= Entitlement.objects.get(user=carol).ends_at
        assert body["sessionExpirationTime"] == session.session_expires_at.isoformat()

    def test_access_ending_within_the_minute_opens_no_session(self, ivschat, room, carol, private_channel):
        Entitlement.objects.create(user=carol, channel=private_channel, ends_at=timezone.now() + timedelta(seconds=50))
        response = post(carol)
        assert response.status_code == 403 and "within a minute" in response.json()["message"]
        assert ivschat.clients_made == []

    def test_a_moderator_may_delete_and_remove(self, ivschat, room, alice):
        make_moderator(alice)
        expect_token(ivschat, alice, capabilities=("SEND_MESSAGE", "DELETE_MESSAGE", "DISCONNECT_USER"))
        response = post(alice)
        assert response.status_code == 200 and response.json()["moderator"] is True
        assert ChatSession.objects.get().moderator

    def test_staff_without_the_permission_are_plain_viewers(self, ivschat, room, alice):
        alice.is_staff = True
        alice.save()
        expect_token(ivschat, alice)
        assert post(alice).status_code == 200

    def test_the_display_name_is_the_users_name(self, ivschat, room, alice):
        alice.first_name, alice.last_name = "Alice", "Liddell"
        alice.save()
        expect_token(ivschat, alice, name="Alice Liddell")
        assert post(alice).status_code == 200

    def test_an_e_mail_is_never_the_display_name(self, ivschat, private_channel, room):
        user = make_user("alice@example.org")
        Entitlement.objects.create(user=user, channel=private_channel)
        expect_token(ivschat, user, name=f"Viewer {user.viewer_id[:6]}")
        assert post(user).status_code == 200


class TestRefusals:
    def test_a_banned_viewer_gets_no_token(self, ivschat, room, alice, private_channel):
        ChatBan.objects.create(channel=private_channel, user=alice, reason="spam links")
        response = post(alice)
        assert response.status_code == 403
        assert response.json() == {
            "error": "banned",
            "message": "A moderator removed you from this chat. Reason: spam links",
            "reason": "spam links",
        }
        assert ivschat.clients_made == []

    def test_a_lifted_ban_lets_them_back(self, ivschat, room, alice, private_channel):
        ChatBan.objects.create(channel=private_channel, user=alice, lifted_at=timezone.now())
        expect_token(ivschat, alice)
        assert post(alice).status_code == 200

    def test_a_ban_elsewhere_does_not_count(self, ivschat, room, alice, public_channel):
        ChatBan.objects.create(channel=public_channel, user=alice)
        expect_token(ivschat, alice)
        assert post(alice).status_code == 200

    def test_no_room_no_chat(self, ivschat, alice):
        response = post(alice)
        assert response.status_code == 404 and response.json()["error"] == "no_chat"

    @pytest.mark.parametrize("status", [ChatRoomStatus.CREATING, ChatRoomStatus.LINKING, ChatRoomStatus.FAILED])
    def test_a_room_not_ready_is_no_chat(self, ivschat, private_channel, alice, status):
        ChatRoom.objects.create(channel=private_channel, arn=ROOM_ARN, status=status)
        assert post(alice).status_code == 404

    def test_no_channel(self, ivschat, alice):
        assert post(alice, "/channels/nowhere/chat-token").status_code == 404

    def test_rate_limited_per_viewer(self, ivschat, room, alice, settings):
        settings.IVS_CHAT_TOKENS_PER_MINUTE = 2
        for _ in range(2):
            expect_token(ivschat, alice)
            assert post(alice).status_code == 200
        response = post(alice)
        assert response.status_code == 429 and int(response["Retry-After"]) >= 1


class TestIvsChatFailing:
    @pytest.mark.parametrize(
        ("code", "status"),
        [
            ("ThrottlingException", 429),
            ("AccessDeniedException", 403),
            ("ValidationException", 400),
            ("PendingVerification", 403),
            ("InternalServerException", 500),
        ],
    )
    def test_a_refusal_is_a_503_without_a_token(self, ivschat, room, alice, code, status):
        ivschat.add_client_error("create_chat_token", service_error_code=code, http_status_code=status)
        response = post(alice)
        assert response.status_code == 503
        assert response.json()["error"] == "chat_unavailable" and response["Retry-After"] == "10"
        assert "token" not in response.json() and not ChatSession.objects.exists()

    def test_a_room_gone_at_ivs_is_checked_again_by_the_worker(self, ivschat, room, alice):
        ivschat.add_client_error(
            "create_chat_token", service_error_code="ResourceNotFoundException", http_status_code=404
        )
        assert post(alice).status_code == 503
        room.refresh_from_db()
        assert room.status == ChatRoomStatus.LINKING and "ResourceNotFoundException" in room.last_error

    @pytest.mark.parametrize("error", [ReadTimeoutError(endpoint_url="x"), ConnectTimeoutError(endpoint_url="x")])
    def test_slow_or_unreachable_ivs_is_a_503(self, room, alice, monkeypatch, error):
        class Slow:
            def create_chat_token(self, **kwargs):
                raise error

        monkeypatch.setattr("viewers.ivs.aws.ivschat_client", lambda region=None, in_request=False: Slow())
        response = post(alice)
        assert response.status_code == 503 and not ChatSession.objects.exists()


class TestTheRequestClient:
    def test_tight_timeouts_and_one_retry(self, settings):
        from viewers.ivs import aws

        settings.AWS_REGION = "us-west-2"
        client = aws.ivschat_client("us-west-2", in_request=True)
        config = client.meta.config
        assert (config.connect_timeout, config.read_timeout) == (1.5, 1.5)
        assert config.retries["total_max_attempts"] == 2  # one retry
        assert aws.ivschat_client("us-west-2").meta.config.read_timeout == settings.AWS_READ_TIMEOUT_SECONDS


class TestAHangingIvsChat:
    """IVS Chat accepts the connection and never answers: the request gives up after its timeout and one retry."""

    @pytest.fixture
    def hanging(self):
        import socket
        import threading

        server = socket.socket()
        server.bind(("127.0.0.1", 0))
        server.listen(8)
        accepted = []

        def accept():
            while True:
                try:
                    connection, _ = server.accept()
                except OSError:
                    return
                accepted.append(connection)  # kept open, never answered

        threading.Thread(target=accept, daemon=True).start()
        yield f"http://127.0.0.1:{server.getsockname()[1]}", accepted
        server.close()
        for connection in accepted:
            connection.close()

    def test_it_waits_the_timeout_twice_then_says_unavailable(self, room, alice, settings, hanging, monkeypatch):
        import time

        from viewers.ivs import aws

        url, accepted = hanging
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
        settings.AWS_REGION, settings.AWS_ENDPOINT_URL_IVSCHAT = "us-west-2", url
        settings.IVS_CHAT_TOKEN_TIMEOUT_SECONDS = 0.3
        aws._client.cache_clear()
        try:
            started = time.monotonic()
            response = post(alice)
            elapsed = time.monotonic() - started
        finally:
            aws._client.cache_clear()
        assert response.status_code == 503 and response.json()["error"] == "chat_unavailable"
        assert len(accepted) == 2  # the call and its one retry
        assert elapsed < 0.3 * 2 + 2  # two reads of 0.3 s and the retry's backoff (under a second), not botocore's 60 s
