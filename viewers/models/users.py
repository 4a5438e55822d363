"""People: the user with its pseudonymous viewer id, its account status, and invitations (accounts created by a
bulk import)."""

import secrets

from django.conf import settings
from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import Q
from django.db.models.signals import pre_save
from django.dispatch import receiver
from django.utils import timezone


def new_viewer_id() -> str:
    return secrets.token_hex(16)


class User(AbstractUser):
    # The pseudonymous aws:viewer-id: random, so it reveals nothing about the person
    # (IVS forbids personal data there) and never changes, so revocations keep matching.
    viewer_id = models.CharField(max_length=40, unique=True, default=new_viewer_id, editable=False)


class AccountStatus(models.TextChoices):
    """What an operator needs to tell apart: who can log in, who was invited and has not come yet, who was switched
    off. Invited users (a bulk import creates them) are inactive until they set a password through their link."""

    ACTIVE = "active", "active"
    INVITED = "invited", "invited (no password yet)"
    INACTIVE = "inactive", "inactive"


_STATUS_Q = {
    AccountStatus.ACTIVE: Q(is_active=True),
    AccountStatus.INVITED: Q(is_active=False, password__startswith=UNUSABLE_PASSWORD_PREFIX),
    AccountStatus.INACTIVE: Q(is_active=False) & ~Q(password__startswith=UNUSABLE_PASSWORD_PREFIX),
}


def account_status_q(status: AccountStatus) -> Q:
    """The users in `status`, as a condition (the user list's filter, the activity page's counts)."""
    return _STATUS_Q[status]


def account_status(user) -> AccountStatus:
    """The same rule as account_status_q, for a user already loaded (the user list's column)."""
    if user.is_active:
        return AccountStatus.ACTIVE
    return AccountStatus.INACTIVE if user.has_usable_password() else AccountStatus.INVITED


class Invitation(models.Model):
    """A user created inactive by a bulk import. Setting a password through the link activates the account."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="invitation")
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )
    accepted_at = models.DateTimeField(null=True, blank=True, editable=False)

    def __str__(self):
        return f"invitation for {self.user.email}"


@receiver(pre_save, sender=User)
def _accept_invitation(sender, instance, raw=False, **kwargs):
    """An invited user who has just set a password (the password-set link) becomes active."""
    if raw or instance.pk is None or instance.is_active or not instance.has_usable_password():
        return
    accepted = Invitation.objects.filter(user_id=instance.pk, accepted_at__isnull=True).update(
        accepted_at=timezone.now()
    )
    if accepted:
        instance.is_active = True
