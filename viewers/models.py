import secrets

from django.conf import settings
from django.contrib.auth.models import AbstractUser, Group
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.db.models.signals import pre_save
from django.dispatch import receiver
from django.utils import timezone
from django_countries.fields import CountryField

from viewers import validators
from viewers.tokens import RESOLUTIONS


def new_viewer_id() -> str:
    return secrets.token_hex(16)


class User(AbstractUser):
    # The pseudonymous aws:viewer-id: random, so it reveals nothing about the person
    # (IVS forbids personal data there) and never changes, so revocations keep matching.
    viewer_id = models.CharField(max_length=40, unique=True, default=new_viewer_id, editable=False)


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
    max_devices = models.PositiveSmallIntegerField(
        "device limit",
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
        help_text="How many screens one viewer may play on at once. Empty: no limit. "
        "Starting playback beyond it stops the viewer's oldest screen.",
    )
    # ISO 3166-1 alpha-2 codes, stored comma-separated (one column: the access rule reads them with the
    # channel, at no extra query). An explicit max_length, so a new country in django-countries needs no migration.
    allowed_countries = CountryField(
        multiple=True,
        blank=True,
        max_length=800,
        help_text="Only viewers in these countries may watch. Empty: no allow-list. A viewer whose country "
        "cannot be told is refused while this list is set.",
    )
    blocked_countries = CountryField(
        multiple=True,
        blank=True,
        max_length=800,
        help_text="Viewers in these countries may not watch. A viewer whose country cannot be told is let in "
        "when only this list is set.",
    )
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
        both = sorted({c.code for c in self.allowed_countries} & {c.code for c in self.blocked_countries})
        if both:
            raise ValidationError(
                {"blocked_countries": f"Both allowed and blocked: {', '.join(both)}. Keep each country in one list."}
            )

    @property
    def region(self) -> str:
        return validators.region_of_arn(self.arn)


class EntitlementQuerySet(models.QuerySet):
    def current(self, now=None):
        from viewers import access

        return self.filter(access.current_entitlement_q(now or timezone.now()))


class Entitlement(models.Model):
    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="entitlements")
    # No single-column indexes on user and group: the (user, channel) and (group, channel) indexes below
    # lead with them and serve every lookup by user or group (docs/EXPLAIN.md).
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="entitlements",
        db_index=False,
    )
    group = models.ForeignKey(
        Group, null=True, blank=True, on_delete=models.CASCADE, related_name="entitlements", db_index=False
    )
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
    is_signing = models.BooleanField(
        "signing key", default=False, help_text="The key the configured private key belongs to."
    )
    is_active = models.BooleanField(default=True, help_text="Inactive keys no longer verify tokens.")
    # Tokens signed just before a rotation stay valid for one TTL: the old key may go only after that.
    signing_stopped_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-is_signing", "-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["is_signing"], condition=Q(is_signing=True), name="one_signing_key"),
        ]

    def __str__(self):
        return f"{self.name} ({self.fingerprint})"

    def save(self, *args, **kwargs):
        # Remember when a key stopped signing, however it stopped: its deletion waits one token TTL from then.
        if self.is_signing:
            self.signing_stopped_at = None
        elif (
            self.pk
            and self.signing_stopped_at is None
            and PlaybackKey.objects.filter(pk=self.pk, is_signing=True).exists()
        ):
            self.signing_stopped_at = timezone.now()
        if kwargs.get("update_fields") is not None:
            kwargs["update_fields"] = {*kwargs["update_fields"], "signing_stopped_at"}
        super().save(*args, **kwargs)

    def clean(self):
        super().clean()
        from viewers.tokens import PlaybackKeyError, fingerprint, load_public_key

        try:
            key = load_public_key(self.public_key_pem)
        except PlaybackKeyError as exc:
            raise ValidationError({"public_key_pem": str(exc)}) from None
        self.fingerprint = fingerprint(key)


