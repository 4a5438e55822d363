"""The IVS Chat control-plane operations the stand-in answers under /ivschat/ (localivs/control.py serves them).

Each takes the region the request was signed for and its already validated JSON body (botocore's `ivschat` model,
localivs/shapes.py), and returns the JSON body of the answer, or raises ApiError with the exception IVS Chat would
answer with. Rooms and tokens are rows, since two processes share them: the web process answers these calls, the
messaging server (localivs/chat_server.py, `manage.py localivs_chat`) opens the WebSockets the tokens are for. What
the calls ask of the open sockets (an event, a deleted message, a disconnected user) goes to that server as a
ChatCommand row.

Why our own code: the site's chat runs on a plain boto3 `ivschat` client and the real JS messaging SDK, and both
must work in the demo and the browser tests with no AWS account. Nothing maintained offers that. moto (the version
pinned here, 5.2) has an `ivs` backend but no `ivschat` one; we found no IVS Chat in LocalStack's published
coverage, and it offers IVS itself only in its paid edition; floci, a Java emulator, answers IVS Chat's control
plane but not its messaging WebSocket ("the chat message data plane is not emulated", its source says), and would
keep rooms apart from this origin. So, as for IVS, the wire format comes from botocore's model and only the
behaviour is ours.

Not offered (refused with a ValidationException rather than accepted and ignored): message review handlers (they
call a Lambda function) and logging configurations. The access checks IAM would make are not made: whoever reaches
/ivschat/ may call it, like /ivs/.
"""

import hashlib
import re
import secrets
from datetime import UTC, datetime, timedelta

from django.db import transaction
from django.utils import timezone

from localivs.models import LOCAL_ACCOUNT, ChatCommand, ChatRoom, ChatToken
from localivs.operations import ApiError, _cursor, _next_token

ROOMS_PER_REGION = 50_000  # IVS Chat's quota per account and region
DEFAULT_PAGE = 50  # ListRooms' default maxResults
DEFAULT_SESSION_MINUTES = 60
TOKEN_LIFETIME = timedelta(minutes=1)  # "The token is valid for one minute" (CreateChatToken's documentation)
ATTRIBUTES_MAX_BYTES = 1024  # "The maximum length of this field is 1 KB total": keys and values, as UTF-8
ROOM_ARN_RE = re.compile(r"arn:aws:ivschat:(?P<region>[a-z0-9-]+):(?P<account>\d+):room/(?P<id>[a-zA-Z0-9-]+)")
# What the control plane sends to the room's sockets: counted against the room's rate, as its clients' messages are.
ROOM_TRAFFIC = (ChatCommand.SEND_EVENT, ChatCommand.DELETE_MESSAGE, ChatCommand.DISCONNECT_USER)


