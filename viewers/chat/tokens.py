"""Obtaining a chat token from IVS Chat for a viewer the access rule let in: the one AWS call a request makes.

A chat token is good for about a minute and for one connection, so it cannot be made ahead in the worker the way
revocations are sent; the request asks IVS (CreateChatToken) with tight timeouts and one retry
(aws.ivschat_client(in_request=True)), and any failure becomes ChatUnavailable, never a 500. Every token obtained is
written down as a ChatSession (never the token itself), which is what lets the reconciler disconnect the viewer
when their access ends.
"""

import logging
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from botocore.exceptions import BotoCoreError, ClientError
from django.conf import settings

from viewers import validators
from viewers.chat import sql
from viewers.client_ip import client_ip
from viewers.ivs import aws
from viewers.models import ChatRoom, ChatRoomStatus, ChatSession

logger = logging.getLogger(__name__)

VIEWER = ["SEND_MESSAGE"]
MODERATOR = ["SEND_MESSAGE", "DELETE_MESSAGE", "DISCONNECT_USER"]
DISPLAY_NAME_MAX = 64


class ChatUnavailable(Exception):
    """IVS Chat did not give a token (slow, unreachable, throttled, or refusing): the viewer is told to wait."""


@dataclass(frozen=True)
class ChatToken:
    token: str  # a bearer secret: returned to its viewer only, never logged or stored
    token_expires_at: datetime
    session_expires_at: datetime


def is_moderator(user) -> bool:
    """May `user` delete messages and remove viewers? withdrawal.holds_moderation's rule, for one user, in one plain
    statement (viewers/chat/sql.py): every chat token asks it."""
    if not user.is_authenticated or not user.is_active:
        return False
    return user.is_superuser or sql.holds_moderation(user.pk)


def display_name(user) -> str:
    """The name other viewers see: the user's full name, else their username; never an e-mail address, which is
    personal data the chat would show to everyone (a username may be one: then only "Viewer" and a short id)."""
    name = " ".join(user.get_full_name().split()) or user.username
    if "@" in name:
        name = f"Viewer {user.viewer_id[:6]}"
    return name[:DISPLAY_NAME_MAX]


def session_minutes(access_ends_at: datetime | None, now: datetime) -> int:
    """The chat session to ask for: IVS_CHAT_SESSION_MINUTES, cut to end no later than the viewer's access (whole
    minutes, rounded down). 0: the access ends within the minute, so no session may be opened."""
    longest = settings.IVS_CHAT_SESSION_MINUTES
    if access_ends_at is None:
        return longest
    return max(0, min(longest, math.floor((access_ends_at - now).total_seconds() / 60)))


def obtain(*, user, channel, room_arn: str, minutes: int, moderator: bool, request, now: datetime) -> ChatToken:
    """Ask IVS Chat for a token for `user` in `room_arn` and write its ChatSession. Raises ChatUnavailable."""
    client = aws.ivschat_client(validators.region_of_arn(room_arn) or None, in_request=True)
    try:
        answer = client.create_chat_token(
            roomIdentifier=room_arn,
            userId=user.viewer_id,
            capabilities=MODERATOR if moderator else VIEWER,
            sessionDurationInMinutes=minutes,
            attributes={"displayName": display_name(user), "moderator": "true" if moderator else "false"},
        )
    except ClientError as exc:
        _refused(channel, room_arn, exc)
    except BotoCoreError as exc:  # timeouts, unreachable endpoint, no credentials
        logger.warning("chat token for %s not obtained: %s", room_arn, type(exc).__name__)
        raise ChatUnavailable(type(exc).__name__) from None
    # IVS's own times, trimmed to what was asked: the session must not outlast the access it was cut to.
    session_ends = min(answer["sessionExpirationTime"], now + timedelta(minutes=minutes))
    ChatSession.objects.create(
        user=user,
        channel=channel,
        room_arn=room_arn,
        chat_user_id=user.viewer_id,
        moderator=moderator,
        issued_at=now,
        session_expires_at=session_ends,
        client_ip=client_ip(request),
        user_agent=request.META.get("HTTP_USER_AGENT", "")[:300],
    )
    return ChatToken(answer["token"], answer["tokenExpirationTime"], session_ends)


def _refused(channel, room_arn, exc):
    code = aws.error_code(exc)
    if code == "ResourceNotFoundException":
        # The room is gone at IVS: have the worker check it again (and the admin show why) rather than keep asking.
        ChatRoom.objects.filter(channel=channel, arn=room_arn).update(
            status=ChatRoomStatus.LINKING, last_error=aws.describe_error(exc)[:500]
        )
    log = logger.warning if code == "ThrottlingException" else logger.error
    log("chat token for %s refused: %s", room_arn, aws.describe_error(exc))
    raise ChatUnavailable(code) from None
