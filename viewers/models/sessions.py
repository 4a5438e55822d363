"""What playback leaves behind: one audit row per token (also the playback session), the revocations the site
owes IVS, and the per-day count of country refusals."""

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone

from viewers.models.entitlements import Channel


class CountryDenial(models.Model):
    """How many times a channel's country rule refused someone, per day and country ("" when unknown).

    One row per channel, day and country, incremented in place: a refused request costs an UPDATE, not a row.
    """

    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    country = models.CharField(max_length=2, blank=True)
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["channel", "day", "country"], name="one_denial_count_per_day"),
        ]

    def __str__(self):
        return f"{self.count} refused from {self.country or 'unknown'} on {self.channel_id}, {self.day}"


class SessionEnd(models.TextChoices):
    SUPERSEDED = "superseded", "playing on another device"
    REVOKED = "revoked", "access withdrawn"
    STOPPED = "stopped", "stopped by an operator"
    BANNED = "banned", "removed from the chat by a moderator"  # chat disconnects only (viewers/chat/)


# The signer of audit rows written before rows recorded their key: any key may have signed them.
UNKNOWN_SIGNER = "?"


class TokenAuditQuerySet(models.QuerySet):
    def open(self, now=None):
        """Sessions that may still be playing: not ended, started within IVS's longest broadcast, and revocable
        (a token without a viewer id names no session that IVS could stop)."""
        horizon = (now or timezone.now()) - timedelta(hours=settings.IVS_SESSION_MAX_HOURS)
        return self.filter(ended_at__isnull=True, issued_at__gte=horizon).exclude(viewer_id="")


class TokenAudit(models.Model):
    """One row per token issued, which is also one playback session. The token itself is never stored.

    The row's id is the token's aws:viewer-session-version: ids only grow, so a newer session always
    has a higher version, and "revoke versions <= id" stops this session and every older one.

    The row keeps what the token was signed for and with, whatever happens to the configuration later: the
    channel's ARN and name (a session runs on the ARN its token carried, and the row outlives the channel), and
    the signing key's fingerprint (a key may leave IVS only once the last token it signed has expired).
    """

    # Every player page inserts a row, so each index costs on the hottest write. user and channel get no
    # single-column index: the composite indexes below lead with them (docs/EXPLAIN.md).
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    channel = models.ForeignKey(Channel, null=True, on_delete=models.SET_NULL, related_name="+", db_index=False)
    channel_arn = models.CharField("channel ARN", max_length=128)
    channel_name = models.CharField(max_length=200, blank=True)
    key_fingerprint = models.CharField("signed with", max_length=47, blank=True)
    viewer_id = models.CharField(max_length=40, blank=True)
    single_use_uuid = models.UUIDField(null=True, blank=True)
    max_resolution = models.CharField(max_length=8, blank=True)
    issued_at = models.DateTimeField(db_index=True)
    expires_at = models.DateTimeField()
    client_ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)
    purpose = models.CharField(max_length=16, default="page")
    ended_at = models.DateTimeField(null=True, blank=True)
    end_reason = models.CharField(max_length=16, choices=SessionEnd.choices, blank=True)

    objects = TokenAuditQuerySet.as_manager()

    class Meta:
        ordering = ["-issued_at"]
        # "Stop watching" (the channel's live page): ends one viewer's sessions now, so it is its own permission.
        permissions = [("stop_session", "Can stop a viewer's playback")]
        indexes = [
            models.Index(fields=["channel", "issued_at"], name="audit_channel_issued"),
            # Device limits and revocation look up a viewer's recent sessions on one channel.
            models.Index(fields=["user", "channel", "issued_at"], name="audit_user_channel_issued"),
            # When may a key leave IVS: the expiry of the last token it signed (key_rotation.retirement).
            models.Index(fields=["key_fingerprint", "expires_at"], name="audit_key_expires"),
        ]

    def __str__(self):
        # Who watched what, when: the detail page's title. Never the token, which is not stored anyway.
        viewer = self.user.username if self.user_id else "a deleted user"
        issued = timezone.localtime(self.issued_at)  # as the admin shows times: in the site's time zone
        return f"{viewer} on {self.channel_name or self.channel_arn}, issued {issued:%Y-%m-%d %H:%M:%S}"

    @property
    def session_version(self):
        return self.pk


class RevocationStatus(models.TextChoices):
    PENDING = "pending", "pending"
    DONE = "done", "done"
    FAILED = "failed", "failed (needs attention)"


class RevocationKind(models.TextChoices):
    PLAYBACK = "playback", "playback (StartViewerSessionRevocation)"
    CHAT = "chat", "chat (DisconnectUser)"


class RevocationQuerySet(models.QuerySet):
    def pending(self):
        """Not yet accepted by IVS, and not given up on."""
        return self.filter(status=RevocationStatus.PENDING)

    def due(self, now=None):
        """Pending and due for an attempt now (not waiting out a backoff or another worker's lease)."""
        return self.pending().filter(next_attempt_at__lte=now or timezone.now())


class Revocation(models.Model):
    """A StartViewerSessionRevocation the site owes IVS. Kept until IVS has accepted it, so nothing
    is lost while AWS is unreachable; `manage.py ivs_sync_revocations` delivers what is pending.

    Addressed to the ARN the sessions run on (their audit rows'), which is not the channel's current ARN once the
    channel was re-pointed, and outlives a deleted channel: IVS keeps playing what the site forgot.

    A chat disconnect (kind CHAT: DisconnectUser of viewer_id in the room channel_arn names) is the same debt with
    the same queue, pacing, retries and admin: the reconciler owes both when a viewer loses access."""

    channel = models.ForeignKey(Channel, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    kind = models.CharField(max_length=8, choices=RevocationKind.choices, default=RevocationKind.PLAYBACK)
    channel_arn = models.CharField(
        "ARN", max_length=128, help_text="The channel's ARN; for a chat disconnect, the chat room's."
    )
    viewer_id = models.CharField(max_length=40)
    max_version = models.PositiveBigIntegerField(help_text="Sessions with a version up to this one stop.")
    reason = models.CharField(max_length=16, choices=SessionEnd.choices)
    status = models.CharField(max_length=8, choices=RevocationStatus.choices, default=RevocationStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    delivered_at = models.DateTimeField(null=True, blank=True)

    objects = RevocationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="revocation_due")]

    def __str__(self):
        if self.kind == RevocationKind.CHAT:
            return f"disconnect {self.viewer_id} from {self.channel_arn}"
        return f"revoke {self.viewer_id} on {self.channel_arn} through {self.max_version}"
