"""The stand-in's bookkeeping, injected into viewers.ivs.tokens.verify and used per request."""

from datetime import UTC, datetime

from django.db import IntegrityError, transaction
from django.db.models import F
from django.db.models.functions import Greatest
from django.utils import timezone

from localivs.models import SpentToken, ViewerRevocation


def claim_single_use(single_use_uuid: str, exp: int) -> bool:
    """Record the id; False if it was spent before. The unique index makes this atomic."""
    try:
        with transaction.atomic():
            SpentToken.objects.create(single_use_uuid=single_use_uuid, expires_at=datetime.fromtimestamp(exp, UTC))
    except IntegrityError:
        return False
    return True


def revoked_through(channel_arn: str, viewer_id: str) -> int | None:
    return (
        ViewerRevocation.objects.filter(channel_arn=channel_arn, viewer_id=viewer_id)
        .values_list("max_version", flat=True)
        .first()
    )


def start_viewer_session_revocation(channel_arn: str, viewer_id: str, max_version: int = 0) -> None:
    """The local twin of IVS's StartViewerSessionRevocation. Versions only ever rise."""
    revocation, created = ViewerRevocation.objects.get_or_create(
        channel_arn=channel_arn, viewer_id=viewer_id, defaults={"max_version": max_version}
    )
    if not created:
        ViewerRevocation.objects.filter(pk=revocation.pk).update(
            max_version=Greatest(F("max_version"), max_version), revoked_at=timezone.now()
        )


def forget_spent_tokens(now=None) -> int:
    """Spent ids are only needed until their token expires."""
    return SpentToken.objects.filter(expires_at__lt=now or timezone.now()).delete()[0]
