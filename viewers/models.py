import secrets

from django.conf import settings
from django.contrib.auth.models import AbstractUser, Group
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from viewers import validators
from viewers.tokens import RESOLUTIONS


def new_viewer_id() -> str:
    return secrets.token_hex(16)


class User(AbstractUser):
    # The pseudonymous aws:viewer-id: random, so it reveals nothing about the person
    # (IVS forbids personal data there) and never changes, so revocations keep matching.
    viewer_id = models.CharField(max_length=40, unique=True, default=new_viewer_id, editable=False)
    # aws:viewer-session-version. Raised to revoke every session minted before.
    playback_session_version = models.PositiveIntegerField(default=0, editable=False)


class Resolution(models.TextChoices):
    SD = "SD", "SD (480p and below)"
    HD = "HD", "HD (720p and below)"
    FULL_HD = "FULL_HD", "Full HD (1080p and below)"


assert tuple(Resolution.values) == RESOLUTIONS


class ChannelQuerySet(models.QuerySet):
    def listed_for(self, user, now=None):
        """Channels shown on the home page: listed public ones and those the user may watch."""
        from viewers import access

        return self.filter(is_listed=True).filter(
            Q(is_private=False) | Q(pk__in=access.watchable_channel_ids(user, now))
        )


class Channel(models.Model):
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=100, unique=True)
    arn = models.CharField(
        "IVS channel ARN",
        max_length=128,
        unique=True,
        validators=[validators.validate_channel_arn],
        help_text="arn:aws:ivs:&lt;region&gt;:&lt;account&gt;:channel/&lt;id&gt;",
    )
    playback_url = models.URLField(
        max_length=500,
        validators=[validators.validate_playback_url_shape],
        help_text="The channel's .m3u8 playback URL from the IVS console.",
    )
    is_private = models.BooleanField(
        "private",
        default=True,
        help_text="Private channels need a signed token; the IVS channel must have authorization on.",
    )
    is_listed = models.BooleanField(
        "listed", default=True, help_text="Unlisted channels are reachable only by their link."
    )
    description = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    objects = ChannelQuerySet.as_manager()

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    def clean(self):
        super().clean()
        if self.arn and self.playback_url:
            validators.validate_playback_url_matches_arn(self.playback_url, self.arn)


class EntitlementQuerySet(models.QuerySet):
    def for_user(self, user):
        """Entitlements held by the user directly or through any of the user's groups."""
        return self.filter(Q(user=user) | Q(group__in=user.groups.all()))

    def current(self, now=None):
        from viewers import access

        return self.filter(access.current_entitlement_q(now or timezone.now()))


class Entitlement(models.Model):
    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="entitlements")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="entitlements"
    )
    group = models.ForeignKey(Group, null=True, blank=True, on_delete=models.CASCADE, related_name="entitlements")
    starts_at = models.DateTimeField(null=True, blank=True, help_text="Empty: from now on.")
    ends_at = models.DateTimeField(null=True, blank=True, help_text="Empty: no end.")
    max_resolution = models.CharField(
        max_length=8, choices=Resolution.choices, blank=True, help_text="Empty: no limit."
    )
    note = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )

    objects = EntitlementQuerySet.as_manager()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(user__isnull=False, group__isnull=True) | Q(user__isnull=True, group__isnull=False),
                name="entitlement_user_xor_group",
                violation_error_message="Choose either a user or a group, not both.",
            ),
            models.CheckConstraint(
                condition=Q(starts_at__isnull=True) | Q(ends_at__isnull=True) | Q(ends_at__gt=models.F("starts_at")),
                name="entitlement_ends_after_start",
                violation_error_message="The end must be after the start.",
            ),
        ]
        indexes = [
            models.Index(fields=["user", "channel"], name="entitlement_user_channel"),
            models.Index(fields=["group", "channel"], name="entitlement_group_channel"),
        ]

    def __str__(self):
        return f"{self.holder} → {self.channel}"

    @property
    def holder(self):
        return self.user if self.user_id else self.group

    @property
    def is_revoked(self):
        return self.revoked_at is not None


class PlaybackKey(models.Model):
    """The public half of a playback key pair. The private half never enters the database."""

    name = models.CharField(
        max_length=128,
        unique=True,
        validators=[RegexValidator(r"^[A-Za-z0-9_-]+$", "Letters, digits, - and _ only (IVS's rule for key names).")],
    )
    public_key_pem = models.TextField("public key (PEM)")
    fingerprint = models.CharField(max_length=47, unique=True, editable=False)
    ivs_arn = models.CharField(
        "IVS key-pair ARN", max_length=128, blank=True, help_text="From ImportPlaybackKeyPair, once imported."
    )
    is_signing = models.BooleanField(
        "signing key", default=False, help_text="The key the configured private key belongs to."
    )
    is_active = models.BooleanField(default=True, help_text="Inactive keys no longer verify tokens.")
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-is_signing", "-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["is_signing"], condition=Q(is_signing=True), name="one_signing_key"),
        ]

    def __str__(self):
        return f"{self.name} ({self.fingerprint})"

    def clean(self):
        super().clean()
        from viewers.tokens import PlaybackKeyError, fingerprint, load_public_key

        try:
            key = load_public_key(self.public_key_pem)
        except PlaybackKeyError as exc:
            from django.core.exceptions import ValidationError

            raise ValidationError({"public_key_pem": str(exc)}) from None
        self.fingerprint = fingerprint(key)


class TokenAudit(models.Model):
    """One row per token issued. The token itself is never stored."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="+")
    viewer_id = models.CharField(max_length=40, blank=True)
    session_version = models.PositiveIntegerField(null=True, blank=True)
    single_use_uuid = models.UUIDField(null=True, blank=True)
    max_resolution = models.CharField(max_length=8, blank=True)
    issued_at = models.DateTimeField(db_index=True)
    expires_at = models.DateTimeField()
    client_ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)
    purpose = models.CharField(max_length=16, default="page")

    class Meta:
        ordering = ["-issued_at"]
        indexes = [
            models.Index(fields=["channel", "issued_at"], name="audit_channel_issued"),
            models.Index(fields=["user", "issued_at"], name="audit_user_issued"),
        ]

    def __str__(self):
        return f"token for {self.channel_id} at {self.issued_at:%Y-%m-%d %H:%M:%S}"
