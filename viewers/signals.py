"""Access can be withdrawn from many places (admin forms, group membership, deactivation).
Each of them ends the sessions that are no longer allowed, through viewers.revocation."""

from django.db.models.signals import m2m_changed, post_delete, post_save, pre_delete
from django.dispatch import receiver

from viewers import revocation
from viewers.models import Entitlement, User


@receiver(post_save, sender=Entitlement)
@receiver(post_delete, sender=Entitlement)
def entitlement_changed(sender, instance, **kwargs):
    if instance.user_id:
        user_ids = [instance.user_id]
    elif instance.group_id:
        user_ids = User.groups.through.objects.filter(group_id=instance.group_id).values("user_id")
    else:
        return
    revocation.end_sessions_without_access(user_ids=user_ids, channel_ids=[instance.channel_id])


@receiver(post_save, sender=User)
def user_saved(sender, instance, created, **kwargs):
    if not created and not instance.is_active:
        revocation.end_sessions_without_access(user_ids=[instance.pk])


@receiver(pre_delete, sender=User)
def user_deleted(sender, instance, **kwargs):
    revocation.revoke_all_sessions(instance.pk)


@receiver(m2m_changed, sender=User.groups.through)
def group_membership_changed(sender, instance, action, reverse, pk_set, **kwargs):
    if action == "pre_clear":
        # After the clear the members are gone; remember who they were.
        instance._members_before_clear = (
            list(instance.user_set.values_list("pk", flat=True)) if reverse else [instance.pk]
        )
        return
    if action == "post_remove":
        user_ids = list(pk_set) if reverse else [instance.pk]
    elif action == "post_clear":
        user_ids = getattr(instance, "_members_before_clear", [])
    else:
        return
    if user_ids:
        revocation.end_sessions_without_access(user_ids=user_ids)
