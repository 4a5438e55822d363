"""Writes that the admin, the CLI and the views share."""

from django.db import transaction
from django.utils import timezone

from viewers.models import Entitlement


def entitlement_grant(
    *, channel, user=None, group=None, starts_at=None, ends_at=None, max_resolution="", note="", granted_by=None
) -> Entitlement:
    entitlement = Entitlement(
        channel=channel,
        user=user,
        group=group,
        starts_at=starts_at,
        ends_at=ends_at,
        max_resolution=max_resolution or "",
        note=note,
        created_by=granted_by,
    )
    entitlement.full_clean()
    entitlement.save()
    return entitlement


@transaction.atomic
def entitlements_revoke(*, entitlements, revoked_by=None, now=None) -> int:
    """Revoke the not-yet-revoked entitlements among `entitlements`. Rows are kept for the record."""
    now = now or timezone.now()
    return entitlements.filter(revoked_at__isnull=True).update(revoked_at=now, revoked_by=revoked_by)


@transaction.atomic
def entitlements_extend(*, entitlements, until) -> int:
    """Move the end of live entitlements to `until` (never before their start)."""
    live = entitlements.filter(revoked_at__isnull=True)
    live = live.exclude(starts_at__gte=until)
    return live.update(ends_at=until)
