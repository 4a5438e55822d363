"""Every write to entitlements: the admin (add and change forms, deletes, bulk actions, group grant, CSV import),
the CLI, the Stripe grants (sales/) and the views call these, and nothing else writes entitlements.

A write that may withdraw access (revoke, end, narrow, move, delete) asks the worker for an early reconciliation
(reconcile_soon), which stops the sessions it withdrew within a second or two. The guarantee behind them is the
periodic reconciliation (viewers/reconcile.py), which catches any write that bypassed them too. Grants withdraw
nothing, so they ask for nothing.
"""

from django.db import transaction
from django.utils import timezone

from viewers.models import Entitlement
from viewers.reconcile import reconcile_soon

BULK_BATCH = 1000


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
    )
    return entitlement_add(entitlement=entitlement, granted_by=granted_by)


def entitlement_add(*, entitlement: Entitlement, granted_by=None) -> Entitlement:
    """Save a new entitlement built elsewhere (the admin's add form), checked as every grant is."""
    entitlement.created_by = granted_by
    entitlement.full_clean()
    entitlement.save()
    return entitlement


def entitlements_grant_bulk(entitlements: list[Entitlement], *, granted_by=None) -> int:
    """Save many new entitlements in batched INSERTs (the CSV import: 50,000 rows must not be 50,000 queries).

    The caller has checked every row already (imports.plan_import applies the model's rules, end after start
    included); the database constraints back that up. Call it inside the caller's transaction."""
    for entitlement in entitlements:
        entitlement.created_by = granted_by
    Entitlement.objects.bulk_create(entitlements, batch_size=BULK_BATCH)
    return len(entitlements)


@transaction.atomic
def entitlement_update(*, entitlement: Entitlement, fields) -> Entitlement:
    """Save the admin's change form: `fields` are the ones it changed. A change may withdraw access (an end moved
    earlier, a lower resolution, another holder or channel), so it asks for an early reconciliation."""
    entitlement.full_clean()
    if fields:
        entitlement.save(update_fields=list(fields))
        reconcile_soon()
    return entitlement


@transaction.atomic
def entitlements_delete(*, entitlements) -> int:
    """Delete entitlements (the admin's delete page and "delete selected"). Revoking keeps the record; this
    does not."""
    _, per_model = entitlements.delete()
    count = per_model.get(Entitlement._meta.label, 0)
    if count:
        reconcile_soon()
    return count


def bulk_changes(action: str, entitlements, now=None):
    """The entitlements a bulk `action` ("revoke", "end_now", "extend") changes: revoke and extend leave revoked
    ones alone, end now those not in force (an extend also skips those starting after its new end). The functions
    below write exactly these; the admin's confirmation counts them."""
    if action == "end_now":
        return entitlements.current(now)
    return entitlements.filter(revoked_at__isnull=True)


@transaction.atomic
def entitlements_revoke(*, entitlements, revoked_by=None, now=None) -> int:
    """Revoke the not-yet-revoked entitlements among `entitlements`. Rows are kept for the record."""
    now = now or timezone.now()
    affected = list(bulk_changes("revoke", entitlements, now).values_list("pk", flat=True))
    count = Entitlement.objects.filter(pk__in=affected).update(revoked_at=now, revoked_by=revoked_by)
    if count:
        reconcile_soon()
    return count


@transaction.atomic
def entitlements_extend(*, entitlements, until) -> int:
    """Move the end of live entitlements to `until` (never before their start)."""
    live = bulk_changes("extend", entitlements).exclude(starts_at__gte=until)
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
    affected = list(bulk_changes("end_now", entitlements, now).values_list("pk", flat=True))
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


# --- People and groups, as the identity providers change them (sso/: the groups claim at login, SCIM). Django's
# auth owns these rows; these are the one write path for the IdP side, and the ones that withdraw access ask for an
# early reconciliation (the signals in viewers/signals.py would too; the periodic run is the guarantee).


@transaction.atomic
def user_groups_change(*, user, add=(), remove=()) -> None:
    """Add `user` to the groups `add` and take them out of `remove`."""
    if add:
        user.groups.add(*add)
    if remove:
        user.groups.remove(*remove)
        reconcile_soon()


@transaction.atomic
def group_members_change(*, group, add=(), remove=()) -> None:
    """Add the users `add` to `group` and take the users `remove` out of it."""
    if add:
        group.user_set.add(*add)
    if remove:
        group.user_set.remove(*remove)
        reconcile_soon()


@transaction.atomic
def user_set_active(*, user, active: bool) -> bool:
    """Switch an account on or off (an IdP deprovisioning it); off stops its running streams. True if it changed."""
    if user.is_active == active:
        return False
    user.is_active = active
    user.save(update_fields=["is_active"])
    if not active:
        reconcile_soon()
    return True
