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
