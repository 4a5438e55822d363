"""How an IdP login becomes a site user (allauth's adapters, named in ivssite/sso_settings.py).

- A user is matched by (IdP, subject): allauth's SocialAccount, looked up before anything here runs. Never by an
  e-mail address: SOCIALACCOUNT_EMAIL_AUTHENTICATION is off, and an address is stored only when the IdP says it
  is verified (`email_verified`), so an unverified address equal to another user's joins nothing and unlocks
  nothing (password resets and CSV imports find users by address).
- A first login creates the user, unless the same IdP's SCIM client created them already: that user is found by
  the IdP user name (SCIM `userName`, the ID token's `preferred_username`) within that IdP only.
- At each login the groups claim sets the user's IdP-managed groups (sso/groups.py).
"""

import re

from allauth.account.adapter import DefaultAccountAdapter
from allauth.account.signals import user_logged_in
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from allauth.socialaccount.models import SocialAccount
from django.conf import settings
from django.dispatch import receiver
from django.shortcuts import render

from sso import groups
from sso.models import IdpIdentity
from viewers.models import User

NOT_IN_USERNAMES = re.compile(r"[^\w.@+-]")


def provider_settings(idp: str) -> dict:
    for app in settings.SOCIALACCOUNT_PROVIDERS.get("sso", {}).get("APPS", []):
        if app["provider_id"] == idp:
            return app["settings"]
    return {}


def id_token_claims(sociallogin) -> dict:
    return (sociallogin.account.extra_data or {}).get("id_token") or {}


def free_username(idp: str, wanted: str) -> str:
    base = NOT_IN_USERNAMES.sub("-", f"{idp}.{wanted}")[:140]
    name, number = base, 1
    while User.objects.filter(username__iexact=name).exists():
        number += 1
        name = f"{base}-{number}"
    return name


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    def is_auto_signup_allowed(self, request, sociallogin):
        return True

    def is_open_for_signup(self, request, sociallogin):
        return True

    def populate_user(self, request, sociallogin, data):
        user = super().populate_user(request, sociallogin, data)
        claims = id_token_claims(sociallogin)
        idp = sociallogin.account.provider
        user.username = free_username(idp, str(claims.get("preferred_username") or sociallogin.account.uid))
        verified = [address for address in sociallogin.email_addresses if address.verified]
        sociallogin.email_addresses = verified
        user.email = verified[0].email if verified else ""
        return user

    def pre_social_login(self, request, sociallogin):
        """A subject seen for the first time may belong to a user this IdP's SCIM client made already."""
        if sociallogin.is_existing:
            return
        user_name = id_token_claims(sociallogin).get("preferred_username")
        if not isinstance(user_name, str) or not user_name:
            return
        identity = IdpIdentity.objects.filter(idp=sociallogin.account.provider, user_name=user_name).first()
        if identity is None:
            return
        if SocialAccount.objects.filter(user=identity.user, provider=sociallogin.account.provider).exists():
            return  # that user logs in with another subject of this IdP: not a match
        sociallogin.connect(request, identity.user)


class AccountAdapter(DefaultAccountAdapter):
    def respond_user_inactive(self, request, user):
        # The IdP deprovisioned them (SCIM active=false), or an operator switched them off.
        return render(request, "sso/inactive.html", status=403)

    def is_open_for_signup(self, request):
        return False  # allauth's own sign-up pages are not mounted; IdP logins are let in above

    def add_message(self, request, level, message_template=None, *args, **kwargs):
        # A password login says nothing on arrival; an IdP login neither ("Successfully signed in as …").
        if message_template != "account/messages/logged_in.txt":
            super().add_message(request, level, message_template, *args, **kwargs)


@receiver(user_logged_in)
def logged_in_through_idp(sender, request, user, sociallogin=None, **kwargs):
    if sociallogin is None:
        return
    idp = sociallogin.account.provider
    claims = id_token_claims(sociallogin)
    user_name = claims.get("preferred_username")
    if isinstance(user_name, str) and user_name:
        taken = IdpIdentity.objects.filter(idp=idp, user_name=user_name).exclude(user=user).exists()
        if not taken:
            IdpIdentity.objects.update_or_create(idp=idp, user=user, defaults={"user_name": user_name})
    groups.sync_from_claims(user, idp, claims, provider_settings(idp).get("groups_claim", "groups"))
