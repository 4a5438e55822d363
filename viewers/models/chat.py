"""Chat beside the stream (Amazon IVS Chat): a channel's room, the chat sessions the site let in, and bans.

The same promise as playback holds for chat: who loses access leaves the chat too. IVS Chat checks nothing after
it has issued a token, so each token the site asks for is written down as a ChatSession, the way TokenAudit writes
down each playback token, and the reconciler ends (and disconnects at IVS) every open one that the access rule, a
ban or the configuration no longer allows (viewers/chat/withdrawal.py).
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from viewers import validators
from viewers.models.entitlements import Channel


class ChatRoomStatus(models.TextChoices):
    # What the worker still has to do at IVS (viewers/chat/rooms.py); only a ready room is offered to viewers.
    CREATING = "creating", "being created at IVS"
    LINKING = "linking", "being checked at IVS"
    UPDATING = "updating", "limits being saved at IVS"
    READY = "ready", "ready"
    FAILED = "failed", "failed (needs attention)"


PENDING_ROOM_STATES = (ChatRoomStatus.CREATING, ChatRoomStatus.LINKING, ChatRoomStatus.UPDATING)


def room_is_ready(arn: str, status: str) -> bool:
    """Viewers get a room's chat only once the worker has it at IVS (the player page reads these two columns)."""
    return status == ChatRoomStatus.READY and bool(arn)


class ChatRoomQuerySet(models.QuerySet):
    def due(self, now=None):
        """Rooms the worker has something to do for at IVS, now."""
        return self.filter(status__in=PENDING_ROOM_STATES, next_attempt_at__lte=now or timezone.now())


class ChatRoom(models.Model):
    """A channel's IVS Chat room. Optional: a channel without one has no chat.

    The admin only writes what it wants (a new room, or an existing room's ARN to link, and the limits); the
    worker makes IVS agree (CreateRoom, GetRoom, UpdateRoom) and marks the room ready. No request calls AWS.
    """

    channel = models.OneToOneField(Channel, on_delete=models.CASCADE, related_name="chat_room")
    arn = models.CharField(
        "IVS Chat room ARN",
        max_length=128,
        blank=True,
        validators=[validators.validate_room_arn],
        help_text="Empty: the worker creates a room at IVS, in the channel's region. Or paste an existing room's "
        "ARN (arn:aws:ivschat:&lt;region&gt;:&lt;account&gt;:room/&lt;id&gt;) to link it.",
    )
    # The name the room was created with at IVS: a creation that died before its ARN was saved is found by it.
    name = models.CharField("name at IVS", max_length=128, blank=True, editable=False)
    maximum_message_rate_per_second = models.PositiveSmallIntegerField(
        "messages per second",
        default=10,
        validators=[MinValueValidator(1), MaxValueValidator(100)],
        help_text="The most messages the whole room may send in a second (IVS allows 1 to 100).",
    )
    maximum_message_length = models.PositiveSmallIntegerField(
        "message length",
        default=500,
        validators=[MinValueValidator(1), MaxValueValidator(500)],
        help_text="The most characters in one message (IVS allows 1 to 500).",
    )
    status = models.CharField(max_length=8, choices=ChatRoomStatus.choices, default=ChatRoomStatus.CREATING)
    last_error = models.CharField(max_length=500, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    synced_at = models.DateTimeField("agreed with IVS", null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    objects = ChatRoomQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["arn"], condition=~Q(arn=""), name="one_channel_per_chat_room"),
        ]

    def __str__(self):
        return f"chat of {self.channel}"

    @property
    def region(self) -> str:
        return validators.region_of_arn(self.arn) or validators.region_of_arn(self.channel.arn)

    @property
    def is_ready(self) -> bool:
        return room_is_ready(self.arn, self.status)

    def clean(self):
        super().clean()
        channel_region = validators.region_of_arn(self.channel.arn) if self.channel_id else ""
        if self.arn and channel_region and validators.region_of_arn(self.arn) != channel_region:
            raise ValidationError({"arn": f"The room must be in the channel's region, {channel_region}."})


class ChatSessionQuerySet(models.QuerySet):
    def open(self, now=None):
        """Chat sessions that may still be connected: not ended and not past the session IVS was asked for."""
        return self.filter(ended_at__isnull=True, session_expires_at__gt=now or timezone.now())


class ChatEnd(models.TextChoices):
    REVOKED = "revoked", "access withdrawn"
    BANNED = "banned", "removed by a moderator"
    CHANGED = "changed", "the channel's chat changed"


class ChatSession(models.Model):
    """One chat token the site obtained from IVS for a viewer: its audit row, and the session it opens.

    Like TokenAudit, it keeps what the token was for whatever happens to the configuration later (the room's ARN:
    a room unlinked or replaced keeps its connections at IVS until they are disconnected). The token is never
    stored."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    channel = models.ForeignKey(Channel, null=True, on_delete=models.SET_NULL, related_name="+")
    room_arn = models.CharField("room ARN", max_length=128)
    chat_user_id = models.CharField("chat user id", max_length=40)
    moderator = models.BooleanField(default=False, help_text="The token let them delete messages and remove people.")
    issued_at = models.DateTimeField(default=timezone.now, db_index=True)
    session_expires_at = models.DateTimeField("session ends")
    client_ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    end_reason = models.CharField(max_length=8, choices=ChatEnd.choices, blank=True)

    objects = ChatSessionQuerySet.as_manager()

    class Meta:
        ordering = ["-issued_at"]
        indexes = [
            # The reconciler's scan: open sessions only (few, however long the history).
            models.Index(fields=["session_expires_at"], condition=Q(ended_at__isnull=True), name="chat_open"),
            models.Index(fields=["channel", "chat_user_id"], name="chat_session_viewer"),
        ]

    def __str__(self):
        return f"chat of {self.chat_user_id} in {self.room_arn}"


class ChatBanQuerySet(models.QuerySet):
    def active(self):
        return self.filter(lifted_at__isnull=True)


class ChatBan(models.Model):
    """A viewer a moderator removed from a channel's chat: no new chat token until the ban is lifted.

    IVS's DisconnectUser only drops the connections open now; the ban is what keeps the viewer out."""

    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="chat_bans")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="chat_bans")
    reason = models.CharField(max_length=200, blank=True, help_text="Shown to the viewer.")
    banned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    lifted_at = models.DateTimeField(null=True, blank=True, editable=False)
    lifted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )

    objects = ChatBanQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        # Moderators act in the chat itself (delete a message, remove a viewer): a permission of its own, which a
        # site user who is not staff can hold.
        permissions = [("moderate_chat", "Can moderate chat: delete messages and remove viewers")]
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "user"], condition=Q(lifted_at__isnull=True), name="one_active_chat_ban"
            ),
        ]

    def __str__(self):
        return f"{self.user} removed from the chat of {self.channel}"
