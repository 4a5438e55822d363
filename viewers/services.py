"""Writes that the admin, the CLI and the views share."""

from django.db import transaction
from django.utils import timezone

from viewers.models import Entitlement
from viewers.reconcile import reconcile_soon


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
    affected = list(entitlements.filter(revoked_at__isnull=True).values_list("pk", flat=True))
    count = Entitlement.objects.filter(pk__in=affected).update(revoked_at=now, revoked_by=revoked_by)
    if count:
        reconcile_soon()
    return count


@transaction.atomic
def entitlements_extend(*, entitlements, until) -> int:
    """Move the end of live entitlements to `until` (never before their start)."""
    live = entitlements.filter(revoked_at__isnull=True)
    live = live.exclude(starts_at__gte=until)
    count = live.update(ends_at=until)
    if count:
        reconcile_soon()  # "extended" to a moment already past is a withdrawal
    return count


# --- Bulk operations from the admin. Each asks the worker for an early reconciliation, which stops the sessions
# they withdrew; the periodic one would stop them anyway (viewers/reconcile.py).


@transaction.atomic
def entitlements_end_now(*, entitlements, now=None) -> int:
    """End the entitlements that are in force now, as if their window closed now. Upcoming,
    ended and revoked ones are left alone (an upcoming one cannot end before it starts: revoke it)."""
    now = now or timezone.now()
    affected = list(entitlements.current(now).values_list("pk", flat=True))
    count = Entitlement.objects.filter(pk__in=affected).update(ends_at=now)
    if count:
        reconcile_soon()
    return count


@transaction.atomic
def group_grant(
    *, group, channels, starts_at=None, ends_at=None, max_resolution="", note="", granted_by=None
) -> list[Entitlement]:
    """Grant each of `channels` to every member of `group` (present and future) for one window."""
    return [
        entitlement_grant(
            channel=channel,
            group=group,
            starts_at=starts_at,
            ends_at=ends_at,
            max_resolution=max_resolution,
            note=note,
            granted_by=granted_by,
        )
        for channel in channels
    ]
