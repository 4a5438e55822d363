"""Withdrawal leaves the chat too: whatever path takes access away (or changes the channel's chat), the next
reconciliation ends the chat session and queues a DisconnectUser, which the worker delivers paced and retried."""

import pytest
from botocore.exceptions import EndpointConnectionError
from django.contrib.auth.models import Group, Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.factories import run_worker
from tests.viewers.chat.conftest import OTHER_ROOM_ARN, ROOM_ARN, chatting, make_moderator
from viewers import reconcile, revocation
from viewers.chat import withdrawal
from viewers.models import ChatBan, ChatRoom, Entitlement, Revocation, RevocationKind, RevocationStatus

pytestmark = pytest.mark.django_db


def ended(session, reason="revoked", room_arn=ROOM_ARN):
    queued = reconcile.reconcile()
    session.refresh_from_db()
    disconnects = Revocation.objects.filter(kind=RevocationKind.CHAT)
    return (
        session.end_reason == reason
        and queued == 1
        and list(disconnects.values_list("channel_arn", "viewer_id")) == [(room_arn, session.chat_user_id)]
    )


class TestEveryPathLeavesTheChat:
    def test_the_entitlement_revoked(self, room, alice, private_channel):
        session = chatting(alice, private_channel)
        Entitlement.objects.filter(user=alice).update(revoked_at=timezone.now())
        assert ended(session)

    def test_the_entitlement_deleted(self, room, alice, private_channel):
        session = chatting(alice, private_channel)
        Entitlement.objects.filter(user=alice).delete()
        assert ended(session)

    def test_the_window_simply_ends(self, room, alice, private_channel):
        session = chatting(alice, private_channel)
        Entitlement.objects.filter(user=alice).update(ends_at=timezone.now())
        assert ended(session)

    def test_removed_from_the_entitling_group(self, room, bob, subscribers, private_channel):
        session = chatting(bob, private_channel)
        bob.groups.remove(subscribers)
        assert ended(session)

    def test_the_user_deactivated(self, room, alice, private_channel):
        session = chatting(alice, private_channel)
        alice.is_active = False
        alice.save()
        assert ended(session)

    def test_the_user_deleted(self, room, alice, private_channel):
        session = chatting(alice, private_channel)
        alice.delete()
        assert ended(session)

    def test_banned_by_a_moderator(self, room, alice, private_channel):
        session = chatting(alice, private_channel)
        ChatBan.objects.create(channel=private_channel, user=alice)
        assert ended(session, reason="banned")
        assert Revocation.objects.get().reason == "banned"

    def test_a_moderator_who_lost_the_permission(self, room, alice, private_channel):
        make_moderator(alice)
        session = chatting(alice, private_channel, moderator=True)
        assert reconcile.reconcile() == 0
        alice.user_permissions.clear()
        assert ended(session)

    def test_a_moderator_through_a_group(self, room, alice, private_channel):
        moderators = Group.objects.create(name="moderators")
        moderators.permissions.add(Permission.objects.get(codename="moderate_chat"))
        alice.groups.add(moderators)
        session = chatting(alice, private_channel, moderator=True)
        assert reconcile.reconcile() == 0
        moderators.delete()
        assert ended(session)


class TestTheConfigurationChanging:
    def test_the_channel_deleted(self, room, alice, private_channel):
        session = chatting(alice, private_channel)
        private_channel.delete()
        assert ended(session, reason="changed")

    def test_the_room_unlinked(self, room, alice, private_channel):
        session = chatting(alice, private_channel)
        room.delete()
        assert ended(session, reason="changed")

    def test_the_room_re_pointed_to_another_arn(self, room, alice, private_channel):
        session = chatting(alice, private_channel)
        ChatRoom.objects.filter(pk=room.pk).update(arn=OTHER_ROOM_ARN)
        # The disconnect goes to the room the viewer is connected to: the old one.
        assert ended(session, reason="changed", room_arn=ROOM_ARN)


