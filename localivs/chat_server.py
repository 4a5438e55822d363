"""The IVS Chat Messaging API's WebSocket, served by the local stand-in (`manage.py localivs_chat`).

The client is the real JS SDK (`amazon-ivs-chat-messaging`), so this speaks what its ChatRoom and ChatConnection
expect, and what IVS's Chat Messaging API reference documents:

- The browser opens `new WebSocket(url, token)`: the token, from CreateChatToken (localivs/chat.py), is the one
  sub-protocol, echoed back. A token opens one connection, within a minute of being issued. Any other handshake
  (no token, an unknown, forged, expired or spent one) is refused with an HTTP 401 before the upgrade: the browser
  then fires `error` and `close` (1006), and the SDK fetches a new token from its tokenProvider, up to its
  `maxReconnectAttempts`, before it disconnects with the reason `socketError`.
- Requests are JSON text frames: SEND_MESSAGE {Content, Attributes}, DELETE_MESSAGE {Id, Reason} and
  DISCONNECT_USER {UserId, Reason}, each with an optional RequestId, each allowed only by its capability in the
  token. The room's maximumMessageLength (code points) and maximumMessageRatePerSecond (messages a second from all
  its clients) hold. A refused request gets an ERROR frame {Type, Id, RequestId, ErrorCode, ErrorMessage} with
  IVS's codes: 400 for a bad request (not JSON, wrong types, unknown Action, a message too long), 403 for a missing
  capability, 413 for a frame or attributes too large, 429 over the room's rate. Bad input never closes the socket.
- Everyone in the room gets MESSAGE {Type, Id, RequestId, Content, Attributes, SendTime, Sender{UserId,
  Attributes}} (the sender's attributes are the token's) and EVENT {Type, Id, RequestId, EventName, Attributes,
  SendTime}: aws:DELETE_MESSAGE (Attributes MessageID, MessageId, Reason) and aws:DISCONNECT_USER (Attributes
  UserId, Reason), then every connection of that user in that room closes with code 1000, which the SDK reports
  as `serverDisconnect`.
- A connection lasts until its token's sessionExpirationTime: then an ERROR 401 ("The connection has expired", the
  code on which the SDK reconnects with a new token at once) and a close.

SendEvent, DeleteMessage and DisconnectUser on the control plane, and a room's update or deletion, arrive as
ChatCommand rows, written by the web process. This server reads them every POLL_SECONDS. Why poll the database
rather than be told: the two processes share nothing else (the demo runs SQLite, production mode PostgreSQL, so
no LISTEN/NOTIFY for both), a row survives either process restarting, and one indexed query four times a second
is nothing. The poll reads the rows of the last LOOK_BACK it has not yet seen, rather than those after the last
key it saw: on PostgreSQL two commands may commit in the other order than their keys.

Messages live only in memory, on their way to the room's sockets: there is no history, as at IVS. It is one
process; the ORM runs in a thread of its own (one connection, closed when the server stops), never in the loop.
"""

import asyncio
import json
import logging
import re
import threading
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta
from http import HTTPStatus

from django.db import DatabaseError, connections
from django.utils import timezone
from websockets.asyncio.server import ServerConnection, broadcast, serve
from websockets.exceptions import ConnectionClosed, InvalidHeader
from websockets.headers import parse_subprotocol

from localivs import chat
from localivs.models import ChatCommand, ChatRoom, ChatToken, new_key_pair_id

logger = logging.getLogger(__name__)

POLL_SECONDS = 0.25
LOOK_BACK = timedelta(seconds=10)
PRUNE_SECONDS = 60
COMMANDS_KEPT = timedelta(minutes=5)
FRAME_MAX_BYTES = 2**20  # beyond this websockets closes the connection (1009, message too big)
REQUEST_MAX_BYTES = 16 * 1024  # beyond this, an ERROR 413: a message of 500 characters and 1 KB of attributes fit
ID_RE = re.compile(r"[A-Za-z0-9]{12}")  # IVS Chat's message and event ids
TOKEN_RE = re.compile(r"[A-Za-z0-9_-]{1,512}")
REQUEST_ID_MAX = 256
REASON_MAX = 256  # the control plane's Reason
USER_ID_MAX = 128