class PlaybackKeyRegion(models.Model):
    """One region a playback key is imported into. IVS key pairs are regional: a channel accepts only tokens
    signed by a key imported in the channel's own region (at most 3 per account and region)."""

    key = models.ForeignKey(PlaybackKey, on_delete=models.CASCADE, related_name="regions")
    region = models.CharField(max_length=32, editable=False)
    arn = models.CharField(
        "IVS key-pair ARN",
        max_length=128,
        unique=True,
        validators=[validators.validate_key_pair_arn],
        help_text="From ImportPlaybackKeyPair: arn:aws:ivs:&lt;region&gt;:&lt;account&gt;:playback-key/&lt;id&gt;",
    )
    fingerprint = models.CharField(
        "IVS fingerprint", max_length=64, blank=True, editable=False, help_text="As ImportPlaybackKeyPair returned it."
    )
    imported_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["region"]
        constraints = [models.UniqueConstraint(fields=["key", "region"], name="one_import_per_key_and_region")]

    def __str__(self):
        return f"{self.key_id} in {self.region}"

    def save(self, *args, **kwargs):
        # The region is the ARN's, never typed separately, so the two cannot disagree.
        self.region = validators.region_of_arn(self.arn)
        if kwargs.get("update_fields") is not None:
            kwargs["update_fields"] = {*kwargs["update_fields"], "region"}
        super().save(*args, **kwargs)

    def clean(self):
        super().clean()
        self.region = validators.region_of_arn(self.arn)


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


class TokenAudit(models.Model):
    """One row per token issued, which is also one playback session. The token itself is never stored.

    The row's id is the token's aws:viewer-session-version: ids only grow, so a newer session always
    has a higher version, and "revoke versions <= id" stops this session and every older one.
    """

    # Every player page inserts a row, so each index costs on the hottest write. user and channel get no
    # single-column index: the composite indexes below lead with them (docs/EXPLAIN.md).
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="+", db_index=False)
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

    class Meta:
        ordering = ["-issued_at"]
        indexes = [
            models.Index(fields=["channel", "issued_at"], name="audit_channel_issued"),
            # Device limits and revocation look up a viewer's recent sessions on one channel.
            models.Index(fields=["user", "channel", "issued_at"], name="audit_user_channel_issued"),
        ]

    def __str__(self):
        return f"token for {self.channel_id} at {self.issued_at:%Y-%m-%d %H:%M:%S}"

    @property
    def session_version(self):
        return self.pk


class RevocationStatus(models.TextChoices):
    PENDING = "pending", "pending"
    DONE = "done", "done"
    FAILED = "failed", "failed (needs attention)"


class Revocation(models.Model):
    """A StartViewerSessionRevocation the site owes IVS. Kept until IVS has accepted it, so nothing
    is lost while AWS is unreachable; `manage.py ivs_sync_revocations` delivers what is pending."""

    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="+")
    viewer_id = models.CharField(max_length=40)
    max_version = models.PositiveBigIntegerField(help_text="Sessions with a version up to this one stop.")
    reason = models.CharField(max_length=16, choices=SessionEnd.choices)
    status = models.CharField(max_length=8, choices=RevocationStatus.choices, default=RevocationStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="revocation_due")]

    def __str__(self):
        return f"revoke {self.viewer_id} on {self.channel_id} through {self.max_version}"


class Invitation(models.Model):
    """A user created inactive by a bulk import. Setting a password through the link activates the account."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="invitation")
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )
    accepted_at = models.DateTimeField(null=True, blank=True, editable=False)

    def __str__(self):
        return f"invitation for {self.user.email}"


@receiver(pre_save, sender=User)
def _accept_invitation(sender, instance, raw=False, **kwargs):
    """An invited user who has just set a password (the password-set link) becomes active."""
    if raw or instance.pk is None or instance.is_active or not instance.has_usable_password():
        return
    accepted = Invitation.objects.filter(user_id=instance.pk, accepted_at__isnull=True).update(
        accepted_at=timezone.now()
    )
    if accepted:
        instance.is_active = True


class EntitlementImport(models.Model):
    """An uploaded CSV between its preview and its import, then the record of what the import did."""

    filename = models.CharField(max_length=255)
    content = models.TextField(help_text="Emptied once the import has run.")
    create_users = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    applied_at = models.DateTimeField(null=True, blank=True)
    summary = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.filename} ({self.created_at:%Y-%m-%d %H:%M})"
