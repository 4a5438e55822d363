"""What the stand-in IVS remembers: spent single-use ids, open sessions and revocations."""

import secrets
import string

from django.db import models
from django.utils import timezone


def new_session_id() -> str:
    return secrets.token_urlsafe(18)


class SpentToken(models.Model):
    single_use_uuid = models.CharField(max_length=64, unique=True)
    expires_at = models.DateTimeField(db_index=True)

    def __str__(self):
        return self.single_use_uuid


class PlaybackSession(models.Model):
    """Opened by a verified token. Later playlist and segment requests carry its id in their URIs."""

    id = models.CharField(primary_key=True, max_length=32, default=new_session_id, editable=False)
    channel_arn = models.CharField(max_length=128)
    viewer_id = models.CharField(max_length=40, blank=True)
    session_version = models.PositiveBigIntegerField(default=0)
    max_resolution = models.CharField(max_length=8, blank=True)
    allowed_origins = models.TextField(blank=True)
    strict_origin = models.BooleanField(default=False)
    key_fingerprint = models.CharField(max_length=47, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    last_seen_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["channel_arn", "viewer_id"], name="localivs_session_viewer")]

    def __str__(self):
        return f"session {self.id} on {self.channel_arn}"


class ViewerRevocation(models.Model):
    """StartViewerSessionRevocation: sessions of this viewer with version <= max_version stop."""

    channel_arn = models.CharField(max_length=128)
    viewer_id = models.CharField(max_length=40)
    max_version = models.PositiveBigIntegerField(default=0)
    revoked_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["channel_arn", "viewer_id"], name="localivs_one_revocation")]

    def __str__(self):
        return f"{self.viewer_id} on {self.channel_arn} through version {self.max_version}"


#: The account in the ARNs of imported key pairs: the stand-in has no accounts, so all share this one.
LOCAL_ACCOUNT = "123456789012"
KEY_PAIR_ID_ALPHABET = string.ascii_letters + string.digits


def new_key_pair_id() -> str:
    return "".join(secrets.choice(KEY_PAIR_ID_ALPHABET) for _ in range(12))


class PlaybackKeyPair(models.Model):
    """ImportPlaybackKeyPair: a public key in one region. The origin lists it; it does not verify with it."""

    region = models.CharField(max_length=32)
    key_pair_id = models.CharField(max_length=12, unique=True, default=new_key_pair_id, editable=False)
    name = models.CharField(max_length=128, blank=True)
    public_key_pem = models.TextField()
    fingerprint = models.CharField(max_length=47)
    tags = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["region", "fingerprint"], name="localivs_one_key_pair_per_region")
        ]

    def __str__(self):
        return self.arn

    @property
    def arn(self) -> str:
        return f"arn:aws:ivs:{self.region}:{LOCAL_ACCOUNT}:playback-key/{self.key_pair_id}"


# --- IVS Chat (localivs/chat.py answers the control plane, localivs/chat_server.py the messaging WebSocket) ------


class ChatRoom(models.Model):
    """CreateRoom: a room in one region. Its messages are never stored, as at IVS: only the messaging server holds
    them, on their way to the room's sockets."""

    region = models.CharField(max_length=32)
    room_id = models.CharField(max_length=12, unique=True, default=new_key_pair_id, editable=False)
    name = models.CharField(max_length=128, blank=True)
    maximum_message_rate_per_second = models.PositiveIntegerField(default=10)
    maximum_message_length = models.PositiveIntegerField(default=500)
    tags = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    def __str__(self):
        return self.arn

    @property
    def arn(self) -> str:
        return f"arn:aws:ivschat:{self.region}:{LOCAL_ACCOUNT}:room/{self.room_id}"


class ChatToken(models.Model):
    """CreateChatToken: what the messaging server needs to open one connection, found by the token's SHA-256 (the
    token itself is not kept). Spent by the first connection that presents it."""

    token_sha256 = models.CharField(max_length=64, unique=True)
    room = models.ForeignKey(ChatRoom, on_delete=models.CASCADE, related_name="tokens")
    user_id = models.CharField(max_length=128)
    capabilities = models.JSONField(default=list, blank=True)
    attributes = models.JSONField(default=dict, blank=True)
    token_expires_at = models.DateTimeField(db_index=True)
    session_expires_at = models.DateTimeField()
    spent_at = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return f"chat token for {self.user_id}"


class ChatCommand(models.Model):
    """What the control plane asks of the room's sockets (SendEvent, DeleteMessage, DisconnectUser) or tells them
    about the room (UpdateRoom, DeleteRoom). The web process writes the row; the messaging server, another process,
    reads the rows after the last it saw (the primary key is its cursor) and acts on its connections."""

    SEND_EVENT = "SEND_EVENT"
    DELETE_MESSAGE = "DELETE_MESSAGE"
    DISCONNECT_USER = "DISCONNECT_USER"
    ROOM_UPDATED = "ROOM_UPDATED"
    ROOM_DELETED = "ROOM_DELETED"
    KINDS = [(kind, kind) for kind in (SEND_EVENT, DELETE_MESSAGE, DISCONNECT_USER, ROOM_UPDATED, ROOM_DELETED)]

    room_arn = models.CharField(max_length=128)  # not a key: a deleted room's command outlives it
    kind = models.CharField(max_length=16, choices=KINDS)
    event_id = models.CharField(max_length=12, default=new_key_pair_id)  # the Id the control plane answered
    payload = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        indexes = [models.Index(fields=["room_arn", "created_at"], name="localivs_chat_command_room")]

    def __str__(self):
        return f"{self.kind} in {self.room_arn}"