@dataclass(frozen=True)
class Session:
    """What a spent token opened: one connection of one user in one room."""

    room_arn: str
    user_id: str
    capabilities: frozenset
    attributes: dict
    expires_at: object  # an aware datetime
    max_length: int
    max_rate: int


@dataclass
class Room:
    max_length: int
    max_rate: int
    connections: dict = field(default_factory=dict)  # {ServerConnection: Session}
    sent: deque = field(default_factory=deque)  # the loop times of the last second's messages


class Refused(Exception):
    def __init__(self, code: int, message: str):
        super().__init__(message)
        self.code, self.message = code, message


# --- The database side, run in the server's own thread ----------------------------------------


def claim(token: str) -> Session | None:
    """Spend the token if it is one CreateChatToken issued and is unspent and unexpired; its session, else None."""
    digest, now = chat.token_digest(token), timezone.now()
    fresh = ChatToken.objects.filter(token_sha256=digest, spent_at__isnull=True, token_expires_at__gt=now)
    if not fresh.update(spent_at=now):  # one UPDATE: two connections racing with one token cannot both win
        return None
    row = ChatToken.objects.select_related("room").filter(token_sha256=digest).first()
    if row is None:  # the room was deleted in between
        return None
    return Session(
        room_arn=row.room.arn,
        user_id=row.user_id,
        capabilities=frozenset(row.capabilities),
        attributes=dict(row.attributes),
        expires_at=row.session_expires_at,
        max_length=row.room.maximum_message_length,
        max_rate=row.room.maximum_message_rate_per_second,
    )


def recent_commands(exclude) -> list[dict]:
    """The commands of the last LOOK_BACK not in `exclude`, in order; an updated room's limits with its command."""
    rows = ChatCommand.objects.filter(created_at__gte=timezone.now() - LOOK_BACK).exclude(pk__in=list(exclude))
    commands = list(rows.order_by("pk").values("pk", "room_arn", "kind", "event_id", "payload", "created_at"))
    for command in commands:
        if command["kind"] == ChatCommand.ROOM_UPDATED:
            region, room_id = _region_and_id(command["room_arn"])
            limits = ChatRoom.objects.filter(region=region, room_id=room_id).values_list(
                "maximum_message_length", "maximum_message_rate_per_second"
            )
            command["limits"] = limits.first()
    return commands


def _region_and_id(arn: str) -> tuple[str, str]:
    match = chat.ROOM_ARN_RE.fullmatch(arn)
    return (match["region"], match["id"]) if match else ("", "")


def prune():
    ChatCommand.objects.filter(created_at__lt=timezone.now() - COMMANDS_KEPT).delete()
    chat.forget_chat_tokens()


# --- Frames ---------------------------------------------------------------------------------------


def _frame(kind: str, request_id, **members) -> str:
    out = {"Type": kind, "Id": members.pop("Id", None) or new_key_pair_id()}
    if request_id is not None:
        out["RequestId"] = request_id
    out.update(members)
    return json.dumps(out)


def _send_time(moment=None) -> str:
    return chat.iso(moment or timezone.now())


def _text(request: dict, name: str, *, required: bool, limit: int) -> str | None:
    value = request.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value:
        raise Refused(400, f"{name} must be a non-empty string.")
    if len(value) > limit:
        raise Refused(400, f"{name} must be at most {limit} characters.")
    _valid_unicode(value, name)
    return value


def _valid_unicode(value: str, name: str):
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise Refused(400, f"{name} is not valid Unicode.") from None


