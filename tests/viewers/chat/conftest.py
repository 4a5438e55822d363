"""Fixtures for the chat: a channel's ready room, IVS Chat behind botocore's Stubber, chat sessions as the site
writes them."""

from datetime import timedelta

import boto3
import pytest
from botocore.stub import Stubber
from django.contrib.auth.models import Permission
from django.utils import timezone

from viewers import revocation
from viewers.models import ChatRoom, ChatRoomStatus, ChatSession

ROOM_ARN = "arn:aws:ivschat:us-west-2:123456789012:room/MainRoom0001"
OTHER_ROOM_ARN = "arn:aws:ivschat:us-west-2:123456789012:room/MainRoom0002"


@pytest.fixture
def room(private_channel):
    return ChatRoom.objects.create(channel=private_channel, arn=ROOM_ARN, status=ChatRoomStatus.READY)


@pytest.fixture
def ivschat(settings, monkeypatch):
    """A real boto3 IVS Chat client whose HTTP layer is botocore's Stubber: a call nobody queued an answer for
    fails the test."""
    settings.AWS_REGION = "us-west-2"
    client = boto3.client("ivschat", region_name="us-west-2", aws_access_key_id="test", aws_secret_access_key="test")
    calls = []

    def made(region=None, *, in_request=False):
        calls.append((region, in_request))
        return client

    monkeypatch.setattr("viewers.ivs.aws.ivschat_client", made)
    monkeypatch.setattr(revocation.time, "sleep", lambda seconds: None)
    with Stubber(client) as stubber:
        stubber.clients_made = calls
        yield stubber
        stubber.assert_no_pending_responses()


def token_answer(minutes=180):
    now = timezone.now()
    return {
        "token": "AQICAHg-secret-chat-token",
        "tokenExpirationTime": now + timedelta(minutes=1),
        "sessionExpirationTime": now + timedelta(minutes=minutes),
    }


def chatting(user, channel, *, room_arn=ROOM_ARN, moderator=False, minutes=60) -> ChatSession:
    """An open chat session of `user`, as viewers.chat.tokens writes it."""
    now = timezone.now()
    return ChatSession.objects.create(
        user=user,
        channel=channel,
        room_arn=room_arn,
        chat_user_id=user.viewer_id,
        moderator=moderator,
        issued_at=now,
        session_expires_at=now + timedelta(minutes=minutes),
    )


def make_moderator(user):
    user.user_permissions.add(Permission.objects.get(codename="moderate_chat"))
    return user