def iso(moment: datetime) -> str:
    """ISO 8601 in UTC with milliseconds, as IVS Chat writes its times: 2026-01-01T12:00:00.123Z."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def _not_found(identifier: str, region: str) -> ApiError:
    match = ROOM_ARN_RE.fullmatch(identifier)
    resource_id = re.sub(r"[^a-zA-Z0-9]", "", match["id"]) if match else ""
    return ApiError(
        "ResourceNotFoundException",
        f"Room {identifier} not found in {region}.",
        resourceId=resource_id or "room",
        resourceType="ROOM",
    )


def _find_room(region: str, identifier: str, *, for_update=False) -> ChatRoom:
    """The room `identifier` (its ARN: the model's pattern admits nothing else) names in the signed region."""
    match = ROOM_ARN_RE.fullmatch(identifier)
    room = None
    if match and match["region"] == region and match["account"] == LOCAL_ACCOUNT:
        rooms = ChatRoom.objects.select_for_update() if for_update else ChatRoom.objects
        room = rooms.filter(region=region, room_id=match["id"]).first()
    if room is None:
        raise _not_found(identifier, region)
    return room


def _room(room: ChatRoom, *, summary=False) -> dict:
    out = {
        "arn": room.arn,
        "id": room.room_id,
        "name": room.name,
        "createTime": iso(room.created_at),
        "updateTime": iso(room.updated_at),
        "tags": room.tags,
        "loggingConfigurationIdentifiers": [],
    }
    if not summary:
        out["maximumMessageRatePerSecond"] = room.maximum_message_rate_per_second
        out["maximumMessageLength"] = room.maximum_message_length
    return out


def _refuse_what_is_not_offered(body):
    if (body.get("messageReviewHandler") or {}).get("uri"):
        raise ApiError("ValidationException", "The local IVS Chat runs no message review handler.", reason="OTHER")
    if body.get("loggingConfigurationIdentifiers"):
        raise ApiError("ValidationException", "The local IVS Chat has no logging configurations.", reason="OTHER")


def _attributes_fit(attributes: dict, name: str):
    size = sum(len(key.encode()) + len(value.encode()) for key, value in attributes.items())
    if size > ATTRIBUTES_MAX_BYTES:
        raise ApiError(
            "ValidationException",
            f"{name} must be at most 1 KB in total ({size} bytes given).",
            fieldList=[{"name": name, "message": "at most 1 KB in total"}],
        )


# --- Rooms --------------------------------------------------------------------------------------


def create_room(region, body):
    _refuse_what_is_not_offered(body)
    room = ChatRoom(region=region, name=body.get("name", ""), tags=body.get("tags", {}))
    for member, column in [
        ("maximumMessageRatePerSecond", "maximum_message_rate_per_second"),
        ("maximumMessageLength", "maximum_message_length"),
    ]:
        if member in body:
            setattr(room, column, body[member])
    with transaction.atomic():
        if ChatRoom.objects.filter(region=region).count() >= ROOMS_PER_REGION:
            raise ApiError(
                "ServiceQuotaExceededException",
                f"At most {ROOMS_PER_REGION} rooms per region; delete one first.",
                resourceId=LOCAL_ACCOUNT,
                resourceType="ROOM",
                limit=ROOMS_PER_REGION,
            )
        room.save()
    return _room(room)


def get_room(region, body):
    return _room(_find_room(region, body["identifier"]))


def update_room(region, body):
    _refuse_what_is_not_offered(body)
    with transaction.atomic():
        room = _find_room(region, body["identifier"], for_update=True)
        for member, column in [
            ("name", "name"),
            ("maximumMessageRatePerSecond", "maximum_message_rate_per_second"),
            ("maximumMessageLength", "maximum_message_length"),
        ]:
            if member in body:
                setattr(room, column, body[member])
        room.updated_at = timezone.now()
        room.save()
        # Open connections take the new limits at once, as at IVS.
        ChatCommand.objects.create(room_arn=room.arn, kind=ChatCommand.ROOM_UPDATED)
    return _room(room)


def delete_room(region, body):
    with transaction.atomic():
        room = _find_room(region, body["identifier"], for_update=True)
        ChatCommand.objects.create(room_arn=room.arn, kind=ChatCommand.ROOM_DELETED)
        room.delete()  # and its tokens
    return None  # 204, no body


def list_rooms(region, body):
    if body.get("messageReviewHandlerUri") or body.get("loggingConfigurationIdentifier"):
        return {"rooms": []}  # no local room has either
    after, limit = _cursor(body.get("nextToken")), body.get("maxResults", DEFAULT_PAGE)
    rows = ChatRoom.objects.filter(region=region, room_id__gt=after).order_by("room_id")
    if body.get("name"):
        rows = rows.filter(name=body["name"])
    page = list(rows[: limit + 1])
    out = {"rooms": [_room(room, summary=True) for room in page[:limit]]}
    if len(page) > limit:
        out["nextToken"] = _next_token(page[limit - 1].room_id)
    return out


# --- Tokens -------------------------------------------------------------------------------------


def create_chat_token(region, body):
    room = _find_room(region, body["roomIdentifier"])
    attributes = body.get("attributes", {})
    _attributes_fit(attributes, "attributes")
    now = timezone.now()
    # URL-safe base64: letters, digits, - and _ only, so the token is a valid WebSocket sub-protocol as it stands.
    token = secrets.token_urlsafe(48)
    row = ChatToken.objects.create(
        token_sha256=token_digest(token),
        room=room,
        user_id=body["userId"],
        capabilities=sorted(set(body.get("capabilities", []))),
        attributes=attributes,
        token_expires_at=now + TOKEN_LIFETIME,
        session_expires_at=now + timedelta(minutes=body.get("sessionDurationInMinutes", DEFAULT_SESSION_MINUTES)),
    )
    return {
        "token": token,
        "tokenExpirationTime": iso(row.token_expires_at),
        "sessionExpirationTime": iso(row.session_expires_at),
    }


def forget_chat_tokens(now=None) -> int:
    """A token is needed until it is spent or expires, and only a minute after that to tell a late one why."""
    return ChatToken.objects.filter(token_expires_at__lt=(now or timezone.now()) - TOKEN_LIFETIME).delete()[0]


# --- What the control plane sends to a room's sockets -------------------------------------------


def _to_room(region, identifier, kind, payload) -> ChatCommand:
    """Queue `kind` for the room's sockets, within the room's rate: IVS Chat throttles these calls per room."""
    room = _find_room(region, identifier)
    recent = ChatCommand.objects.filter(
        room_arn=room.arn, kind__in=ROOM_TRAFFIC, created_at__gte=timezone.now() - timedelta(seconds=1)
    )
    if recent.count() >= room.maximum_message_rate_per_second:
        raise ApiError(
            "ThrottlingException",
            f"Room {room.arn} takes at most {room.maximum_message_rate_per_second} messages a second.",
            resourceId=room.room_id,
            resourceType="ROOM",
            limit=room.maximum_message_rate_per_second,
        )
    return ChatCommand.objects.create(room_arn=room.arn, kind=kind, payload=payload)


def send_event(region, body):
    name = body["eventName"]
    if name.startswith("aws:"):  # the system events' names: an application must not forge one
        raise ApiError("ValidationException", "eventName must not start with 'aws:'.")
    attributes = body.get("attributes", {})
    _attributes_fit(attributes, "attributes")
    command = _to_room(region, body["roomIdentifier"], ChatCommand.SEND_EVENT, {"name": name, "attributes": attributes})
    return {"id": command.event_id}


def delete_message(region, body):
    payload = {"message_id": body["id"], "reason": body.get("reason")}
    command = _to_room(region, body["roomIdentifier"], ChatCommand.DELETE_MESSAGE, payload)
    return {"id": command.event_id}


def disconnect_user(region, body):
    payload = {"user_id": body["userId"], "reason": body.get("reason")}
    _to_room(region, body["roomIdentifier"], ChatCommand.DISCONNECT_USER, payload)
    return {}


OPERATIONS = {
    "CreateRoom": create_room,
    "GetRoom": get_room,
    "UpdateRoom": update_room,
    "DeleteRoom": delete_room,
    "ListRooms": list_rooms,
    "CreateChatToken": create_chat_token,
    "SendEvent": send_event,
    "DeleteMessage": delete_message,
    "DisconnectUser": disconnect_user,
}