def _attributes(request: dict) -> dict:
    value = request.get("Attributes")
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(isinstance(item, str) for pair in value.items() for item in pair):
        raise Refused(400, "Attributes must be an object of strings.")
    for key, item in value.items():
        _valid_unicode(key + item, "Attributes")
    if sum(len(key.encode()) + len(item.encode()) for key, item in value.items()) > chat.ATTRIBUTES_MAX_BYTES:
        raise Refused(413, "Attributes must be at most 1 KB in total.")
    return value


# --- The server -----------------------------------------------------------------------------------


class ChatServer:
    def __init__(self, poll_seconds: float = POLL_SECONDS):
        self.poll_seconds = poll_seconds
        self.rooms: dict[str, Room] = {}
        self.tasks: set = set()
        self.port = None
        self._db_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="localivs-chat-db")

    async def _db(self, function, *args):
        return await asyncio.get_running_loop().run_in_executor(self._db_thread, function, *args)

    async def run(self, host: str, port: int, stop: asyncio.Event, ready=None):
        """Serve until `stop` is set; `ready(port)` once listening."""
        try:
            await self._db(prune)
            seen = {command["pk"]: command["created_at"] for command in await self._db(recent_commands, ())}
            async with serve(
                self.handle,
                host,
                port,
                process_request=self.process_request,
                select_subprotocol=self.select_subprotocol,
                max_size=FRAME_MAX_BYTES,
                server_header="localivs-chat",
            ) as server:
                self.port = server.sockets[0].getsockname()[1]
                poller = asyncio.create_task(self.poll(seen))
                if ready:
                    ready(self.port)
                await stop.wait()
                poller.cancel()
        finally:
            await self._db(connections.close_all)
            self._db_thread.shutdown()

    # --- Handshake: the token is the sub-protocol ---

    async def process_request(self, connection: ServerConnection, request):
        upgrade = [value.strip().lower() for value in request.headers.get("Upgrade", "").split(",")]
        if "websocket" not in upgrade:
            return None  # not a WebSocket: websockets answers it (426) and no token is spent
        try:
            headers = request.headers.get_all("Sec-WebSocket-Protocol")
            offered = [item for header in headers for item in parse_subprotocol(header)]
        except InvalidHeader:
            offered = []
        if len(offered) != 1 or not TOKEN_RE.fullmatch(offered[0]):
            return connection.respond(HTTPStatus.UNAUTHORIZED, "A chat token is needed, as the one sub-protocol.\n")
        try:
            session = await self._db(claim, offered[0])
        except DatabaseError:
            logger.warning("chat: the database is unavailable; refused a connection", exc_info=True)
            await self._db(connections.close_all)
            return connection.respond(HTTPStatus.SERVICE_UNAVAILABLE, "Try again shortly.\n")
        if session is None:
            return connection.respond(HTTPStatus.UNAUTHORIZED, "This chat token is unknown, expired or spent.\n")
        connection.chat_token, connection.chat_session = offered[0], session
        return None

    def select_subprotocol(self, connection: ServerConnection, subprotocols):
        token = getattr(connection, "chat_token", None)
        return token if token in subprotocols else None

    # --- A connection ---

    async def handle(self, ws: ServerConnection):
        session: Session | None = getattr(ws, "chat_session", None)
        if session is None:  # a handshake process_request let through without a token: never expected
            await ws.close(1008, "no chat token")
            return
        room = self.rooms.get(session.room_arn)
        if room is None:
            room = self.rooms[session.room_arn] = Room(session.max_length, session.max_rate)
        room.connections[ws] = session
        try:
            async with asyncio.timeout((session.expires_at - timezone.now()).total_seconds()):
                async for frame in ws:
                    self.receive(room, ws, session, frame)
        except TimeoutError:
            self._reply(ws, _frame("ERROR", None, ErrorCode=401, ErrorMessage="The connection has expired."))
            await ws.close(1000, "session expired")
        except ConnectionClosed:
            pass
        finally:
            room.connections.pop(ws, None)
            if not room.connections and self.rooms.get(session.room_arn) is room:
                del self.rooms[session.room_arn]

    def receive(self, room: Room, ws: ServerConnection, session: Session, frame):
        """One request, answered at once: every send here is a synchronous write (broadcast), never awaited."""
        request_id = None
        try:
            if isinstance(frame, bytes):
                raise Refused(400, "Requests are JSON text frames.")
            if len(frame) > REQUEST_MAX_BYTES or len(frame.encode("utf-8", "surrogatepass")) > REQUEST_MAX_BYTES:
                raise Refused(413, f"A request must be at most {REQUEST_MAX_BYTES} bytes.")
            try:
                request = json.loads(frame)
            except (ValueError, RecursionError):
                raise Refused(400, "The request is not valid JSON.") from None
            if not isinstance(request, dict):
                raise Refused(400, "The request must be a JSON object.")
            request_id = request.get("RequestId")
            if request_id is not None and not (isinstance(request_id, str) and 0 < len(request_id) <= REQUEST_ID_MAX):
                request_id = None
                raise Refused(400, f"RequestId must be a string of at most {REQUEST_ID_MAX} characters.")
            _valid_unicode(request_id or "", "RequestId")
            action = request.get("Action")
            act = self.ACTIONS.get(action) if isinstance(action, str) else None
            if act is None:
                raise Refused(400, "Action must be SEND_MESSAGE, DELETE_MESSAGE or DISCONNECT_USER.")
            if action not in session.capabilities:
                raise Refused(403, f"This connection's token does not allow {action}.")
            act(self, room, session, request, request_id)
        except Refused as refused:
            error = _frame("ERROR", request_id, ErrorCode=refused.code, ErrorMessage=refused.message)
            self._reply(ws, error)

    def _send_message(self, room: Room, session: Session, request: dict, request_id):
        content = request.get("Content")
        if not isinstance(content, str) or not content:
            raise Refused(400, "Content must be a non-empty string.")
        if len(content) > room.max_length:
            raise Refused(400, f"Messages must be at most {room.max_length} characters.")
        _valid_unicode(content, "Content")
        attributes = _attributes(request)
        now, sent = asyncio.get_running_loop().time(), room.sent
        while sent and sent[0] <= now - 1:
            sent.popleft()
        if len(sent) >= room.max_rate:
            raise Refused(429, f"This room takes at most {room.max_rate} messages a second.")
        sent.append(now)
        message = _frame(
            "MESSAGE",
            request_id,
            Content=content,
            Attributes=attributes,
            SendTime=_send_time(),
            Sender={"UserId": session.user_id, "Attributes": session.attributes},
        )
        broadcast(list(room.connections), message)

    def _delete_message(self, room: Room, session, request: dict, request_id, event_id=None, sent_at=None):
        message_id = request.get("Id")
        if not isinstance(message_id, str) or not ID_RE.fullmatch(message_id):
            raise Refused(400, "Id must be the 12-letter Id of a message.")
        reason = _text(request, "Reason", required=False, limit=REASON_MAX)
        # MessageID is what the JS SDK reads; MessageId the name IVS documents now.
        attributes = {"MessageID": message_id, "MessageId": message_id, **({"Reason": reason} if reason else {})}
        self._event(room, "aws:DELETE_MESSAGE", attributes, request_id, event_id, sent_at)

    def _disconnect_user(self, room: Room, session, request: dict, request_id, event_id=None, sent_at=None):
        user_id = _text(request, "UserId", required=True, limit=USER_ID_MAX)
        reason = _text(request, "Reason", required=False, limit=REASON_MAX)
        attributes = {"UserId": user_id, **({"Reason": reason} if reason else {})}
        self._event(room, "aws:DISCONNECT_USER", attributes, request_id, event_id, sent_at)
        for connection, their in list(room.connections.items()):
            if their.user_id == user_id:
                self._close(connection, "disconnected by a moderator")

    ACTIONS = {"SEND_MESSAGE": _send_message, "DELETE_MESSAGE": _delete_message, "DISCONNECT_USER": _disconnect_user}

    def _event(self, room: Room, name: str, attributes: dict, request_id=None, event_id=None, sent_at=None):
        event = _frame(
            "EVENT", request_id, Id=event_id, EventName=name, Attributes=attributes, SendTime=_send_time(sent_at)
        )
        broadcast(list(room.connections), event)

    def _reply(self, ws: ServerConnection, frame: str):
        broadcast([ws], frame)

    def _close(self, ws: ServerConnection, reason: str):
        task = asyncio.create_task(ws.close(1000, reason))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    # --- What the control plane sends (ChatCommand rows) ---

    async def poll(self, seen: dict):
        last_prune = asyncio.get_running_loop().time()
        while True:
            await asyncio.sleep(self.poll_seconds)
            try:
                commands = await self._db(recent_commands, tuple(seen))
                if asyncio.get_running_loop().time() - last_prune > PRUNE_SECONDS:
                    await self._db(prune)
                    last_prune = asyncio.get_running_loop().time()
            except Exception as exc:  # a dead poller would silently stop every command: log, and poll on
                logger.warning("chat: reading the commands failed; polling on", exc_info=True)
                if isinstance(exc, DatabaseError):
                    await self._db(connections.close_all)
                continue
            for command in commands:
                seen[command["pk"]] = command["created_at"]
                try:
                    self.apply(command)
                except Refused as refused:  # a row no control-plane call would write; not the room's concern
                    logger.warning("chat: ignored command %s: %s", command["pk"], refused.message)
            horizon = timezone.now() - LOOK_BACK - timedelta(seconds=5)
            for pk in [pk for pk, created in seen.items() if created < horizon]:
                del seen[pk]

    def apply(self, command: dict):
        room = self.rooms.get(command["room_arn"])
        if room is None:
            return  # nobody is connected to that room here
        kind, payload = command["kind"], command["payload"]
        event = {"event_id": command["event_id"], "sent_at": command["created_at"]}
        if kind == ChatCommand.SEND_EVENT:
            self._event(room, payload["name"], payload.get("attributes") or {}, None, **event)
        elif kind == ChatCommand.DELETE_MESSAGE:
            request = {"Id": payload["message_id"], "Reason": payload.get("reason")}
            self._delete_message(room, None, request, None, **event)
        elif kind == ChatCommand.DISCONNECT_USER:
            request = {"UserId": payload["user_id"], "Reason": payload.get("reason")}
            self._disconnect_user(room, None, request, None, **event)
        elif kind == ChatCommand.ROOM_UPDATED and command.get("limits"):
            room.max_length, room.max_rate = command["limits"]
        elif kind == ChatCommand.ROOM_DELETED:
            for connection in list(room.connections):
                self._close(connection, "room deleted")


# --- Running it -----------------------------------------------------------------------------------


class Running:
    """A ChatServer serving in a thread of its own (the tests' `chat_server` fixture): its URL, and stop()."""

    def __init__(self, host="127.0.0.1", port=0, poll_seconds=POLL_SECONDS):
        self.server = ChatServer(poll_seconds)
        self._started, self._failure = threading.Event(), None
        self._thread = threading.Thread(target=self._run, args=(host, port), name="localivs-chat", daemon=True)
        self._thread.start()
        if not self._started.wait(timeout=30):
            raise RuntimeError("the chat messaging server did not start within 30 s")
        if self._failure:
            raise RuntimeError("the chat messaging server did not start") from self._failure
        self.url = f"ws://{host}:{self.server.port}"

    def _run(self, host, port):
        async def main():
            self._loop, self._stop = asyncio.get_running_loop(), asyncio.Event()
            await self.server.run(host, port, self._stop, ready=lambda port: self._started.set())

        try:
            asyncio.run(main())
        except BaseException as exc:  # reported by __init__ or stop()
            self._failure = exc
        finally:
            self._started.set()

    def stop(self):
        if self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._stop.set)
            self._thread.join(timeout=30)
