"""Playback keys: the public halves the site signs for, and the IVS regions each is imported into."""

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone

from viewers import validators
from viewers.ivs.tokens import PlaybackKeyError, fingerprint, load_public_key
from viewers.models.fields import arn_field


class PlaybackKey(models.Model):
    """The public half of a playback key pair. The private half never enters the database."""

    name = models.CharField(
        max_length=128,
        unique=True,
        validators=[validators.validate_key_name],
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
    arn = arn_field("playback-key")
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
