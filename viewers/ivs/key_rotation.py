"""Rotating the playback key pair. IVS has no rotation of its own, so the site walks these steps:

1. generate(): a new P-384 pair. The public half is registered (active: it verifies at once); the private half
   is returned to the caller, who writes it to a file or shows it once. It never enters the database.
2. import_into_ivs() with boto3 when AWS is configured, or import_command() for the operator to run: into every
   region with channels (viewers/ivs/key_regions.py), since IVS key pairs are regional.
3. Deploy the new private key (IVS_PLAYBACK_PRIVATE_KEY_FILE), restart, then make_signing(): it checks that
   the configured private key really is the new key, and the old key's `signing_stopped_at` is recorded.
4. retire() the old key once every token it signed has expired. Which key signed a token is in its audit row, so
   "the last token it signed" is read from the audit, not inferred from a flag: however the site was started or
   restarted (the demo, a server still on the old key), a key that signed a token a minute ago waits, and one that
   never signed may go at once. It is deleted from every region it was imported into.

IVS accepts up to 3 key pairs per account and region, and a token signed by any of them.
"""

import functools
import shlex
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone

from viewers import validators
from viewers.ivs import aws, key_regions, signing_keys, tokens
from viewers.models import UNKNOWN_SIGNER, PlaybackKey, TokenAudit

IVS_KEY_LIMIT = key_regions.IVS_KEY_LIMIT
# Tokens are checked by IVS against its own clock; allow for servers that are a little off.
CLOCK_SLACK = timedelta(seconds=60)


class RotationError(Exception):
    """A rotation step that cannot be done now; the message says why and what to do."""


def default_name(now=None) -> str:
    return "site-" + timezone.localtime(now).strftime("%Y%m%d-%H%M%S")


def generate(name: str):
    """Register a new key pair's public half. Returns (private key object, PlaybackKey)."""
    if not validators.KEY_NAME_RE.match(name or ""):
        raise RotationError(f"Key name {name!r}: {validators.KEY_NAME_RULE}")
    private = tokens.generate_private_key()
    record = PlaybackKey(name=name, public_key_pem=tokens.public_key_pem(private), is_signing=False, is_active=True)
    try:
        record.full_clean()
    except ValidationError as exc:
        raise RotationError("; ".join(exc.messages)) from None
    record.save()
    return private, record


def import_command(key: PlaybackKey, public_key_path: str | None = None, regions=None) -> str:
    """The aws CLI command(s) that import the key, one line per region that still lacks it."""
    regions = key_regions.regions_missing(key) if regions is None else regions
    return cli_import(key.name, public_key_path or f"{key.name}.pub.pem", regions)


def cli_import(name: str, public_key_path: str, regions) -> str:
    """`aws ivs import-playback-key-pair` for a key named `name` whose public half is at `public_key_path`."""
    command = (
        f"aws ivs import-playback-key-pair --name {shlex.quote(name)} "
        f"--public-key-material {shlex.quote('file://' + public_key_path)}"
    )
    return "\n".join(f"{command} --region {region}" for region in regions) if regions else command


def import_into_ivs(key: PlaybackKey, clients=None) -> list[str]:
    """ImportPlaybackKeyPair in every region that has channels and lacks the key, after checking that each has
    room (3 key pairs per region); records each region's ARN and fingerprint. Returns the regions imported into.
    `clients`: {region: boto3 client} or a factory, for tests; by default viewers.ivs.aws builds them."""
    if clients is None:
        _require_aws()
    regions = key_regions.regions_missing(key)
    if not regions:
        where = ", ".join(key.regions.values_list("region", flat=True))
        if not where:
            raise RotationError("No region to import into: add a channel, or set IVS_AWS_REGION or IVS_REGIONS.")
        raise RotationError(f"{key.name} is already imported in every region with channels ({where}).")
    try:
        key_regions.import_everywhere(key, regions, clients)
    except key_regions.RegionError as exc:
        raise RotationError(str(exc)) from None
    return regions


def configured_fingerprint() -> str | None:
    """The fingerprint of the private key the site signs with, or None when none is usable."""
    try:
        return tokens.fingerprint(signing_keys.signing_key())
    except tokens.PlaybackKeyError:
        return None


@transaction.atomic
def make_signing(key: PlaybackKey) -> PlaybackKey:
    """Record `key` as the signing key. Only true once the site is configured with its private half."""
    if not key.is_active:
        raise RotationError(f"{key.name} is inactive; activate it before signing with it.")
    if configured_fingerprint() != key.fingerprint:
        raise RotationError(
            f"The site is not signing with {key.name} yet: point IVS_PLAYBACK_PRIVATE_KEY_FILE at its private key "
            "and restart the site, then try again."
        )
    for old in PlaybackKey.objects.select_for_update().filter(is_signing=True).exclude(pk=key.pk):
        old.is_signing = False
        old.save(update_fields=["is_signing"])  # records signing_stopped_at
    key.is_signing = True
    key.save(update_fields=["is_signing"])
    return key


