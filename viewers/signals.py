"""Early reconciliation after the writes Django's auth owns (group membership, a group deleted, a user
deactivated or deleted) and after any write to a channel (deleted, made public, re-pointed: the admin, the sync
from IVS, a shell). Entitlement writes ask for it themselves (viewers/services.py).

The guarantee that withdrawn access stops playback is viewers.reconcile, run by the worker every
IVS_RECONCILE_SECONDS whatever changed. These receivers only ask for a run now, so the common admin
edits take effect within a second or two instead of a period. Each writes one task row at most.
"""

from django.contrib.auth.models import Group
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_delete
from django.dispatch import receiver

from viewers.models import Channel, User
from viewers.reconcile import reconcile_soon


@receiver(post_save, sender=User)
def user_saved(sender, instance, created, **kwargs):
    if not created and not instance.is_active:
        reconcile_soon()


@receiver(pre_delete, sender=User)
def user_deleted(sender, instance, **kwargs):
    # Its sessions keep their viewer id (the audit row's user becomes NULL), and no rule lets NULL watch.
    reconcile_soon()


@receiver(pre_delete, sender=Group)
def group_deleted(sender, instance, **kwargs):
    # Its entitlements go with it (CASCADE), and so does its members' access.
    reconcile_soon()


@receiver(m2m_changed, sender=User.groups.through)
def group_membership_changed(sender, instance, action, **kwargs):
    if action in ("post_remove", "post_clear"):
        reconcile_soon()


@receiver(post_save, sender=Channel)
@receiver(post_delete, sender=Channel)
def channel_changed(sender, instance, created=False, **kwargs):
    # Its sessions' audit rows keep the ARN they run on; the reconciler ends those the channel no longer backs.
    # A new channel has no sessions yet.
    if not created:
        reconcile_soon()
