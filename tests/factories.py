"""Rows as the site writes them, for tests that need them without going through a page."""

from datetime import timedelta

from django.utils import timezone

from viewers.ivs import signing_keys
from viewers.models import Revocation, TokenAudit


def audit_row(user, channel, *, issued_at=None, ttl=timedelta(minutes=5), save=True, **fields) -> TokenAudit:
    """A token's audit row (a playback session) as viewers.player.playback writes it: with the ARN and name of the
    channel the token was signed for, and the fingerprint of the key that signed it. Unsaved with save=False
    (bulk_create)."""
    issued_at = issued_at or timezone.now()
    signed_for = {
        "channel_arn": channel.arn,
        "channel_name": channel.name,
        "key_fingerprint": signing_keys.signing_fingerprint(),
    }
    row = TokenAudit(user=user, channel=channel, issued_at=issued_at, expires_at=issued_at + ttl, **signed_for | fields)
    if save:
        row.save()
    return row


def revocation_row(*, channel, **fields) -> Revocation:
    """A queued revocation, addressed like viewers.revocation addresses it: to the channel's ARN."""
    return Revocation.objects.create(channel=channel, channel_arn=channel.arn, **fields)
