"""What the site keeps about its identity providers: the groups they own, how they know each user (for SCIM), the
hashed SCIM token of each, and the last SCIM request each sent (the admin shows it)."""

import uuid

from django.conf import settings
from django.contrib.auth.models import Group
from django.db import models
from django.db.models import Q
from django.utils import timezone


class IdpGroup(models.Model):
    """A Django group owned by an IdP. Its members are set by that IdP only (the groups claim at each login, SCIM
    Groups): entitlements granted to the Django group apply to them as to any group's members. Hand-made groups
    have no IdpGroup and are never touched by a login or by SCIM."""

    group = models.OneToOneField(Group, on_delete=models.CASCADE, related_name="idp_group")
    idp = models.CharField("identity provider", max_length=30)
    display_name = models.CharField(
        max_length=150, help_text="The group's name at the IdP (Okta sends names in the groups claim)."
    )
    external_id = models.CharField(
        "IdP's id",
        max_length=255,
        blank=True,
        help_text="The IdP's own id for the group, if its groups claim carries ids (Entra ID: the object id).",
    )
    scim_id = models.UUIDField("SCIM id", default=uuid.uuid4, unique=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name = "IdP group"
        constraints = [
            models.UniqueConstraint(fields=["idp", "display_name"], name="sso_idpgroup_one_name_per_idp"),
            models.UniqueConstraint(
                fields=["idp", "external_id"], condition=~Q(external_id=""), name="sso_idpgroup_one_id_per_idp"
            ),
        ]

    def __str__(self):
        return f"{self.display_name} ({self.idp})"

    @staticmethod
    def django_name(idp: str, display_name: str) -> str:
        return f"{display_name} ({idp})"[:150]


class IdpIdentity(models.Model):
    """A user as one IdP's SCIM client knows them. The OIDC login matches users by (IdP, subject) in allauth's
    SocialAccount; SCIM addresses them by this row's scim_id, and a user SCIM created before their first login is
    found by their IdP user name, which the ID token carries as preferred_username."""

    idp = models.CharField("identity provider", max_length=30)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="idp_identities")
    scim_id = models.UUIDField("SCIM id", default=uuid.uuid4, unique=True, editable=False)
    user_name = models.CharField("IdP user name", max_length=255)
    external_id = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name = "IdP identity"
        verbose_name_plural = "IdP identities"
        constraints = [
            models.UniqueConstraint(fields=["idp", "user"], name="sso_identity_one_per_user_and_idp"),
            models.UniqueConstraint(fields=["idp", "user_name"], name="sso_identity_one_user_name_per_idp"),
        ]

    def __str__(self):
        return f"{self.user_name} at {self.idp}"


class ScimToken(models.Model):
    """The bearer token an IdP's SCIM client sends. Only its SHA-256 is stored: the token is 32 random bytes, shown
    once when it is made or rotated (sso/scim/auth.py)."""

    idp = models.CharField("identity provider", max_length=30, unique=True)
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_method = models.CharField(max_length=8, blank=True, editable=False)
    last_path = models.CharField(max_length=200, blank=True, editable=False)
    last_status = models.PositiveSmallIntegerField(null=True, blank=True, editable=False)
    last_detail = models.CharField(max_length=200, blank=True, editable=False)

    class Meta:
        verbose_name = "SCIM token"

    def __str__(self):
        return f"SCIM token of {self.idp}"