@dataclass(frozen=True)
class Retirement:
    """Whether a key may leave IVS: never while the site signs with it, else once its last token has expired."""

    recorded: bool  # recorded as the signing key
    configured: bool  # the key this site is configured with (IVS_PLAYBACK_PRIVATE_KEY_FILE)
    deletable_at: datetime | None  # the last token it signed expires then (plus clock slack); None: never signed

    @property
    def signing(self) -> bool:
        return self.recorded or self.configured

    def allowed(self, now=None) -> bool:
        return not self.signing and (self.deletable_at is None or (now or timezone.now()) >= self.deletable_at)

    def describe(self, now=None) -> str:
        if self.recorded and self.configured:
            return "signing"
        if self.recorded:
            return "recorded as the signing key, but the site is configured with another key"
        if self.configured:
            return "the site signs with it: finish the rotation with “Make signing key”"
        if self.deletable_at is None:
            return "never signed a token: may be deleted now"
        if self.allowed(now):
            return "its tokens have expired: may be deleted"
        return f"tokens it signed are valid until {timezone.localtime(self.deletable_at):%Y-%m-%d %H:%M:%S}"


def _newest_expiry(fingerprint):
    """The expiry of the newest token signed by the key with `fingerprint` (an index lookup: audit_key_expires)."""
    return TokenAudit.objects.filter(key_fingerprint=fingerprint).order_by("-expires_at").values("expires_at")[:1]


def with_last_token(queryset):
    """`queryset` (of PlaybackKey) with `last_token_expires_at`, for a list of keys in one query."""
    return queryset.annotate(last_token_expires_at=Subquery(_newest_expiry(OuterRef("fingerprint"))))


@functools.cache
def _unknown_signer_expiry() -> datetime | None:
    # Only rows written before the audit recorded keys have no known signer, and no new ones appear: ask once.
    return _newest_expiry(UNKNOWN_SIGNER).values_list("expires_at", flat=True).first()


def last_token_expiry(key: PlaybackKey) -> datetime | None:
    """When the newest token `key` signed expires, from the audit (None: it never signed one). Rows written before
    the audit recorded keys count for every key."""
    if hasattr(key, "last_token_expires_at"):
        own = key.last_token_expires_at
    else:
        own = _newest_expiry(key.fingerprint).values_list("expires_at", flat=True).first()
    return max((when for when in (own, _unknown_signer_expiry()) if when), default=None)


def retirement(key: PlaybackKey) -> Retirement:
    configured = configured_fingerprint() == key.fingerprint
    last = None if key.is_signing or configured else last_token_expiry(key)
    return Retirement(recorded=key.is_signing, configured=configured, deletable_at=last + CLOCK_SLACK if last else None)


def delete_command(key: PlaybackKey) -> str:
    """The aws CLI commands that delete the key pair from each region it is recorded in."""
    return "\n".join(
        f"aws ivs delete-playback-key-pair --region {record.region} --arn {shlex.quote(record.arn)}"
        for record in key.regions.all()
    )


def retire(key: PlaybackKey, clients=None, now=None) -> str:
    """Delete the key pair from IVS, in every region it was imported into (when AWS is configured), and from
    the site. Returns a note for the operator: what was deleted, or the commands still to run in IVS."""
    state = retirement(key)
    if state.signing:
        raise RotationError(
            f"{key.name} is the signing key (recorded, or configured in IVS_PLAYBACK_PRIVATE_KEY_FILE); "
            "make another key the signing key first."
        )
    if not state.allowed(now):
        raise RotationError(
            f"Tokens signed with {key.name} may still be in use until "
            f"{timezone.localtime(state.deletable_at):%Y-%m-%d %H:%M:%S}."
        )
    note = f"Deleted {key.name} from the site."
    if key.regions.exists():
        if aws.aws_configured() or clients is not None:
            try:
                regions = key_regions.delete_everywhere(key, clients)
            except key_regions.RegionError as exc:
                raise RotationError(str(exc)) from None
            note = f"Deleted {key.name} from IVS ({', '.join(regions)}) and from the site."
        else:
            note += f" Delete it in IVS too: {delete_command(key)}"
    key.delete()
    signing_keys.forget_cached_keys()
    return note


def _require_aws():
    if not aws.aws_configured():
        raise RotationError("AWS is not configured (set IVS_AWS_REGION); use the aws CLI command instead.")
