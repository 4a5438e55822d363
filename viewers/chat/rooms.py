"""Making IVS Chat agree with the chat rooms the admin wants: the worker's CreateRoom, GetRoom and UpdateRoom.

Level-triggered like the reconciler: the admin only writes the room it wants (ChatRoom.status says what is left to
do) and asks for an early run; the worker's periodic run finds whatever is still due, so a worker that died, an
AWS outage or a throttled call only delays it. No request calls AWS.

A creation that dies after IVS made the room but before its ARN was saved must not leave a second room behind:
each room is created under a name of its own, saved first, and looked for (ListRooms by name) before creating.
"""

import logging
import secrets
from datetime import timedelta

from botocore.exceptions import BotoCoreError, ClientError
from django.db import transaction
from django.db.models import Min
from django.utils import timezone
from django_tasks import task

from viewers import periodic
from viewers.ivs import aws
from viewers.models import ChatRoom, ChatRoomStatus
from viewers.models.chat import PENDING_ROOM_STATES

logger = logging.getLogger(__name__)

LEASE_SECONDS = 120
MAX_ATTEMPTS = 8
PERMANENT_ERRORS = {"ValidationException", "ResourceNotFoundException", "AccessDeniedException"}


def sync_soon() -> None:
    """Ask the worker to bring due rooms in line with IVS now, unless a run is already due. Only a row is written."""
    periodic.book(sync_rooms)


@task()
def sync_rooms():
    done = failed = 0
    for room in _claim():
        if _sync(room):
            done += 1
        else:
            failed += 1
    # A room waiting out a backoff gets a run booked for when it is due (the reconciler's cycle would find it too,
    # but up to a period later: a demo started before its web server would wait a minute for its chat).
    waiting = ChatRoom.objects.filter(status__in=PENDING_ROOM_STATES).aggregate(next=Min("next_attempt_at"))["next"]
    if waiting is not None:
        periodic.book(sync_rooms, delay=max(0.0, (waiting - timezone.now()).total_seconds()))
    return {"ready": done, "not_ready": failed}


def _claim(limit=20) -> list[ChatRoom]:
    """Due rooms for this worker, leased so that another worker leaves them alone (IVS allows 5 room calls a
    second: a few rooms a run is plenty)."""
    with transaction.atomic():
        rooms = list(
            ChatRoom.objects.due()
            .select_for_update(of=("self",), skip_locked=True)
            .select_related("channel")
            .order_by("pk")[:limit]
        )
        lease = timezone.now() + timedelta(seconds=LEASE_SECONDS)
        ChatRoom.objects.filter(pk__in=[room.pk for room in rooms]).update(next_attempt_at=lease)
    return rooms


def _sync(room: ChatRoom) -> bool:
    wanted = (room.status, room.arn, room.maximum_message_rate_per_second, room.maximum_message_length)
    client = aws.ivschat_client(room.region or None)
    limits = {
        "maximumMessageRatePerSecond": room.maximum_message_rate_per_second,
        "maximumMessageLength": room.maximum_message_length,
    }
    try:
        if room.status == ChatRoomStatus.CREATING:
            arn = _create(client, room, limits)
        else:  # linking or updating: the room must exist; then it gets the site's limits
            client.get_room(identifier=room.arn)
            client.update_room(identifier=room.arn, **limits)
            arn = room.arn
    except ClientError as exc:
        permanent = aws.error_code(exc) in PERMANENT_ERRORS
        return _not_yet(room, wanted, aws.describe_error(exc), permanent=permanent)
    except BotoCoreError as exc:
        return _not_yet(room, wanted, f"{type(exc).__name__}: {exc}", permanent=False)
    # Only if the admin changed nothing meanwhile: otherwise the row keeps its new wish for the next run.
    _unchanged(room, wanted).update(
        arn=arn, status=ChatRoomStatus.READY, last_error="", attempts=0, synced_at=timezone.now()
    )
    return True


def _create(client, room, limits) -> str:
    if not room.name:
        room.name = f"ivssite-{room.channel_id}-{secrets.token_hex(4)}"
        ChatRoom.objects.filter(pk=room.pk).update(name=room.name)
    found = client.list_rooms(name=room.name, maxResults=1).get("rooms", [])
    if found:
        return found[0]["arn"]
    tags = {"ivssite-channel": room.channel.slug}
    return client.create_room(name=room.name, tags=tags, **limits)["arn"]


def _not_yet(room, wanted, message, *, permanent) -> bool:
    attempts = room.attempts + 1
    if permanent or attempts >= MAX_ATTEMPTS:
        logger.error("chat room of %s failed: %s", room.channel, message)
        _unchanged(room, wanted).update(status=ChatRoomStatus.FAILED, last_error=message[:500], attempts=attempts)
    else:
        logger.warning("chat room of %s not ready yet: %s", room.channel, message)
        retry_at = timezone.now() + timedelta(seconds=min(5 * 2 ** (attempts - 1), 3600))  # 5 s, 10 s, 20 s …
        _unchanged(room, wanted).update(last_error=message[:500], attempts=attempts, next_attempt_at=retry_at)
    return False


def _unchanged(room, wanted):
    status, arn, rate, length = wanted
    return ChatRoom.objects.filter(
        pk=room.pk, status=status, arn=arn, maximum_message_rate_per_second=rate, maximum_message_length=length
    )


def wish(room: ChatRoom, *, arn_changed: bool, limits_changed: bool) -> None:
    """What the admin's save asks of the worker: a new room (no ARN), a room to check and link (a new ARN), or new
    limits. Called before the row is saved; the caller then asks for sync_soon()."""
    if not room.arn:
        if arn_changed:  # the operator cleared the ARN: a new room, not the one created under the old name
            room.name = ""
        room.status = ChatRoomStatus.CREATING
    elif arn_changed:
        room.status = ChatRoomStatus.LINKING
    elif limits_changed or room.status == ChatRoomStatus.FAILED:
        room.status = ChatRoomStatus.UPDATING
    else:
        return
    room.attempts, room.last_error, room.next_attempt_at = 0, "", timezone.now()