class TestWhatStays:
    def test_an_entitled_viewer_keeps_chatting(self, room, alice, bob, private_channel):
        chatting(alice, private_channel)
        chatting(bob, private_channel)
        assert reconcile.reconcile() == 0

    def test_a_public_channel_chat_needs_only_an_active_account(self, public_channel, carol):
        ChatRoom.objects.create(channel=public_channel, arn=ROOM_ARN, status="ready")
        chatting(carol, public_channel)
        assert reconcile.reconcile() == 0

    def test_expired_and_ended_sessions_are_left_alone(self, room, alice, private_channel):
        chatting(alice, private_channel, minutes=-1)
        Entitlement.objects.all().delete()
        assert reconcile.reconcile() == 0

    def test_one_disconnect_per_room_and_viewer(self, room, alice, private_channel):
        for _ in range(3):
            chatting(alice, private_channel)  # three tabs
        Entitlement.objects.all().delete()
        assert reconcile.reconcile() == 1

    def test_idempotent(self, room, alice, private_channel):
        chatting(alice, private_channel)
        Entitlement.objects.all().delete()
        assert reconcile.reconcile() == 1
        assert reconcile.reconcile() == 0

    def test_one_select_when_nobody_lost_access(self, room, alice, bob, private_channel):
        for viewer in (alice, bob):
            chatting(viewer, private_channel)
        with CaptureQueriesContext(connection) as queries:
            assert withdrawal.reconcile() == 0
        statements = [query["sql"] for query in queries.captured_queries if "SAVEPOINT" not in query["sql"]]
        assert len(statements) == 1 and statements[0].startswith("SELECT")


class TestDelivery:
    def disconnect_owed(self, alice, private_channel):
        chatting(alice, private_channel)
        Entitlement.objects.all().delete()
        reconcile.reconcile()
        return Revocation.objects.get(kind=RevocationKind.CHAT)

    def test_the_worker_disconnects_the_viewer_from_the_room(self, ivschat, room, alice, private_channel):
        owed = self.disconnect_owed(alice, private_channel)
        ivschat.add_response(
            "disconnect_user", {}, {"roomIdentifier": ROOM_ARN, "userId": alice.viewer_id, "reason": "access withdrawn"}
        )
        run_worker()
        owed.refresh_from_db()
        assert owed.status == RevocationStatus.DONE
        assert ivschat.clients_made == [("us-west-2", False)]  # the worker's client, not a request's

    def test_throttling_is_waited_out(self, ivschat, room, alice, private_channel):
        owed = self.disconnect_owed(alice, private_channel)
        ivschat.add_client_error("disconnect_user", service_error_code="ThrottlingException", http_status_code=429)
        ivschat.add_response("disconnect_user", {})
        run_worker()
        owed.refresh_from_db()
        assert owed.status == RevocationStatus.DONE

    def test_a_room_gone_is_a_permanent_failure(self, ivschat, room, alice, private_channel):
        owed = self.disconnect_owed(alice, private_channel)
        ivschat.add_client_error(
            "disconnect_user", service_error_code="ResourceNotFoundException", http_status_code=404
        )
        run_worker()
        owed.refresh_from_db()
        assert owed.status == RevocationStatus.FAILED and "ResourceNotFoundException" in owed.last_error

    def test_unreachable_is_retried_later(self, room, alice, private_channel, monkeypatch, settings):
        settings.AWS_REGION = "us-west-2"
        owed = self.disconnect_owed(alice, private_channel)

        class Unreachable:
            def disconnect_user(self, **kwargs):
                raise EndpointConnectionError(endpoint_url="https://ivschat.us-west-2.amazonaws.com")

        monkeypatch.setattr("viewers.ivs.aws.ivschat_client", lambda region=None, in_request=False: Unreachable())
        monkeypatch.setattr(revocation.time, "sleep", lambda seconds: None)
        run_worker()
        owed.refresh_from_db()
        assert owed.status == RevocationStatus.PENDING and owed.attempts == 1
        assert owed.next_attempt_at > timezone.now()

    def test_playback_and_chat_go_out_in_one_turn(self, ivs, ivschat, room, alice, private_channel):
        from tests.factories import playing

        playing(alice, private_channel)
        chatting(alice, private_channel)
        Entitlement.objects.all().delete()
        assert reconcile.reconcile() == 2
        ivs.add_response("start_viewer_session_revocation", {})
        ivschat.add_response("disconnect_user", {})
        run_worker()
        assert set(Revocation.objects.values_list("kind", "status")) == {("playback", "done"), ("chat", "done")}
